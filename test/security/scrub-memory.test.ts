import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { AuditScrub } from '../../src/audit/index.js';
import type { ScrubbedAudit } from '../../src/audit/audit-scrub.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { watchChainWalks } from '../support/chain-walks.js';
import { acceptAsVerified, acceptInProcess, runCli } from '../support/cli.js';
import { forEachBackend, type BackendContext } from '../support/databases.js';
import { captureLogs } from '../support/log-capture.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { bankTransfers } from '../support/left-behind.js';
import { oldLine } from '../support/old-checkpoint-lines.js';
import { deleteWhole, paymentLinks, payInsideChains, UNTHROTTLED } from '../support/payment-deletion.js';

/**
 * The attack of scrub-hold.test.ts (a paid payment deleted whole in SQL, no key, the chain heads left
 * as they were) where the scrub's walks have not reached the deletion yet: a pass a minute, or a
 * budget of links a pass that the traffic outgrows. The scrub remembers every payment it saw by its
 * idempotency key; the ERP's resend, about to be a new payment for that key, is checked against the
 * remembered payment in the database and refused unsent (AuditScrub.beforeNewPayment).
 */

/**
 * The gateways a test starts on `ctx`'s store, sharing one checkpoint file (`env`: the CLI's), each
 * closed after the test; with `acceptHeld`, a store a test left held is then accepted as it stands,
 * so that the next test starts from an intact store.
 */
function scrubbingGateways(ctx: BackendContext, options: { acceptHeld?: boolean } = {}) {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const gateways: TestGateway[] = [];
  const start = async (extra: Record<string, string>) => {
    const gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, ...UNTHROTTLED, ...extra });
    gateways.push(gw);
    return gw;
  };
  afterEach(async () => {
    while (gateways.length > 0) await gateways.pop()!.close();
    // Whether or not a gateway got to hold it (a pass a minute): the next test's gateway learns the store first and would.
    if (options.acceptHeld === true) await acceptInProcess(ctx.store(), checkpoints, 'test: payment deleted, looked at');
  });
  return { env, gateways, start };
}

/**
 * Passes of `gw`'s scrub until its memory is whole (AuditScrub.complete): with a pass a minute,
 * or a few links a pass, it pays no new payment before.
 */
async function learnedAll(gw: TestGateway): Promise<void> {
  // Not beside the pass the gateway runs at start: one pass at a time.
  await eventually(async () => gw.gateway.scrub.lastPass !== null, 30_000);
  for (let i = 0; i < 1_000 && !gw.gateway.scrub.complete; i += 1) await gw.gateway.scrub.pass();
  expect(gw.gateway.scrub.complete, 'the scrub learned every payment made before it started').to.equal(true);
}

/** Anonymous refusals written as the audit writes them: a long honest history for the slow walk. */
async function history(store: Store, exchanges: number): Promise<void> {
  for (let i = 0; i < exchanges; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, exchanges - i) }, (_, j) =>
        store.audit.record(
          { requestId: `req-${randomBytes(6).toString('hex')}`, receivedAt: Date.now() - 1_000, remoteIp: '198.51.100.9', origin: null, method: 'POST', path: '/v1/auth/token', clientId: null, transactionId: null, amount: null, requestHeaders: {}, requestBody: `{"n":${i + j}}` },
          { outcome: 'rejected', statusCode: 401, errorCode: 'INVALID_CLIENT', clientId: null, transactionId: null, amount: null, responseBody: '{}', completedAt: Date.now() },
        ),
      ),
    );
  }
}

/** What the scrub reads of `audit`, each read passed on but those `instead` makes (a test counting them, or acting between them). */
function watchedAudit(audit: ScrubbedAudit, instead: Partial<ScrubbedAudit>): ScrubbedAudit {
  return {
    chains: () => audit.chains(),
    chainHeads: () => audit.chainHeads(),
    walkChain: (writerId, from, maxLinks) => audit.walkChain(writerId, from, maxLinks),
    resumeAfterBreak: (writerId, seq) => audit.resumeAfterBreak(writerId, seq),
    lostPayments: (range, limit) => audit.lostPayments(range, limit),
    lastPaymentEventId: () => audit.lastPaymentEventId(),
    linkCounts: (ranges) => audit.linkCounts(ranges),
    paymentKeys: (eventIds) => audit.paymentKeys(eventIds),
    lostPayment: (id, key) => audit.lostPayment(id, key),
    linksAt: (wanted) => audit.linksAt(wanted),
    chainRemains: (writerId) => audit.chainRemains(writerId),
    remainsPage: (writerId, fromSeq, maxLinks) => audit.remainsPage(writerId, fromSeq, maxLinks),
    ...instead,
  };
}

