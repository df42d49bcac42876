-- 010_client_account_grants: which company accounts each API client may use. A client reads the
-- balance or statement of, and pays from, only the accounts granted to it here; any other
-- account answers 404 as if it did not exist (audited). Fail closed on upgrade: clients that
-- existed before this migration have no grant, so they can use no account until an operator
-- grants them theirs (`gerbang client grant-account`, or the console's client page).
--
-- No account number is kept in clear (as in every other table): account_digest is the SHA-256
-- hex of `client_id:account` (what the gateway looks up), account_masked the number as the
-- console and the CLI show it (`******5680`).
CREATE TABLE IF NOT EXISTS client_account_grants (
  client_id       VARCHAR(64) NOT NULL,
  account_digest  CHAR(64)    NOT NULL,
  account_masked  VARCHAR(34) NOT NULL,
  granted_at      BIGINT      NOT NULL,
  PRIMARY KEY (client_id, account_digest)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
