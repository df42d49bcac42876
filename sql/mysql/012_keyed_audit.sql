-- 012: an audit that a database writer without the keys cannot forge, trim or roll back.
--
-- Sealed values: every one is now `gcm2` (AES-256-GCM bound to its table, column and row, see
-- src/store/repositories/sealed-values.ts) and there is no clear-text fallback. SQL cannot
-- encrypt, so the values written before (clear text, `gcm1`) are sealed by this migration's step
-- in code, src/store/sealing-migration.ts, which runs right after these statements.
--
-- Chain links are HMAC-SHA256 under a key derived from the key ring (never in the database);
-- key_id names the ring key, NULL only for links from before this migration (re-linked by the
-- step above when their SHA-256 chain is intact).
ALTER TABLE audit_chain ADD COLUMN key_id VARCHAR(32) NULL COMMENT 'ring key the link MAC is under';

-- A verification run is signed too, so a forged "verified OK" row cannot keep the console green.
ALTER TABLE audit_verifications ADD COLUMN key_id VARCHAR(32) NULL, ADD COLUMN mac CHAR(64) NULL;

-- A payment's fixed fields (client, transaction id, request hash, amount, currency, creation
-- time) carry a MAC written with the row: an amount changed in SQL is named by `audit verify`
-- and refused by the API.
ALTER TABLE payments ADD COLUMN mac_key_id VARCHAR(32) NULL, ADD COLUMN mac CHAR(64) NULL;
