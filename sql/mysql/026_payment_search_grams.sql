-- 026: the finance console's contains search over the sealed beneficiary name and remark (and the
-- clear transaction id and bank ids) without a scan of the payments. The name and remark are sealed
-- (AES-256-GCM), so no index can hold them; this table holds a keyed blind index of them instead:
-- for each payment, every distinct trigram (3 characters, lower-cased, NFKC) of those fields as
-- the first 64 bits of an HMAC-SHA256 under a key derived from the key ring (KeyRing.macKey
-- 'payment search gram'), which the database never sees. A search turns its term into the same
-- hashes, intersects their postings through ix_payment_search_grams_gram and opens the candidates
-- to confirm the match, so a hash collision or trigrams scattered over two fields never show.
--
-- What a reader of this table learns (docs/security.md, "Search index"): how many distinct
-- trigrams each payment's fields hold, which payments share a trigram, and how often each hash
-- occurs, so a frequency analysis against a language model can guess the commonest trigrams of
-- Indonesian names; never the key, the order of the trigrams nor the text. Truncating to 64 bits
-- bounds what is stored per trigram, not this frequency leak.
--
-- payments.search_key_id: the ring key the payment's trigrams were made with (NULL: not indexed
-- yet). `keys rotate` re-indexes every payment under the newest key; until then a search computes
-- its hashes under every ring key. The migration's step in code indexes the payments already
-- stored (src/store/repositories/payment-search-grams.ts); `gerbang keys reindex-search` does the
-- same at any time.
--
-- No foreign key (a released reservation's trigrams are deleted with it in the same transaction)
-- and a primary key on every table (Galera needs one).
CREATE TABLE IF NOT EXISTS payment_search_grams (
  payment_id  BIGINT NOT NULL,
  gram_hash   BIGINT NOT NULL COMMENT 'first 64 bits of HMAC-SHA256(search key, trigram), signed',
  PRIMARY KEY (payment_id, gram_hash),
  KEY ix_payment_search_grams_gram (gram_hash, payment_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE payments ADD COLUMN search_key_id VARCHAR(32) NULL COMMENT 'ring key of the payment''s search trigrams; NULL: not indexed';
CREATE INDEX ix_payments_search_key ON payments (search_key_id);
