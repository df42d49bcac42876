import { expect } from 'chai';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryFileOf } from '../../src/audit/index.js';
import { createMariaDbBehindProxy } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

/**
 * The files a gateway writes beside its database hold what an attacker on the host must not read:
 * the checkpoints, the process's head file and the memory of payments (which payments exist, under which keys), the audit
 * journaled while the database is away (sealed, but whole requests), the callback signing key. A
 * real gateway under the usual umask 022 (which would leave a plain file 0644) creates each 0600.
 * MariaDB behind a proxy, so that the database can go away and the audit be journaled on disk.
 */
describe('Files a gateway creates, under umask 022 (MariaDB)', function () {
  this.timeout(120_000);
  let umask: number;
  let database: Awaited<ReturnType<typeof createMariaDbBehindProxy>>;
  let gw: TestGateway | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'gerbang-modes-'));
  const files = { checkpoints: join(dir, 'audit', 'checkpoints.jsonl'), callbackKey: join(dir, 'keys', 'callback.pem'), spool: join(dir, 'spool') };

  before(async function () {
    umask = process.umask(0o022);
    database = await createMariaDbBehindProxy(this);
  });
  after(async () => {
    process.umask(umask);
    await gw?.close().catch(() => undefined);
    await database?.drop();
  });

  it('creates the checkpoint file, its head file and the memory of payments beside it, the audit journal and the callback signing key readable by their owner only (0600)', async () => {
    gw = await TestGateway.start(database.url, {
      GERBANG_AUDIT_CHECKPOINT_FILE: files.checkpoints,
      GERBANG_CALLBACK_KEY_FILE: files.callbackKey,
      GERBANG_AUDIT_SPOOL_DIR: files.spool,
      GERBANG_AUDIT_SCRUB_MS: '60000',
    });
    const client = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(client)}` };
    expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    // Its head file (its chains' heads at every commit), until it stops.
    const headFiles = readdirSync(join(dir, 'audit')).filter((name) => name.startsWith('checkpoints.jsonl.head-'));
    expect(headFiles).to.have.length(1);
    expect(modeOf(join(dir, 'audit', headFiles[0])), 'the head file').to.equal('600');
    // The scrub's memory is written only once whole: its passes until it is.
    await eventually(async () => gw!.gateway.scrub.lastPass !== null, 30_000);
    for (let i = 0; i < 1_000 && !gw.gateway.scrub.complete; i += 1) await gw.gateway.scrub.pass();
    // The database away: the refused request's audit is journaled on disk.
    await database.proxy.cut();
    expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(503);
    const journal = readdirSync(files.spool);
    expect(journal, 'the audit journaled').to.not.deep.equal([]);
    expect(journal.map((name) => modeOf(join(files.spool, name)))).to.deep.equal(journal.map(() => '600'));
    expect(modeOf(files.spool), 'the journal folder').to.equal('700');
    await database.proxy.restore();
    await gw.close();
    const memory = memoryFileOf(files.checkpoints, gw.store.db.description);
    gw = undefined;
    expect({ checkpoints: modeOf(files.checkpoints), memory: modeOf(memory), callbackKey: modeOf(files.callbackKey) }).to.deep.equal({ checkpoints: '600', memory: '600', callbackKey: '600' });
    expect(modeOf(join(dir, 'keys')), 'the key folder').to.equal('700');
  });
});
