'use strict';
// `npx mocha dist/test/x.test.js` runs just the files named; `mocha` alone (npm test) runs every
// suite. (Mocha adds a config file's `spec` to the files named on the command line, so the
// suite-wide glob is set only when none is named.)
const named = process.argv.slice(2).some((arg) => /\.js$/.test(arg) && !arg.startsWith('-'));

module.exports = {
  ...(named ? {} : { spec: ['dist/test/**/*.test.js'] }),
  require: ['dist/test/support/setup.js'],
  // The spec reporter, then the slowest files (where the suite's time goes).
  reporter: 'dist/test/support/timed-spec-reporter.js',
  timeout: 20000,
  exit: true,
};
