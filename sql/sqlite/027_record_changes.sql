-- 027 (embedded SQLite): every change of a console user, client, credential, account grant or
-- callback endpoint is recorded with the MAC the row then carries, under a `record_change` link of
-- the keyed audit chain; see sql/mysql/027_record_changes.sql.
CREATE TABLE IF NOT EXISTS record_changes (
  id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  table_name   TEXT    NOT NULL,
  row_key      TEXT    NOT NULL,
  change_kind  TEXT    NOT NULL,
  mac_key_id   TEXT    NULL,
  mac          TEXT    NULL,
  recorded_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_record_changes_row ON record_changes (table_name, row_key, id);
