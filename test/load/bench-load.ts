import { Pool } from 'undici';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  /** Status codes other than the expected one, with counts. */
  unexpected: Record<string, number>;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Open-loop load at a fixed rate: request i is *due* at start + i/rate and its latency counts
 * from then, whether or not earlier ones have answered — so a slow server cannot slow the
 * generator down and hide its own queueing (no coordinated omission). `make(i)` builds each
 * request (unique ids, fresh signatures).
 */
export async function openLoop(origin: string, options: { rate: number; seconds: number; expectStatus: number; make: (i: number) => LoadRequest }): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 10_000 });
  const total = Math.round(options.rate * options.seconds);
  const latencies: number[] = [];
  const unexpected: Record<string, number> = {};
  let errors = 0;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const req = options.make(i);
    // Counted from when it was due (a request sent late carries the wait), or from when it went out
    // if the timer fired early (libuv's timers run against the loop's cached clock, up to a
    // millisecond before the real one): never a negative latency pulling every percentile down.
    const from = Math.min(due, performance.now());
    inflight.push(
      pool
        .request({ method: req.method, path: req.path, headers: req.headers, body: req.body })
        .then(async (res) => {
          await res.body.text();
          latencies.push(performance.now() - from);
          if (res.statusCode !== options.expectStatus) unexpected[res.statusCode] = (unexpected[res.statusCode] ?? 0) + 1;
        })
        .catch((error: unknown) => {
          errors += 1;
          const key = (error as { code?: string }).code ?? 'error';
          unexpected[key] = (unexpected[key] ?? 0) + 1;
        }),
    );
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return summarise(total, latencies, errors, unexpected, seconds);
}

/** Closed loop: `concurrency` callers each sending as fast as answers come, for the peak rate. */
export async function closedLoop(origin: string, options: { concurrency: number; seconds: number; expectStatus: number; make: (i: number) => LoadRequest }): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: options.concurrency, pipelining: 1 });
  const latencies: number[] = [];
  const unexpected: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const until = start + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const req = options.make(next++);
      const sent = performance.now();
      try {
        const res = await pool.request({ method: req.method, path: req.path, headers: req.headers, body: req.body });
        await res.body.text();
        latencies.push(performance.now() - sent);
        if (res.statusCode !== options.expectStatus) unexpected[res.statusCode] = (unexpected[res.statusCode] ?? 0) + 1;
      } catch (error) {
        errors += 1;
        const key = (error as { code?: string }).code ?? 'error';
        unexpected[key] = (unexpected[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return summarise(next, latencies, errors, unexpected, seconds);
}

function summarise(sent: number, latencies: number[], errors: number, unexpected: Record<string, number>, seconds: number): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  const bad = Object.values(unexpected).reduce((a, b) => a + b, 0);
  return {
    sent,
    ok: latencies.length - (bad - errors),
    errors,
    unexpected,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: sorted[sorted.length - 1] ?? NaN,
  };
}
