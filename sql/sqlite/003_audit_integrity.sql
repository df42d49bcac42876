-- 003 (embedded SQLite): the audit is encrypted at rest and tamper-evident; the same columns
-- and tables as sql/mysql/003_audit_integrity.sql, whose comments explain them. SQLite TEXT has
-- no length limit, so the header and URL columns need no change here.
ALTER TABLE audit_exchanges ADD COLUMN source_account TEXT NULL;
ALTER TABLE audit_exchanges ADD COLUMN beneficiary_account TEXT NULL;
ALTER TABLE audit_exchanges ADD COLUMN key_id TEXT NULL;
CREATE INDEX IF NOT EXISTS ix_audit_exchanges_key_id ON audit_exchanges (key_id);

ALTER TABLE audit_bank_calls ADD COLUMN key_id TEXT NULL;
CREATE INDEX IF NOT EXISTS ix_audit_bank_calls_key_id ON audit_bank_calls (key_id);

CREATE TABLE IF NOT EXISTS audit_writers (
  writer_id  TEXT    NOT NULL PRIMARY KEY,
  host       TEXT    NOT NULL,
  pid        INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_seq   INTEGER NOT NULL,
  last_hash  TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_chain (
  writer_id   TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  record_id   INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  prev_hash   TEXT    NOT NULL,
  hash        TEXT    NOT NULL,
  PRIMARY KEY (writer_id, seq)
);
CREATE INDEX IF NOT EXISTS ix_audit_chain_record ON audit_chain (kind, record_id);
