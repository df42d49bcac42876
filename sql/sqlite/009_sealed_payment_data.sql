-- 009 (embedded SQLite): payment-run lines, payment answers and queued callbacks are sealed at
-- rest like the audit; the same columns as sql/mysql/009_sealed_payment_data.sql, whose comments
-- explain them.
ALTER TABLE payments ADD COLUMN key_id TEXT NULL;
CREATE INDEX IF NOT EXISTS ix_payments_key_id ON payments (key_id);

ALTER TABLE transfer_batch_lines ADD COLUMN source_account TEXT NULL;
ALTER TABLE transfer_batch_lines ADD COLUMN beneficiary_account TEXT NULL;
ALTER TABLE transfer_batch_lines ADD COLUMN key_id TEXT NULL;
CREATE INDEX IF NOT EXISTS ix_transfer_batch_lines_key_id ON transfer_batch_lines (key_id);

ALTER TABLE callback_deliveries ADD COLUMN key_id TEXT NULL;
CREATE INDEX IF NOT EXISTS ix_callback_deliveries_key_id ON callback_deliveries (key_id);
