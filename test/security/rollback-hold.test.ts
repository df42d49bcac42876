import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db, SqlValue } from '../../src/store/index.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { acceptAsVerified, runCli, type CliResult } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) who deletes the
 * newest change of a row that decides who may pay, with its link at a chain's tail, or the whole
 * chain of the command that made it, and writes the row back as it was before: every remaining
 * link still holds, so only a record outside the database shows what is missing. Each change is
 * checkpointed outside the database as it commits, and every gateway compares the database with
 * the checkpoints: it serves nothing while the database lacks what they vouched for, until an
 * operator accepts the database as it is.
 */

type Row = Record<string, SqlValue>;

/** The chain link of the newest change record of client `clientId`. */
async function newestChangeLink(db: Db, clientId: string): Promise<{ writerId: string; seq: number; recordId: number }> {
  const [record] = await db.query<{ id: number | string }>("SELECT id FROM record_changes WHERE table_name = 'clients' AND row_key = ? ORDER BY id DESC LIMIT 1", [JSON.stringify([clientId])]);
  const [link] = await db.query<{ writer_id: string; seq: number | string }>("SELECT writer_id, seq FROM audit_chain WHERE kind = 'record_change' AND record_id = ?", [Number(record.id)]);
  return { writerId: link.writer_id, seq: Number(link.seq), recordId: Number(record.id) };
}

/** Deletes the links of chain `writerId` from `fromSeq` on with their change records, and moves its head back (or deletes it: the chain vanishes). */
async function cutChain(db: Db, writerId: string, fromSeq: number): Promise<void> {
  const links = await db.query<{ kind: string; record_id: number | string }>('SELECT kind, record_id FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writerId, fromSeq]);
  expect(links.map((l) => l.kind)).to.satisfy((kinds: string[]) => kinds.every((k) => k === 'record_change'), 'only change records are cut here');
  for (const link of links) await db.execute('DELETE FROM record_changes WHERE id = ?', [Number(link.record_id)]);
  await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [writerId, fromSeq]);
  if (fromSeq === 1) {
    await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [writerId]);
    return;
  }
  const [last] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, fromSeq - 1]);
  await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [fromSeq - 1, last.hash, writerId]);
}

async function copyRow(db: Db, clientId: string): Promise<Row> {
  const [row] = await db.query<Row>('SELECT * FROM clients WHERE id = ?', [clientId]);
  return row;
}

