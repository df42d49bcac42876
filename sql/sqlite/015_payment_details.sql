-- 015 (embedded SQLite): the same columns as sql/mysql/015_payment_details.sql, whose comments
-- explain them.
ALTER TABLE payments ADD COLUMN details_json TEXT NULL;
ALTER TABLE payments ADD COLUMN beneficiary_account TEXT NULL;
ALTER TABLE payments ADD COLUMN beneficiary_bank TEXT NULL;
CREATE INDEX IF NOT EXISTS ix_transfer_batch_lines_transaction_id ON transfer_batch_lines (transaction_id);
CREATE INDEX IF NOT EXISTS ix_payments_created_amount ON payments (created_at, amount_minor);
CREATE INDEX IF NOT EXISTS ix_payments_state_created_amount ON payments (state, created_at, amount_minor);
