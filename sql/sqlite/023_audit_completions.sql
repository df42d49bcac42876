-- 023 (embedded SQLite): an exchange's completion is its own row, appended with its `complete`
-- chain link instead of an UPDATE of the exchange; see sql/mysql/023_audit_completions.sql.
CREATE TABLE IF NOT EXISTS audit_completions (
  exchange_id         INTEGER NOT NULL PRIMARY KEY REFERENCES audit_exchanges (id),
  outcome             TEXT    NOT NULL,
  status_code         INTEGER NULL,
  error_code          TEXT    NULL,
  client_id           TEXT    NULL,
  transaction_id      TEXT    NULL,
  amount              TEXT    NULL,
  source_account      TEXT    NULL,
  beneficiary_account TEXT    NULL,
  response_body       TEXT    NULL,
  completed_at        INTEGER NOT NULL,
  key_id              TEXT    NULL
);
CREATE INDEX IF NOT EXISTS ix_audit_completions_client_id ON audit_completions (client_id);
CREATE INDEX IF NOT EXISTS ix_audit_completions_transaction_id ON audit_completions (transaction_id);
CREATE INDEX IF NOT EXISTS ix_audit_completions_key_id ON audit_completions (key_id);
