'use strict';
// `npx mocha dist/test/x.test.js` runs just the files named; `mocha` alone (npm test) runs every
// suite. (Mocha adds a config file's `spec` to the files named on the command line, so the
// suite-wide glob is set only when none is named.)
const named = process.argv.slice(2).some((arg) => /\.js$/.test(arg) && !arg.startsWith('-'));

module.exports = {
  ...(named ? {} : { spec: ['dist/test/**/*.test.js'] }),
  // Two files at a time, each in a worker process (the machine has two cores; most suites wait on
  // a child process, MariaDB or a browser). Tests use port 0 and a database of their own, so files
  // share nothing; setup.js is a root-hook plugin and the reporter reads durations, which is what
  // parallel mode needs. `--no-parallel` runs one file after another, in this process.
  parallel: true,
  jobs: 2,
  require: ['dist/test/support/setup.js'],
  // The spec reporter, then the slowest files (where the suite's time goes).
  reporter: 'dist/test/support/timed-spec-reporter.js',
  timeout: 20000,
  exit: true,
};
