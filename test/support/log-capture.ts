import { Writable } from 'node:stream';
import { configureLogger } from '../../src/log/index.js';

/**
 * Sends the gateway's JSON logs into memory for the duration of a suite, so a test can search
 * every line (the secret-hygiene tests do). `stop()` silences logging again.
 */
export function captureLogs(level = 'debug'): { lines: string[]; text: () => string; stop: () => void } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
      done();
    },
  });
  configureLogger(level, sink);
  return {
    lines,
    text: () => lines.join('\n'),
    stop: () => {
      configureLogger(process.env.GERBANG_TEST_LOG_LEVEL ?? 'silent');
    },
  };
}
