import { expect } from 'chai';
import fs, { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendCheckpoint, RollbackWatch } from '../../src/audit/index.js';
import { createStore } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { writeBareChains } from '../support/bare-chains.js';
import { recordingStatements } from '../support/counting-db.js';
import { forEachBackend } from '../support/databases.js';

/**
 * The rollback watch runs in every gateway process every 2 s (GERBANG_AUDIT_ROLLBACK_CHECK_MS),
 * so what a pass asks of the database must not grow a statement per chain: a store gathers a
 * chain per process that ever wrote, and those that stopped without their last checkpoint (a
 * SIGKILL, a crash) stay grown past it until `audit verify` checkpoints every head.
 */
forEachBackend('RollbackWatch.check() over 600 chains grown since their checkpoint', (ctx) => {
  it('reads their checkpointed links in 3 statements besides the chain heads, and names the two whose link was deleted', async () => {
    const { db, statements } = recordingStatements(ctx.store().db);
    const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS });
    const chains = await writeBareChains(ctx.store().db, 600, TEST_AUDIT_KEYS.currentKeyId);
    const path = join(mkdtempSync(join(tmpdir(), 'gerbang-watch-')), 'audit-checkpoints.jsonl');
    appendCheckpoint(path, TEST_AUDIT_KEYS, { store: db.description, at: Date.now(), by: 'verify', heads: chains.map(([first]) => first) });
    const watch = new RollbackWatch(store.audit, TEST_AUDIT_KEYS, path, db.description, 10);

    statements().length = 0;
    await watch.check();
    expect(watch.held).to.equal(null);
    expect(statements()).to.deep.equal(['SELECT audit_writers', 'SELECT audit_chain', 'SELECT audit_chain', 'SELECT audit_chain']);

    // Two checkpointed links deleted from the middle of their chains (the heads left at link 2).
    const cut = [chains[250][0], chains[599][0]];
    for (const link of cut) await ctx.store().db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writerId, link.seq]);
    await watch.check();
    for (const link of cut) expect(watch.held).to.contain(`chain ${link.writerId}`);
    expect(watch.held).to.contain('2 chains are behind their checkpoints');
  });

  it('reads the checkpoint file\'s length in one call: a file removed between a look and a read is no file, not a thrown error taking the console overview down', async () => {
    const store = createStore(ctx.store().db, { auditKeys: TEST_AUDIT_KEYS });
    const path = join(mkdtempSync(join(tmpdir(), 'gerbang-watch-')), 'audit-checkpoints.jsonl');
    const watch = new RollbackWatch(store.audit, TEST_AUDIT_KEYS, path, ctx.store().db.description, 10);
    // The file is there when looked for and gone when read: what a rotation or a removal between two calls leaves.
    const existsSync = fs.existsSync;
    fs.existsSync = (p) => p === path || existsSync(p);
    try {
      expect(await watch.recent(60_000)).to.equal(null);
    } finally {
      fs.existsSync = existsSync;
    }
  });
});
