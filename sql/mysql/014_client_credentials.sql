-- 014_client_credentials: the other ways an API client proves who it is, besides its client
-- secret at POST /v1/auth/token (src/pipeline/auth, docs/dynamics-365-guide.md).
--
-- kind 'entra-app': a Microsoft Entra ID application (app registration or managed identity)
--   whose access tokens act as this client; lookup is its application (client) id, the
--   token's `azp`/`appid` claim, lower-case. secret_hash is NULL: the token is the proof.
-- kind 'api-key': the client's API key (X-API-Key: gbk_<lookup>_<secret>); lookup is the key's
--   public id, secret_hash the scrypt hash of the secret part (the key is shown once).
--
-- The primary key makes an Entra application or an API key id belong to one client only; a
-- client has at most one API key (rotation replaces it in one transaction).
CREATE TABLE IF NOT EXISTS client_credentials (
  kind         VARCHAR(16)  NOT NULL,
  lookup       VARCHAR(64)  NOT NULL,
  client_id    VARCHAR(64)  NOT NULL,
  secret_hash  VARCHAR(255) NULL COMMENT 'scrypt, api-key only',
  created_at   BIGINT       NOT NULL,
  PRIMARY KEY (kind, lookup),
  KEY ix_client_credentials_client (client_id, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
