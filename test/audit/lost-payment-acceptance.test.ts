import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { acceptAsVerified, auditVerify, runCli, type CliResult } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { bankTransfers } from '../support/left-behind.js';
import { deleteWhole, payInsideChains, UNTHROTTLED } from '../support/payment-deletion.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) deletes or
 * alters a paid payment's row in plain SQL, its history left, or deletes it whole (row, events
 * and links: a gap inside chains). Once an operator accepts the database as it is, the ERP's resend
 * of that transactionId can be paid again: so `gerbang audit accept-rollback` accepts nothing
 * without the digest `audit verify` printed, and both name each lost payment as finance can act on
 * it (client, transactionId, amount, last outcome).
 */

forEachBackend('gerbang audit accept-rollback of a lost payment (#14)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-lost-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, env());
  /** The acceptance lines of the checkpoint file (the gateway appends its own checkpoints beside them). */
  const acceptances = () => readFileSync(checkpoints, 'utf8').split('\n').filter((line) => line.includes('"by":"accept-rollback:')).length;
  // One gateway for every case (scrubbing every 300 ms), and one client of it.
  let gw: TestGateway;
  let auth: Record<string, string>;
  let clientId: string;
  before(async function () {
    this.timeout(60_000);
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '300', ...UNTHROTTLED });
    const payer = await gw.createClient();
    clientId = payer.clientId;
    auth = { authorization: `Bearer ${await gw.token(payer)}` };
  });
  after(async () => gw?.close());

  /** Pays `body` through the gateway and the simulator: its payment id. */
  async function paid(body: Record<string, unknown>): Promise<number> {
    const answer = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect([answer.status, answer.body?.status], answer.text).to.deep.equal([201, 'SUCCESS']);
    const [row] = await gw.store.db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [body.transactionId as string]);
    return Number(row.id);
  }

  /** accept-rollback with the digest verify printed, as an operator would; the gateway serves again. */
  async function acceptedAsVerified(): Promise<CliResult> {
    const accepted = await acceptAsVerified(env(), 'test: bank statement checked');
    expect(accepted.code, accepted.stderr).to.equal(0);
    await eventually(async () => (await gw.request('/readyz')).status === 200, 20_000);
    return accepted;
  }

  it('refuses without --expect a paid payment whose row was deleted (nothing appended, the gateway still holds); verify names its client, transactionId, amount and outcome; its digest accepts it', async function () {
    this.timeout(120_000);
    const body = sampleTransfer();
    const id = await paid(body);
    await gw.store.db.execute('DELETE FROM payments WHERE id = ?', [id]);
    await eventually(async () => gw.gateway.scrub.held?.includes(`payments id ${id}`), 30_000);
    const before = acceptances();

    const refused = await cli('audit', 'accept-rollback', '--reason', 'test: did not look');
    expect(refused.code, refused.stdout).to.equal(1);
    expect(refused.stderr).to.contain('NOT accepted, nothing written').and.to.contain('Run gerbang audit verify first');
    expect(refused.stderr).to.contain(`payment ${id}: client ${clientId}, transactionId ${body.transactionId}, 100000.00 IDR; last outcome Gerbang knew: the bank executed it (SUCCESS)`);
    expect(acceptances(), 'no acceptance line').to.equal(before);
    const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(resent.status, resent.text).to.equal(503);
    expect(await bankTransfers(gw, body.transactionId as string), 'the transfers the bank received').to.equal(1);

    const verified = await auditVerify(env());
    expect(verified.text).to.contain(`LOST PAYMENT payment ${id}: client ${clientId}, transactionId ${body.transactionId}, 100000.00 IDR; last outcome Gerbang knew: the bank executed it (SUCCESS)`);
    expect(verified.text).to.contain('its row was deleted from the database').and.to.contain('is sent to the bank as a NEW payment');

    const accepted = await acceptedAsVerified();
    expect(accepted.stdout).to.contain(`payment ${id}: client ${clientId}, transactionId ${body.transactionId}, 100000.00 IDR`);
    expect(accepted.stdout).to.contain(`next request with each transactionId named here is sent to the bank as a NEW payment`).and.to.contain('bank statement');
    expect(acceptances()).to.equal(before + 1);
  });

  it('refuses without --expect a chain break (a paid payment deleted whole, its links with it, no lost row to name): nothing appended, the gateway still holds; verify\'s digest accepts it', async function () {
    this.timeout(120_000);
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    const breaks = await deleteWhole(gw.store.db, body.transactionId as string);
    await eventually(async () => breaks.every((at) => gw.gateway.scrub.held?.includes(at)), 30_000);
    const before = acceptances();

    const refused = await cli('audit', 'accept-rollback', '--reason', 'test: did not look');
    expect(refused.code, refused.stdout).to.equal(1);
    expect(refused.stderr).to.contain('NOT accepted, nothing written').and.to.contain('Run gerbang audit verify first').and.to.not.contain('LOST PAYMENT');
    for (const at of breaks) expect(refused.stderr, at).to.contain(at.replace(/^chain (\S+) link (\d+)$/, 'link $2 of chain $1'));
    expect(acceptances(), 'no acceptance line').to.equal(before);
    expect((await gw.request('/readyz')).status, 'the gateway still holds').to.equal(503);
    const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(resent.status, resent.text).to.equal(503);
    expect(await bankTransfers(gw, body.transactionId as string), 'the transfers the bank received').to.equal(1);

    expect(refused.stderr).to.match(/What there is to accept now \(digest [0-9a-f]{16}\)/);
    const accepted = await acceptedAsVerified();
    for (const at of breaks) expect(accepted.stdout, at).to.contain(at.replace(/^chain (\S+) link (\d+)$/, 'link $2 of chain $1'));
    expect(acceptances()).to.equal(before + 1);
  });

  it('names a payment altered to another transactionId by what its history says, and its row as it now stands', async function () {
    this.timeout(120_000);
    const body = sampleTransfer();
    const id = await paid(body);
    await gw.store.db.execute("UPDATE payments SET transaction_id = 'INV-MOVED', amount = '1.00' WHERE id = ?", [id]);
    const refused = await cli('audit', 'accept-rollback', '--reason', 'test: did not look');
    expect(refused.code, refused.stdout).to.equal(1);
    const named = `payment ${id}: client ${clientId}, transactionId ${body.transactionId}, 100000.00 IDR; last outcome Gerbang knew: the bank executed it (SUCCESS)`;
    expect(refused.stderr).to.contain(named).and.to.contain(`its row now says client ${clientId}, transactionId INV-MOVED, 1.00 IDR (not the gateway's values)`);
    const verified = await auditVerify(env());
    expect(verified.text).to.contain(named).and.to.contain('its row was altered in the database');
    await acceptedAsVerified();
  });

  it('says of a payment deleted with every event that carried its answer that its client and transactionId cannot be read back', async function () {
    this.timeout(120_000);
    const body = sampleTransfer();
    const id = await paid(body);
    // The row, and every event that carried the gateway's answer; the events' links left (the chain walk names them too).
    await gw.store.db.execute('DELETE FROM payment_events WHERE payment_id = ? AND result_json IS NOT NULL', [id]);
    await gw.store.db.execute('DELETE FROM payments WHERE id = ?', [id]);
    const refused = await cli('audit', 'accept-rollback', '--reason', 'test: did not look');
    expect(refused.code, refused.stdout).to.equal(1);
    const unreadable = `payment ${id}: its client and transactionId cannot be read back from the database`;
    expect(refused.stderr).to.match(new RegExp(`${unreadable} \\([^)]*\\); last state Gerbang knew: in doubt: being sent to the bank \\(SENDING\\)`));
    expect(refused.stderr).to.contain(unreadable);
    expect(refused.stderr).to.not.contain(body.transactionId as string);
    const verified = await auditVerify(env());
    expect(verified.text).to.contain(unreadable);
    await acceptedAsVerified();
  });
  it('reads nothing from an event whose link was re-keyed in SQL to a key the ring lacks: the payment is named as unreadable, nothing crashes', async function () {
    this.timeout(120_000);
    const body = sampleTransfer();
    const id = await paid(body);
    const answering = "kind = 'payment_event' AND record_id IN (SELECT id FROM payment_events WHERE payment_id = ? AND result_json IS NOT NULL)";
    const keys = await gw.store.db.query<{ writer_id: string; seq: number | string; key_id: string }>(`SELECT writer_id, seq, key_id FROM audit_chain WHERE ${answering}`, [id]);
    await gw.store.db.execute(`UPDATE audit_chain SET key_id = 'zz' WHERE ${answering}`, [id]);
    await gw.store.db.execute('DELETE FROM payments WHERE id = ?', [id]);
    const refused = await cli('audit', 'accept-rollback', '--reason', 'test: did not look');
    expect(refused.code, refused.stdout).to.equal(1);
    expect(refused.stderr).to.contain(`payment ${id}: its client and transactionId cannot be read back from the database`);
    expect(refused.stderr).to.not.contain(body.transactionId as string);
    // The keys put back: the deleted row alone is left to accept.
    for (const k of keys) await gw.store.db.execute('UPDATE audit_chain SET key_id = ? WHERE writer_id = ? AND seq = ?', [k.key_id, k.writer_id, Number(k.seq)]);
    await acceptedAsVerified();
  });
});
