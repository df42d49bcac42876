-- 042: the reconciliation page finds the acceptances of its days (gerbang audit accept-day) in the
-- console audit by their action and target (src/console/day-acceptances.ts, ConsoleAuditRepository
-- .provedEntries). console_audit had no index by action: every page view, list and export adds a
-- row, and a million of them made that lookup a full scan (1.6 to 2 s on MariaDB 10.11, measured);
-- by this index it reads the few entries named (30 ms, the client's start included).
-- An online ALTER on MariaDB and MySQL (INPLACE, no table copy); on Galera a TOI schema change,
-- as 035 was: plan it (a million entries: a few seconds to build).
ALTER TABLE console_audit ADD INDEX ix_console_audit_action_target (action, target);
