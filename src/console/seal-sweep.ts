import { getLogger } from '../log/index.js';
import type { PaymentSearchRepository } from '../store/index.js';

const log = getLogger('console');

/** How often the console seals the reconciliation's closed days (the first run at start). */
export const SEAL_SWEEP_INTERVAL_MS = 5 * 60_000;
/**
 * Rows proved one by one per run at most (about a month of the busiest account: 1-3 s of one core,
 * mostly in worker threads): the rest is left to the next run, so a console starting on an
 * unsealed million-payment store seals it over its first runs without holding a core for minutes.
 */
const SWEEP_BUDGET_ROWS = 50_000;

/**
 * The console's sweep of reconciliation day seals (#16, PaymentSearchRepository.sealClosedDays): a
 * run at start and every SEAL_SWEEP_INTERVAL_MS, never two at once, each logged. `stop()` asks a
 * running sweep to end after its current account and waits for it.
 */
export function startSealSweep(search: PaymentSearchRepository, clock: () => number, intervalMs = SEAL_SWEEP_INTERVAL_MS): { stop: () => Promise<void> } {
  let stopped = false;
  let running: Promise<void> | null = null;
  const run = () => {
    if (running !== null || stopped) return;
    const began = Date.now();
    running = search
      .sealClosedDays(clock(), SWEEP_BUDGET_ROWS, () => stopped)
      .then((swept) => log.info({ ...swept, ms: Date.now() - began }, 'reconciliation seal sweep'))
      .catch((error: unknown) => {
        if (!stopped) log.warn({ err: error }, 'reconciliation seal sweep failed; the next run tries again');
      })
      .finally(() => (running = null));
  };
  const first = setTimeout(run, 0);
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
