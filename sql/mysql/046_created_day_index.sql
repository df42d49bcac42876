-- 046: a text search's date range bounded by its ids from one index entry a day (#16). The walk of
-- a search with a date range only reads the trigram postings of payment ids between the lowest and
-- highest id of the payments inside the range (idBoundsOf in payment-search-repository.ts). Those
-- came from a range of ix_payments_created_at: every entry of the range walked (a week of a million
-- payments a month: 233,000 entries, put in a temporary table to be counted and cut at a bound),
-- 160-280 ms of a first opening on the shared two-core machine. Ids are not in created_at order
-- (a node's clock behind, Galera's interleaved auto-increments), so MIN and MAX of the ids cannot be
-- read at the range's ends of that index. By the Jakarta day of created_at (a virtual column, the
-- expression dayExpression writes) and this index, whose entries hold the primary key after the
-- day, the lowest and highest id of a day are its first and last entries: two index dives a day
-- (MariaDB: "Select tables optimized away"), a fraction of a millisecond for a week.
-- VIRTUAL: nothing stored in the row, no table rebuild; the index is built online (INPLACE). On
-- Galera a TOI schema change, as 042 and 043 were: plan it (a million payments: a few seconds).
ALTER TABLE payments
  ADD COLUMN created_day INT AS ((created_at + 25200000) DIV 86400000) VIRTUAL COMMENT 'Jakarta day of created_at (046)',
  ADD INDEX ix_payments_created_day (created_day);
