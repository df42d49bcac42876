-- 001: the initial schema (MySQL 8 / MariaDB 10.11).
-- Times are epoch milliseconds (BIGINT) so no server or session time zone matters.
-- Indexed strings are at most VARCHAR(191) so utf8mb4 keys fit every InnoDB row format.

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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE payments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
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
  updated_at BIGINT NOT NULL,
  UNIQUE KEY payments_client_transaction (client_id, transaction_id),
  KEY payments_state_updated (state, updated_at),
  KEY payments_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE audit_exchanges (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
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
  request_body MEDIUMTEXT NULL,
  response_body MEDIUMTEXT NULL,
  KEY audit_exchanges_received (received_at),
  KEY audit_exchanges_client_received (client_id, received_at),
  KEY audit_exchanges_transaction (transaction_id),
  KEY audit_exchanges_request (request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE audit_bank_calls (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  exchange_id BIGINT NULL,
  request_id VARCHAR(64) NOT NULL,
  partner VARCHAR(64) NOT NULL,
  operation VARCHAR(64) NOT NULL,
  method VARCHAR(16) NOT NULL,
  url VARCHAR(2048) NOT NULL,
  request_headers TEXT NOT NULL,
  request_body MEDIUMTEXT NULL,
  status_code INT NULL,
  response_body MEDIUMTEXT NULL,
  error_code VARCHAR(64) NULL,
  started_at BIGINT NOT NULL,
  duration_ms INT NOT NULL,
  KEY audit_bank_calls_exchange (exchange_id),
  KEY audit_bank_calls_started (started_at),
  CONSTRAINT audit_bank_calls_exchange_fk FOREIGN KEY (exchange_id) REFERENCES audit_exchanges (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE rate_limits (
  rl_key VARCHAR(191) NOT NULL PRIMARY KEY,
  hits INT NOT NULL,
  reset_at BIGINT NOT NULL,
  KEY rate_limits_reset (reset_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE login_lockouts (
  lock_key VARCHAR(191) NOT NULL PRIMARY KEY,
  failures INT NOT NULL,
  window_reset_at BIGINT NOT NULL,
  locked_until BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE bank_tokens (
  partner VARCHAR(191) NOT NULL PRIMARY KEY,
  token TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  fetched_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sequences (
  name VARCHAR(191) NOT NULL PRIMARY KEY,
  value BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
