-- 033 (embedded SQLite): each payment-run line carries a MAC of the key ring; see
-- sql/mysql/033_batch_line_macs.sql.
ALTER TABLE transfer_batch_lines ADD COLUMN mac_key_id TEXT NULL;
ALTER TABLE transfer_batch_lines ADD COLUMN mac TEXT NULL;
