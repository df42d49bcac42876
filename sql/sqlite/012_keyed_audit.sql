-- 012: an audit that a database writer without the keys cannot forge, trim or roll back.
-- See sql/mysql/012_keyed_audit.sql; the step in code is src/store/sealing-migration.ts.
ALTER TABLE audit_chain ADD COLUMN key_id TEXT NULL;

ALTER TABLE audit_verifications ADD COLUMN key_id TEXT NULL;
ALTER TABLE audit_verifications ADD COLUMN mac TEXT NULL;

ALTER TABLE payments ADD COLUMN mac_key_id TEXT NULL;
ALTER TABLE payments ADD COLUMN mac TEXT NULL;
