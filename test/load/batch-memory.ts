/**
 * `npm run bench:batch-memory`: does paying a payment run hold memory in proportion to its size?
 * One gateway (embedded store, built-in simulator) pays runs of 100, 1,000 and 1,000 lines
 * again, one after the other; the peak heap in use while each run is paid is sampled every 20 ms
 * (after a forced GC before each run, so each starts from the same floor). Flat means the
 * 1,000-line peak stays near the 100-line one, since lines are read and paid a page at a time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureLogger } from '../../src/log/index.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

async function main(): Promise<void> {
  configureLogger('silent');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-batch-mem-')), 'g.sqlite')}`;
  const gw = await TestGateway.start(url, { GERBANG_BATCH_MAX_LINES: '1000', GERBANG_BATCH_CONCURRENCY: '8', GERBANG_RATE_LIMIT_PER_CLIENT: '100000', GERBANG_RATE_LIMIT_PER_IP: '100000' });
  const auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
  gw.simulator.setAccount({ number: '0201245680', name: 'PT RUN', balance: '100000000000.00' });
  const results: string[] = [];
  for (const size of [100, 1000, 1000]) {
    const transfers = Array.from({ length: size }, () => sampleTransfer({ amount: '1000.00' }));
    const batchId = `MEM-${randomBytes(4).toString('hex')}`;
    gc();
    const floor = process.memoryUsage().heapUsed;
    let peak = floor;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
    const started = Date.now();
    const res = await gw.request('/v1/transfer-batches', { json: { batchId, transfers }, headers: auth });
    if (res.status !== 202) throw new Error(`run refused: ${res.text}`);
    transfers.length = 0; // the client's copy is not the gateway's memory
    await eventually(async () => (await gw.request(`/v1/transfer-batches/${batchId}?limit=1`, { headers: auth })).body.state === 'DONE', 600_000);
    clearInterval(sampler);
    results.push(`| ${size} | ${((Date.now() - started) / 1000).toFixed(1)} s | ${((peak - floor) / 1024 / 1024).toFixed(1)} MiB |`);
  }
  await gw.close();
  process.stdout.write(['| Lines | Paid in | Peak heap above the floor |', '|---|---|---|', ...results, ''].join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
