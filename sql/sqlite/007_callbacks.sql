-- 007_callbacks: signed notifications to the ERP when a transfer becomes final (see the MySQL file).

CREATE TABLE IF NOT EXISTS client_callbacks (
  client_id   TEXT    NOT NULL PRIMARY KEY,
  url         TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS callback_deliveries (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id        TEXT    NOT NULL,
  transaction_id   TEXT    NOT NULL,
  url              TEXT    NOT NULL,
  body             TEXT    NOT NULL,
  state            TEXT    NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  last_status      INTEGER NULL,
  last_error       TEXT    NULL,
  lease_owner      TEXT    NULL,
  lease_until      INTEGER NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  UNIQUE (client_id, transaction_id)
);
CREATE INDEX IF NOT EXISTS ix_callback_deliveries_due ON callback_deliveries (state, next_attempt_at);
