import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { acceptAsVerified, auditVerify, runCli, type CliResult, type VerifyReport } from '../support/cli.js';
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

  /**
   * accept-rollback with the digest verify printed, as an operator would: `verified`'s when the case
   * has just run audit verify itself, else verify's run first; the gateway serves again.
   */
  async function acceptedAsVerified(verified?: { report: VerifyReport }): Promise<CliResult> {
    const digest = verified?.report.acceptDigest;
    const reason = 'test: bank statement checked';
    const accepted = digest ? await cli('audit', 'accept-rollback', '--expect', digest, '--reason', reason) : await acceptAsVerified(env(), reason);
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

    const accepted = await acceptedAsVerified(verified);
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
    await acceptedAsVerified(verified);
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
    expect(refused.stderr).to.match(new RegExp(`${unreadable} \\([^)]*\\); the newest event of its history that holds to its audit link, event \\d+, says: in doubt: being sent to the bank \\(SENDING\\)`));
    expect(refused.stderr).to.contain(unreadable);
    expect(refused.stderr).to.not.contain(body.transactionId as string);
    const verified = await auditVerify(env());
    expect(verified.text).to.contain(unreadable);
    await acceptedAsVerified(verified);
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

  it('says which newer event does not hold when an UPDATE altered the newest event before the row was deleted, never an older state as the last one', async function () {
    this.timeout(120_000);
    const body = sampleTransfer();
    const id = await paid(body);
    const events = await gw.store.db.query<{ id: number | string; seq: number | string }>('SELECT id, seq FROM payment_events WHERE payment_id = ? ORDER BY seq', [id]);
    const [before, newest] = events.slice(-2).map((e) => ({ id: Number(e.id), seq: Number(e.seq) }));
    // The newest event (the bank's SUCCESS, carrying the answer) altered in place, then the row deleted.
    await gw.store.db.execute("UPDATE payment_events SET bank_reference = 'FORGED' WHERE id = ?", [newest.id]);
    await gw.store.db.execute('DELETE FROM payments WHERE id = ?', [id]);
    const verified = await auditVerify(env());
    const line = verified.text.split('\n').find((l) => l.includes(`LOST PAYMENT payment ${id}:`)) ?? '';
    expect(line).to.contain(`the newest event of its history that holds to its audit link, event ${before.seq}, says: `);
    expect(line).to.contain(`; event ${newest.seq} exists but does not hold its link: what followed event ${before.seq} cannot be read back`);
    expect(line).to.not.contain('last state Gerbang knew');
    await acceptedAsVerified(verified);
  });

  it('names the paying client among those that sent its transactionId, however many requests another client sent for it first', async function () {
    this.timeout(180_000);
    const body = sampleTransfer();
    const other = await gw.createClient();
    const otherAuth = { authorization: `Bearer ${await gw.token(other)}` };
    // Another client's payment with the same transactionId, and its resends: 60 audited requests before ours.
    for (let i = 0; i < 60; i += 1) {
      const answer = await gw.request('/v1/transfers', { json: body, headers: otherAuth });
      expect(answer.status, answer.text).to.be.oneOf([200, 201]);
    }
    const id = await paid(body);
    await gw.store.db.execute('DELETE FROM payments WHERE id = ?', [id]);
    const verified = await auditVerify(env());
    const named = [clientId, other.clientId].sort().join(', ');
    expect(verified.text).to.contain(`LOST PAYMENT payment ${id}: client one of ${named} (each sent a request for this transactionId), transactionId ${body.transactionId}`);
    await acceptedAsVerified(verified);
  });

  it('shows escaped, on no line of its own, a value an UPDATE wrote with control characters into an altered row (verify and the acceptance)', async function () {
    this.timeout(120_000);
    const id = await paid(sampleTransfer());
    const forged = '\x1b[1A\x1b[2K\r\n  - LOST PAYMENT payment 1: FAKE (FAILED)\u202e';
    await gw.store.db.execute('UPDATE payments SET transaction_id = ? WHERE id = ?', [forged, id]);
    const verified = await auditVerify(env());
    const accepted = await acceptedAsVerified(verified);
    const escaped = '"\\u001b[1A\\u001b[2K\\u000d\\u000a  - LOST PAYMENT payment 1: FAKE (FAILED)\\u202e"';
    for (const text of [verified.text, accepted.stdout]) {
      expect(text).to.not.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(text.split('\n').filter((l) => l.includes('FAKE')).every((l) => l.includes('\\u001b[1A\\u001b[2K')), text).to.equal(true);
      expect(text).to.contain(`its row now says client ${clientId}, transactionId ${escaped}, 100000.00 IDR`);
    }
    // verify's own line of the altered row names its client and transactionId too: escaped the same way.
    expect(verified.text.split('\n').some((l) => l.includes(`payments id ${id}`) && l.includes('\\u001b[1A'))).to.equal(true);
  });

  it('names a payment whose audited requests cannot be read as unreadable, and still prints the report and its digest', async function () {
    this.timeout(120_000);
    const body = sampleTransfer();
    const id = await paid(body);
    // Its audited request and its bank calls altered so that none opens: reading the requests for its transactionId fails.
    await gw.store.db.execute("UPDATE audit_bank_calls SET request_body = 'x' WHERE exchange_id IN (SELECT id FROM audit_exchanges WHERE transaction_id = ?)", [body.transactionId as string]);
    await gw.store.db.execute("UPDATE audit_exchanges SET request_body = 'x' WHERE transaction_id = ?", [body.transactionId as string]);
    await gw.store.db.execute('DELETE FROM payments WHERE id = ?', [id]);
    const verified = await auditVerify(env());
    expect(verified.code).to.equal(1);
    expect(verified.report.acceptDigest).to.be.a('string');
    expect(verified.text, verified.text).to.match(new RegExp(`LOST PAYMENT payment ${id}: cannot be read back \\(.+\\); its row was deleted from the database`));
    await acceptedAsVerified(verified);
  });

  it('reads a lost payment\'s history of 70,000 events inserted in SQL: verify names it and prints its digest, the acceptance accepts it', async function () {
    this.timeout(300_000);
    const body = sampleTransfer();
    const id = await paid(body);
    const [{ seq }] = await gw.store.db.query<{ seq: number | string }>('SELECT MAX(seq) AS seq FROM payment_events WHERE payment_id = ?', [id]);
    await gw.store.db.execute('DELETE FROM payments WHERE id = ?', [id]);
    // More events than one statement takes placeholders (SQLite 32,766; MariaDB 65,535), none with a link.
    const junk = 70_000;
    const digits = `(${[...Array(10).keys()].map((d) => `SELECT ${d} AS x`).join(' UNION ALL ')})`;
    const n = 'a.x + 10 * b.x + 100 * c.x + 1000 * d.x + 10000 * e.x';
    await gw.store.db.execute(
      `INSERT INTO payment_events (payment_id, seq, cause, state, recorded_at) SELECT ?, ? + 1 + ${n}, 'update', 'SENDING', 1 ` +
        `FROM ${digits} a, ${digits} b, ${digits} c, ${digits} d, ${digits} e WHERE ${n} < ?`,
      [id, Number(seq), junk],
    );
    const verified = await auditVerify(env());
    expect(verified.code).to.equal(1);
    expect(verified.report.acceptDigest).to.be.a('string');
    expect(verified.text).to.contain(`LOST PAYMENT payment ${id}: client ${clientId}, transactionId ${body.transactionId}, 100000.00 IDR; last outcome Gerbang knew: the bank executed it (SUCCESS)`);
    expect(verified.text).to.contain(`event ${Number(seq) + junk} exists but does not hold its link: what followed event ${Number(seq)} cannot be read back`);
    const accepted = await acceptedAsVerified(verified);
    expect(accepted.stdout).to.contain(`payment ${id}: client ${clientId}, transactionId ${body.transactionId}`);
  });
});
