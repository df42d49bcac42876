-- 030_reconciliation_macs (embedded SQLite): the same index as
-- sql/mysql/030_reconciliation_macs.sql, whose comments explain it.
DROP INDEX IF EXISTS ix_payments_reconcile;
CREATE INDEX IF NOT EXISTS ix_payments_reconcile ON payments (source_account_tag, created_at, state, amount, transaction_id, bank_transaction_id, bank_transaction_date, bank_external_id, source_account, client_id, request_hash, currency, mac_key_id, mac);
