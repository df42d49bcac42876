-- 017 (embedded SQLite): purges of anonymous rejected exchanges, each an audit record in a keyed
-- chain; see sql/mysql/017_audit_purges.sql.
CREATE TABLE IF NOT EXISTS audit_purges (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  purged_at       INTEGER NOT NULL,
  received_before INTEGER NOT NULL,
  retention_days  INTEGER NOT NULL,
  purged_by       TEXT    NOT NULL,
  records         INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_purged_exchanges (
  exchange_id INTEGER NOT NULL PRIMARY KEY,
  purge_id    INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  writer_id   TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  link_hash   TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_audit_purged_exchanges_purge ON audit_purged_exchanges (purge_id, exchange_id);
