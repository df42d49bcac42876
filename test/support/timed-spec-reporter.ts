import Mocha from 'mocha';
import { relative } from 'node:path';

/** How many of the slowest files the summary names. */
const SHOWN = 15;

/**
 * Mocha's spec reporter, and after its summary the files that took longest (their suites'
 * hooks included), so the suite's time can be worked on where it goes.
 */
class TimedSpecReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const spent = new Map<string, number>();
    const started = new Map<Mocha.Suite, number>();
    runner.on(Mocha.Runner.constants.EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.parent?.root && suite.file) started.set(suite, Date.now());
    });
    runner.on(Mocha.Runner.constants.EVENT_SUITE_END, (suite: Mocha.Suite) => {
      const since = started.get(suite);
      if (since === undefined || !suite.file) return;
      const file = relative(process.cwd(), suite.file);
      spent.set(file, (spent.get(file) ?? 0) + Date.now() - since);
    });
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const total = [...spent.values()].reduce((sum, ms) => sum + ms, 0);
      const slowest = [...spent].sort((a, b) => b[1] - a[1]).slice(0, SHOWN);
      // After the spec reporter's own summary: it registered for the same event first.
      Mocha.reporters.Base.consoleLog(`  Slowest files (of ${spent.size}, ${(total / 60_000).toFixed(1)} min in all):`);
      for (const [file, ms] of slowest) Mocha.reporters.Base.consoleLog(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${file}`);
      Mocha.reporters.Base.consoleLog('');
    });
  }
}

export = TimedSpecReporter;
