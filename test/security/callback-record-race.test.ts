import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainGuard } from '../../src/audit/index.js';
import { CallbackDispatcher, CallbackSigner, requeueCallback, type RequeueOutcome } from '../../src/domain/callbacks/index.js';
import { createStore, type AuditRepository, type Db, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { startReceiver, type CallbackReceiver } from '../support/callback-receiver.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { captureLogs } from '../support/log-capture.js';
import { attackedStore, attackerDb } from '../support/later-events.js';
import { copyRow, type Row } from '../support/sql-rows.js';

/**
 * The dispatcher refuses a notification while a record of its transaction does not hold (F2: a
 * delivered attempt's CALLBACK record altered in place), unless the requeue that queued that very
 * row named the record as found. A genuine record is written in two steps by its own writer (opened,
 * then completed: its completion and the completion's chain link commit together), and the
 * requeue queues its row before it completes its record with what it sends over. Here the honest
 * writers' second step lands exactly where the dispatcher looks: between its read of the
 * transaction's records and its read of their links, and between the requeue's queueing and its
 * record's completion. Neither genuine record is taken for an altered one: the notification is
 * sent, never refused, and never held for a lease.
 */
/** The read of a transaction's audit records (AuditRepository.list). */
const EXCHANGES = /FROM audit_exchanges e LEFT JOIN audit_completions c/;

forEachBackend('A requeue\'s own audit record completed while a dispatcher reads it (F2\'s refusal, genuine records)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-callback-record-race-')), 'audit-checkpoints.jsonl');
  let gw: TestGateway;
  let receiver: CallbackReceiver;
  let client: TestClient;
  let auth: Record<string, string>;
  let admin: string;
  let attacker: Db;
  /** The operator's CLI process: a store of its own on its own connection, as `gerbang callback requeue` opens. */
  let operator: Store;
  let watched: ReturnType<typeof attackedStore>;
  let signer: CallbackSigner;
  let logs: ReturnType<typeof captureLogs>;

  before(async () => {
    logs = captureLogs('error');
    receiver = await startReceiver();
    // Only the dispatchers of the tests send; the scrub (which holds sending on an altered record) off: the dispatcher's own look is on trial.
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_CALLBACK_INTERVAL_MS: '50', GERBANG_AUDIT_SCRUB_MS: '0' });
    await gw.gateway.callbacks.stop();
    client = await gw.createClient();
    await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
    auth = { authorization: `Bearer ${await gw.token(client)}` };
    admin = `ops-race-${Date.now().toString(36)}`;
    await gw.store.consoleUsers.create({ username: admin, passwordHash: 'x', role: 'admin' }, Date.now());
    attacker = attackerDb(ctx);
    operator = createStore(attackerDb(ctx), { auditKeys: TEST_AUDIT_KEYS });
    watched = attackedStore(ctx, [EXCHANGES]);
    signer = CallbackSigner.fromFile(join(mkdtempSync(join(tmpdir(), 'gerbang-callback-record-race-key-')), 'key.pem'));
  });
  after(async () => {
    logs.stop();
    await watched?.store.close();
    await operator?.close();
    await attacker?.close();
    await gw?.close();
    receiver?.server.close();
  });

  const noticesFor = (transactionId: string) => receiver.received.filter((r) => (JSON.parse(r.body) as { transfer: { transactionId: string } }).transfer.transactionId === transactionId);
  const rowOf = (transactionId: string): Promise<Row> => copyRow(gw.store.db, 'callback_deliveries', 'client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
  const refusalAudits = async (transactionId: string) => (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.errorCode === 'AUDIT_INTEGRITY');
  const refusedLines = (transactionId: string) => logs.lines.filter((line) => line.includes('queued callback refused') && line.includes(transactionId));

  /** A dispatcher (a process of its own) over the watched store, on a clock of the test's from `start`. */
  function dispatcherFrom(start: number) {
    const clock = { now: start };
    const dispatcher = new CallbackDispatcher({ callbacks: watched.store.callbacks, audit: watched.store.audit, signer, clock: () => clock.now }, { intervalMs: 0, retryBaseMs: 30_000 });
    return { clock, run: () => dispatcher.runOnce() };
  }

  /** A paid transfer whose notification is queued (never sent): its id and row. */
  async function paidAndQueued(): Promise<{ transactionId: string; row: Row }> {
    const body = sampleTransfer();
    expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
    const transactionId = body.transactionId as string;
    const row = await eventually(async () => (await gw.store.db.query('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [transactionId])).length === 1 && rowOf(transactionId));
    return { transactionId, row };
  }

  /**
   * The operator's requeue of `transactionId`, its record's completion (its second step) made by
   * `completing` in place of the store: `completing(complete)` must call `complete()` once.
   */
  function requeued(transactionId: string, completing: (complete: () => Promise<void>) => Promise<void>, sendAgain = false): Promise<RequeueOutcome> {
    const audit = Object.create(operator.audit) as AuditRepository;
    audit.complete = (...args: Parameters<AuditRepository['complete']>) => completing(() => operator.audit.complete(...args));
    const guard = new ChainGuard(operator.audit, TEST_AUDIT_KEYS, checkpoints, operator.db.description);
    const deps = { payments: operator.payments, callbacks: operator.callbacks, consoleUsers: operator.consoleUsers, audit, chains: () => guard.vouchedProblem(), clock: Date.now };
    return requeueCallback(deps, { clientId: client.clientId, transactionId, admin, reason: 'verify named it; the ERP never got it', ...(sendAgain ? { sendAgain: true } : {}) });
  }

  it('completed between the dispatcher\'s read of the transaction\'s records and its read of their links: the row it queued is sent, not refused', async function () {
    this.timeout(60_000);
    const { transactionId, row } = await paidAndQueued();
    await attacker.execute('DELETE FROM callback_deliveries WHERE id = ?', [row.id]);
    const sending = dispatcherFrom(Date.now());
    const outcome = await requeued(transactionId, async (complete) => {
      // The row is queued, the requeue's record open: a dispatcher claims the row, and the
      // requeue's completion commits right after the dispatcher has read the records.
      watched.arm([EXCHANGES, complete]);
      sending.clock.now = Date.now();
      expect(await sending.run(), 'claimed').to.equal(1);
      expect(watched.fired(), 'the requeue completed its record while the dispatcher read').to.equal(true);
    });
    expect(outcome.requeued, JSON.stringify(outcome)).to.equal(true);
    expect(refusedLines(transactionId), 'not refused').to.deep.equal([]);
    expect(await refusalAudits(transactionId), 'no refusal audited').to.deep.equal([]);
    expect(noticesFor(transactionId), 'sent').to.have.length(1);
    expect((await rowOf(transactionId)).state).to.equal('DELIVERED');
  });

  it('--send-again over an altered attempt record, its row claimed before the requeue completes its record: not refused, and sent once that record is complete, well before a lease ends', async function () {
    this.timeout(60_000);
    const { transactionId } = await paidAndQueued();
    const first = dispatcherFrom(Date.now());
    await first.run();
    expect(noticesFor(transactionId), 'delivered').to.have.length(1);
    const sent = await rowOf(transactionId);
    expect(sent.state).to.equal('DELIVERED');
    // The attacker: the attempt's record made to say 502 (its MAC covers it), the row deleted.
    const [attempt] = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK');
    await attacker.execute('UPDATE audit_completions SET status_code = 502 WHERE exchange_id = ?', [attempt.id]);
    await attacker.execute('DELETE FROM callback_deliveries WHERE id = ?', [sent.id]);
    const sending = dispatcherFrom(Date.now());
    const outcome = await requeued(
      transactionId,
      async (complete) => {
        // Queued, its record not yet saying which row and over which records: a dispatcher claims it now.
        sending.clock.now = Date.now();
        expect(await sending.run(), 'claimed').to.equal(1);
        await complete();
      },
      true,
    );
    expect(outcome.requeued, JSON.stringify(outcome)).to.equal(true);
    expect(noticesFor(transactionId), 'not sent over a requeue not yet complete').to.have.length(1);
    expect(refusedLines(transactionId), 'not refused').to.deep.equal([]);
    expect(await refusalAudits(transactionId), 'no refusal audited').to.deep.equal([]);
    // A few seconds on (a lease is 60 s): the requeue's record complete, the row it queued is sent over the record it named.
    sending.clock.now += 5_000;
    await sending.run();
    expect(noticesFor(transactionId), 'sent a second time, as asked').to.have.length(2);
    expect((await rowOf(transactionId)).state).to.equal('DELIVERED');
    expect(await refusalAudits(transactionId), 'no refusal audited').to.deep.equal([]);
    await attacker.execute('UPDATE audit_completions SET status_code = 200 WHERE exchange_id = ?', [attempt.id]);
  });

  it('--send-again over an altered attempt record whose own record is never completed (its process stopped): never sent over it, refused once that record is older than a claim', async function () {
    this.timeout(60_000);
    const { transactionId } = await paidAndQueued();
    await dispatcherFrom(Date.now()).run();
    const sent = await rowOf(transactionId);
    expect(sent.state).to.equal('DELIVERED');
    const [attempt] = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK');
    await attacker.execute('UPDATE audit_completions SET status_code = 502 WHERE exchange_id = ?', [attempt.id]);
    await attacker.execute('DELETE FROM callback_deliveries WHERE id = ?', [sent.id]);
    // The requeue queues the row and stops before its record's completion is written.
    const outcome = await requeued(
      transactionId,
      async () => {
        throw new Error('the operator\'s process stopped');
      },
      true,
    );
    expect(outcome, JSON.stringify(outcome)).to.include({ requeued: true, auditIncomplete: true });
    const sending = dispatcherFrom(Date.now());
    for (let run = 0; run < 3; run += 1) {
      await sending.run();
      sending.clock.now += 5_000;
    }
    expect(noticesFor(transactionId), 'not sent over a record no requeue named').to.have.length(1);
    expect(await refusalAudits(transactionId), 'waited on the requeue meanwhile').to.deep.equal([]);
    sending.clock.now += 120_000;
    await sending.run();
    expect(noticesFor(transactionId), 'never sent over it').to.have.length(1);
    const [refusal] = await refusalAudits(transactionId);
    expect(refusal?.responseBody, 'refused once the requeue\'s record is older than a claim').to.contain('NOT SENT').and.to.contain(`audit_exchanges id ${attempt.id} of its transaction does not hold`);
    await attacker.execute('UPDATE audit_completions SET status_code = 200 WHERE exchange_id = ?', [attempt.id]);
  });
});
