-- 031 (embedded SQLite): keyed day seals of the console's reconciliation; see
-- sql/mysql/031_reconciliation_seals.sql.
CREATE TABLE IF NOT EXISTS reconciliation_seals (
  account_tag  TEXT    NOT NULL,
  day          INTEGER NOT NULL,
  row_count    INTEGER NOT NULL,
  seal         TEXT    NOT NULL,
  sealed_at    INTEGER NOT NULL,
  mac_key_id   TEXT    NULL,
  mac          TEXT    NULL,
  PRIMARY KEY (account_tag, day)
);
