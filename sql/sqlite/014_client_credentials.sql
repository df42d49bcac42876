-- 014_client_credentials (embedded SQLite): the same table as sql/mysql/014_client_credentials.sql,
-- whose comments explain it.
CREATE TABLE IF NOT EXISTS client_credentials (
  kind         TEXT    NOT NULL,
  lookup       TEXT    NOT NULL,
  client_id    TEXT    NOT NULL,
  secret_hash  TEXT    NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (kind, lookup)
);
CREATE INDEX IF NOT EXISTS ix_client_credentials_client ON client_credentials (client_id, kind);
