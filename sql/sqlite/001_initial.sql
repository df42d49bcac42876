-- 001_initial (embedded SQLite): the same tables and columns as sql/mysql/001_initial.sql.
--
-- SQLite notes: INTEGER PRIMARY KEY AUTOINCREMENT never reuses an id (the audit is paged by
-- id); text compares byte for byte (BINARY), like utf8mb4_bin on MySQL; lengths are not
-- enforced here, so the repositories cut bounded values to the MySQL column sizes themselves.
-- The whole file runs in one transaction (SQLite DDL is transactional).

CREATE TABLE IF NOT EXISTS clients (
  id              TEXT    NOT NULL PRIMARY KEY,
  name            TEXT    NOT NULL,
  secret_hash     TEXT    NOT NULL,
  secret_version  INTEGER NOT NULL DEFAULT 1,
  allowed_origins TEXT    NOT NULL,
  allowed_cidrs   TEXT    NOT NULL,
  status          TEXT    NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS payments (
  id                    INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  client_id             TEXT    NOT NULL,
  transaction_id        TEXT    NOT NULL,
  request_hash          TEXT    NOT NULL,
  state                 TEXT    NOT NULL,
  bank                  TEXT    NULL,
  operation             TEXT    NULL,
  bank_transaction_id   TEXT    NULL,
  bank_transaction_date TEXT    NULL,
  bank_reference        TEXT    NULL,
  amount                TEXT    NOT NULL,
  amount_minor          INTEGER NOT NULL,
  currency              TEXT    NOT NULL,
  result_json           TEXT    NULL,
  http_status           INTEGER NULL,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  CONSTRAINT uq_payments_client_transaction UNIQUE (client_id, transaction_id)
);
CREATE INDEX IF NOT EXISTS ix_payments_created_at ON payments (created_at);
CREATE INDEX IF NOT EXISTS ix_payments_state_created_at ON payments (state, created_at);

CREATE TABLE IF NOT EXISTS audit_exchanges (
  id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  request_id      TEXT    NOT NULL,
  received_at     INTEGER NOT NULL,
  completed_at    INTEGER NULL,
  remote_ip       TEXT    NOT NULL,
  origin          TEXT    NULL,
  method          TEXT    NOT NULL,
  path            TEXT    NOT NULL,
  client_id       TEXT    NULL,
  transaction_id  TEXT    NULL,
  amount          TEXT    NULL,
  outcome         TEXT    NOT NULL,
  status_code     INTEGER NULL,
  error_code      TEXT    NULL,
  request_headers TEXT    NOT NULL,
  request_body    TEXT    NULL,
  response_body   TEXT    NULL
);
CREATE INDEX IF NOT EXISTS ix_audit_exchanges_received_at ON audit_exchanges (received_at);
CREATE INDEX IF NOT EXISTS ix_audit_exchanges_client_received_at ON audit_exchanges (client_id, received_at);
CREATE INDEX IF NOT EXISTS ix_audit_exchanges_transaction_id ON audit_exchanges (transaction_id);
CREATE INDEX IF NOT EXISTS ix_audit_exchanges_request_id ON audit_exchanges (request_id);

CREATE TABLE IF NOT EXISTS audit_bank_calls (
  id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  exchange_id     INTEGER NULL REFERENCES audit_exchanges (id),
  request_id      TEXT    NOT NULL,
  partner         TEXT    NOT NULL,
  operation       TEXT    NOT NULL,
  method          TEXT    NOT NULL,
  url             TEXT    NOT NULL,
  request_headers TEXT    NOT NULL,
  request_body    TEXT    NULL,
  status_code     INTEGER NULL,
  response_body   TEXT    NULL,
  error_code      TEXT    NULL,
  started_at      INTEGER NOT NULL,
  duration_ms     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_audit_bank_calls_exchange_id ON audit_bank_calls (exchange_id);
CREATE INDEX IF NOT EXISTS ix_audit_bank_calls_started_at ON audit_bank_calls (started_at);
CREATE INDEX IF NOT EXISTS ix_audit_bank_calls_request_id ON audit_bank_calls (request_id);

CREATE TABLE IF NOT EXISTS rate_limits (
  rl_key   TEXT    NOT NULL PRIMARY KEY,
  hits     INTEGER NOT NULL,
  reset_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_rate_limits_reset_at ON rate_limits (reset_at);

CREATE TABLE IF NOT EXISTS login_lockouts (
  lock_key        TEXT    NOT NULL PRIMARY KEY,
  failures        INTEGER NOT NULL,
  window_reset_at INTEGER NOT NULL,
  locked_until    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS bank_tokens (
  partner    TEXT    NOT NULL PRIMARY KEY,
  token      TEXT    NOT NULL,
  expires_at INTEGER NOT NULL,
  fetched_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sequences (
  name  TEXT    NOT NULL PRIMARY KEY,
  value INTEGER NOT NULL
);
