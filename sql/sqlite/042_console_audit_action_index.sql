-- 042 (embedded SQLite): the console audit's entries read by action and target; see
-- sql/mysql/042_console_audit_action_index.sql.
CREATE INDEX IF NOT EXISTS ix_console_audit_action_target ON console_audit (action, target);
