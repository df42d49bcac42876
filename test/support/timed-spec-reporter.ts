import Mocha from 'mocha';
import { relative } from 'node:path';

/** How many of the slowest files the summary names. */
const SHOWN = 15;

/**
 * Mocha's spec reporter, and after its summary the files that took longest (their tests and
 * their suites' hooks), so the suite's time can be worked on where it goes. A file's time is
 * the sum of what its tests and hooks report having taken, not the time between events: in
 * parallel mode (.mocharc.cjs) a worker runs the file and this process receives all its events
 * at once when it is done, each test and hook with its duration and its file.
 */
class TimedSpecReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const spent = new Map<string, number>();
    const add = (runnable: Mocha.Runnable): void => {
      // Root hooks (test/support/setup.ts) belong to no file.
      if (!runnable.file || runnable.duration === undefined) return;
      const file = relative(process.cwd(), runnable.file);
      spent.set(file, (spent.get(file) ?? 0) + runnable.duration);
    };
    runner.on(Mocha.Runner.constants.EVENT_TEST_END, add);
    runner.on(Mocha.Runner.constants.EVENT_HOOK_END, add);
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
