-- 017: anonymous rejected exchanges are kept for a bounded time (GERBANG_AUDIT_ANONYMOUS_RETENTION_DAYS),
-- then `gerbang audit purge-anonymous` deletes them, so a flood of anonymous requests cannot grow
-- the audit without limit. A purge is itself an audit record, appended to its writer's keyed chain
-- like any other (link kind `purge`): audit_purges holds when, by what, up to which time, and
-- audit_purged_exchanges names every exchange it deleted with the chain link that covered it. The
-- links stay, so each chain still verifies link by link; `audit verify` accepts a link whose record
-- is gone only when a purge, itself covered by a link MAC, names that very link. An exchange deleted
-- by anyone else is still reported as deleted.
CREATE TABLE IF NOT EXISTS audit_purges (
  id             BIGINT       NOT NULL AUTO_INCREMENT,
  purged_at      BIGINT       NOT NULL,
  received_before BIGINT      NOT NULL COMMENT 'every exchange purged was received before this time',
  retention_days INT          NOT NULL,
  purged_by      VARCHAR(255) NOT NULL COMMENT 'the command, host and OS user',
  records        INT          NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS audit_purged_exchanges (
  exchange_id BIGINT      NOT NULL,
  purge_id    BIGINT      NOT NULL,
  received_at BIGINT      NOT NULL,
  writer_id   VARCHAR(64) NOT NULL COMMENT 'the chain link that covered the exchange',
  seq         BIGINT      NOT NULL,
  link_hash   CHAR(64)    NOT NULL,
  PRIMARY KEY (exchange_id),
  KEY ix_audit_purged_exchanges_purge (purge_id, exchange_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
