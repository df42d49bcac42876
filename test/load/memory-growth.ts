/**
 * `node dist/test/load/memory-growth.js [payments...]`: the longest single call of the audit scrub's
 * memory of payments (PaymentMemory.remember, called on the request path for every new
 * reservation) while it fills to 1 million and 10 million payments: its CPU time (the process's,
 * read around each call: another process taking the core meanwhile does not count) and its wall
 * time, and for the longest, whether V8 collected garbage during it (this loop's own key strings,
 * mostly: any allocation's, not the table's). A measurement, not a test: it depends on the machine
 * and its load. Before the table grew a little at a time, the call that doubled it
 * copied every slot at once (38 ms at a million payments, 328 ms at ten million).
 */
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { PaymentMemory } from '../../src/audit/payment-memory.js';

/** The slowest calls kept to be matched with the collections (the longest without one is among them). */
const KEPT = 2_000;

async function fill(payments: number) {
  const collections: { start: number; end: number }[] = [];
  const observer = new PerformanceObserver((list) => collections.push(...list.getEntries().map((e) => ({ start: e.startTime, end: e.startTime + e.duration }))));
  observer.observe({ entryTypes: ['gc'] });
  const memory = new PaymentMemory();
  let slowest: { start: number; ms: number; payment: number }[] = [];
  let floor = 0;
  let cpu = { ms: 0, payment: 0 };
  /** The calls that started a growth of the table (its bytes changed), the longest by CPU. */
  let growths = 0;
  let growth = { ms: 0, payment: 0 };
  let slow = 0;
  const started = performance.now();
  for (let i = 1; i <= payments; i += 1) {
    const [clientId, transactionId] = [`gbc_${i % 97}`, `INV-${i}`];
    const bytes = memory.bytes;
    const used = process.cpuUsage();
    const start = performance.now();
    memory.remember(clientId, transactionId, i, 1_700_000_000_000 + i);
    const ms = performance.now() - start;
    const { user, system } = process.cpuUsage(used);
    if ((user + system) / 1000 > cpu.ms) cpu = { ms: (user + system) / 1000, payment: i };
    if (memory.bytes !== bytes) {
      growths += 1;
      if ((user + system) / 1000 > growth.ms) growth = { ms: (user + system) / 1000, payment: i };
    }
    if (ms >= 1) slow += 1;
    if (ms > floor) {
      slowest.push({ start, ms, payment: i });
      if (slowest.length >= 2 * KEPT) {
        slowest = slowest.sort((a, b) => b.ms - a.ms).slice(0, KEPT);
        floor = slowest[slowest.length - 1].ms;
      }
    }
  }
  const totalS = (performance.now() - started) / 1000;
  // The collections' entries arrive after the loop.
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  const collected = (c: { start: number; ms: number }) => collections.some((g) => g.start < c.start + c.ms && g.end > c.start);
  slowest.sort((a, b) => b.ms - a.ms);
  const worst = slowest[0];
  return { worst: { ...worst, collected: collected(worst) }, cpu, growth, growths, slow, totalS, bytes: memory.bytes };
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  const rows = [];
  for (const payments of sizes.length > 0 ? sizes : [1_000_000, 10_000_000]) {
    const r = await fill(payments);
    const at = (c: { ms: number; payment: number }) => `${c.ms.toFixed(2)} ms (payment ${c.payment.toLocaleString('en')})`;
    rows.push(`| ${payments.toLocaleString('en')} | ${at(r.growth)} of ${r.growths} | ${at(r.cpu)} | ${at(r.worst)}${r.worst.collected ? ', a collection in it' : ''} | ${r.slow} | ${r.totalS.toFixed(1)} s | ${(r.bytes / 1024 / 1024).toFixed(0)} MiB |`);
  }
  process.stdout.write(['| Payments remembered | Longest call that grew the table, CPU | Longest remember(), CPU | Longest, wall | Calls of 1 ms or more (wall) | Filled in | Tables at most |', '|---|---|---|---|---|---|---|', ...rows, ''].join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
