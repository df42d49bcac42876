-- 006_transfer_batches: payment runs. A batch is stored whole (every line validated) before it
-- is answered; its lines are then paid with bounded concurrency, each through the transfer use
-- case with its own idempotency key. A lease in the batch row lets exactly one process work on a
-- batch, and another take it over if that process dies.

CREATE TABLE IF NOT EXISTS transfer_batches (
  id            BIGINT       NOT NULL AUTO_INCREMENT,
  client_id     VARCHAR(64)  NOT NULL,
  batch_id      VARCHAR(64)  NOT NULL,
  request_hash  CHAR(64)     NOT NULL,
  line_count    INT          NOT NULL,
  state         VARCHAR(16)  NOT NULL COMMENT 'QUEUED, PROCESSING or DONE',
  lease_owner   VARCHAR(64)  NULL,
  lease_until   BIGINT       NULL,
  created_at    BIGINT       NOT NULL,
  updated_at    BIGINT       NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_transfer_batches_client_batch (client_id, batch_id),
  KEY ix_transfer_batches_state_lease (state, lease_until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS transfer_batch_lines (
  batch_pk        BIGINT       NOT NULL,
  line_no         INT          NOT NULL,
  transaction_id  VARCHAR(64)  NOT NULL,
  request_json    TEXT         NOT NULL COMMENT 'the validated transfer request of this line',
  state           VARCHAR(16)  NOT NULL COMMENT 'QUEUED, SUBMITTED or REJECTED',
  http_status     INT          NULL,
  result_json     TEXT         NULL,
  updated_at      BIGINT       NOT NULL,
  PRIMARY KEY (batch_pk, line_no),
  KEY ix_transfer_batch_lines_state (batch_pk, state, line_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
