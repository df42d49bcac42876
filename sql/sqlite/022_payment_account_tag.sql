-- 022_payment_account_tag (embedded SQLite): the same column and index as
-- sql/mysql/022_payment_account_tag.sql, whose comments explain them.
ALTER TABLE payments ADD COLUMN source_account_tag TEXT NULL;
CREATE INDEX IF NOT EXISTS ix_payments_source_tag_created ON payments (source_account_tag, created_at);