async function writeBack(db: Db, row: Row): Promise<void> {
  const columns = Object.keys(row);
  await db.execute(`UPDATE clients SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [...Object.values(row), row.id]);
}

forEachBackend('A change of who may pay deleted with its chain link, and the row written back', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-rollback-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, env());
  const db = () => ctx.store().db;
  let gw: TestGateway;

  before(async () => {
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  });
  after(() => gw?.close());

  /** Accepts the database as it is (so the next test starts from a gateway that serves). */
  async function accept(): Promise<CliResult> {
    const accepted = await acceptAsVerified(env(), 'test: attack undone by accepting');
    expect(accepted.code, accepted.stderr).to.equal(0);
    expect(await gw.gateway.checkCheckpoints()).to.equal(null);
    return accepted;
  }

  it('names the vanished chain of a `client disable` deleted with the row written back: the command checkpointed it as it committed', async () => {
    const client = await gw.createClient({ accounts: [] });
    const active = await copyRow(db(), client.clientId);
    expect((await cli('client', 'disable', '--id', client.clientId)).code).to.equal(0);
    const link = await newestChangeLink(db(), client.clientId);
    // The command's whole chain goes (it wrote only this change), and the row is as before the disable.
    await cutChain(db(), link.writerId, 1);
    await writeBack(db(), active);

    const verify = await cli('audit', 'verify');
    expect(verify.code, verify.stdout).to.equal(1);
    expect(verify.stdout).to.match(new RegExp(`VANISHED: chain ${link.writerId}, checkpointed at link 1 on \\S+, has vanished from the database`));
    await accept();
  });

  it('holds every request and payment run while the database lacks a checkpointed change, recorded, and serves again once an operator accepts it', async () => {
    const payer = await gw.createClient();
    const client = await gw.createClient({ accounts: [] });
    expect((await gw.request('/v1/auth/token', { method: 'POST', json: { client_id: client.clientId, client_secret: client.clientSecret } })).status).to.equal(200);
    const active = await copyRow(db(), client.clientId);
    expect((await cli('client', 'disable', '--id', client.clientId)).code).to.equal(0);
    const link = await newestChangeLink(db(), client.clientId);
    await cutChain(db(), link.writerId, 1);
    await writeBack(db(), active);

    const held = await gw.gateway.checkCheckpoints();
    expect(held).to.contain(`chain ${link.writerId}`).and.to.contain('has vanished');
    // The disabled client written back as active gets no token: nothing is served at all.
    const refused = await gw.request('/v1/auth/token', { method: 'POST', json: { client_id: client.clientId, client_secret: client.clientSecret } });
    expect(refused.status, refused.text).to.equal(503);
    expect(refused.body.code).to.equal('STORE_UNAVAILABLE');
    expect(refused.body.detail).to.contain('gerbang audit accept-rollback').and.to.contain(link.writerId);
    expect(refused.headers['retry-after']).to.equal('60');
    const ready = await gw.request('/readyz');
    expect(ready.status).to.equal(503);
    expect(ready.body.checks.checkpoints).to.contain(link.writerId);
    // The refusal is in the audit, as every answer is.
    const recorded = await eventually(async () => {
      const [row] = await db().query<{ status_code: number | string; error_code: string }>(
        'SELECT status_code, error_code FROM audit_exchanges WHERE request_id = ? AND status_code IS NOT NULL',
        [refused.headers['x-request-id']],
      );
      return row;
    });
    expect([Number(recorded.status_code), recorded.error_code]).to.deep.equal([503, 'STORE_UNAVAILABLE']);

    // A payment run stored meanwhile is not paid from this database.
    const line = sampleTransfer();
    const run = await gw.store.batches.create(
      { clientId: payer.clientId, batchId: `RUN-${line.transactionId}`, requestHash: 'r'.repeat(64), lines: [{ transactionId: line.transactionId as string, requestJson: JSON.stringify(line), sourceAccount: line.sourceAccountNumber as string, beneficiaryAccount: line.beneficiaryAccountNumber as string }] },
      Date.now(),
    );
    expect(await gw.gateway.batches.runOnce()).to.equal(0);
    expect((await gw.store.batches.lines(run.id, 0, 1))[0].state).to.equal('QUEUED');

    // An acceptance needs a reason; nothing is accepted without one.
    const bare = await cli('audit', 'accept-rollback');
    expect(bare.code).to.equal(2);
    expect(await gw.gateway.checkCheckpoints()).to.contain(link.writerId);
    const accepted = await accept();
    expect(accepted.stdout).to.contain(`VANISHED: chain ${link.writerId}`);
    expect((await gw.request('/v1/auth/token', { method: 'POST', json: { client_id: client.clientId, client_secret: client.clientSecret } })).status).to.equal(200);
    expect((await gw.request('/readyz')).status).to.equal(200);
    await eventually(async () => (await gw.store.batches.lines(run.id, 0, 1))[0].state !== 'QUEUED' || (await gw.gateway.batches.runOnce()) > 0, 10_000);
    expect((await gw.store.batches.lines(run.id, 0, 1))[0].state).to.equal('SUBMITTED');
    // The acceptance is kept: verify no longer names the chain, and a second acceptance finds nothing.
    const verify = await cli('audit', 'verify');
    expect(verify.stdout).to.not.contain(link.writerId);
    expect((await cli('audit', 'accept-rollback', '--reason', 'again')).stdout).to.contain('Nothing to accept');
  });

  it('holds a gateway nobody asks within GERBANG_AUDIT_ROLLBACK_CHECK_MS (2 s) and the 2 s that confirm a finding, measured from the cut', async () => {
    const client = await gw.createClient({ accounts: [] });
    const active = await copyRow(db(), client.clientId);
    expect((await cli('client', 'disable', '--id', client.clientId)).code).to.equal(0);
    const link = await newestChangeLink(db(), client.clientId);
    // A gateway with the default setting, which compared the database as it started and now only watches.
    const watching = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
    try {
      expect((await watching.request('/readyz')).status).to.equal(200);
      await cutChain(db(), link.writerId, 1);
      await writeBack(db(), active);
      const cut = Date.now();
      const ready = await eventually(async () => {
        const answer = await watching.request('/readyz');
        return answer.status === 503 && answer;
      }, 20_000);
      const heldAfterMs = Date.now() - cut;
      // 2 s to the next pass, 2 s of confirmation, and slack for a loaded machine; the earlier
      // 10 s interval held it about 12 s after a cut made just after the start.
      expect(heldAfterMs, 'ms from the cut to the hold').to.be.below(6_000);
      expect(ready.body.checks.checkpoints).to.contain(link.writerId);
    } finally {
      await watching.close();
    }
    await accept();
  });

  it('names and holds on the tail of the gateway\'s own chain cut back to before a change it made, within seconds, not at its next minute', async () => {
    const client = await gw.createClient({ accounts: [] });
    const before = await copyRow(db(), client.clientId);
    await gw.store.clients.setStatus(client.clientId, 'disabled', Date.now());
    const link = await newestChangeLink(db(), client.clientId);
    const [head] = await db().query<{ last_seq: number | string }>('SELECT last_seq FROM audit_writers WHERE writer_id = ?', [link.writerId]);
    expect(Number(head.last_seq), 'the disable is the newest link of its chain').to.equal(link.seq);
    await cutChain(db(), link.writerId, link.seq);
    await writeBack(db(), before);

    expect(await gw.gateway.checkCheckpoints()).to.contain(`chain ${link.writerId}`);
    const verify = await cli('audit', 'verify');
    expect(verify.code, verify.stdout).to.equal(1);
    expect(verify.stdout).to.match(new RegExp(`(ROLLED-BACK|VANISHED): chain ${link.writerId}`));
    await accept();
  });
});
