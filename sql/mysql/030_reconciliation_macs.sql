-- 030: a reconciliation checks every payment's MAC, from the same one index. A payment whose
-- amount, transaction id or creation time was changed in the database must be marked, never
-- matched or counted as paid (as the console's lists mark it); its MAC (payment-repository.ts,
-- paymentMac) covers client_id, transaction_id, request_hash, amount, currency and created_at.
-- ix_payments_reconcile (029) held only what the matching shows, so checking the MAC through it
-- would be a lookup of each row again (a month: seconds, see 029). It now holds the MAC's other
-- inputs and the MAC itself (about 2,400 of InnoDB's 3,072 bytes at most, utf8mb4 counted whole).
-- The ALTER rebuilds the index (on Galera a TOI schema change, as 022, 026 and 029 were): plan it.
ALTER TABLE payments
  DROP INDEX ix_payments_reconcile,
  ADD INDEX ix_payments_reconcile (source_account_tag, created_at, state, amount, transaction_id, bank_transaction_id, bank_transaction_date, bank_external_id, source_account, client_id, request_hash, currency, mac_key_id, mac);
