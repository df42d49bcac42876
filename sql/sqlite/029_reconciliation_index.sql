-- 029_reconciliation_index (embedded SQLite): the same index as
-- sql/mysql/029_reconciliation_index.sql, whose comments explain it (SQLite's columns need no
-- change: TEXT has no length to fit under an index limit).
DROP INDEX IF EXISTS ix_payments_source_tag_created;
CREATE INDEX IF NOT EXISTS ix_payments_reconcile ON payments (source_account_tag, created_at, state, amount, transaction_id, bank_transaction_id, bank_transaction_date, bank_external_id, source_account);
