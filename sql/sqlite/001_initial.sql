-- 001: the initial schema (embedded SQLite; same tables and columns as sql/mysql/001_initial.sql).
-- Times are epoch milliseconds (BIGINT) so no server or session time zone matters.

CREATE TABLE clients (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  name VARCHAR(191) NOT NULL,
  secret_hash VARCHAR(255) NOT NULL,
  secret_version INT NOT NULL DEFAULT 1,
  allowed_origins TEXT NOT NULL,
  allowed_cidrs TEXT NOT NULL,
  status VARCHAR(16) NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE payments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id VARCHAR(64) NOT NULL,
  transaction_id VARCHAR(64) NOT NULL,
  request_hash CHAR(64) NOT NULL,
  state VARCHAR(16) NOT NULL,
  bank VARCHAR(64) NULL,
  operation VARCHAR(64) NULL,
  bank_transaction_id VARCHAR(64) NULL,
  bank_transaction_date VARCHAR(10) NULL,
  bank_reference VARCHAR(128) NULL,
  amount VARCHAR(24) NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  result_json TEXT NULL,
  http_status INT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE audit_exchanges (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id VARCHAR(64) NOT NULL,
  received_at BIGINT NOT NULL,
  completed_at BIGINT NULL,
  remote_ip VARCHAR(64) NOT NULL,
  origin VARCHAR(255) NULL,
  method VARCHAR(16) NOT NULL,
  path VARCHAR(2048) NOT NULL,
  client_id VARCHAR(64) NULL,
  transaction_id VARCHAR(64) NULL,
  amount VARCHAR(24) NULL,
  outcome VARCHAR(16) NOT NULL,
  status_code INT NULL,
  error_code VARCHAR(64) NULL,
  request_headers TEXT NOT NULL,
  request_body TEXT NULL,
  response_body TEXT NULL
);

CREATE TABLE audit_bank_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  exchange_id BIGINT NULL,
  request_id VARCHAR(64) NOT NULL,
  partner VARCHAR(64) NOT NULL,
  operation VARCHAR(64) NOT NULL,
  method VARCHAR(16) NOT NULL,
  url VARCHAR(2048) NOT NULL,
  request_headers TEXT NOT NULL,
  request_body TEXT NULL,
  status_code INT NULL,
  response_body TEXT NULL,
  error_code VARCHAR(64) NULL,
  started_at BIGINT NOT NULL,
  duration_ms INT NOT NULL,
  FOREIGN KEY (exchange_id) REFERENCES audit_exchanges (id)
);

CREATE TABLE rate_limits (
  rl_key VARCHAR(191) NOT NULL PRIMARY KEY,
  hits INT NOT NULL,
  reset_at BIGINT NOT NULL
);

CREATE TABLE login_lockouts (
  lock_key VARCHAR(191) NOT NULL PRIMARY KEY,
  failures INT NOT NULL,
  window_reset_at BIGINT NOT NULL,
  locked_until BIGINT NOT NULL
);

CREATE TABLE bank_tokens (
  partner VARCHAR(191) NOT NULL PRIMARY KEY,
  token TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  fetched_at BIGINT NOT NULL
);

CREATE TABLE sequences (
  name VARCHAR(191) NOT NULL PRIMARY KEY,
  value BIGINT NOT NULL
);

CREATE UNIQUE INDEX payments_client_transaction ON payments (client_id, transaction_id);
CREATE INDEX payments_state_updated ON payments (state, updated_at);
CREATE INDEX payments_created ON payments (created_at);
CREATE INDEX audit_exchanges_received ON audit_exchanges (received_at);
CREATE INDEX audit_exchanges_client_received ON audit_exchanges (client_id, received_at);
CREATE INDEX audit_exchanges_transaction ON audit_exchanges (transaction_id);
CREATE INDEX audit_exchanges_request ON audit_exchanges (request_id);
CREATE INDEX audit_bank_calls_exchange ON audit_bank_calls (exchange_id);
CREATE INDEX audit_bank_calls_started ON audit_bank_calls (started_at);
CREATE INDEX rate_limits_reset ON rate_limits (reset_at);
