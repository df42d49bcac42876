import { expect } from 'chai';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditScrub, memoryFileOf } from '../../src/audit/index.js';
import { readMemoryFile } from '../../src/audit/memory-file.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { UNTHROTTLED } from '../support/payment-deletion.js';

/**
 * The audit scrub's memory of payments written beside the checkpoints by every process of one host
 * (PM2's workers with the same settings, or containers sharing the folder, each its pid 1): they
 * write the same file, often at the same moment (every 5 minutes, and when they stop together).
 */
forEachBackend('The memory of payments written by several processes at once (#14)', (ctx) => {
  it('leaves one writer\'s file whole, never two mixed: every copy read back is one whole memory, and no temporary file is left', async function () {
    this.timeout(120_000);
    const gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_SCRUB_MS: '0', ...UNTHROTTLED });
    const stores: Store[] = [];
    try {
      const client = await gw.createClient();
      const auth = { authorization: `Bearer ${await gw.token(client)}` };
      const pay = async () => {
        const body = sampleTransfer();
        expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
        return body.transactionId as string;
      };
      const folder = mkdtempSync(join(tmpdir(), 'gerbang-memory-'));
      const checkpoints = join(folder, 'audit-checkpoints.jsonl');
      const ring = ringOf(TEST_AUDIT_KEY);
      // Two workers, each with its own store handle and scrub (its own memory), the second started after more payments.
      const worker = async () => {
        const store = await openStore(ctx.url(), { auditKeys: ring });
        stores.push(store);
        const scrub = new AuditScrub(store.audit, { ring, path: checkpoints, store: store.db.description }, { linksPerPass: 1_000, confirmMs: 50, quiet: true });
        for (let i = 0; i < 100 && !scrub.complete; i += 1) await scrub.pass();
        expect(scrub.complete).to.equal(true);
        return scrub;
      };
      for (let i = 0; i < 3; i += 1) await pay();
      const one = await worker();
      const later = await pay();
      for (let i = 0; i < 2; i += 1) await pay();
      const two = await worker();
      expect(one.memory.recall(client.clientId, later), 'the first worker has not seen the later payments').to.equal(null);
      expect(two.memory.size).to.be.above(one.memory.size);
      const description = stores[0].db.description;
      const file = memoryFileOf(checkpoints, description);

      for (let round = 0; round < 20; round += 1) {
        const written = await Promise.allSettled([one.saveMemory(file), two.saveMemory(file)]);
        const read = await readMemoryFile(file, ring, description);
        expect(read !== null && 'memory' in read, `round ${round}: ${JSON.stringify(read)}`).to.equal(true);
        expect(written.map((w) => (w.status === 'fulfilled' ? w.value : String(w.reason))), `both written (round ${round})`).to.deep.equal([true, true]);
        const { memory } = read as Exclude<typeof read, null | { problem: string }>;
        // One writer's memory, whole: the first's, or the second's with the later payment in it.
        const whose = memory.size === two.memory.size ? two : one;
        expect(memory.size, `round ${round}`).to.equal(whose.memory.size);
        expect(memory.recall(client.clientId, later)?.id ?? null).to.equal(whose.memory.recall(client.clientId, later)?.id ?? null);
      }
      expect(readdirSync(folder).filter((name) => name.endsWith('.tmp')), 'temporary files left').to.deep.equal([]);
    } finally {
      for (const store of stores) await store.close();
      await gw.close();
    }
  });

  it('removes at start the temporary files of its own memory file that a killed write left, old ones only; a write in progress and other files stay', async function () {
    this.timeout(60_000);
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const folder = mkdtempSync(join(tmpdir(), 'gerbang-memory-'));
      const checkpoints = join(folder, 'audit-checkpoints.jsonl');
      const file = memoryFileOf(checkpoints, store.db.description);
      const other = memoryFileOf(checkpoints, 'another database');
      const names = {
        killed: `${file}.4242-0123456789ab.tmp`,
        writing: `${file}.4243-0123456789ac.tmp`,
        othersKilled: `${other}.4242-0123456789ab.tmp`,
        notOurs: `${file}.backup.tmp`,
      };
      const hoursAgo = new Date(Date.now() - 2 * 60 * 60_000);
      for (const [role, name] of Object.entries(names)) {
        writeFileSync(name, 'partial');
        if (role !== 'writing') utimesSync(name, hoursAgo, hoursAgo);
      }
      const scrub = new AuditScrub(store.audit, { ring: ringOf(TEST_AUDIT_KEY), path: checkpoints, store: store.db.description }, { linksPerPass: 1_000, quiet: true });
      await scrub.resume(file);
      const left = readdirSync(folder).sort();
      expect(left).to.deep.equal([names.writing, names.othersKilled, names.notOurs].map((name) => name.slice(folder.length + 1)).sort());
    } finally {
      await store.close();
    }
  });
});
