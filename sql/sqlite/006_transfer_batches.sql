-- 006_transfer_batches: payment runs (see the MySQL file for the design).

CREATE TABLE IF NOT EXISTS transfer_batches (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id     TEXT    NOT NULL,
  batch_id      TEXT    NOT NULL,
  request_hash  TEXT    NOT NULL,
  line_count    INTEGER NOT NULL,
  state         TEXT    NOT NULL,
  lease_owner   TEXT    NULL,
  lease_until   INTEGER NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (client_id, batch_id)
);
CREATE INDEX IF NOT EXISTS ix_transfer_batches_state_lease ON transfer_batches (state, lease_until);

CREATE TABLE IF NOT EXISTS transfer_batch_lines (
  batch_pk        INTEGER NOT NULL,
  line_no         INTEGER NOT NULL,
  transaction_id  TEXT    NOT NULL,
  request_json    TEXT    NOT NULL,
  state           TEXT    NOT NULL,
  http_status     INTEGER NULL,
  result_json     TEXT    NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (batch_pk, line_no)
);
CREATE INDEX IF NOT EXISTS ix_transfer_batch_lines_state ON transfer_batch_lines (batch_pk, state, line_no);
