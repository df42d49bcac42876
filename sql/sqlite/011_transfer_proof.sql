-- 011_transfer_proof: no FAILED without proof, the review queue, bank notifications (see the MySQL file).
ALTER TABLE payments ADD COLUMN source_account TEXT NULL;
ALTER TABLE payments ADD COLUMN bank_external_id TEXT NULL;
ALTER TABLE payments ADD COLUMN review_since INTEGER NULL;
CREATE INDEX IF NOT EXISTS ix_payments_review_since ON payments (review_since);
CREATE INDEX IF NOT EXISTS ix_payments_bank_transaction ON payments (bank, bank_transaction_id);

CREATE TABLE IF NOT EXISTS bank_notifications (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  partner      TEXT    NOT NULL,
  external_id  TEXT    NOT NULL,
  body_hash    TEXT    NOT NULL,
  received_at  INTEGER NOT NULL,
  UNIQUE (partner, external_id)
);
