-- 007_callbacks: signed notifications to the ERP when a transfer becomes final. A client may
-- register one HTTPS endpoint; each final transfer is put in an outbox in the store and delivered
-- (with retries and back-off) by whichever API process leases it, so none is lost to a restart.

CREATE TABLE IF NOT EXISTS client_callbacks (
  client_id   VARCHAR(64)   NOT NULL,
  url         VARCHAR(2048) NOT NULL,
  updated_at  BIGINT        NOT NULL,
  PRIMARY KEY (client_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS callback_deliveries (
  id               BIGINT        NOT NULL AUTO_INCREMENT,
  client_id        VARCHAR(64)   NOT NULL,
  transaction_id   VARCHAR(64)   NOT NULL,
  url              VARCHAR(2048) NOT NULL,
  body             TEXT          NOT NULL,
  state            VARCHAR(16)   NOT NULL COMMENT 'PENDING, DELIVERED or FAILED',
  attempts         INT           NOT NULL DEFAULT 0,
  next_attempt_at  BIGINT        NOT NULL,
  last_status      INT           NULL,
  last_error       VARCHAR(512)  NULL,
  lease_owner      VARCHAR(64)   NULL,
  lease_until      BIGINT        NULL,
  created_at       BIGINT        NOT NULL,
  updated_at       BIGINT        NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_callback_deliveries_transfer (client_id, transaction_id),
  KEY ix_callback_deliveries_due (state, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
