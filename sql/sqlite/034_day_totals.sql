-- 034 (embedded SQLite): kept per-day totals of the console's overview; see
-- sql/mysql/034_day_totals.sql.
ALTER TABLE reconciliation_seals ADD COLUMN totals TEXT NULL;