forEachBackend('The resend of a paid payment deleted whole before the scrub\'s walks reached it (#14)', (ctx) => {
  const { env, start } = scrubbingGateways(ctx);

  it('with one scrub pass a minute: answers 503 naming the deleted payment, sends nothing, then holds payments until an operator accepts', async function () {
    this.timeout(120_000);
    // The first pass runs at start; the next not before the test ends.
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000' });
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    const { paymentId } = await paymentLinks(gw.store.db, body.transactionId as string);
    await deleteWhole(gw.store.db, body.transactionId as string);
    expect(gw.gateway.scrub.held, 'no walk has seen the deletion').to.equal(null);

    const resent = await resendRefused(gw, auth, body, `payments id ${paymentId} (${payer.clientId} / ${body.transactionId}) was deleted with its whole history`, [gw]);
    expect(resent.body.code).to.equal('STORE_UNAVAILABLE');
    const [{ n }] = await gw.store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payments WHERE transaction_id = ?', [body.transactionId as string]);
    expect(Number(n), 'the resend\'s reservation was released unsent').to.equal(0);
    // Refused again, however often the ERP resends.
    expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(503);

    // Confirmed at the scrub's next pass after its confirmation wait: every payment held, the payment named.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await gw.gateway.scrub.pass();
    expect(gw.gateway.scrub.held).to.contain(`payments id ${paymentId} (${payer.clientId} / ${body.transactionId})`);
    expect((await gw.request('/readyz')).status).to.equal(503);
    expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(503);

    const accepted = await acceptAsVerified(env(), 'test: payment deleted, looked at');
    expect(accepted.code, accepted.stderr).to.equal(0);
    const logs = captureLogs('warn');
    try {
      await gw.gateway.scrub.pass();
    } finally {
      logs.stop();
    }
    expect(gw.gateway.scrub.held).to.equal(null);
    // The operator is told which transactionId the acceptance lets be paid again.
    expect(logs.lines.join('\n')).to.contain(`payments id ${paymentId} (${payer.clientId} / ${body.transactionId}) accepted as lost: an operator accepted the database as it stands since; the next request for its transactionId is paid as a new payment`);
    const next = sampleTransfer();
    const paid = await gw.request('/v1/transfers', { json: next, headers: auth });
    expect([paid.status, paid.body?.status], paid.text).to.deep.equal([201, 'SUCCESS']);
  });

  it('a process started after the payment learns it in its slow walk\'s first cycle: the resend through it is refused', async function () {
    this.timeout(120_000);
    const payer = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    const client = await payer.createClient();
    const auth = { authorization: `Bearer ${await payer.token(client)}` };
    const body = sampleTransfer();
    await payInsideChains(payer, auth, body);
    // Older than the newest links a new process walks at its first pass (2 × 10 links).
    for (let i = 0; i < 15; i += 1) expect((await payer.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    const scrubbing = await start({ GERBANG_AUDIT_SCRUB_MS: '100', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    await eventually(async () => scrubbing.gateway.scrub.cycles >= 1, 90_000);
    const { paymentId } = await paymentLinks(payer.store.db, body.transactionId as string);
    await deleteWhole(payer.store.db, body.transactionId as string);

    await resendRefused(scrubbing, { authorization: `Bearer ${await scrubbing.token(client)}` }, body, `payments id ${paymentId} (${client.clientId} / ${body.transactionId}) was deleted with its whole history`, [payer, scrubbing]);
    await acceptHeld(scrubbing, paymentId, env());
  });

  it('pays the resend of a reservation released unsent (the bank unreachable): the payment it remembers ends in its release', async function () {
    this.timeout(60_000);
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '300' });
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const body = sampleTransfer();
    // The bank's token endpoint refuses once: the transfer never reaches the bank and is released.
    await gw.store.db.execute('DELETE FROM bank_tokens');
    const failed = await request(`${gw.gateway.banks.simulator!.url}/_simulator/fail-next`, { method: 'POST', body: JSON.stringify({ operation: 'token', httpStatus: 503 }), headers: { 'content-type': 'application/json' } });
    await failed.body.dump();
    const refused = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect([refused.status, refused.body.code], refused.text).to.deep.equal([503, 'BANK_UNAVAILABLE']);
    const [released] = await gw.store.db.query<{ payment_id: number | string }>("SELECT e.payment_id FROM payment_events e WHERE e.state = 'RELEASED' ORDER BY e.id DESC LIMIT 1");
    expect(gw.gateway.scrub.memory.recall(payer.clientId, body.transactionId as string)?.id, 'the released payment is remembered').to.equal(Number(released.payment_id));
    // A pass or two: the scrub proves the release's link too.
    const passes = gw.gateway.scrub.lastPass;
    await eventually(async () => gw.gateway.scrub.lastPass !== passes, 10_000);

    const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect([paid.status, paid.body?.status], paid.text).to.deep.equal([201, 'SUCCESS']);
    expect(await bankTransfers(gw, body.transactionId as string)).to.equal(1);
    const [now] = await gw.store.db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [body.transactionId as string]);
    expect(gw.gateway.scrub.memory.recall(payer.clientId, body.transactionId as string)?.id, 'the new payment is remembered instead').to.equal(Number(now.id));
    expect(gw.gateway.scrub.held).to.equal(null);
  });

  it('with a budget of links a pass the traffic outgrows: the payment another process made, seen by this one\'s scrub, is not paid again', async function () {
    this.timeout(180_000);
    // The paying process, without a scrub; a long history before the scrubbing one starts (the last case
    // here: a new process's first cycle in the cases before does not walk it).
    const payer = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    await history(payer.store, 800);
    // 10 links a pass: the slow walk needs about a minute for the history, and the traffic outgrows
    // the newest 20 links counted every pass (and the old fast loop's window: nothing fits in 10).
    const scrubbing = await start({ GERBANG_AUDIT_SCRUB_MS: '300', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    const client = await payer.createClient();
    const auth = { authorization: `Bearer ${await payer.token(client)}` };
    const body = sampleTransfer();
    await payInsideChains(payer, auth, body);
    await eventually(async () => scrubbing.gateway.scrub.memory.size > 0 && scrubbing.gateway.scrub.linksBehind === 0, 30_000);
    for (let i = 0; i < 50; i += 1) expect((await payer.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    const { paymentId } = await paymentLinks(payer.store.db, body.transactionId as string);
    await deleteWhole(payer.store.db, body.transactionId as string);

    await resendRefused(scrubbing, { authorization: `Bearer ${await scrubbing.token(client)}` }, body, `payments id ${paymentId} (${client.clientId} / ${body.transactionId})`, [payer, scrubbing]);
    expect(scrubbing.gateway.scrub.cycles, 'the slow walk has not gone round').to.equal(0);
    // Accepted so the next test starts from an intact store.
    await acceptHeld(scrubbing, paymentId, env());
  });
});

/**
 * A process of `gateways` that learns every payment, pays one, and stops, writing its memory of
 * payments as it does: that payment's client and body (`known`), which a process resuming that
 * memory recalls.
 */
async function memoryWritten({ start, gateways }: Pick<ReturnType<typeof scrubbingGateways>, 'start' | 'gateways'>) {
  const learner = await start({ GERBANG_AUDIT_SCRUB_MS: '60000' });
  await learnedAll(learner);
  const remembered = await learner.createClient();
  const known = sampleTransfer();
  expect((await learner.request('/v1/transfers', { json: known, headers: { authorization: `Bearer ${await learner.token(remembered)}` } })).status).to.equal(201);
  gateways.splice(gateways.indexOf(learner), 1);
  await learner.close();
  return { remembered, known };
}

/** `body` sent again through `gw`: refused (503) with `detail` in its problem, and paid once in all by the banks of `paidBy`. */
async function resendRefused(gw: TestGateway, headers: Record<string, string>, body: Record<string, unknown>, detail: string, paidBy: TestGateway[]) {
  const resent = await gw.request('/v1/transfers', { json: body, headers });
  expect(resent.status, resent.text).to.equal(503);
  expect(resent.body.detail).to.contain(detail);
  expect(await paidTimes(paidBy, body.transactionId as string), 'the transfers the banks received').to.equal(1);
  return resent;
}

/** Once `gw` holds payments on payment `paymentId`: the store accepted as it stands, and `gw` ready again. */
async function acceptHeld(gw: TestGateway, paymentId: number, env: Record<string, string>): Promise<void> {
  await eventually(async () => gw.gateway.scrub.held?.includes(`payments id ${paymentId}`), 30_000);
  await acceptInProcess(gw.store, env.GERBANG_AUDIT_CHECKPOINT_FILE, 'test: payment deleted, looked at');
  await eventually(async () => (await gw.request('/readyz')).status === 200, 10_000);
}

/** How often the bank received `transactionId` across gateways. */
async function paidTimes(gateways: TestGateway[], transactionId: string): Promise<number> {
  let n = 0;
  for (const gw of gateways) n += await bankTransfers(gw, transactionId);
  return n;
}

/**
 * A payment through `gw` (by a client of its own) made after `before` others and before `after`
 * more: the `after` make its links older than the newest a new process walks at its first pass
 * (2 × 10 links a chain at 10 links a pass). The payment, and those made before it (`earlier`).
 */
async function paidAmongOthers(gw: TestGateway, before: number, after: number) {
  const client = await gw.createClient();
  const auth = { authorization: `Bearer ${await gw.token(client)}` };
  const earlier = Array.from({ length: before }, () => sampleTransfer());
  for (const other of earlier) expect((await gw.request('/v1/transfers', { json: other, headers: auth })).status).to.equal(201);
  const body = sampleTransfer();
  await payInsideChains(gw, auth, body);
  for (let i = 0; i < after; i += 1) expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
  return { client, body, earlier };
}

/** A reservation released unsent (the bank's token endpoint refuses once): its payment id. */
async function releasedUnsent(gw: TestGateway, auth: Record<string, string>): Promise<number> {
  await gw.store.db.execute('DELETE FROM bank_tokens');
  const failed = await request(`${gw.gateway.banks.simulator!.url}/_simulator/fail-next`, { method: 'POST', body: JSON.stringify({ operation: 'token', httpStatus: 503 }), headers: { 'content-type': 'application/json' } });
  await failed.body.dump();
  const refused = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth });
  expect([refused.status, refused.body.code], refused.text).to.deep.equal([503, 'BANK_UNAVAILABLE']);
  const [released] = await gw.store.db.query<{ payment_id: number | string }>("SELECT payment_id FROM payment_events WHERE state = 'RELEASED' ORDER BY id DESC LIMIT 1");
  return Number(released.payment_id);
}

forEachBackend('The remembered payment itself, not whatever row stands at its id (#14)', (ctx) => {
  const { env, gateways, start } = scrubbingGateways(ctx, { acceptHeld: true });

  it('refuses the resend when another payment\'s row was moved onto the deleted payment\'s id (the MAC does not cover the id)', async function () {
    this.timeout(120_000);
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000' });
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    const other = sampleTransfer();
    expect((await gw.request('/v1/transfers', { json: other, headers: auth })).status).to.equal(201);
    const db = gw.store.db;
    const { paymentId } = await paymentLinks(db, body.transactionId as string);
    const [{ id: otherId }] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [other.transactionId as string]);
    await deleteWhole(db, body.transactionId as string);
    await db.execute('UPDATE payments SET id = ? WHERE id = ?', [paymentId, Number(otherId)]);

    await resendRefused(gw, auth, body, `payments id ${paymentId} (${payer.clientId} / ${body.transactionId}) is gone: the row at its id is another payment (${payer.clientId} / ${other.transactionId}`, [gw]);
  });

  it('refuses the resend given the deleted payment\'s own id again (the newest payment deleted, the id counter set back)', async function () {
    this.timeout(120_000);
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000' });
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const body = sampleTransfer();
    const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(paid.status, paid.text).to.equal(201);
    const db = gw.store.db;
    // Links after the payment's, with no payment after it: anonymous refusals, eight at once so that
    // every chain session of the gateway links some (one alone may keep to a chain the payment's links are not in).
    for (let i = 0; i < 40 && !(await paymentLinks(db, body.transactionId as string)).links.every((l) => l.midChain); i += 1) {
      await Promise.all(Array.from({ length: 8 }, () => gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: 'Bearer nope' } })));
    }
    const { paymentId } = await paymentLinks(db, body.transactionId as string);
    await deleteWhole(db, body.transactionId as string);
    await db.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [paymentId]);
    if (ctx.backend === 'sqlite') await db.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'payments'", [paymentId - 1]);
    else await db.execute(`ALTER TABLE payments AUTO_INCREMENT = ${paymentId}`);

    await resendRefused(gw, auth, body, `payments id ${paymentId} (${payer.clientId} / ${body.transactionId}) is gone: the row at its id is another payment (${payer.clientId} / ${body.transactionId}`, [gw]);
  });

  it('does not learn a paid row moved onto a released reservation\'s id: the resend is refused once that row is deleted', async function () {
    this.timeout(120_000);
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    const scrub = gw.gateway.scrub;
    await learnedAll(gw);
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const db = gw.store.db;
    const body = sampleTransfer();
    const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(paid.status, paid.text).to.equal(201);
    const [{ id: paidId }] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [body.transactionId as string]);
    const releasedId = await releasedUnsent(gw, auth);
    // The attacker: the paid row moved onto the released reservation's id, then a pass proves the release's link.
    await db.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [Number(paidId)]);
    await db.execute('UPDATE payments SET id = ? WHERE id = ?', [releasedId, Number(paidId)]);
    await scrub.pass();
    expect(scrub.memory.recall(payer.clientId, body.transactionId as string)?.id, 'the key still names the payment made for it').to.equal(Number(paidId));
    await db.execute('DELETE FROM payments WHERE id = ?', [releasedId]);

    // Refused (by the check of the key, or the history sweep's hold had it reached the paid payment's events).
    await resendRefused(gw, auth, body, `payments id ${paidId}`, [gw]);
  });

  it('learns within the next cycle a payment another process made that a pass could not learn (rows rotated for that pass, then restored): the resend through this process is refused once it is deleted whole', async function () {
    this.timeout(300_000);
    const payer = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    const client = await payer.createClient();
    const auth = { authorization: `Bearer ${await payer.token(client)}` };
    for (let i = 0; i < 10; i += 1) expect((await payer.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    const scrub = gw.gateway.scrub;
    await learnedAll(gw);
    // Its slow walk's first cycle done too (a memory resumed from the file is whole before it).
    for (let i = 0; i < 1_000 && (scrub.cycles < 1 || scrub.linksBehind !== 0); i += 1) await scrub.pass();
    expect(scrub.cycles).to.be.at.least(1);
    const db = payer.store.db;
    const releasedId = await releasedUnsent(payer, auth);
    const body = sampleTransfer();
    await payInsideChains(payer, auth, body);
    const { paymentId } = await paymentLinks(db, body.transactionId as string);
    // O: an older paid payment whose last event the next pass's check of payment histories does not
    // look at (neither its sweep's next 10 events nor the newest 10), so its row's absence goes unseen.
    const sweep = (scrub as unknown as { sweep: number }).sweep;
    const [{ n: end }] = await db.query<{ n: number | string }>('SELECT MAX(id) AS n FROM payment_events');
    const olds = await db.query<{ payment_id: number | string; last: number | string }>('SELECT p.id AS payment_id, MAX(e.id) AS last FROM payments p JOIN payment_events e ON e.payment_id = p.id WHERE p.client_id = ? GROUP BY p.id ORDER BY p.id', [client.clientId]);
    const o = olds.find((r) => Number(r.payment_id) !== paymentId && (Number(r.last) < sweep || Number(r.last) > sweep + 9) && Number(r.last) <= Number(end) - 10);
    expect(o, 'an older payment outside the next pass\'s check').to.not.equal(undefined);
    const oId = Number(o!.payment_id);
    // The attacker (SQL, no key), for one pass: O's row onto P's id, P's row onto the released
    // reservation's id (no value a MAC covers changes), then both back where they were.
    await db.execute('DELETE FROM payment_search_grams WHERE payment_id IN (?, ?)', [paymentId, oId]);
    await db.execute('UPDATE payments SET id = ? WHERE id = ?', [releasedId, paymentId]);
    await db.execute('UPDATE payments SET id = ? WHERE id = ?', [paymentId, oId]);
    await scrub.pass();
    expect(scrub.held, `the pass saw nothing wrong: ${scrub.held}`).to.equal(null);
    expect(scrub.memory.recall(client.clientId, body.transactionId as string), 'the pass did not learn P').to.equal(null);
    await db.execute('UPDATE payments SET id = ? WHERE id = ?', [oId, paymentId]);
    await db.execute('UPDATE payments SET id = ? WHERE id = ?', [paymentId, releasedId]);
    // Traffic: P's links older than the newest counted each pass.
    for (let i = 0; i < 30; i += 1) expect((await payer.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    // A full cycle of the slow walk started after the restore (the one under way may have passed P's links).
    const cycles = scrub.cycles;
    for (let i = 0; i < 1_000 && (scrub.cycles < cycles + 2 || scrub.linksBehind !== 0); i += 1) await scrub.pass();
    expect(scrub.cycles).to.be.at.least(cycles + 2);
    expect(scrub.held).to.equal(null);
    await deleteWhole(db, body.transactionId as string);

    await resendRefused(gw, { authorization: `Bearer ${await gw.token(client)}` }, body, `payments id ${paymentId} (${client.clientId} / ${body.transactionId}) was deleted with its whole history`, gateways);
  });

  it('keeps checking a payment remembered before an unrelated acceptance: its resend is refused once it is deleted whole, the slow walk far away', async function () {
    this.timeout(300_000);
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    const scrub = gw.gateway.scrub;
    // It learns every payment made before it started (until then it pays no new payment).
    await learnedAll(gw);
    const cycles = scrub.cycles;
    // A history the slow walk's next cycle needs many passes for (10 links a pass): it does not learn the payment again meanwhile.
    const writer = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    await history(writer.store, 300);
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const body = sampleTransfer();
    await payInsideChains(gw, auth, body);
    // The payment's links proved by the walk of new links, before the acceptance.
    for (let i = 0; i < 50 && (i === 0 || scrub.linksBehind !== 0); i += 1) await scrub.pass();
    // Another payment deleted whole and accepted as lost: an acceptance that names nothing of `body`'s.
    const unrelated = sampleTransfer();
    await payInsideChains(gw, auth, unrelated);
    await deleteWhole(gw.store.db, unrelated.transactionId as string);
    expect((await acceptAsVerified(env(), 'test: another payment deleted, looked at')).code).to.equal(0);
    await scrub.pass();
    expect(scrub.held).to.equal(null);
    expect(scrub.cycles, 'the slow walk has not gone round since').to.equal(cycles);
    const { paymentId } = await paymentLinks(gw.store.db, body.transactionId as string);
    await deleteWhole(gw.store.db, body.transactionId as string);

    await resendRefused(gw, auth, body, `payments id ${paymentId} (${payer.clientId} / ${body.transactionId}) was deleted with its whole history`, gateways);
  });
});

forEachBackend('The audit scrub\'s walk of new links (#14)', (ctx) => {
  it('proves each link appended once: a pass reads the links appended since the last one and the slow walk\'s budget, not the recent ones again', async function () {
    this.timeout(120_000);
    const gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_SCRUB_MS: '0', ...UNTHROTTLED });
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const payer = await gw.createClient();
      const auth = { authorization: `Bearer ${await gw.token(payer)}` };
      // A short history: every link of it within the old fast loop's window and its 50 links a pass.
      await history(gw.store, 10);
      const scrub = new AuditScrub(store.audit, { ring: ringOf(TEST_AUDIT_KEY), path: join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'c.jsonl'), store: store.db.description }, { linksPerPass: 50, confirmMs: 50, quiet: true });
      const read = watchChainWalks(store.db);
      // Caught up with the newest links (the first passes walk as many back as are counted).
      for (let i = 0; i < 30; i += 1) await scrub.pass();
      const [{ n: stored }] = await store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain');
      const perPass: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const before = read();
        await scrub.pass();
        perPass.push(read() - before);
      }
      // No link appended: at most the slow walk's piece (a cycle ends its pass), none of the recent links again.
      expect(Math.max(...perPass), `links read a pass, of ${Number(stored)} in the store: ${perPass.join(', ')}`).to.be.at.most(Math.min(50, Number(stored)));

      // Traffic between two passes: those links once, with the slow walk's.
      const [{ n: linked }] = await store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain');
      for (let i = 0; i < 5; i += 1) expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
      const [{ n: now }] = await store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain');
      const appended = Number(now) - Number(linked);
      const before = read();
      await scrub.pass();
      expect(read() - before, `links read by the pass after ${appended} were appended`).to.be.at.most(appended + 50);
      expect(scrub.linksBehind).to.equal(0);
      expect(scrub.memory.size, 'the payments made are remembered').to.be.at.least(5);
      expect(scrub.held).to.equal(null);
    } finally {
      await store.close();
      await gw.close();
    }
  });
});

