-- 002: bookkeeping for the in-doubt resolver. A payment in doubt (UNKNOWN, PENDING, or SENDING
-- after a crash) is checked with the bank's status inquiry on a back-off schedule; a lease in
-- the row makes sure exactly one process (of all workers and nodes) checks it at a time.
ALTER TABLE payments ADD COLUMN check_attempts INT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN not_found_count INT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN next_check_at BIGINT NULL;
ALTER TABLE payments ADD COLUMN lease_owner VARCHAR(64) NULL;
ALTER TABLE payments ADD COLUMN lease_until BIGINT NULL;
CREATE INDEX payments_due ON payments (state, next_check_at);
