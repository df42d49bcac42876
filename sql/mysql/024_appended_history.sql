-- 024: a payment's state changes are appended, not only overwritten. The payments row stays the
-- current state the gateway works from (its conditional UPDATEs decide races), and every write
-- that changes it appends, in the same transaction, a row here with the payment's state and bank
-- fields as they now stand, covered by a `payment_event` link of the writer's keyed audit chain
-- (src/store/repositories/audit-chain.ts): reserving, sending, each bank answer, each status
-- check of the resolver, a settlement (inquiry, statement, notification, an admin's review),
-- entering the review queue and releasing an unsent reservation.
--
-- `audit verify` walks these links like every other and compares each payment with its LAST
-- event: a state, bank reference or answer changed in SQL without an event is named, and so is a
-- payment deleted without a `RELEASED` event; the API checks the same on a status read and
-- answers 500 AUDIT_INTEGRITY instead of the forged state. result_json is the answer kept then,
-- sealed for this table and its (payment_id, seq) place.
--
-- No foreign key to payments: a released reservation's row is deleted, its history stays.
--
-- The console's audit (console_audit: sign-ins, payments viewed, exports, admin changes) is
-- appended to the same chains from here on, each entry under a `console_audit` link, so an entry
-- changed, deleted or inserted in SQL is named by `audit verify` too.
--
-- chain_coverage says from where each kind of record is covered, written once here (the runtime
-- user cannot change it: docs/operator-guide.md): payments created before the migration's time
-- have no event until their next change, and console audit entries before it have no link;
-- `audit verify` accepts those, and names a later payment without events or entry without a link.
CREATE TABLE IF NOT EXISTS payment_events (
  id                    BIGINT       NOT NULL AUTO_INCREMENT,
  payment_id            BIGINT       NOT NULL,
  seq                   INT          NOT NULL COMMENT '1, 2, … per payment',
  cause                 VARCHAR(16)  NOT NULL COMMENT 'reserve, update, send, settle, check, review, release',
  state                 VARCHAR(16)  NOT NULL,
  bank                  VARCHAR(32)  NULL,
  operation             VARCHAR(64)  NULL,
  bank_transaction_id   VARCHAR(191) NULL,
  bank_transaction_date VARCHAR(64)  NULL,
  bank_reference        VARCHAR(191) NULL,
  bank_external_id      VARCHAR(191) NULL,
  http_status           INT          NULL,
  review_since          BIGINT       NULL,
  result_json           MEDIUMTEXT   NULL,
  recorded_at           BIGINT       NOT NULL,
  key_id                VARCHAR(32)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_payment_events_payment_seq (payment_id, seq),
  KEY ix_payment_events_key_id (key_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS chain_coverage (
  records VARCHAR(32) NOT NULL COMMENT 'payments: by created_at; console_audit: by id',
  since   BIGINT      NOT NULL COMMENT 'records before this one may be uncovered',
  PRIMARY KEY (records)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO chain_coverage (records, since) SELECT 'payments', COALESCE(MAX(created_at), 0) + 1 FROM payments;
INSERT INTO chain_coverage (records, since) SELECT 'console_audit', COALESCE(MAX(id), 0) + 1 FROM console_audit;

-- A console user's username, password hash, role and status carry a MAC (the key ring's console
-- user key), written with every change: a role raised, a password hash replaced or a user
-- inserted in SQL is refused at sign-in and on every page, and named by `audit verify`. Existing
-- users are signed by this migration's step in code (src/store/migrator.ts), with the key ring.
ALTER TABLE console_users ADD COLUMN mac_key_id VARCHAR(32) NULL, ADD COLUMN mac CHAR(64) NULL;
