-- 008_request_signing (embedded SQLite): per-client request signing and the replay cache; the
-- same columns and table as sql/mysql/008_request_signing.sql, whose comments explain them.
ALTER TABLE clients ADD COLUMN signing_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN signing_key TEXT NULL;
ALTER TABLE clients ADD COLUMN key_id TEXT NULL;

CREATE TABLE IF NOT EXISTS request_signatures (
  client_id       TEXT    NOT NULL,
  signature_hash  TEXT    NOT NULL,
  expires_at      INTEGER NOT NULL,
  PRIMARY KEY (client_id, signature_hash)
);
CREATE INDEX IF NOT EXISTS ix_request_signatures_expires_at ON request_signatures (expires_at);
