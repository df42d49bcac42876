-- 026_payment_search_grams (embedded SQLite): the same table, column and indexes as
-- sql/mysql/026_payment_search_grams.sql, whose comments explain them.
CREATE TABLE IF NOT EXISTS payment_search_grams (
  payment_id  INTEGER NOT NULL,
  gram_hash   INTEGER NOT NULL,
  PRIMARY KEY (payment_id, gram_hash)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_payment_search_grams_gram ON payment_search_grams (gram_hash, payment_id);
ALTER TABLE payments ADD COLUMN search_key_id TEXT NULL;
CREATE INDEX IF NOT EXISTS ix_payments_search_key ON payments (search_key_id);
