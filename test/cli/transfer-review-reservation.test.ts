import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createConsoleUser } from '../../src/console/index.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type HttpAnswer, type TestClient } from '../support/gateway-harness.js';
import { bankTransfers, leaveBehind } from '../support/left-behind.js';

/**
 * A reservation left behind (RECEIVED, its process stopped before routing it) whose takeover
 * could not be proved because the proof would read more audit links than its bound
 * (GERBANG_TAKEOVER_PROOF_LINKS, 1 here): the ERP's resend is answered 409 and the reservation
 * waits in the review queue, marked as never proved sent or unsent, until an admin resolves it
 * with `gerbang transfer review resolve`. The reservations are left through the store, as a
 * gateway process that stopped right after reserving would have left them; the bank is counted
 * over HTTP at the simulator.
 */
forEachBackend('gerbang transfer review with a reservation its takeover could not prove', (db) => {
  const env = () => ({ GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
  let gw: TestGateway;
  let client: TestClient;
  let auth: Record<string, string>;

  before(async function () {
    this.timeout(60_000);
    gw = await TestGateway.start(db.url(), { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_TAKEOVER_PROOF_LINKS: '1', GERBANG_BATCH_INTERVAL_MS: '200' });
    client = await gw.createClient();
    auth = { authorization: `Bearer ${await gw.token(client)}` };
    await createConsoleUser(db.store().consoleUsers, { username: 'bank-checker', password: 'pw-bank-checker-0123456789', role: 'admin' }, Date.now());
  });
  after(() => gw?.close());

  const pay = (body: Record<string, unknown>) => gw.request('/v1/transfers', { json: body, headers: auth });
  const leftBehind = async (body: Record<string, unknown>) => (await leaveBehind(gw, client.clientId, body)).id;
  /** The resend the proof could not clear: 409, held an hour, nothing sent. */
  const held = async (body: Record<string, unknown>) => {
    const answer = await pay(body);
    expect([answer.status, answer.body.code, answer.headers['retry-after']], answer.text).to.deep.equal([409, 'IDEMPOTENCY_IN_FLIGHT', '3600']);
    expect(answer.body.detail ?? answer.text).to.contain('review queue');
  };
  const resolve = (id: number, outcome: string, kind: string, evidence: string) =>
    runCli(['transfer', 'review', 'resolve', String(id), '--admin', 'bank-checker', '--outcome', outcome, '--evidence-kind', kind, '--evidence', evidence], env());
  const reviews = async (transactionId: string) =>
    db.store().db.query<{ outcome: string; status_code: number | string }>(
      "SELECT c.outcome, c.status_code FROM audit_exchanges e JOIN audit_completions c ON c.exchange_id = e.id WHERE e.method = 'REVIEW' AND e.transaction_id = ?",
      [transactionId],
    );

  it('lists it marked as never proved sent or unsent; resolved FAILED with evidence it is released, and the ERP\'s resend is paid once', async function () {
    this.timeout(60_000);
    const body = sampleTransfer();
    const transactionId = body.transactionId as string;
    const id = await leftBehind(body);
    await held(body);
    await held(body);
    expect(await bankTransfers(gw, transactionId)).to.equal(0);

    const listed = await runCli(['transfer', 'review', 'list'], env());
    expect(listed.code, listed.stderr).to.equal(0);
    const line = listed.stdout.split('\n').filter((l) => l.startsWith(`#${id} `));
    expect(line, 'listed once').to.have.length(1);
    expect(line[0]).to.contain(transactionId).and.contain('RECEIVED').and.contain('RESERVED, NEVER PROVED SENT OR UNSENT');
    const json = JSON.parse((await runCli(['transfer', 'review', 'list', '--json'], env())).stdout) as { id: number; reserved?: string }[];
    expect(json.find((item) => item.id === id)?.reserved).to.contain('NEVER PROVED SENT OR UNSENT');

    const resolved = await resolve(id, 'FAILED', 'STATEMENT_LINE', 'Statement 2026-12-05: no debit of this amount or reference');
    expect(resolved.code, resolved.stderr).to.equal(0);
    expect(resolved.stdout).to.contain(`Payment #${id} (${transactionId}) resolved RELEASED`);
    expect((await reviews(transactionId)).map((r) => [r.outcome, Number(r.status_code)])).to.deep.equal([['completed', 200]]);
    expect((await runCli(['transfer', 'review', 'list'], env())).stdout).not.to.contain(`#${id} `);

    const paid = await pay(body);
    expect([paid.status, paid.body.status], paid.text).to.deep.equal([201, 'SUCCESS']);
    expect(await bankTransfers(gw, transactionId)).to.equal(1);
    const again = await pay(body);
    expect([again.status, again.body.status], again.text).to.deep.equal([201, 'SUCCESS']);
    expect(await bankTransfers(gw, transactionId), 'paid once').to.equal(1);

    // Resolved once: a second resolution finds nothing in the queue.
    const twice = await resolve(id, 'FAILED', 'STATEMENT_LINE', 'Statement 2026-12-05: no debit of this amount or reference');
    expect(twice.code).to.equal(1);
  });

  it('a payment-run line that met it is answered 202 PENDING; resolved FAILED, the run pays that line once, the ERP resending nothing', async function () {
    this.timeout(60_000);
    const body = sampleTransfer();
    const transactionId = body.transactionId as string;
    const id = await leftBehind(body);
    const runId = `RUN-${randomBytes(5).toString('hex')}`;
    const submitted = await gw.request('/v1/transfer-batches', { json: { batchId: runId, transfers: [body, sampleTransfer()] }, headers: auth });
    expect(submitted.status, submitted.text).to.equal(202);
    const read = () => gw.request(`/v1/transfer-batches/${runId}?limit=10`, { headers: auth });
    /** The run once DONE with its first line SUBMITTED as `status`. */
    const runWith = (status: string) =>
      eventually(async () => {
        const run = await read();
        return run.body.state === 'DONE' && run.body.lines[0].state === 'SUBMITTED' && run.body.lines[0].result?.status === status ? run : null;
      }, 15_000);
    const inReview: HttpAnswer = await runWith('PENDING');
    expect(inReview.body.lines[1].result.status).to.equal('SUCCESS');
    expect(await bankTransfers(gw, transactionId)).to.equal(0);
    expect((await runCli(['transfer', 'review', 'list'], env())).stdout).to.contain(`#${id} `);

    const resolved = await resolve(id, 'FAILED', 'STATEMENT_LINE', 'Statement 2026-12-05: no debit of this amount or reference');
    expect(resolved.code, resolved.stderr).to.equal(0);
    const paid = await runWith('SUCCESS');
    expect(paid.body.progress).to.deep.equal({ queued: 0, submitted: 2, rejected: 0 });
    expect(await bankTransfers(gw, transactionId)).to.equal(1);
    // The ERP's resend replays it; the run, passed again, pays nothing more.
    const again = await pay(body);
    expect([again.status, again.body.status], again.text).to.deep.equal([201, 'SUCCESS']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await bankTransfers(gw, transactionId), 'paid once').to.equal(1);
  });

  it('enters the queue when the ERP only asks its status (no resend), answered PENDING as stored, nothing sent', async function () {
    this.timeout(60_000);
    const body = sampleTransfer();
    const transactionId = body.transactionId as string;
    const id = await leftBehind(body);
    const status = await gw.request(`/v1/transfers/${transactionId}`, { headers: auth });
    expect([status.status, status.body.status], status.text).to.deep.equal([200, 'PENDING']);
    await gw.request(`/v1/transfers/${transactionId}`, { headers: auth });
    const line = (await runCli(['transfer', 'review', 'list'], env())).stdout.split('\n').filter((l) => l.startsWith(`#${id} `));
    expect(line, 'listed once').to.have.length(1);
    expect(line[0]).to.contain(transactionId).and.contain('RESERVED, NEVER PROVED SENT OR UNSENT');
    expect(await bankTransfers(gw, transactionId)).to.equal(0);
  });

  it('resolved SUCCESS with evidence it is recorded paid, and the ERP\'s resend replays it without a bank call', async function () {
    this.timeout(60_000);
    const body = sampleTransfer();
    const transactionId = body.transactionId as string;
    const id = await leftBehind(body);
    await held(body);

    const resolved = await resolve(id, 'SUCCESS', 'BANK_REFERENCE', 'BCA-REF-77120');
    expect(resolved.code, resolved.stderr).to.equal(0);
    expect(resolved.stdout).to.contain(`Payment #${id} (${transactionId}) resolved SUCCESS`);

    const replayed = await pay(body);
    expect([replayed.status, replayed.body.status, replayed.body.bankReference], replayed.text).to.deep.equal([201, 'SUCCESS', 'BCA-REF-77120']);
    expect(replayed.body.evidence).to.include({ kind: 'BANK_REFERENCE', recordedBy: 'bank-checker' });
    expect(await bankTransfers(gw, transactionId), 'no bank call').to.equal(0);
    const status = await gw.request(`/v1/transfers/${transactionId}`, { headers: auth });
    expect([status.status, status.body.status], status.text).to.deep.equal([200, 'SUCCESS']);
  });
});