forEachBackend('Passes of the audit scrub called while one runs (#14)', (ctx) => {
  it('runs one pass at a time: calls made at once (the pass at start, the periodic one, a caller of its own) never walk side by side, and each is followed by a pass begun after it', async function () {
    this.timeout(120_000);
    const gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_SCRUB_MS: '0', ...UNTHROTTLED });
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      await history(gw.store, 200);
      // The store's own audit repository, its chain walks and its reads of the heads (one a pass) counted.
      const audit = store.audit;
      let walking = 0;
      let mostAtOnce = 0;
      let passes = 0;
      const counted = watchedAudit(audit, {
        chainHeads: () => {
          passes += 1;
          return audit.chainHeads();
        },
        walkChain: async (writerId, from, maxLinks) => {
          walking += 1;
          mostAtOnce = Math.max(mostAtOnce, walking);
          try {
            return await audit.walkChain(writerId, from, maxLinks);
          } finally {
            walking -= 1;
          }
        },
      });
      const scrub = new AuditScrub(counted, { ring: ringOf(TEST_AUDIT_KEY), path: join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'c.jsonl'), store: store.db.description }, { linksPerPass: 10, confirmMs: 50, quiet: true });
      // Before, the passes walked side by side from the same place, and one ended the cycle the other
      // had ended already: it threw (the cycle under way read as null), a pass failed.
      const rounds: number[] = [];
      for (let round = 0; round < 5; round += 1) {
        const before = passes;
        await Promise.all([scrub.pass(), scrub.pass(), scrub.pass()]);
        rounds.push(passes - before);
      }
      expect(mostAtOnce, 'chain walks at once').to.equal(1);
      // The first call's pass, then one more shared by the two made while it ran.
      expect(rounds, 'passes run for three calls at once').to.deep.equal([2, 2, 2, 2, 2]);
      // Every chain walked whole, in order: the cycles end as one pass after another would end them.
      for (let i = 0; i < 200 && scrub.cycles < 1; i += 1) await scrub.pass();
      expect(scrub.cycles).to.be.at.least(1);
      expect(scrub.complete).to.equal(true);
      expect(scrub.held).to.equal(null);
    } finally {
      await store.close();
      await gw.close();
    }
  });
});

