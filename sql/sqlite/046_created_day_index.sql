-- 046 (embedded SQLite): a text search's date range bounded by its ids from one index entry a day;
-- see sql/mysql/046_created_day_index.sql. SQLite indexes the expression itself (dayExpression in
-- payment-search-repository.ts writes it the same way), and finds a day's lowest and highest id in
-- it by equality (SEARCH ... USING COVERING INDEX), no column added.
CREATE INDEX IF NOT EXISTS ix_payments_created_day ON payments (((created_at + 25200000) / 86400000));
