-- 008_request_signing: optional HMAC request signing per client (recommended for payment
-- partners). When signing_required is 1, every API call of the client but the token request
-- must carry X-Gerbang-Timestamp and X-Gerbang-Signature (see src/pipeline/request-signature).
--
-- signing_key is the client's HMAC key SEALED with the audit key ring (AES-256-GCM,
-- `gcm1.<keyId>.<nonce>.<tag>.<ciphertext>`, src/security/keyring.ts): a database reader cannot
-- use it, and the gateway can still verify with it (a one-way hash could not). key_id is
-- the ring key the row's sealed value is under (NULL: the client has no signing key), as in the
-- audit tables, so `gerbang keys rotate` finds the keys to re-seal.
--
-- request_signatures is the replay cache, shared by every worker and node: the SHA-256 of each
-- accepted signature, kept until its timestamp can no longer pass the time window; a second
-- request with the same signature loses the primary-key race and is refused.
ALTER TABLE clients ADD COLUMN signing_required TINYINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN signing_key TEXT NULL COMMENT 'sealed with the audit key ring';
ALTER TABLE clients ADD COLUMN key_id VARCHAR(32) NULL;

CREATE TABLE IF NOT EXISTS request_signatures (
  client_id       VARCHAR(64) NOT NULL,
  signature_hash  CHAR(64)    NOT NULL COMMENT 'sha256 hex of the signature',
  expires_at      BIGINT      NOT NULL,
  PRIMARY KEY (client_id, signature_hash),
  KEY ix_request_signatures_expires_at (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
