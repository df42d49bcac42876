-- 028 (embedded SQLite): each chain_coverage row carries a MAC of the key ring; see
-- sql/mysql/028_keyed_coverage.sql.
ALTER TABLE chain_coverage ADD COLUMN mac_key_id TEXT NULL;
ALTER TABLE chain_coverage ADD COLUMN mac TEXT NULL;
