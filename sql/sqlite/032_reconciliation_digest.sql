-- 032_reconciliation_digest (embedded SQLite): see sql/mysql/032_reconciliation_digest.sql. A
-- sealed line now holds what only the reconciliation's proof reads as one value, its proof digest
-- (proofDigestSql in payment-search-repository.ts). SQLite has no SHA-256, and reads a virtual
-- column from an index only beside the columns it is made of, so it stores no digest: its lines
-- write those values into that one value, and ix_payments_reconcile (030) stays as it is (an
-- embedded store has no buffer pool to spare). The day seals written over the older lines would
-- never hold again: their MAC is cleared, so they are as good as none and the days are sealed anew.
UPDATE reconciliation_seals SET mac_key_id = NULL, mac = NULL;
