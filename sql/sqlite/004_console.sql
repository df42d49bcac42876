-- 004: the finance console (same tables, columns and indexes as sql/mysql/004_console.sql).

CREATE TABLE IF NOT EXISTS console_users (
  id            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  username      TEXT    NOT NULL,
  password_hash TEXT    NOT NULL,
  role          TEXT    NOT NULL,
  status        TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  CONSTRAINT uq_console_users_username UNIQUE (username)
);

CREATE TABLE IF NOT EXISTS console_sessions (
  id_hash      TEXT    NOT NULL PRIMARY KEY,
  user_id      INTEGER NOT NULL,
  csrf_token   TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_console_sessions_user_id ON console_sessions (user_id);
CREATE INDEX IF NOT EXISTS ix_console_sessions_last_seen_at ON console_sessions (last_seen_at);

CREATE TABLE IF NOT EXISTS console_audit (
  id        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  username  TEXT    NOT NULL,
  action    TEXT    NOT NULL,
  target    TEXT    NULL,
  detail    TEXT    NULL,
  remote_ip TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_console_audit_at ON console_audit (at);
CREATE INDEX IF NOT EXISTS ix_console_audit_username_at ON console_audit (username, at);

CREATE TABLE IF NOT EXISTS audit_verifications (
  id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  checked_at  INTEGER NOT NULL,
  ok          INTEGER NOT NULL,
  links       INTEGER NOT NULL,
  breaks      INTEGER NOT NULL,
  first_break TEXT    NULL
);
CREATE INDEX IF NOT EXISTS ix_audit_verifications_checked_at ON audit_verifications (checked_at);

CREATE INDEX IF NOT EXISTS ix_payments_client_created_at ON payments (client_id, created_at);
CREATE INDEX IF NOT EXISTS ix_payments_bank_created_at ON payments (bank, created_at);
CREATE INDEX IF NOT EXISTS ix_payments_amount_minor ON payments (amount_minor);
CREATE INDEX IF NOT EXISTS ix_payments_transaction_id ON payments (transaction_id);
CREATE INDEX IF NOT EXISTS ix_payments_bank_reference ON payments (bank_reference);
-- The overview's daily figures read only these indexes (no table rows), whatever the volume.
CREATE INDEX IF NOT EXISTS ix_payments_created_state_amount ON payments (created_at, state, amount_minor);
CREATE INDEX IF NOT EXISTS ix_audit_bank_calls_started_operation_duration ON audit_bank_calls (started_at, operation, duration_ms);
