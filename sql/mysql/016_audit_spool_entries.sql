-- 016: records written back from the on-disk audit journal (the spool, src/store/audit-spool.ts)
-- carry the journal entry's own id. The unique keys make a replay idempotent: an entry replayed
-- twice (its first replayer was killed after the commit but before it could forget the entry,
-- or two processes replayed the same file) is refused by the database the second time, so it is
-- one record. Records written directly (not through the journal) leave it NULL, which a unique
-- key allows any number of times.
ALTER TABLE audit_exchanges ADD COLUMN spool_entry VARCHAR(40) NULL;
CREATE UNIQUE INDEX uq_audit_exchanges_spool_entry ON audit_exchanges (spool_entry);

ALTER TABLE audit_bank_calls ADD COLUMN spool_entry VARCHAR(40) NULL;
CREATE UNIQUE INDEX uq_audit_bank_calls_spool_entry ON audit_bank_calls (spool_entry);
