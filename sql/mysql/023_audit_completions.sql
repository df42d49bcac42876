-- 023: completing an exchange appends. Until now an exchange opened before the bank call was
-- completed by an UPDATE of its row (outcome, answer, completion time), so the runtime database
-- user had to hold UPDATE on audit_exchanges. From here the completion is its own row, INSERTed
-- in the same transaction as its `complete` chain link (whose MAC covers the exchange as read
-- with it), and the runtime user holds INSERT and SELECT only on every audit table
-- (docs/operator-guide.md, "Database users").
--
-- One row per exchange (exchange_id is the primary key and references the exchange): a second
-- completion is refused by the database. client_id, transaction_id, amount and the masked
-- accounts are what the completion learnt (NULL: the exchange keeps what its opening recorded);
-- response_body is sealed for this table and row (place audit_completions.response_body of
-- [exchange_id]); key_id is the ring key it is sealed with (`keys rotate`).
--
-- Every reader takes an exchange as audit_exchanges LEFT JOIN audit_completions on the primary
-- key (src/store/repositories/audit-records.ts): the completion's columns when it has one, else
-- the exchange's own. Rows from before this migration are NOT moved: an exchange completed by the
-- former UPDATE holds its outcome in its own row exactly like one recorded whole (rejected
-- requests, the token endpoint, which are one INSERT), so the same read serves both, no sealed
-- value is re-encrypted (that would need the key ring in the migration) and no chain link is
-- re-made; the runtime user can no longer change those rows either. audit_exchanges' outcome
-- columns are therefore written once, by the INSERT, and never again.
CREATE TABLE IF NOT EXISTS audit_completions (
  exchange_id         BIGINT       NOT NULL,
  outcome             VARCHAR(16)  NOT NULL,
  status_code         INT          NULL,
  error_code          VARCHAR(64)  NULL,
  client_id           VARCHAR(191) NULL,
  transaction_id      VARCHAR(191) NULL,
  amount              VARCHAR(64)  NULL,
  source_account      VARCHAR(32)  NULL,
  beneficiary_account VARCHAR(32)  NULL,
  response_body       MEDIUMTEXT   NULL,
  completed_at        BIGINT       NOT NULL,
  key_id              VARCHAR(32)  NULL,
  PRIMARY KEY (exchange_id),
  KEY ix_audit_completions_client_id (client_id),
  KEY ix_audit_completions_transaction_id (transaction_id),
  KEY ix_audit_completions_key_id (key_id),
  CONSTRAINT fk_audit_completions_exchange FOREIGN KEY (exchange_id) REFERENCES audit_exchanges (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
