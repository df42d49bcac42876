-- 033: a payment-run line's state, HTTP status, answer and transaction id were clear and under no
-- key, so a writer without the keys could turn a paid line into a REJECTED one (the ERP pays it
-- again) or swap two lines' transaction ids. Each line now carries a MAC of the key ring over its
-- run (client, batchId, line count), its place (batch_pk, line_no), its transaction id, state,
-- HTTP status and answer (src/store/repositories/transfer-batch-repository.ts, BATCH_LINES),
-- written by this migration's step in code (src/store/migrator.ts) for the lines already stored,
-- by the gateway at every write of a line, and renewed by `keys rotate`. A line that does not hold
-- its MAC, or a run missing lines, is answered 500 AUDIT_INTEGRITY and named by `audit verify`.
ALTER TABLE transfer_batch_lines ADD COLUMN mac_key_id VARCHAR(32) NULL, ADD COLUMN mac CHAR(64) NULL;
