import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { AuditScrub } from '../../src/audit/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * The scrub runs inside the gateway process every 2 s: while it opens and MACs a page of 500 links
 * the requests behind it wait. At 200 transfers/s a page held the event loop 10-25 ms at a time,
 * the longest waits at the p99 (docs/performance.md, "The audit scrub's long turns"): the walk now
 * gives the loop back every millisecond or so. Without that, the longest turn of this pass took
 * 22-33 ms; with it 7-8 ms, the driver's decoding of a page's rows, which the walk does not slice.
 * The bound (16 ms) leaves twice that for a slower or busier machine and still fails the unsliced walk.
 */
describe('AuditScrub, a pass over the links of 400 transfers paid through a gateway on MariaDB', function () {
  this.timeout(180_000);
  let gw: TestGateway;
  let drop: () => Promise<void>;

  before(async function () {
    const created = await createMariaDbDatabase(this);
    drop = created.drop;
    // The gateway's own scrub off: the pass measured is the test's, on what the gateway wrote.
    gw = await TestGateway.start(created.url, { GERBANG_AUDIT_SCRUB_MS: '0', GERBANG_RATE_LIMIT_PER_CLIENT: '100000', GERBANG_RATE_LIMIT_PER_IP: '100000' });
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    let next = 0;
    const pay = async () => {
      for (; next < 400; next += 1) {
        const paid = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth });
        expect(paid.status, paid.text).to.equal(201);
      }
    };
    await Promise.all(Array.from({ length: 8 }, pay));
  });

  after(async () => {
    await gw?.close();
    await drop?.();
  });

  it('gives the event loop back after a few ms of CPU at most', async () => {
    const scrub = new AuditScrub(gw.store.audit, { ring: TEST_AUDIT_KEYS, path: join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-turns-')), 'c.jsonl'), store: gw.store.db.description }, { linksPerPass: 4_000 });
    // Each turn of the event loop during the pass: when it began and ended, and how long it took,
    // the lesser of its wall time and the process's CPU in it (on a loaded machine another process
    // stretches the one, the collector's threads the other). A turn that held a collection is left
    // out: its pause is not the scrub's.
    const turns: { from: number; to: number; ms: number }[] = [];
    const collections: { from: number; to: number }[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const gc of list.getEntries()) collections.push({ from: gc.startTime, to: gc.startTime + gc.duration });
    });
    observer.observe({ entryTypes: ['gc'] });
    let running = true;
    let from = performance.now();
    let cpu = process.cpuUsage();
    const tick = () => {
      const used = process.cpuUsage(cpu);
      const to = performance.now();
      turns.push({ from, to, ms: Math.min(to - from, (used.user + used.system) / 1000) });
      from = to;
      cpu = process.cpuUsage();
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    await scrub.pass();
    running = false;
    // The collections' entries come on a later turn.
    await new Promise((resolve) => setTimeout(resolve, 50));
    observer.disconnect();
    expect(scrub.held, 'nothing held').to.equal(null);
    expect(scrub.last?.links ?? 0, 'the pass walked the chain').to.be.at.least(1_500);
    const own = turns.filter((turn) => !collections.some((gc) => gc.from < turn.to && gc.to > turn.from));
    expect(own.length, 'turns without a collection').to.be.above(10);
    const longest = Math.max(...own.map((turn) => turn.ms));
    expect(longest, `the longest turn in ms (${own.length} of ${turns.length} turns without a collection)`).to.be.below(16);
  });
});
