/** What the scripts of test/perf share: timing a read, and running a measurement on each backend. */
import { performance } from 'node:perf_hooks';
import { configureLogger } from '../../src/log/index.js';

/** Prints p50 / p95 of 20 runs of `run` under `label`. */
export async function times(label: string, run: () => unknown): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < 20; i += 1) {
    const t = performance.now();
    await run();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  console.log(`  ${label.padEnd(52)} p50 ${samples[9].toFixed(1).padStart(7)} ms   p95 ${samples[18].toFixed(1).padStart(7)} ms`);
}

/** `measure` on each backend of GERBANG_PERF_BACKENDS (default both), in turn, logging warnings only. */
export function onEachBackend(measure: (backend: 'sqlite' | 'mariadb') => Promise<void>): void {
  void (async () => {
    configureLogger('warn');
    for (const backend of (process.env.GERBANG_PERF_BACKENDS ?? 'sqlite,mariadb').split(',') as ('sqlite' | 'mariadb')[]) await measure(backend);
  })();
}
