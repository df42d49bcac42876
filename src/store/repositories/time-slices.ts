import { performance } from 'node:perf_hooks';

/**
 * How long a walk of the audit chains (the scrub's every 2 s, `audit verify`) computes before it
 * gives the event loop back: the requests waiting behind it are held no longer than about this.
 * A page of 500 links opened and MAC'd in one go held the gateway's loop 10-25 ms, the longest
 * synchronous stretches at 200 transfers/s (docs/performance.md, "The audit scrub's long turns").
 */
const SLICE_MS = 1;

/**
 * A loop's time slices: `due()` says the slice is spent, `next()` resolves on the next turn of the
 * event loop (setImmediate: the I/O and timers due meanwhile run first) and begins a new slice.
 * `if (slices.due()) await slices.next();` at the top of each iteration.
 */
export class TimeSlices {
  private began = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  due(): boolean {
    return performance.now() - this.began >= this.sliceMs;
  }

  async next(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.began = performance.now();
  }
}
