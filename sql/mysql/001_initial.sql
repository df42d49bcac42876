-- 001_initial (MySQL 8 / MariaDB 10.11): the first schema of Gerbang.
--
-- Conventions (keep them in later migrations):
--  * Times are epoch milliseconds in BIGINT, so no server or session time zone matters.
--  * utf8mb4_bin everywhere: ids, transaction ids and keys compare exactly (byte for byte),
--    as they do in the embedded SQLite store. A case-insensitive collation would make
--    'INV-1' and 'inv-1' the same idempotency key on MySQL but not on SQLite.
--  * Indexed strings are at most VARCHAR(191): 191 x 4 bytes fits the 767-byte index prefix
--    limit of older row formats.
--  * CREATE TABLE IF NOT EXISTS: DDL auto-commits on MySQL, so when several workers migrate a
--    fresh database at once, the loser's statements must be harmless (see src/store/migrator.ts).
--  * Statements end with ';' at the end of a line: the migrator splits on that, so
--    multipleStatements stays off on every connection.

CREATE TABLE IF NOT EXISTS clients (
  id              VARCHAR(64)  NOT NULL,
  name            VARCHAR(191) NOT NULL,
  secret_hash     VARCHAR(512) NOT NULL,
  secret_version  INT          NOT NULL DEFAULT 1,
  allowed_origins TEXT         NOT NULL COMMENT 'JSON array of origin patterns',
  allowed_cidrs   TEXT         NOT NULL COMMENT 'JSON array of CIDR blocks',
  status          VARCHAR(16)  NOT NULL,
  created_at      BIGINT       NOT NULL,
  updated_at      BIGINT       NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS payments (
  id                    BIGINT       NOT NULL AUTO_INCREMENT,
  client_id             VARCHAR(64)  NOT NULL,
  transaction_id        VARCHAR(64)  NOT NULL,
  request_hash          CHAR(64)     NOT NULL,
  state                 VARCHAR(16)  NOT NULL,
  bank                  VARCHAR(32)  NULL,
  operation             VARCHAR(64)  NULL,
  bank_transaction_id   VARCHAR(64)  NULL,
  bank_transaction_date VARCHAR(32)  NULL,
  bank_reference        VARCHAR(191) NULL,
  amount                VARCHAR(24)  NOT NULL COMMENT 'decimal string exactly as the ERP sent it',
  amount_minor          BIGINT       NOT NULL COMMENT 'amount in cents, for filtering and sorting',
  currency              CHAR(3)      NOT NULL,
  result_json           TEXT         NULL,
  http_status           INT          NULL,
  created_at            BIGINT       NOT NULL,
  updated_at            BIGINT       NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_payments_client_transaction (client_id, transaction_id),
  KEY ix_payments_created_at (created_at),
  KEY ix_payments_state_created_at (state, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The inbound exchange (ERP <-> Gerbang). A later migration adds the hash-chain columns
-- (writer_id, seq, prev_hash, row_hash); nothing here depends on their absence.
CREATE TABLE IF NOT EXISTS audit_exchanges (
  id              BIGINT        NOT NULL AUTO_INCREMENT,
  request_id      VARCHAR(64)   NOT NULL,
  received_at     BIGINT        NOT NULL,
  completed_at    BIGINT        NULL,
  remote_ip       VARCHAR(64)   NOT NULL,
  origin          VARCHAR(512)  NULL,
  method          VARCHAR(16)   NOT NULL,
  path            VARCHAR(1024) NOT NULL,
  client_id       VARCHAR(191)  NULL,
  transaction_id  VARCHAR(191)  NULL,
  amount          VARCHAR(64)   NULL,
  outcome         VARCHAR(16)   NOT NULL,
  status_code     INT           NULL,
  error_code      VARCHAR(64)   NULL,
  request_headers TEXT          NOT NULL COMMENT 'JSON object, redacted',
  request_body    MEDIUMTEXT    NULL,
  response_body   MEDIUMTEXT    NULL,
  PRIMARY KEY (id),
  KEY ix_audit_exchanges_received_at (received_at),
  KEY ix_audit_exchanges_client_received_at (client_id, received_at),
  KEY ix_audit_exchanges_transaction_id (transaction_id),
  KEY ix_audit_exchanges_request_id (request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Each call Gerbang made to a bank. exchange_id is NULL for calls no inbound exchange caused
-- (a token refresh at start-up, a background status inquiry).
CREATE TABLE IF NOT EXISTS audit_bank_calls (
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  exchange_id     BIGINT       NULL,
  request_id      VARCHAR(64)  NOT NULL,
  partner         VARCHAR(32)  NOT NULL,
  operation       VARCHAR(64)  NOT NULL,
  method          VARCHAR(16)  NOT NULL,
  url             TEXT         NOT NULL,
  request_headers TEXT         NOT NULL COMMENT 'JSON object, redacted',
  request_body    MEDIUMTEXT   NULL,
  status_code     INT          NULL,
  response_body   MEDIUMTEXT   NULL,
  error_code      VARCHAR(64)  NULL,
  started_at      BIGINT       NOT NULL,
  duration_ms     INT          NOT NULL,
  PRIMARY KEY (id),
  KEY ix_audit_bank_calls_exchange_id (exchange_id),
  KEY ix_audit_bank_calls_started_at (started_at),
  KEY ix_audit_bank_calls_request_id (request_id),
  CONSTRAINT fk_audit_bank_calls_exchange FOREIGN KEY (exchange_id) REFERENCES audit_exchanges (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS rate_limits (
  rl_key   VARCHAR(191) NOT NULL,
  hits     INT          NOT NULL,
  reset_at BIGINT       NOT NULL,
  PRIMARY KEY (rl_key),
  KEY ix_rate_limits_reset_at (reset_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS login_lockouts (
  lock_key        VARCHAR(191) NOT NULL,
  failures        INT          NOT NULL,
  window_reset_at BIGINT       NOT NULL,
  locked_until    BIGINT       NOT NULL,
  PRIMARY KEY (lock_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS bank_tokens (
  partner    VARCHAR(64) NOT NULL,
  token      TEXT        NOT NULL,
  expires_at BIGINT      NOT NULL,
  fetched_at BIGINT      NOT NULL,
  PRIMARY KEY (partner)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sequences (
  name  VARCHAR(64) NOT NULL,
  value BIGINT      NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
