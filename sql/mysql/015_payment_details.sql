-- 015_payment_details: what the finance console needs to answer a clerk without opening the audit.
--  * details_json: the payment's facts from the ERP's request (source and beneficiary accounts,
--    beneficiary name and bank code, remark, transfer method), sealed with the key ring like
--    result_json (same row key_id; `gerbang keys rotate` re-seals it with the row).
--  * beneficiary_account: masked (`******5681`), clear, for the list.
--  * beneficiary_bank: the beneficiary's bank code as the ERP sent it (clear: not personal data).
-- Rows written before this migration have NULLs: the console shows "—" for them.
ALTER TABLE payments ADD COLUMN details_json TEXT NULL;
ALTER TABLE payments ADD COLUMN beneficiary_account VARCHAR(32) NULL COMMENT 'masked, e.g. ******5681';
ALTER TABLE payments ADD COLUMN beneficiary_bank VARCHAR(16) NULL;
-- A payment's run (the export's run_id) is found from its transaction id.
CREATE INDEX ix_transfer_batch_lines_transaction_id ON transfer_batch_lines (transaction_id);
-- The list's count and sum (at most 10,000 matches, see payment-search-repository.ts) read only
-- these indexes for the common filters (none, dates, status and dates), never the rows.
CREATE INDEX ix_payments_created_amount ON payments (created_at, amount_minor);
CREATE INDEX ix_payments_state_created_amount ON payments (state, created_at, amount_minor);