forEachBackend('A record altered after the scrub proved its link (#14)', (ctx) => {
  it('holds a record altered after the walk of new links proved it within the slow walk\'s cycle under way, its chain appearing after that cycle started', async function () {
    this.timeout(180_000);
    const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-scrub-')), 'audit-checkpoints.jsonl');
    const writer = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '0', ...UNTHROTTLED });
    let gw: TestGateway | undefined;
    let payer: TestGateway | undefined;
    try {
      gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10', ...UNTHROTTLED });
      const scrub = gw.gateway.scrub;
      await learnedAll(gw);
      // A history its next cycle needs about 30 passes for (10 links a pass), that cycle started before the paying process's chain appears.
      await history(writer.store, 300);
      await scrub.pass();
      const cycles = scrub.cycles;
      payer = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_AUDIT_SCRUB_MS: '0', ...UNTHROTTLED });
      const client = await payer.createClient();
      const auth = { authorization: `Bearer ${await payer.token(client)}` };
      const body = sampleTransfer();
      expect((await payer.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
      for (let i = 0; i < 50 && (i === 0 || scrub.linksBehind !== 0); i += 1) await scrub.pass();
      expect(scrub.cycles, 'the slow walk\'s cycle is under way').to.equal(cycles);
      // The attack, in SQL: the payment's request as recorded, changed after its link was proved.
      const changed = await gw.store.db.execute("UPDATE audit_exchanges SET request_body = '{}' WHERE transaction_id = ? AND method = 'POST'", [body.transactionId as string]);
      expect(changed.affectedRows).to.equal(1);
      for (let i = 0; i < 200 && scrub.cycles === cycles; i += 1) await scrub.pass();
      expect(scrub.cycles).to.equal(cycles + 1);
      expect(scrub.held ?? '', 'held when the cycle ends').to.match(/audit_exchanges id \d+ \(chain [^ ]+ seq \d+\) was altered/);
    } finally {
      await payer?.close();
      await gw?.close();
      await writer.close();
    }
  });
});

