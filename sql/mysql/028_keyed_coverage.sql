-- 028: chain_coverage (024) says from which payment time and which console audit entry on every
-- record must have its keyed history; a writer without keys could move that time into the future
-- or delete the row, and so excuse a payment forged without events. Each row now carries a MAC of
-- the key ring (src/store/repositories/chain-coverage.ts), written by this migration's step in
-- code (src/store/migrator.ts) and renewed by `keys rotate`. A row missing, or not holding its
-- MAC, covers everything (every payment must have its history, every entry its link) and
-- `audit verify` names it. A row that excuses nothing (since 1 or less, a store created empty)
-- needs no MAC, so an empty store migrates without keys.
ALTER TABLE chain_coverage ADD COLUMN mac_key_id VARCHAR(32) NULL, ADD COLUMN mac CHAR(64) NULL;
