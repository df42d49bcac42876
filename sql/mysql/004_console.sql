-- 004: the finance console. Its users (scrypt hashes, a role each), their sessions (only a
-- digest of the session id is stored, so a copy of this table signs nobody in), the console's
-- own audit of who signed in and which payments they viewed or exported, and the indexes the
-- console's payment filters and keyset pages need.

CREATE TABLE IF NOT EXISTS console_users (
  id            BIGINT       NOT NULL AUTO_INCREMENT,
  username      VARCHAR(64)  NOT NULL,
  password_hash VARCHAR(512) NOT NULL,
  role          VARCHAR(16)  NOT NULL COMMENT 'viewer, auditor or admin',
  status        VARCHAR(16)  NOT NULL COMMENT 'active or disabled',
  created_at    BIGINT       NOT NULL,
  updated_at    BIGINT       NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_console_users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS console_sessions (
  id_hash      CHAR(64)    NOT NULL COMMENT 'sha256 hex of the cookie value',
  user_id      BIGINT      NOT NULL,
  csrf_token   VARCHAR(64) NOT NULL,
  created_at   BIGINT      NOT NULL,
  last_seen_at BIGINT      NOT NULL,
  PRIMARY KEY (id_hash),
  KEY ix_console_sessions_user_id (user_id),
  KEY ix_console_sessions_last_seen_at (last_seen_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS console_audit (
  id        BIGINT        NOT NULL AUTO_INCREMENT,
  at        BIGINT        NOT NULL,
  username  VARCHAR(64)   NOT NULL,
  action    VARCHAR(32)   NOT NULL COMMENT 'sign_in, sign_in_failed, sign_out, view_payment, export_csv, admin_*',
  target    VARCHAR(191)  NULL     COMMENT 'what was viewed or changed, e.g. payment id',
  detail    VARCHAR(1024) NULL     COMMENT 'filters of an export, reason of a refusal',
  remote_ip VARCHAR(64)   NOT NULL,
  PRIMARY KEY (id),
  KEY ix_console_audit_at (at),
  KEY ix_console_audit_username_at (username, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Each run of the audit-chain verification, so the console's overview can say whether the
-- chains were intact and when that was last checked.
CREATE TABLE IF NOT EXISTS audit_verifications (
  id          BIGINT        NOT NULL AUTO_INCREMENT,
  checked_at  BIGINT        NOT NULL,
  ok          TINYINT       NOT NULL COMMENT '1 when every chain was intact',
  links       BIGINT        NOT NULL COMMENT 'chain links verified',
  breaks      INT           NOT NULL,
  first_break VARCHAR(1024) NULL     COMMENT 'the first broken record, in words',
  PRIMARY KEY (id),
  KEY ix_audit_verifications_checked_at (checked_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Payment list filters: each equality filter with the default sort (newest first), so a page
-- is an index range scan however many rows the table holds; amount sorts and ranges on their own.
CREATE INDEX ix_payments_client_created_at ON payments (client_id, created_at);
CREATE INDEX ix_payments_bank_created_at ON payments (bank, created_at);
CREATE INDEX ix_payments_amount_minor ON payments (amount_minor);
CREATE INDEX ix_payments_transaction_id ON payments (transaction_id);
CREATE INDEX ix_payments_bank_reference ON payments (bank_reference);
-- The overview's daily figures read only these indexes (no table rows), whatever the volume.
CREATE INDEX ix_payments_created_state_amount ON payments (created_at, state, amount_minor);
CREATE INDEX ix_audit_bank_calls_started_operation_duration ON audit_bank_calls (started_at, operation, duration_ms);