forEachBackend('The resend of a payment deleted in SQL while no gateway ran, to a gateway just started (#14)', (ctx) => {
  const { gateways, start } = scrubbingGateways(ctx, { acceptHeld: true });

  /** Pays `body` through a gateway started with `settings`, stops it (its bank received it once), and deletes the payment whole in SQL. */
  async function paidThenDeletedWhileDown(settings: Record<string, string>) {
    const first = await start(settings);
    const payer = await first.createClient();
    const body = sampleTransfer();
    await payInsideChains(first, { authorization: `Bearer ${await first.token(payer)}` }, body);
    const { paymentId } = await paymentLinks(first.store.db, body.transactionId as string);
    gateways.splice(gateways.indexOf(first), 1);
    await first.close();
    const db = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      await deleteWhole(db.db, body.transactionId as string);
    } finally {
      await db.close();
    }
    return { payer, body, paymentId };
  }

  it('refuses the resend sent at once: the new process resumed the memory of payments the stopped one wrote beside the checkpoints', async function () {
    this.timeout(120_000);
    const { payer, body, paymentId } = await paidThenDeletedWhileDown({ GERBANG_AUDIT_SCRUB_MS: '60000' });
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000' });
    expect(gw.gateway.scrub.memory.recall(payer.clientId, body.transactionId as string)?.id, 'resumed from the file').to.equal(paymentId);

    const resent = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await gw.token(payer)}` } });
    expect(resent.status, resent.text).to.equal(503);
    expect(resent.body.detail).to.contain(`payments id ${paymentId} (${payer.clientId} / ${body.transactionId})`);
    expect(await bankTransfers(gw, body.transactionId as string), 'sent again to the bank').to.equal(0);
    await eventually(async () => {
      await gw.gateway.scrub.pass();
      return gw.gateway.scrub.held !== null;
    }, 30_000);
  });

  it('holds the resend sent at once when no memory was written (the paying process ran without its scrub): refused once the new process finds the deletion, never sent', async function () {
    this.timeout(120_000);
    const { payer, body, paymentId } = await paidThenDeletedWhileDown({ GERBANG_AUDIT_SCRUB_MS: '0' });
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000' });
    expect(gw.gateway.scrub.memory.recall(payer.clientId, body.transactionId as string), 'nothing resumed').to.equal(null);

    const resent = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await gw.token(payer)}` } });
    expect(resent.status, resent.text).to.equal(503);
    expect(await bankTransfers(gw, body.transactionId as string), 'sent again to the bank').to.equal(0);
    const [{ n }] = await gw.store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payments WHERE transaction_id = ?', [body.transactionId as string]);
    expect(Number(n), 'the resend\'s reservation was released unsent').to.equal(0);
    await eventually(async () => {
      await gw.gateway.scrub.pass();
      return gw.gateway.scrub.held !== null;
    }, 30_000);
    expect(gw.gateway.scrub.held, `payment ${paymentId}'s links`).to.contain('a record and its link were deleted');
  });

  it('answers 503 with Retry-After, sending nothing, while a new process has not proved the links made before it started, then pays', async function () {
    this.timeout(120_000);
    const writer = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    await history(writer.store, 200);
    // 10 links a pass, a pass a minute: its first cycle is far from done when the request comes.
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    const payer = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const body = sampleTransfer();
    const refused = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect([refused.status, refused.body.code, refused.headers['retry-after']], refused.text).to.deep.equal([503, 'STORE_UNAVAILABLE', '5']);
    expect(refused.body.detail).to.contain('has not yet learned every payment made before it started');
    expect(await bankTransfers(gw, body.transactionId as string)).to.equal(0);
    await learnedAll(gw);
    const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect([paid.status, paid.body?.status], paid.text).to.deep.equal([201, 'SUCCESS']);
  });

  it('holds payments before the memory counts as whole when a payment\'s row alone was deleted while no gateway ran, outside what the payment check looks at first', async function () {
    this.timeout(120_000);
    // Paid through a gateway without its scrub (no memory written), between other payments: its
    // events are neither the newest nor the first ones, where the payment check of a pass looks.
    const first = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    const payer = await first.createClient();
    const auth = { authorization: `Bearer ${await first.token(payer)}` };
    for (let i = 0; i < 12; i += 1) expect((await first.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    const body = sampleTransfer();
    expect((await first.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
    for (let i = 0; i < 12; i += 1) expect((await first.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    const [{ id }] = await first.store.db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [body.transactionId as string]);
    const paymentId = Number(id);
    gateways.splice(gateways.indexOf(first), 1);
    await first.close();
    // The attacker, while no gateway runs: the payment's row deleted, its events and links left.
    const db = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      await db.db.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [paymentId]);
      await db.db.execute('DELETE FROM payments WHERE id = ?', [paymentId]);
    } finally {
      await db.close();
    }
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    await learnedAll(gw);
    // Held (every request answered 503) once the memory is whole: the resend is never sent.
    expect(gw.gateway.scrub.held, 'held when the memory became whole').to.contain(`payments id ${paymentId} was deleted`);
    const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(resent.status, resent.text).to.equal(503);
    expect(await bankTransfers(gw, body.transactionId as string), 'sent again to the bank').to.equal(0);
  });

  it('walks ten times as far a pass while the memory is not whole', async function () {
    this.timeout(120_000);
    const writer = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    await history(writer.store, 150);
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    await eventually(async () => gw.gateway.scrub.lastPass !== null, 30_000);
    // 150 links and their chains' cost: three passes of 10 links would leave most of them; of 100,
    // none (two are one cycle; a chain begun while that cycle ran, not walked in it, can take one more).
    for (let more = 0; more < 2 && !gw.gateway.scrub.complete; more += 1) await gw.gateway.scrub.pass();
    expect(gw.gateway.scrub.complete, 'whole after the pass at start and at most two more').to.equal(true);
  });
});

forEachBackend('A chain the slow walk\'s first cycle stopped at a break in, accepted since (#14)', (ctx) => {
  const { env, gateways, start } = scrubbingGateways(ctx, { acceptHeld: true });

  it('does not take the memory as whole until that chain is walked on past the accepted break: a payment behind the break, deleted whole after the acceptance, is not paid again at its resend', async function () {
    this.timeout(180_000);
    const payer = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    // A history before the payment: the slow walk of a complete memory (10 links a pass) takes many passes to reach it.
    const { client, body } = await paidAmongOthers(payer, 10, 30);
    // The attacker (SQL, no key): in every chain the payment links on, a link before its first one deleted.
    const db = payer.store.db;
    const { paymentId, links } = await paymentLinks(db, body.transactionId as string);
    const breaks: { writerId: string; seq: number }[] = [];
    for (const writerId of new Set(links.map((l) => l.writerId))) {
      const first = Math.min(...links.filter((l) => l.writerId === writerId).map((l) => l.seq));
      const [before] = await db.query<{ seq: number | string }>("SELECT seq FROM audit_chain WHERE writer_id = ? AND seq < ? ORDER BY kind = 'payment_event', seq DESC LIMIT 1", [writerId, first]);
      expect(before, `a link before the payment's in chain ${writerId}`).to.not.equal(undefined);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, Number(before.seq)]);
      breaks.push({ writerId, seq: Number(before.seq) });
    }
    // A process started since: its first cycle stops at those breaks and holds.
    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    const scrub = gw.gateway.scrub;
    await eventually(async () => scrub.lastPass !== null, 30_000);
    for (let i = 0; i < 1_000 && scrub.cycles < 1; i += 1) await scrub.pass();
    expect(scrub.cycles, 'its first cycle ended').to.be.at.least(1);
    for (const at of breaks) expect(scrub.breaks.some((b) => b.writerId === at.writerId && b.seq === at.seq), `held on chain ${at.writerId} link ${at.seq}: ${scrub.held}`).to.equal(true);
    expect(scrub.memory.recall(client.clientId, body.transactionId as string), 'the payment behind the break is not learned').to.equal(null);
    // The operator accepts the breaks; the gateway reads it at its next pass and pays again.
    const accepted = await acceptAsVerified(env(), 'test: audit links deleted, looked at');
    expect(accepted.code, accepted.stderr).to.equal(0);
    await scrub.pass();
    expect(scrub.held).to.equal(null);
    const resend = { authorization: `Bearer ${await gw.token(client)}` };
    // The attacker again: the payment behind the break deleted whole, before the slow walk goes round.
    await deleteWhole(db, body.transactionId as string);

    const resent = await gw.request('/v1/transfers', { json: body, headers: resend });
    expect(resent.status, resent.text).to.equal(503);
    expect(await paidTimes(gateways, body.transactionId as string), 'the transfers the banks received').to.equal(1);
    // Once walked on past the accepted breaks: the deletion is held (found by the walk, or by the check of the key it learned first).
    for (let i = 0; i < 1_000 && scrub.held === null; i += 1) await scrub.pass();
    expect(scrub.held).to.match(new RegExp(`payments id ${paymentId}|a record and its link were deleted`));
    expect((await gw.request('/v1/transfers', { json: body, headers: resend })).status).to.equal(503);
    expect(await paidTimes(gateways, body.transactionId as string), 'the transfers the banks received').to.equal(1);
  });
});

