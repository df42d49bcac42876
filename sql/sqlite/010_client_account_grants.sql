-- 010_client_account_grants (embedded SQLite): the company accounts each API client may use; the
-- same table as sql/mysql/010_client_account_grants.sql, whose comments explain it.
CREATE TABLE IF NOT EXISTS client_account_grants (
  client_id       TEXT    NOT NULL,
  account_digest  TEXT    NOT NULL,
  account_masked  TEXT    NOT NULL,
  granted_at      INTEGER NOT NULL,
  PRIMARY KEY (client_id, account_digest)
);
