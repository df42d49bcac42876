import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provedLeftBehind } from '../../src/domain/transfers/left-behind.js';
import { IntegrityError } from '../../src/errors/index.js';
import type { Db, Store } from '../../src/store/index.js';
import { forEachBackend } from '../support/databases.js';
import { attackedStore, attackerDb, laterEvents } from '../support/later-events.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { bankTransfers, leaveBehind } from '../support/left-behind.js';
import { copyRow, insertRow } from '../support/sql-rows.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) against the
 * takeover of a reservation left behind (#16): a paid transfer's row is written back as its
 * reservation for good, and its later events with their chain links (from the middle of a chain)
 * are put back and taken out again, over and over. The takeover reads the row (held to its last
 * event) and proves the chains since that event: read one by one, the row could be read while
 * they are out (row and last event agree) and the chains walked while they are in (whole), and
 * the resend was paid again. Row, last event and walk are read in one snapshot: either they are
 * out (the walk breaks) or in (the row no longer matches its last event).
 */

forEachBackend('A paid transfer rolled back to its reservation, its later events put back and taken out while the ERP resends it (#16)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-takeover-race-')), 'audit-checkpoints.jsonl');
  // The takeover's own proof on trial: the scrub, which finds the gap within its cycle and then
  // holds every request (503), is off, and the rate limits are out of reach of 400 resends.
  let gw: TestGateway;
  let attacker: Db;
  before(async () => {
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_RATE_LIMIT_PER_CLIENT: '100000', GERBANG_RATE_LIMIT_PER_IP: '100000', GERBANG_AUDIT_SCRUB_MS: '0' });
    attacker = attackerDb(ctx);
  });
  after(async () => {
    await attacker?.close();
    await gw?.close();
  });

  it('is never paid again: 400 resends, none sent to the bank', async function () {
    this.timeout(300_000);
    const client = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(client)}` };
    const body = sampleTransfer();
    const transactionId = body.transactionId as string;
    const reservation = await copyRow(gw.store.db, 'payments', 'id = ?', [(await leaveBehind(gw, client.clientId, body)).id]);
    const id = Number(reservation.id);
    // Paid, as the gateway that sent it records it (this simulator did not see it: the bank count starts at 0).
    const day = new Date().toISOString().slice(0, 10);
    expect(await gw.store.payments.update(id, { state: 'SENDING', bank: 'bca', operation: 'transfer', bankTransactionId: '00000042', bankTransactionDate: day }, Date.now())).to.equal(true);
    const result = JSON.stringify({ transactionId, status: 'SUCCESS', bankReference: 'REF-42' });
    expect(await gw.store.payments.storeSendOutcome(id, { state: 'SUCCESS', bankReference: 'REF-42', resultJson: result, httpStatus: 201 }, Date.now(), (await gw.store.payments.findById(id))!)).to.equal(true);
    // Later transfers: the payment's links are in the middle of their chains.
    for (let i = 0; i < 2; i += 1) expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);

    // The attacker: the reservation written back for good, its later events taken out and put back.
    const later = await laterEvents(attacker, id);
    await later.takeOut();
    await attacker.execute('DELETE FROM payments WHERE id = ?', [id]);
    await insertRow(attacker, 'payments', reservation);

    let stop = false;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const toggler = (async () => {
      while (!stop) {
        await later.putBack();
        await sleep(Math.random() * 4);
        await later.takeOut();
        await sleep(Math.random() * 8);
      }
    })();
    const answers = new Map<string, number>();
    try {
      for (let tries = 0; tries < 400; tries += 1) {
        const again = await gw.request('/v1/transfers', { json: body, headers: auth });
        const answer = `${again.status} ${String(again.body?.code ?? again.body?.status)}`;
        answers.set(answer, (answers.get(answer) ?? 0) + 1);
        if (again.status === 201) break;
      }
    } finally {
      stop = true;
      await toggler;
    }
    expect(await bankTransfers(gw, transactionId), `answers: ${JSON.stringify([...answers])}`).to.equal(0);
    expect([...answers.keys()].filter((answer) => !answer.startsWith('500 AUDIT_INTEGRITY') && !answer.startsWith('409 IDEMPOTENCY_IN_FLIGHT'))).to.deep.equal([]);
  });
});

forEachBackend('The proof of a reservation left behind, its later events put back between its row check and its walk (#16)', (ctx) => {
  let attacker: Db;
  let watched: Store | undefined;
  before(() => {
    attacker = attackerDb(ctx);
  });
  after(async () => {
    await watched?.close();
    await attacker?.close();
  });

  it('walks the chains as the row was checked: the later events out, the proof refused (AUDIT_INTEGRITY)', async () => {
    const store = ctx.store();
    const now = Date.now();
    const body = sampleTransfer();
    const clientId = `erp-race-${now}`;
    const transactionId = body.transactionId as string;
    const reserved = await store.payments.reserve({ clientId, transactionId, requestHash: 'b'.repeat(64), amount: '1.00', currency: 'IDR', sourceAccount: '0201245680' }, now - 60_000);
    const reservation = await copyRow(store.db, 'payments', 'id = ?', [reserved.id]);
    // Paid, as the gateway that sent it records it; then a later payment, so its links are in the middle of their chain.
    expect(await store.payments.update(reserved.id, { state: 'SENDING', bank: 'bca', operation: 'transfer', bankTransactionId: '00000042', bankTransactionDate: '2026-12-07' }, now)).to.equal(true);
    const result = JSON.stringify({ transactionId, status: 'SUCCESS', bankReference: 'REF-42' });
    expect(await store.payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: 'REF-42', resultJson: result, httpStatus: 201 }, now, (await store.payments.findById(reserved.id))!)).to.equal(true);
    await store.payments.reserve({ clientId, transactionId: `${transactionId}-after`, requestHash: 'c'.repeat(64), amount: '1.00', currency: 'IDR', sourceAccount: '0201245680' }, now);

    // The attacker takes the later events out and writes the reservation back; the events come
    // back right after the chains' heads are read for the walk, as another process's write.
    const later = await laterEvents(attacker, reserved.id);
    await later.takeOut();
    await attacker.execute('DELETE FROM payments WHERE id = ?', [reserved.id]);
    await insertRow(attacker, 'payments', reservation);
    const heads = /FROM audit_writers w LEFT JOIN audit_chain c/;
    const attacked = attackedStore(ctx, [heads]);
    attacked.arm([heads, later.putBack]);
    watched = attacked.store;
    const payment = (await watched.payments.find(clientId, transactionId))!;
    expect([payment.state, attacked.fired()], 'the row read with its later events out').to.deep.equal(['RECEIVED', false]);
    const deps = { payments: watched.payments, clock: Date.now, checkpoints: async () => null, vouched: () => async () => null };
    const error = await provedLeftBehind(deps, payment, 'taken over').then(
      (proved) => expect.fail(`proved left behind (${String(proved)}): the walk saw the events put back after the row was checked without them`),
      (e: unknown) => e,
    );
    expect(attacked.fired(), `the later events were put back during the proof (${String(error)})`).to.equal(true);
    expect(error).to.be.instanceOf(IntegrityError);
    expect((error as IntegrityError).where).to.contain(`payments id ${reserved.id}`);
  });
});
