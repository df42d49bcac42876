-- 011_transfer_proof: a transfer in doubt becomes FAILED only on the bank's positive word, and
-- what cannot be proved waits for a person (bank-apis.md §3).
--  * payments.source_account: the paying account, so the resolver can read its statement for
--    the transaction date and the next day. Sealed with the key ring like result_json (a full
--    account number is never stored in clear).
--  * payments.bank_external_id: the X-EXTERNAL-ID a SNAP transfer went out under when it is not
--    its bankTransactionId (the resend after an invalid token takes a new one); the status
--    inquiry must name it.
--  * payments.review_since: when the transfer entered the review queue (unresolved past
--    GERBANG_REVIEW_AFTER_MS); NULL when not in review. Only an admin, recording evidence, takes
--    it out (`gerbang transfer review resolve`, or the console's review page).
--  * bank_notifications: each signed notification a bank sent (RTGS/SKN final outcome), by its
--    X-EXTERNAL-ID, so a repeat is answered without acting twice and a replay with another body
--    is refused.
ALTER TABLE payments ADD COLUMN source_account VARCHAR(512) NULL COMMENT 'sealed, like result_json';
ALTER TABLE payments ADD COLUMN bank_external_id VARCHAR(64) NULL;
ALTER TABLE payments ADD COLUMN review_since BIGINT NULL;
CREATE INDEX ix_payments_review_since ON payments (review_since);
-- A bank's notification names the transfer by the id Gerbang gave it at that bank.
CREATE INDEX ix_payments_bank_transaction ON payments (bank, bank_transaction_id);

CREATE TABLE IF NOT EXISTS bank_notifications (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  partner      VARCHAR(64)  NOT NULL,
  external_id  VARCHAR(64)  NOT NULL,
  body_hash    CHAR(64)     NOT NULL COMMENT 'sha256 hex of the body as received',
  received_at  BIGINT       NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_bank_notifications (partner, external_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
