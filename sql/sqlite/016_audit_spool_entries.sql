-- 016 (embedded SQLite): the journal entry id of records written back from the audit spool,
-- unique so a replayed entry is one record; see sql/mysql/016_audit_spool_entries.sql.
ALTER TABLE audit_exchanges ADD COLUMN spool_entry TEXT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_audit_exchanges_spool_entry ON audit_exchanges (spool_entry);

ALTER TABLE audit_bank_calls ADD COLUMN spool_entry TEXT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_audit_bank_calls_spool_entry ON audit_bank_calls (spool_entry);
