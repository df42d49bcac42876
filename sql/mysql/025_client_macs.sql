-- 025: the rows that decide who may call the API and where its callbacks go carry a MAC of the
-- key ring (src/store/repositories/record-macs.ts), written with every change, like console users
-- since 024: an API client (its secret hash and version, allowlists, status, request signing), a
-- client's Entra application or API key, an account granted to a client, and a client's callback
-- endpoint. A row changed, inserted or moved in SQL does not match: the client gets no token and
-- passes no authentication (500 AUDIT_INTEGRITY, audited), a credential authenticates nobody, a
-- grant grants nothing, a callback URL is never signed for nor posted to; `audit verify` names
-- the row. Existing rows are signed by this migration's step in code (src/store/migrator.ts),
-- with the key ring.
ALTER TABLE clients ADD COLUMN mac_key_id VARCHAR(32) NULL, ADD COLUMN mac CHAR(64) NULL;
ALTER TABLE client_credentials ADD COLUMN mac_key_id VARCHAR(32) NULL, ADD COLUMN mac CHAR(64) NULL;
ALTER TABLE client_account_grants ADD COLUMN mac_key_id VARCHAR(32) NULL, ADD COLUMN mac CHAR(64) NULL;
ALTER TABLE client_callbacks ADD COLUMN mac_key_id VARCHAR(32) NULL, ADD COLUMN mac CHAR(64) NULL;
