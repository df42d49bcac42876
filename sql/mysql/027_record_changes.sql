-- 027: the history of the rows that decide who may do what (console_users, clients,
-- client_credentials, client_account_grants, client_callbacks). Their MAC (024, 025) proves a row
-- was written by the gateway once, not that it is the row's latest state: a client restored from a
-- backup taken before it was disabled, a credential from before its secret was rotated, a console
-- user from before a role change carry an older MAC that still holds, and a deleted row leaves
-- nothing. From here on every change of such a row (insert, update, delete, `keys rotate`
-- re-MACing it) appends, in the same transaction, a row here with the table, the row's key and the
-- MAC it now carries (NULL: deleted), under a `record_change` link of the writer's keyed audit
-- chain (src/store/repositories/record-changes.ts). `audit verify` holds each row to its latest
-- record whose link holds: another MAC is an older copy written back, a recorded row that is gone
-- was deleted, a row with no record was not written by the gateway.
--
-- This migration's step in code (src/store/migrator.ts) records every row as it stands now
-- (`baseline`) in a chain of its own, with the key ring: the coverage begins with those records,
-- which are under the chain's key, so no database writer can move it. Needs the key ring when
-- any of those rows exist. The runtime user only INSERTs here (docs/operator-guide.md).
CREATE TABLE IF NOT EXISTS record_changes (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  table_name   VARCHAR(32)  NOT NULL,
  row_key      VARCHAR(255) NOT NULL COMMENT 'JSON array of the row''s key values as text',
  change_kind  VARCHAR(16)  NOT NULL COMMENT 'insert, update, delete, rotate, baseline',
  mac_key_id   VARCHAR(32)  NULL,
  mac          CHAR(64)     NULL COMMENT 'the MAC the row now carries; NULL: deleted',
  recorded_at  BIGINT       NOT NULL,
  PRIMARY KEY (id),
  KEY ix_record_changes_row (table_name, row_key, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
