-- 029: a company account's month reconciled from one index, not from the rows. The console's
-- reconciliation reads every payment of an account in the period (a busy account: 50,000 a
-- month); through ix_payments_source_tag_created each was a lookup of its whole row, which on a
-- table larger than the buffer pool reads most of the table (a month: about 11 s on a million
-- payments). ix_payments_reconcile holds everything the reconciliation matches and shows,
-- the sealed paying account included (opened and compared for every row, as before), so the
-- read is one range of one index. It replaces ix_payments_source_tag_created (its prefix).
-- The sealed account is base64url with dots (a 34-digit account under a 32-character key id is
-- 124 characters): ASCII, at most 255, so the index stays under InnoDB's 3,072 bytes. A value
-- that does not fit makes the ALTER fail and the migration stop; nothing is cut.
-- The ALTER rebuilds payments (on Galera a TOI schema change, as 022 and 026 were): plan it.
ALTER TABLE payments
  MODIFY source_account VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'sealed, like result_json',
  DROP INDEX ix_payments_source_tag_created,
  ADD INDEX ix_payments_reconcile (source_account_tag, created_at, state, amount, transaction_id, bank_transaction_id, bank_transaction_date, bank_external_id, source_account);
