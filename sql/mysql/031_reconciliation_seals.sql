-- 031: keyed day seals of the console's reconciliation (#16). Opening a month of a busy company
-- account proved every payment row by row (its paying account opened, its MAC checked, its state
-- held to its last event): 50,000 AES-GCM openings and HMACs, seconds on a first opening. Once
-- every row of one account's closed day has been proved so, the console writes here an HMAC over
-- the canonical bytes of all those rows (each row's id, every value the reconciliation reads and
-- the proof depends on, and its last event's seq), bound to the account's keyed tag, the day and
-- the row count (src/store/repositories/reconciliation-seals.ts). A later reading of that day
-- streams its rows through one HMAC and compares: equal, every row is as it was proved; else (a
-- row changed, added or removed in SQL, a payment that moved on, a seal under an older key) the
-- day is proved row by row again, and sealed anew when it holds.
-- The seal row carries a MAC (record-macs.ts) and every write of it a record_changes entry under
-- the writer's keyed chain, as the rows that decide who may do what: a seal row restored from an
-- older copy, whose MAC still holds, is not its latest state and is not trusted.
-- Written by the console only, off the transfer path; two consoles sealing the same day write the
-- same content, and the loser's conflict is ignored (the primary key decides, on Galera too).
-- The console's database user needs SELECT, INSERT and UPDATE here (docs/operator-guide.md).
CREATE TABLE IF NOT EXISTS reconciliation_seals (
  account_tag  CHAR(32)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'payments.source_account_tag of the sealed rows',
  day          INT          NOT NULL COMMENT 'Jakarta (UTC+7) day number: (created_at + 7 h) DIV 86400000',
  row_count    INT          NOT NULL,
  seal         CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'HMAC-SHA256 of the day''s rows, under the key mac_key_id',
  sealed_at    BIGINT       NOT NULL,
  mac_key_id   VARCHAR(32)  NULL,
  mac          CHAR(64)     NULL,
  PRIMARY KEY (account_tag, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
