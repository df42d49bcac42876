-- 025 (embedded SQLite): API clients, their credentials, account grants and callback endpoints
-- carry a MAC of the key ring; see sql/mysql/025_client_macs.sql.
ALTER TABLE clients ADD COLUMN mac_key_id TEXT NULL;
ALTER TABLE clients ADD COLUMN mac TEXT NULL;
ALTER TABLE client_credentials ADD COLUMN mac_key_id TEXT NULL;
ALTER TABLE client_credentials ADD COLUMN mac TEXT NULL;
ALTER TABLE client_account_grants ADD COLUMN mac_key_id TEXT NULL;
ALTER TABLE client_account_grants ADD COLUMN mac TEXT NULL;
ALTER TABLE client_callbacks ADD COLUMN mac_key_id TEXT NULL;
ALTER TABLE client_callbacks ADD COLUMN mac TEXT NULL;
