/**
 * Preloaded into a gateway (`node --require dist/test/load/loop-probe.js`) by test/load/tail-probe.ts:
 * what held its event loop. At exit writes LOOP_PROBE_OUT (JSON): the event loop's delay
 * (monitorEventLoopDelay), every garbage collection (start, ms, kind), and, with LOOP_PROBE_HOOKS=1,
 * every callback the loop ran that took 2 ms or more (async_hooks before/after: start, wall ms,
 * the process's CPU ms, resource type). Times are performance.now() of the gateway; `clock` ties
 * them to the epoch and to the hrtime clock of a `--cpu-prof` profile. The hooks cost the gateway CPU of their own.
 */
import { createHook } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

const out = process.env.LOOP_PROBE_OUT;
if (out) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const collections: [number, number, number][] = [];
  new PerformanceObserver((list) => {
    for (const gc of list.getEntries()) collections.push([gc.startTime, gc.duration, (gc as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0]);
  }).observe({ entryTypes: ['gc'] });
  const clock = { hrtimeUs: Number(process.hrtime.bigint() / 1000n), perfMs: performance.now(), timeOrigin: performance.timeOrigin };
  const callbacks: [number, number, number, string][] = [];
  if (process.env.LOOP_PROBE_HOOKS === '1') {
    const types = new Map<number, string>();
    const open: [number, NodeJS.CpuUsage][] = [];
    createHook({
      init: (id, type) => void types.set(id, type),
      before: () => void open.push([performance.now(), process.cpuUsage()]),
      after: (id) => {
        const began = open.pop();
        if (!began || open.length > 0) return;
        const wall = performance.now() - began[0];
        if (wall < 2) return;
        const cpu = process.cpuUsage(began[1]);
        callbacks.push([began[0], wall, (cpu.user + cpu.system) / 1000, types.get(id) ?? '?']);
      },
      destroy: (id) => void types.delete(id),
    }).enable();
  }
  process.on('exit', () => {
    const ms = (ns: number) => ns / 1e6;
    writeFileSync(out, JSON.stringify({ clock, delay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) }, collections, callbacks }));
  });
}
