-- 009: the rest of the stored data that can hold full account numbers, names or bank/ERP
-- payloads is encrypted at rest with the same key ring and sealed-value format as the audit
-- (migration 003, src/security/keyring.ts):
--  * transfer_batch_lines.request_json: the whole transfer request of each payment-run line
--    (source and beneficiary accounts, beneficiary name and e-mail, remark);
--  * transfer_batch_lines.result_json, payments.result_json: the answer given for a transfer
--    (the bank's message is the bank's free text and can quote an account or a name);
--  * callback_deliveries.body: that same answer, queued for the ERP.
-- key_id is the key every sealed value of the row is sealed with, so `gerbang keys rotate` finds
-- the rows still under an older key with an index. NULL: the row may hold clear values written
-- before this migration (they are read as they are) or values of several keys; `keys rotate`
-- seals such rows. Sealed values fit the existing TEXT columns (a line's request is under 1 kB).
--
-- Searchable columns stay clear; a line's accounts are kept masked (`******5680`) like the audit's.
ALTER TABLE payments ADD COLUMN key_id VARCHAR(32) NULL;
CREATE INDEX ix_payments_key_id ON payments (key_id);

ALTER TABLE transfer_batch_lines ADD COLUMN source_account VARCHAR(32) NULL COMMENT 'masked, e.g. ******5680';
ALTER TABLE transfer_batch_lines ADD COLUMN beneficiary_account VARCHAR(32) NULL COMMENT 'masked, e.g. ******5680';
ALTER TABLE transfer_batch_lines ADD COLUMN key_id VARCHAR(32) NULL;
CREATE INDEX ix_transfer_batch_lines_key_id ON transfer_batch_lines (key_id);

ALTER TABLE callback_deliveries ADD COLUMN key_id VARCHAR(32) NULL;
CREATE INDEX ix_callback_deliveries_key_id ON callback_deliveries (key_id);
