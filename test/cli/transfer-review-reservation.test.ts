import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createConsoleUser } from '../../src/console/index.js';
import { jakartaDate } from '../../src/time/index.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type HttpAnswer, type TestClient } from '../support/gateway-harness.js';
import { bankTransfers, executeAtTheBank, leaveBehind } from '../support/left-behind.js';

/**
 * A reservation left behind (RECEIVED, its process stopped before routing it) whose takeover
 * could not be proved because the proof would read more audit links than its bound
 * (GERBANG_TAKEOVER_PROOF_LINKS, 1 here): the ERP's resend is answered 409 and the reservation
 * waits in the review queue, marked as never proved sent or unsent, until an admin resolves it
 * with `gerbang transfer review resolve`. The reservations are left through the store, as a
 * gateway process that stopped right after reserving would have left them; the bank is counted
 * over HTTP at the simulator. A resolution is cross-checked with the paying account's statement,
 * read through the gateway's API as the client of GERBANG_CONSOLE_API_* (`checked`); without it
 * the admin's word goes ahead, saying it was not cross-checked.
 */
forEachBackend('gerbang transfer review with a reservation its takeover could not prove', (db) => {
  const env = () => ({ GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
  let gw: TestGateway;
  let client: TestClient;
  let auth: Record<string, string>;
  /** The API client the CLI reads statements as (GERBANG_CONSOLE_API_*). */
  let reader: TestClient;

  before(async function () {
    this.timeout(60_000);
    gw = await TestGateway.start(db.url(), { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_TAKEOVER_PROOF_LINKS: '1', GERBANG_BATCH_INTERVAL_MS: '200' });
    client = await gw.createClient();
    auth = { authorization: `Bearer ${await gw.token(client)}` };
    reader = await gw.createClient();
    await createConsoleUser(db.store().consoleUsers, { username: 'bank-checker', password: 'pw-bank-checker-0123456789', role: 'admin' }, Date.now());
  });
  after(() => gw?.close());

  const pay = (body: Record<string, unknown>) => gw.request('/v1/transfers', { json: body, headers: auth });
  const leftBehind = async (body: Record<string, unknown>, at?: number) => (await leaveBehind(gw, client.clientId, body, at)).id;
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
  /** The REVIEW exchanges as the audit reads them: outcome, status, code and what the statement said. */
  const reviewAnswers = async (transactionId: string) =>
    (await db.store().audit.list({ transactionId }))
      .filter((row) => row.method === 'REVIEW')
      .map((row) => ({ outcome: row.outcome, statusCode: row.statusCode, errorCode: row.errorCode, crossCheck: JSON.parse(row.responseBody ?? '{}').crossCheck }));
  /** `resolve` with the statement readable through the API. */
  const checked = (id: number, outcome: string, kind: string, evidence: string) =>
    runCli(['transfer', 'review', 'resolve', String(id), '--admin', 'bank-checker', '--outcome', outcome, '--evidence-kind', kind, '--evidence', evidence], {
      ...env(),
      GERBANG_CONSOLE_API_URL: gw.url,
      GERBANG_CONSOLE_API_CLIENT_ID: reader.clientId,
      GERBANG_CONSOLE_API_CLIENT_SECRET: reader.clientSecret,
    });

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
    // No GERBANG_CONSOLE_API_*: no statement to read, and the answer and the audit say so.
    expect(resolved.stdout).to.contain("NOT CROSS-CHECKED with the paying account's statement: the statement proves nothing either way: no statement could be read (not-configured:");
    expect((await reviews(transactionId)).map((r) => [r.outcome, Number(r.status_code)])).to.deep.equal([['completed', 200]]);
    const [answer] = await reviewAnswers(transactionId);
    expect(answer.crossCheck.result).to.equal('unchecked');
    expect(answer.crossCheck.reason).to.contain('GERBANG_CONSOLE_API_URL');
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

  it('refuses FAILED when the statement shows the bank executed it (a debit carrying its reference): nothing released, the ERP\'s resend not paid again; SUCCESS agrees with the statement', async function () {
    this.timeout(60_000);
    const body = sampleTransfer({ amount: '104321.00' });
    const transactionId = body.transactionId as string;
    const id = await leftBehind(body);
    await held(body);
    await executeAtTheBank(gw, body);
    expect(await bankTransfers(gw, transactionId)).to.equal(1);

    const refused = await checked(id, 'FAILED', 'STATEMENT_LINE', 'Statement: no debit of this amount or reference');
    expect(refused.code, refused.stdout).to.equal(1);
    expect(refused.stderr).to.contain(`Payment #${id} (${transactionId}) was not resolved FAILED: the paying account's statement contradicts it`);
    // The simulator books BCA's TransactionName and Trailer, each the reference sent.
    const line = `${jakartaDate(Date.now())} | DEBIT | 104321.00 | ${transactionId} | ${transactionId}`;
    expect(refused.stderr).to.contain(`the statement books it: ${line}`);
    expect(await reviewAnswers(transactionId)).to.deep.equal([
      { outcome: 'rejected', statusCode: 409, errorCode: 'REVIEW_CONTRADICTED', crossCheck: { result: 'contradicted', found: `the statement books it: ${line}` } },
    ]);
    // Still reserved in review: the ERP's resend is held, never paid a second time.
    expect((await runCli(['transfer', 'review', 'list'], env())).stdout).to.contain(`#${id} `);
    await held(body);
    expect(await bankTransfers(gw, transactionId), 'paid once').to.equal(1);

    const confirmed = await checked(id, 'SUCCESS', 'STATEMENT_LINE', line);
    expect(confirmed.code, confirmed.stderr).to.equal(0);
    expect(confirmed.stdout).to.contain(`resolved SUCCESS`).and.contain(`Cross-checked: the paying account's statement agrees (${line}`);
    const replayed = await pay(body);
    expect([replayed.status, replayed.body.status], replayed.text).to.deep.equal([201, 'SUCCESS']);
    expect(await bankTransfers(gw, transactionId), 'paid once').to.equal(1);
  });

  it('refuses SUCCESS when the statement, read after the bank\'s day closed, has no debit of its amount on its day or the next; it stays in review', async function () {
    this.timeout(60_000);
    const body = sampleTransfer({ amount: '107777.00' });
    const transactionId = body.transactionId as string;
    // Reserved three days ago: its day and the next are closed at the bank (GERBANG_BANK_DAY_CLOSE_WIB 06:00).
    const id = await leftBehind(body, Date.now() - 3 * 86_400_000);
    await held(body);
    const day = jakartaDate(Date.now() - 3 * 86_400_000);

    const refused = await checked(id, 'SUCCESS', 'BANK_REFERENCE', 'BCA-REF-55100');
    expect(refused.code, refused.stdout).to.equal(1);
    expect(refused.stderr)
      .to.contain(`Payment #${id} (${transactionId}) was not resolved SUCCESS: the paying account's statement contradicts it`)
      .and.contain(`No debit of 107777.00 on the statement of the paying account for ${day} and`);
    const [answer] = await reviewAnswers(transactionId);
    expect(answer).to.include({ outcome: 'rejected', statusCode: 409, errorCode: 'REVIEW_CONTRADICTED' });
    expect(answer.crossCheck.result).to.equal('contradicted');
    expect((await runCli(['transfer', 'review', 'list'], env())).stdout).to.contain(`#${id} `);
    await held(body);
    expect(await bankTransfers(gw, transactionId)).to.equal(0);
  });
});
