#!/usr/bin/env bash
# Runs sqlmap (Debian package `sqlmap`) against a sandbox gateway on MariaDB — the token, transfer
# and status endpoints, with a valid token — and writes docs/security/sqlmap-report.md with its
# date. Exit status 0 only when every target was scanned to the end and nothing is injectable.
# MariaDB: GERBANG_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306), as for the test suites.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v sqlmap >/dev/null 2>&1 || { echo "sqlmap is not installed (apt-get install sqlmap)" >&2; exit 2; }
npm run build --silent
node dist/test/security/sqlmap-scan.js "${1:-docs/security/sqlmap-report.md}"
