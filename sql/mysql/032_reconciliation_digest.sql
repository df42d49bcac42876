-- 032: a month's reconciliation read from a narrower index (#16). ix_payments_reconcile (029, 030)
-- held, beside what the page shows and matches, every column the row-by-row proof reads: the
-- sealed paying account, the client, the request hash, the currency and the MAC, about 360 bytes
-- an entry. A month of a busy account (50,000 payments) was 1,106 index pages, read from disk when
-- the buffer pool no longer held them (MariaDB's default 128 MB: 198 ms, against 32-39 ms held).
-- A sealed day and a kept proof are checked against each row's line (reconciliation-seals.ts),
-- which held all of those columns; they are now in the line as proof_digest: the first 16 bytes
-- of SHA-256 over them, each written with its length (~ for NULL) as a line writes a value, so a
-- change to any of them in SQL changes the line, and the day is proved row by row again, as
-- before. The database computes it on every write of the row (a writer cannot set it: MariaDB
-- and MySQL refuse a value for a generated column); the CHAR columns go through RTRIM, which is
-- what reading them gives (an expression on a CHAR column as read is refused in a generated column
-- by MariaDB, as it would depend on the session's sql_mode). Not keyed: it stands for the values,
-- the seal over the line is the keyed part. The index keeps what is shown, the digest and the id
-- (about 140 bytes an entry); the row-by-row proof of a day not sealed reads its rows' own
-- columns by their ids (a day's rows, recent ones mostly in the buffer pool).
-- The day seals written over the older lines would never hold again: their MAC is cleared, so
-- they are as good as none (trustedSeals), the console's sweep proves those days and seals them
-- anew, and the seal writer records the older row as deleted (its path for a seal row without a
-- MAC). Until the sweep has run, a month's first opening proves its days row by row.
-- The ALTER rebuilds payments (a stored column; on Galera a TOI schema change, as 022, 026, 029
-- and 030 were): plan it.
ALTER TABLE payments
  ADD COLUMN proof_digest BINARY(16) AS (LEFT(UNHEX(SHA2(CONCAT(
    IFNULL(CONCAT(OCTET_LENGTH(source_account), ':', source_account), '~'),
    IFNULL(CONCAT(OCTET_LENGTH(client_id), ':', client_id), '~'),
    IFNULL(CONCAT(OCTET_LENGTH(RTRIM(request_hash)), ':', RTRIM(request_hash)), '~'),
    IFNULL(CONCAT(OCTET_LENGTH(RTRIM(currency)), ':', RTRIM(currency)), '~'),
    IFNULL(CONCAT(OCTET_LENGTH(mac_key_id), ':', mac_key_id), '~'),
    IFNULL(CONCAT(OCTET_LENGTH(RTRIM(mac)), ':', RTRIM(mac)), '~')
  ), 256)), 16)) STORED COMMENT 'digest of what only the reconciliation''s proof reads (032)',
  DROP INDEX ix_payments_reconcile,
  ADD INDEX ix_payments_reconcile (source_account_tag, created_at, state, amount, transaction_id, bank_transaction_id, bank_transaction_date, bank_external_id, proof_digest);
UPDATE reconciliation_seals SET mac_key_id = NULL, mac = NULL;
