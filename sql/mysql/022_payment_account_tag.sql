-- 022: finding a company account's payments (the console's reconciliation) without the account
-- in clear. source_account is sealed, so no index can hold it; source_account_tag holds a keyed
-- HMAC of it instead (the first 128 bits, hex), under a key derived from the key ring that the
-- database never sees: equal accounts have equal tags, and the tag tells nothing without the key.
-- A search computes the tag under each ring key and reads the matching rows by this index.
-- Rows from before 022 have no tag (the search opens those of the period instead); `keys rotate`
-- tags every payment under the newest key.
ALTER TABLE payments ADD COLUMN source_account_tag CHAR(32) NULL COMMENT 'HMAC of source_account (keyed, truncated)';
CREATE INDEX ix_payments_source_tag_created ON payments (source_account_tag, created_at);