forEachBackend('A chain accepted as gone (its head row deleted), to a process started after the acceptance (#14)', (ctx) => {
  const { env, gateways, start } = scrubbingGateways(ctx, { acceptHeld: true });

  /**
   * A payment made among others by a process without its scrub (no memory written), which stops
   * (its heads checkpointed as it closes); the attacker (SQL through `db`, no key) deletes its head
   * rows, its links left, and the operator accepts those chains as gone. The payment, how often its
   * bank received it, the chains, and the payments made before it on them (`earlier`).
   */
  async function paidOnGoneChains(db: Store['db'], accept = true) {
    const first = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    const { client, body, earlier } = await paidAmongOthers(first, 3, 3);
    const paidBefore = await bankTransfers(first, body.transactionId as string);
    const chains = first.store.audit.ownHeads().map((h) => h.writerId);
    gateways.splice(gateways.indexOf(first), 1);
    await first.close();
    for (const writerId of chains) await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [writerId]);
    if (accept) await acceptGone();
    const { paymentId, links } = await paymentLinks(db, body.transactionId as string);
    expect(links.every((l) => chains.includes(l.writerId)), 'the payment links only on the chains accepted as gone').to.equal(true);
    return { client, body, paymentId, paidBefore, chains, earlier };
  }

  /** The operator looks (verify names the head rows deleted, the links intact) and accepts. */
  async function acceptGone() {
    const accepted = await acceptAsVerified(env(), 'test: head rows deleted, looked at');
    expect(accepted.code, accepted.stderr).to.equal(0);
  }

  /** The acceptance of `chains` as gone as a gateway of an older version wrote it (oldLine): each at link 0, nothing said of what remained. */
  function olderGoneLine(store: string, chains: string[]): string {
    return oldLine({ store, at: Date.now(), by: 'accept-rollback: head rows deleted, looked at', heads: [], broken: chains.map((writerId) => ({ writerId, seq: 0, hash: '' })) });
  }

  /** A new process's scrub (5 links a pass) on `store`, its reads as `instead` has them. */
  function newScrub(store: Store, instead: Partial<ScrubbedAudit>): AuditScrub {
    return new AuditScrub(watchedAudit(store.audit, instead), { ring: ringOf(TEST_AUDIT_KEY), path: env().GERBANG_AUDIT_CHECKPOINT_FILE, store: store.db.description }, { linksPerPass: 5, confirmMs: 50, quiet: true });
  }

  /** Reads of what remains: once `armed()`, the attacker deletes the payment of `transactionId` whole as the first is read. */
  function deletingAsRead(store: Store, transactionId: string, armed: () => boolean): Partial<ScrubbedAudit> {
    let deleted = false;
    return {
      remainsPage: async (writerId, fromSeq, maxLinks) => {
        if (armed() && !deleted) await deleteWhole(store.db, transactionId);
        deleted ||= armed();
        return store.audit.remainsPage(writerId, fromSeq, maxLinks);
      },
    };
  }

  /** The resend of the payment deleted whole, to `scrub`: refused. */
  async function resendRefused(scrub: AuditScrub, clientId: string, transactionId: string) {
    const verdict = await scrub.beforeNewPayment(clientId, transactionId, 9_999_999, Date.now());
    expect(verdict, 'the resend of the payment deleted whole is refused').to.be.a('string');
  }

  it('learns the payments of what remains of it in its first cycle, while that is as accepted: the resend of one deleted whole after is refused naming it, never sent', async function () {
    this.timeout(180_000);
    const attacker = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const { client, body, paymentId, paidBefore } = await paidOnGoneChains(attacker.db);
      // A process started after the acceptance, with no memory to resume: its first cycle ends.
      const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
      const scrub = gw.gateway.scrub;
      await learnedAll(gw);
      for (let i = 0; i < 1_000 && scrub.cycles < 1; i += 1) await scrub.pass();
      expect(scrub.cycles, 'its first cycle ended').to.be.at.least(1);
      expect(scrub.held).to.equal(null);
      // The attacker again: the payment deleted whole from what remains, before the next cycle compares it.
      await deleteWhole(attacker.db, body.transactionId as string);

      const resent = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await gw.token(client)}` } });
      expect(resent.status, resent.text).to.equal(503);
      expect(resent.body.detail).to.contain(`payments id ${paymentId} (${client.clientId} / ${body.transactionId}) was deleted with its whole history`);
      expect(paidBefore + (await bankTransfers(gw, body.transactionId as string)), 'the transfers the banks received').to.equal(1);
    } finally {
      await attacker.close();
    }
  });

  it('accepted as gone by a line of an older version (nothing said of what remained): the memory is not whole, so the resend of a payment of it deleted whole is refused unsent and new payments wait naming what to do; once accepted again, its remains are learned and a payment of it deleted whole later is refused', async function () {
    this.timeout(240_000);
    const attacker = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const { client, body, paidBefore, chains, earlier } = await paidOnGoneChains(attacker.db, false);
      // The acceptance as a gateway of an older version wrote it.
      const file = env().GERBANG_AUDIT_CHECKPOINT_FILE;
      appendFileSync(file, olderGoneLine(attacker.db.description, chains));
      // A process started after it, with no memory to resume: its first cycle ends.
      const logs = captureLogs('error');
      let gw: TestGateway;
      try {
        gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
        await eventually(async () => gw.gateway.scrub.lastPass !== null, 30_000);
      } finally {
        logs.stop();
      }
      const scrub = gw.gateway.scrub;
      for (let i = 0; i < 1_000 && scrub.cycles < 1; i += 1) await scrub.pass();
      expect(scrub.cycles, 'its first cycle ended').to.be.at.least(1);
      expect(scrub.held).to.equal(null);
      expect((await gw.request('/readyz')).status).to.equal(200);
      const auth = { authorization: `Bearer ${await gw.token(client)}` };
      // The attacker: the payment deleted whole from what remains (nothing to compare it with).
      const gaps = await deleteWhole(attacker.db, body.transactionId as string);

      const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
      expect([resent.status, resent.body.code, resent.headers['retry-after']], resent.text).to.deep.equal([503, 'STORE_UNAVAILABLE', '5']);
      expect(paidBefore + (await bankTransfers(gw, body.transactionId as string)), 'the transfers the banks received').to.equal(1);
      // Any payment it does not know waits, the 503 saying what the operator must do.
      const fresh = sampleTransfer();
      const waiting = await gw.request('/v1/transfers', { json: fresh, headers: auth });
      expect([waiting.status, waiting.body.code], waiting.text).to.deep.equal([503, 'STORE_UNAVAILABLE']);
      for (const writerId of chains) expect(waiting.body.detail).to.contain(writerId);
      expect(waiting.body.detail).to.contain('accepted as gone by a checkpoint line written by an older version').and.to.contain('gerbang audit verify').and.to.contain('gerbang audit accept-rollback --expect').and.to.contain('Retry once an operator has done so');
      // And the log, as the scrub first read the line.
      for (const writerId of chains) expect(logs.text(), 'the log names the chain and what to do').to.contain(`audit chain ${writerId} was accepted as gone by a checkpoint line written by an older version`).and.to.contain('gerbang audit accept-rollback --expect');

      // The operator looks: verify names the chains accepted as gone, not provably, and the links missing from what remains of them (where the payment was).
      const verified = await runCli(['audit', 'verify', '--format', 'json'], env());
      expect(verified.code, verified.stdout).to.equal(1);
      const report = JSON.parse(verified.stdout) as { breaks: { writerId: string | null; seq: number | null; problem: string }[]; accepted: { writerId: string | null; seq: number | null; how: string; unproven?: boolean }[] };
      expect(report.breaks.filter((b) => b.problem === 'deleted').map((b) => `chain ${b.writerId} link ${b.seq}`), 'the links missing from what remains').to.include.members(gaps);
      expect(report.accepted.filter((a) => a.seq === null && chains.includes(a.writerId!)).map((a) => [a.writerId, a.how, a.unproven]), 'the chains accepted as gone').to.have.deep.members(chains.map((writerId) => [writerId, 'as-gone', true]));
      // It accepts again: the line says what remains.
      const accepted = await acceptAsVerified(env(), 'test: older acceptance looked at again');
      expect(accepted.code, accepted.stderr).to.equal(0);
      const line = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1)!) as { broken?: { writerId: string; seq: number; remained?: unknown }[] };
      expect(line.broken?.filter((b) => b.seq === 0 && b.remained !== undefined).map((b) => b.writerId), 'accepted as gone with what remained').to.have.members(chains);
      for (let i = 0; i < 1_000 && !scrub.complete; i += 1) await scrub.pass();
      expect(scrub.complete, 'whole once what remains was learned').to.equal(true);
      const paid = await gw.request('/v1/transfers', { json: fresh, headers: auth });
      expect([paid.status, paid.body?.status], paid.text).to.deep.equal([201, 'SUCCESS']);
      // The attacker again: an earlier payment of what remains deleted whole.
      const other = earlier[0];
      const { paymentId: otherId } = await paymentLinks(attacker.db, other.transactionId as string);
      await deleteWhole(attacker.db, other.transactionId as string);
      const again = await gw.request('/v1/transfers', { json: other, headers: auth });
      expect(again.status, again.text).to.equal(503);
      expect(again.body.detail).to.contain(`payments id ${otherId} (${client.clientId} / ${other.transactionId}) was deleted with its whole history`);
      expect(await bankTransfers(gw, other.transactionId as string), 'sent again to the bank').to.equal(0);
    } finally {
      await attacker.close();
    }
  });

  it('deleted with a payment of it deleted whole, before any acceptance: verify names the links missing from what remains as well as the head rows, for the operator to look at before accepting it as gone', async function () {
    this.timeout(120_000);
    const attacker = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const { body, chains } = await paidOnGoneChains(attacker.db, false);
      const gaps = await deleteWhole(attacker.db, body.transactionId as string);
      const verified = await runCli(['audit', 'verify', '--format', 'json'], env());
      expect(verified.code, verified.stdout).to.equal(1);
      const { breaks } = JSON.parse(verified.stdout) as { breaks: { writerId: string | null; seq: number | null; table: string; problem: string }[] };
      expect(breaks.filter((b) => b.problem === 'deleted' && b.seq !== null).map((b) => `chain ${b.writerId} link ${b.seq}`), 'the links missing from what remains').to.include.members(gaps);
      expect(breaks.filter((b) => b.table === 'audit_writers').map((b) => b.writerId), 'the head rows deleted').to.include.members(chains);
      // Accepted once looked at (the next test starts from an intact store).
      expect((await acceptAsVerified(env(), 'test: head rows and a payment deleted, looked at')).code).to.equal(0);
    } finally {
      await attacker.close();
    }
  });

  /**
   * A memory of payments written before a payment is made on chains then accepted as gone (`accept`
   * writes the acceptance of those chains); a process resuming that memory passes once, caught up;
   * the payment deleted whole from what remains and its transactionId sent to it: refused (503),
   * never sent. The answer.
   */
  async function resentToResumed(accept: (store: string, chains: string[]) => Promise<void>) {
    // A memory of payments written (as its process stops) before the chains' payments were made.
    const { remembered, known } = await memoryWritten({ start, gateways });
    const attacker = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const { client, body, paidBefore, chains } = await paidOnGoneChains(attacker.db, false);
      await accept(attacker.db.description, chains);
      const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
      const scrub = gw.gateway.scrub;
      expect(scrub.memory.recall(remembered.clientId, known.transactionId as string), 'resumed from the file').to.not.equal(null);
      await eventually(async () => scrub.lastPass !== null, 30_000);
      expect(scrub.linksBehind, 'caught up with the links appended since the memory was written').to.equal(0);
      await deleteWhole(attacker.db, body.transactionId as string);

      const resent = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await gw.token(client)}` } });
      expect([resent.status, resent.body.code], resent.text).to.deep.equal([503, 'STORE_UNAVAILABLE']);
      expect(paidBefore + (await bankTransfers(gw, body.transactionId as string)), 'the transfers the banks received').to.equal(1);
      return resent;
    } finally {
      await attacker.close();
    }
  }

  it('accepted as gone by a line of an older version, to a process resuming a memory written before the payments of it: not whole once caught up, the resend of a payment of it deleted whole is refused, never sent', async function () {
    this.timeout(240_000);
    const resent = await resentToResumed(async (store, chains) => appendFileSync(env().GERBANG_AUDIT_CHECKPOINT_FILE, olderGoneLine(store, chains)));
    expect(resent.body.detail).to.contain('accepted as gone by a checkpoint line written by an older version');
  });

  it('accepted as gone, to a process resuming a memory written before the payments of it: not whole once caught up until it learned what remains, the resend of a payment of it deleted whole is refused, never sent', async function () {
    this.timeout(240_000);
    await resentToResumed(() => acceptGone());
  });

  it('holds when its first cycle ends if a payment of what remains was deleted whole after the cycle compared it and before it read it: the memory is not taken as whole without that payment', async function () {
    this.timeout(180_000);
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const { body, chains } = await paidOnGoneChains(store.db);
      // A new process's scrub (5 links a pass), the attacker acting as it reads the first page of those remains.
      let deleted = false;
      const pages: { links: number; maxLinks: number }[] = [];
      const scrub = newScrub(store, {
        remainsPage: async (writerId, fromSeq, maxLinks) => {
          if (!deleted) await deleteWhole(store.db, body.transactionId as string);
          deleted = true;
          const page = await store.audit.remainsPage(writerId, fromSeq, maxLinks);
          pages.push({ links: page.links, maxLinks });
          return page;
        },
      });
      for (let i = 0; i < 1_000 && scrub.cycles < 1; i += 1) await scrub.pass();
      expect(scrub.cycles, 'its first cycle ended').to.be.at.least(1);
      expect(deleted, 'the remains were read in the first cycle').to.equal(true);
      // A page at most the links left of a pass's budget (ten times 5 until the memory is whole).
      expect(pages.every((p) => p.links <= p.maxLinks && p.maxLinks <= 50), JSON.stringify(pages)).to.equal(true);
      expect(scrub.held ?? '', 'held as the first cycle ends').to.match(new RegExp(`chain (${chains.join('|')}), accepted as gone on [^,]+, is not as it was then`));
    } finally {
      await store.close();
    }
  });

  it('does not take the memory as whole while one, not as accepted as its first cycle started (its links moved aside, then back), has not had its remains learned: the resend of a payment of it deleted whole later is refused', async function () {
    this.timeout(180_000);
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const { client, body, chains } = await paidOnGoneChains(store.db);
      const db = store.db;
      // Attacker: the gone chains' links moved aside for the new process's first cycle (not as accepted: held).
      const them = chains.map(() => '?').join(', ');
      const aside = `hidden_${randomBytes(4).toString('hex')}`;
      await db.execute(`CREATE TABLE ${aside} AS SELECT * FROM audit_chain WHERE writer_id IN (${them})`, chains);
      await db.execute(`DELETE FROM audit_chain WHERE writer_id IN (${them})`, chains);
      let armed = false;
      const scrub = newScrub(store, deletingAsRead(store, body.transactionId as string, () => armed));
      for (let i = 0; i < 1_000 && scrub.cycles < 1; i += 1) await scrub.pass();
      // Attacker: the links put back (as accepted again); as the second cycle reads them, the payment deleted whole.
      await db.execute(`INSERT INTO audit_chain SELECT * FROM ${aside}`);
      await db.execute(`DROP TABLE ${aside}`);
      armed = true;
      for (let i = 0; i < 1_000 && scrub.cycles < 2; i += 1) await scrub.pass();
      await resendRefused(scrub, client.clientId, body.transactionId as string);
    } finally {
      await store.close();
    }
  });

  it('does not take the memory as whole when a chain its first cycle cut short is accepted as gone before its remains are learned: the resend of a payment of it deleted whole later is refused', async function () {
    this.timeout(180_000);
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const { client, body } = await paidOnGoneChains(store.db, false);
      let armed = false;
      const scrub = newScrub(store, deletingAsRead(store, body.transactionId as string, () => armed));
      for (let i = 0; i < 1_000 && scrub.cycles < 1; i += 1) await scrub.pass();
      await acceptGone();
      armed = true;
      for (let i = 0; i < 1_000 && scrub.cycles < 2; i += 1) await scrub.pass();
      await resendRefused(scrub, client.clientId, body.transactionId as string);
    } finally {
      await store.close();
    }
  });

  it('learns from the remains as compared, not as read: record ids pointed elsewhere only while their page is read hold, and do not stretch the check of lost payments over the table', async function () {
    this.timeout(180_000);
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const { client, body } = await paidOnGoneChains(store.db);
      const db = store.db;
      const { links } = await paymentLinks(db, body.transactionId as string);
      const saved = await db.query<{ writer_id: string; seq: number | string; record_id: number | string }>(
        `SELECT writer_id, seq, record_id FROM audit_chain WHERE ${links.map(() => '(writer_id = ? AND seq = ?)').join(' OR ')}`, links.flatMap((l) => [l.writerId, l.seq]));
      let reads = 0;
      const ranges: { fromId: number; toId: number }[] = [];
      const scrub = newScrub(store, {
        remainsPage: async (writerId, fromSeq, maxLinks) => {
          // Attacker, between the cycle's comparison and the re-comparison: the payment's links point elsewhere while their page is read, then put back.
          for (const l of saved) await db.execute('UPDATE audit_chain SET record_id = ? WHERE writer_id = ? AND seq = ?', [999_999_999, l.writer_id, l.seq]);
          const page = await store.audit.remainsPage(writerId, fromSeq, maxLinks);
          for (const l of saved) await db.execute('UPDATE audit_chain SET record_id = ? WHERE writer_id = ? AND seq = ?', [Number(l.record_id), l.writer_id, l.seq]);
          reads += 1;
          return page;
        },
        lostPayments: async (range, limit) => {
          ranges.push(range);
          return store.audit.lostPayments(range, limit);
        },
      });
      for (let i = 0; i < 1_000 && scrub.cycles < 1; i += 1) await scrub.pass();
      expect(reads, 'the remains were read').to.be.above(0);
      // A record id forged into a page read does not stretch the check of lost payments over the table.
      expect(ranges.filter((r) => r.toId - r.fromId > 1_000), 'event id ranges checked').to.deep.equal([]);
      await deleteWhole(store.db, body.transactionId as string);
      await resendRefused(scrub, client.clientId, body.transactionId as string);
    } finally {
      await store.close();
    }
  });
});

