-- 003: the audit is encrypted at rest and tamper-evident.
--
-- Encryption: request/response headers and bodies (and the bank URL, which can carry account
-- numbers) now hold sealed values `gcm1.<keyId>.<nonce>.<tag>.<ciphertext>` (AES-256-GCM, see
-- src/security/keyring.ts); key_id is the key the row's values were last sealed with, so
-- `gerbang keys rotate` finds the rows still under an older key with an index. Rows written
-- before this migration have key_id NULL and clear values until they are rotated.
-- Sealed values are about 4/3 of the clear text, so the header columns grow to MEDIUMTEXT.
--
-- Searchable columns stay clear; the masked account numbers (`******5680`) are new ones.
--
-- Tamper evidence: every audit event (an exchange opened, completed or recorded whole, a bank
-- call) appends a link to its writer's hash chain in audit_chain. One chain per writer (one
-- per process instance), so writers never wait on each other; audit_writers holds each
-- chain's head, so a deleted last record is noticed too.
ALTER TABLE audit_exchanges MODIFY request_headers MEDIUMTEXT NOT NULL COMMENT 'sealed JSON object, redacted';
ALTER TABLE audit_exchanges ADD COLUMN source_account VARCHAR(32) NULL COMMENT 'masked, e.g. ******5680';
ALTER TABLE audit_exchanges ADD COLUMN beneficiary_account VARCHAR(32) NULL COMMENT 'masked, e.g. ******5680';
ALTER TABLE audit_exchanges ADD COLUMN key_id VARCHAR(32) NULL;
CREATE INDEX ix_audit_exchanges_key_id ON audit_exchanges (key_id);

ALTER TABLE audit_bank_calls MODIFY request_headers MEDIUMTEXT NOT NULL COMMENT 'sealed JSON object, redacted';
ALTER TABLE audit_bank_calls MODIFY url MEDIUMTEXT NOT NULL COMMENT 'sealed';
ALTER TABLE audit_bank_calls ADD COLUMN key_id VARCHAR(32) NULL;
CREATE INDEX ix_audit_bank_calls_key_id ON audit_bank_calls (key_id);

CREATE TABLE IF NOT EXISTS audit_writers (
  writer_id  VARCHAR(64)  NOT NULL,
  host       VARCHAR(255) NOT NULL,
  pid        INT          NOT NULL,
  started_at BIGINT       NOT NULL,
  last_seq   BIGINT       NOT NULL,
  last_hash  CHAR(64)     NOT NULL,
  updated_at BIGINT       NOT NULL,
  PRIMARY KEY (writer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS audit_chain (
  writer_id   VARCHAR(64) NOT NULL,
  seq         BIGINT      NOT NULL,
  kind        VARCHAR(16) NOT NULL COMMENT 'open | complete | record | bank_call',
  record_id   BIGINT      NOT NULL,
  recorded_at BIGINT      NOT NULL,
  prev_hash   CHAR(64)    NOT NULL,
  hash        CHAR(64)    NOT NULL,
  PRIMARY KEY (writer_id, seq),
  KEY ix_audit_chain_record (kind, record_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
