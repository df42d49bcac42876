-- 024 (embedded SQLite): every change of a payment's state appends a row of payment_events with
-- its own audit chain link, and console audit entries are chained; see sql/mysql/024_appended_history.sql.
CREATE TABLE IF NOT EXISTS payment_events (
  id                    INTEGER PRIMARY KEY AUTOINCREMENT,
  payment_id            INTEGER NOT NULL,
  seq                   INTEGER NOT NULL,
  cause                 TEXT    NOT NULL,
  state                 TEXT    NOT NULL,
  bank                  TEXT    NULL,
  operation             TEXT    NULL,
  bank_transaction_id   TEXT    NULL,
  bank_transaction_date TEXT    NULL,
  bank_reference        TEXT    NULL,
  bank_external_id      TEXT    NULL,
  http_status           INTEGER NULL,
  review_since          INTEGER NULL,
  result_json           TEXT    NULL,
  recorded_at           INTEGER NOT NULL,
  key_id                TEXT    NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_payment_events_payment_seq ON payment_events (payment_id, seq);
CREATE INDEX IF NOT EXISTS ix_payment_events_key_id ON payment_events (key_id);

CREATE TABLE IF NOT EXISTS chain_coverage (records TEXT NOT NULL PRIMARY KEY, since INTEGER NOT NULL);
INSERT INTO chain_coverage (records, since) SELECT 'payments', COALESCE(MAX(created_at), 0) + 1 FROM payments;
INSERT INTO chain_coverage (records, since) SELECT 'console_audit', COALESCE(MAX(id), 0) + 1 FROM console_audit;

ALTER TABLE console_users ADD COLUMN mac_key_id TEXT NULL;
ALTER TABLE console_users ADD COLUMN mac TEXT NULL;
