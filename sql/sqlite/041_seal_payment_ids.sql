-- 041_seal_payment_ids (embedded SQLite): a day seal names the payments it covered; see
-- sql/mysql/041_seal_payment_ids.sql.
ALTER TABLE reconciliation_seals ADD COLUMN payment_ids TEXT NULL;