forEachBackend('Chains set back or moved aside in SQL while a new process\'s first cycle ends, or while it resumes the memory of payments (#14)', (ctx) => {
  const { gateways, start } = scrubbingGateways(ctx, { acceptHeld: true });

  type Links = { writerId: string; seq: number }[];
  /** What the attacker does to the stopped process's chains `stopped` while the first cycle ends: undone by the function it answers. */
  type Trick = (db: Store['db'], stopped: string[], links: Links) => Promise<() => Promise<void>>;

  /** The head row of each chain set to link `fakeHead` of it, with that link's own hash (read in SQL). */
  const headsAt = (fakeHead: (writerId: string, links: Links) => number): Trick => async (db, stopped, links) => {
    const heads = await db.query<{ writer_id: string; last_seq: number | string; last_hash: string }>(`SELECT writer_id, last_seq, last_hash FROM audit_writers WHERE writer_id IN (${stopped.map(() => '?').join(', ')})`, stopped);
    for (const h of heads) {
      const seq = fakeHead(h.writer_id, links);
      const [link] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [h.writer_id, seq]);
      await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [seq, link.hash, h.writer_id]);
    }
    return async () => {
      for (const h of heads) await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [Number(h.last_seq), h.last_hash, h.writer_id]);
    };
  };

  /** Each chain's head row and links moved aside (another table), then back. */
  const movedAside: Trick = async (db, stopped) => {
    const them = stopped.map(() => '?').join(', ');
    const aside = `hidden_${randomBytes(4).toString('hex')}`;
    await db.execute(`CREATE TABLE ${aside}_w AS SELECT * FROM audit_writers WHERE writer_id IN (${them})`, stopped);
    await db.execute(`CREATE TABLE ${aside}_c AS SELECT * FROM audit_chain WHERE writer_id IN (${them})`, stopped);
    await db.execute(`DELETE FROM audit_chain WHERE writer_id IN (${them})`, stopped);
    await db.execute(`DELETE FROM audit_writers WHERE writer_id IN (${them})`, stopped);
    return async () => {
      await db.execute(`INSERT INTO audit_writers SELECT * FROM ${aside}_w`);
      await db.execute(`INSERT INTO audit_chain SELECT * FROM ${aside}_c`);
      await db.execute(`DROP TABLE ${aside}_w`);
      await db.execute(`DROP TABLE ${aside}_c`);
    };
  };

  /**
   * A payment made between 25 and 30 others by a process without its scrub (no memory written),
   * which stops (its heads checkpointed as it closes): the payment, how often its bank received it,
   * its links, and the chains then (`stopped`).
   */
  async function paidThenStopped() {
    const first = await start({ GERBANG_AUDIT_SCRUB_MS: '0' });
    const { client, body } = await paidAmongOthers(first, 25, 30);
    const paidBefore = await bankTransfers(first, body.transactionId as string);
    const { links } = await paymentLinks(first.store.db, body.transactionId as string);
    const stopped = (await first.store.db.query<{ writer_id: string }>('SELECT writer_id FROM audit_writers WHERE last_seq > 1')).map((r) => r.writer_id);
    gateways.splice(gateways.indexOf(first), 1);
    await first.close();
    return { client, body, paidBefore, links, stopped };
  }

  /**
   * A payment made between 25 and 30 others by a process without its scrub (no memory written),
   * which stops; a process started since (10 links a pass, a pass a minute) begins its first cycle.
   * The attacker (SQL, no key) plays `trick` on the stopped process's chains until that cycle ends
   * and undoes it, then deletes the payment whole: its resend must not be sent.
   */
  async function trickedFirstCycle(trick: Trick) {
    const { client, body, paidBefore, links, stopped } = await paidThenStopped();

    const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
    const scrub = gw.gateway.scrub;
    await eventually(async () => scrub.lastPass !== null, 30_000);
    expect(scrub.complete, 'the first cycle is under way').to.equal(false);
    const db = gw.store.db;
    const undo = await trick(db, stopped, links);
    // Until the first cycle ends (a store of many chains takes more than one pass).
    for (let i = 0; i < 1_000 && scrub.cycles < 1; i += 1) await scrub.pass();
    expect(scrub.cycles, 'the first cycle ended').to.be.at.least(1);
    await undo();
    expect(scrub.complete, 'whole after a cycle the attacker tricked').to.equal(false);
    await eventually(async () => (await gw.request('/readyz')).status === 200, 20_000);
    await deleteWhole(db, body.transactionId as string);

    const resent = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await gw.token(client)}` } });
    expect(resent.status, resent.text).to.equal(503);
    expect(paidBefore + (await bankTransfers(gw, body.transactionId as string)), 'the transfers the banks received').to.equal(1);
  }

  it('does not take the memory as whole when its first cycle read each chain\'s head set back to its first link: the resend of a payment deleted whole after is refused, never sent', async function () {
    this.timeout(300_000);
    await trickedFirstCycle(headsAt(() => 1));
  });

  it('does not take the memory as whole when its first cycle read each chain\'s head set to the link before the payment\'s, with that link\'s own hash: the resend is refused, never sent', async function () {
    this.timeout(300_000);
    await trickedFirstCycle(
      headsAt((writerId, links) => {
        const mine = links.filter((l) => l.writerId === writerId).map((l) => l.seq);
        return mine.length > 0 ? Math.min(...mine) - 1 : 1;
      }),
    );
  });

  it('does not take the memory as whole when the chains were gone while its first cycle ended (their head rows and links moved aside in SQL, then back): the resend is refused, never sent', async function () {
    this.timeout(300_000);
    await trickedFirstCycle(movedAside);
  });

  /**
   * The memory of payments written by a process that learned every payment, which stops; then a
   * payment made between 25 and 30 others by a process without its scrub (no memory written),
   * which stops too (its heads checkpointed as it closes). The attacker (SQL, no key) plays `trick`
   * on the chains before a new process starts on that memory (resume) and passes once, undoes it,
   * then deletes the payment whole: its resend must not be sent.
   */
  async function trickedResume(trick: Trick) {
    const { remembered, known } = await memoryWritten({ start, gateways });
    const { client, body, paidBefore, links, stopped } = await paidThenStopped();
    const attacker = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY) });
    try {
      const undo = await trick(attacker.db, stopped, links);
      const gw = await start({ GERBANG_AUDIT_SCRUB_MS: '60000', GERBANG_AUDIT_SCRUB_LINKS: '10' });
      const scrub = gw.gateway.scrub;
      expect(scrub.memory.recall(remembered.clientId, known.transactionId as string), 'resumed from the file').to.not.equal(null);
      expect(scrub.memory.recall(client.clientId, body.transactionId as string), 'the payment made after the memory was written').to.equal(null);
      await eventually(async () => scrub.lastPass !== null, 30_000);
      await undo();
      expect(scrub.complete, 'caught up on heads the attacker set back').to.equal(false);
      await eventually(async () => (await gw.request('/readyz')).status === 200, 20_000);
      await deleteWhole(attacker.db, body.transactionId as string);

      const resent = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await gw.token(client)}` } });
      expect(resent.status, resent.text).to.equal(503);
      expect(paidBefore + (await bankTransfers(gw, body.transactionId as string)), 'the transfers the banks received').to.equal(1);
    } finally {
      await attacker.close();
    }
  }

  it('does not take a resumed memory as whole when the new process read each chain\'s head set back to its first link as it started: the resend of a payment made after the memory was written, deleted whole after, is refused, never sent', async function () {
    this.timeout(300_000);
    await trickedResume(headsAt(() => 1));
  });

  it('does not take a resumed memory as whole when the chains were gone as the new process started (their head rows and links moved aside in SQL, then back): the resend is refused, never sent', async function () {
    this.timeout(300_000);
    await trickedResume(movedAside);
  });
});
