'use strict';
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

// `npx mocha dist/test/x.test.js` runs just the files named; `mocha` alone (npm test) runs every
// suite. (Mocha adds a config file's `spec` to the files named on the command line, so the
// suite-wide list is set only when none is named.)
const named = process.argv.slice(2).some((arg) => /\.js$/.test(arg) && !arg.startsWith('-'));

// The files that take longest (the reporter's "Slowest files" in CI), started first: the parallel
// runner hands the files to its workers in this order, so a long one never starts last and runs
// alone at the end. Mocha does not drop a file named twice (lib/cli/collect-files.js), so the
// suite is listed here, each file once, rather than these added before the glob. The slowest of
// the last CI runs, slowest first (seconds there: 302, 194, 179, 170, 147, 141, and sqlmap, the
// browser suite and head-file-attacks 100-140 each).
const SLOWEST = [
  'dist/test/security/scrub-memory.test.js',
  'dist/test/security/scrub-hold.test.js',
  'dist/test/audit/lost-payment-acceptance.test.js',
  'dist/test/audit/accepted-break-attacks.test.js',
  'dist/test/security/database-attacks.test.js',
  'dist/test/store/migrations.contract.test.js',
  'dist/test/security/sqlmap.test.js',
  'dist/test/e2e/console.browser.test.js',
  'dist/test/security/head-file-attacks.test.js',
];

/** Every dist/test/**\/*.test.js (in the glob's order, en locale), the slowest first. */
function suite() {
  // Not built yet: the glob, for mocha to say it found nothing.
  if (!existsSync('dist/test')) return ['dist/test/**/*.test.js'];
  const all = readdirSync('dist/test', { recursive: true })
    .filter((file) => file.endsWith('.test.js'))
    .map((file) => join('dist/test', file))
    .sort((a, b) => a.localeCompare(b, 'en'));
  return [...SLOWEST.filter((file) => all.includes(file)), ...all.filter((file) => !SLOWEST.includes(file))];
}

module.exports = {
  ...(named ? {} : { spec: suite() }),
  // Three files at a time, each in a worker process, on a machine of two cores: a suite's own
  // process is busy for well under half of its time (scrub-hold: 62 s of CPU in 221 s; the rest
  // waits on MariaDB, a child process, a browser or a timer), so two files left the cores idle
  // for much of a run. Tests use port 0 and a database of their own, so files share nothing;
  // setup.js is a root-hook plugin and the reporter reads durations, which is what parallel mode
  // needs. `--no-parallel` runs one file after another, in this process.
  parallel: true,
  jobs: 3,
  require: ['dist/test/support/setup.js'],
  // The spec reporter, then the slowest files (where the suite's time goes).
  reporter: 'dist/test/support/timed-spec-reporter.js',
  timeout: 20000,
  exit: true,
};
