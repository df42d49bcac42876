import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainGuard, checkpointer } from '../../src/audit/index.js';
import { requeueCallback } from '../../src/domain/callbacks/index.js';
import { createStore, type Db, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { startReceiver, type CallbackReceiver } from '../support/callback-receiver.js';
import { forEachBackend, type BackendContext } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { attackedStore, attackerDb, linkedRecords } from '../support/later-events.js';
import { copyRow, type Row } from '../support/sql-rows.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) against the
 * operator's requeue of a notification (#14, H2): a notification the ERP's endpoint took, its row
 * deleted, and the audit record of its delivery with the change record of that attempt taken out
 * with their chain links and put back, over and over. The requeue reads the notification's
 * CALLBACK records and then walks the chains for a gap where one may have been; read one by one,
 * the records could be read while they are out (never delivered) and the chains walked while they
 * are in (whole), and the notification sent a second time. Here they come back on the attacker's
 * own connection right after the records are read, and go again after the walk: the records and
 * the walk are read in one snapshot, so the walk finds the gap, and nothing is queued.
 */
/** The read of a transaction's audit records (AuditRepository.list). */
const EXCHANGES = /FROM audit_exchanges e LEFT JOIN audit_completions c/;
/** The read of the client's callback endpoint (CallbackRepository.endpointOf), before the requeue's snapshot. */
const ENDPOINT = /FROM client_callbacks c /;

/**
 * A receiver of notifications, and a gateway over the database of `ctx` sending them to it every
 * 50 ms, its chains checkpointed into `checkpoints` (the scrub, which would hold sending on a gap,
 * off: the requeue's own proof is on trial); and the attacker's own connection.
 */
async function requeueSetting(ctx: BackendContext, checkpoints: string): Promise<{ receiver: CallbackReceiver; gw: TestGateway; attacker: Db }> {
  const receiver = await startReceiver();
  const gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_CALLBACK_INTERVAL_MS: '50', GERBANG_AUDIT_SCRUB_MS: '0' });
  return { receiver, gw, attacker: attackerDb(ctx) };
}

/** A client of `gw` whose notifications go to `receiver`, its bearer token's header, and a console admin (named from `admin`) to requeue them. */
async function clientAndAdmin(gw: TestGateway, receiver: CallbackReceiver, admin: string): Promise<{ client: Awaited<ReturnType<TestGateway['createClient']>>; auth: { authorization: string }; admin: string }> {
  const client = await gw.createClient();
  await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
  const auth = { authorization: `Bearer ${await gw.token(client)}` };
  const username = `${admin}-${Date.now().toString(36)}`;
  await gw.store.consoleUsers.create({ username, passwordHash: 'x', role: 'admin' }, Date.now());
  return { client, auth, admin: username };
}

/**
 * For the suite being declared over `ctx`: requeueSetting (its checkpoints in a folder named from
 * `name`) opened before its tests, closed after them with the store a test watched (`watch`).
 */
function requeueSuite(ctx: BackendContext, name: string): { checkpoints: string; setting: () => Awaited<ReturnType<typeof requeueSetting>>; watch: (store: Store) => Store } {
  const checkpoints = join(mkdtempSync(join(tmpdir(), `gerbang-requeue-${name}-`)), 'audit-checkpoints.jsonl');
  let setting: Awaited<ReturnType<typeof requeueSetting>> | undefined;
  let watched: Store | undefined;
  before(async () => {
    setting = await requeueSetting(ctx, checkpoints);
  });
  after(async () => {
    await watched?.close();
    await setting?.attacker.close();
    await setting?.gw.close();
    setting?.receiver.server.close();
  });
  return { checkpoints, setting: () => setting!, watch: (store) => (watched = store) };
}

/**
 * A transfer of `client` (its token's header `auth`) whose notification `gw` queued and does not
 * send (its dispatcher stopped), held back: its delivery deleted by `attacker`. Its transactionId,
 * and where its deliveries are.
 */
async function heldBack(gw: TestGateway, attacker: Db, client: { clientId: string }, auth: { authorization: string }): Promise<{ transactionId: string; where: readonly [string, readonly string[]] }> {
  await gw.gateway.callbacks.stop();
  const body = sampleTransfer();
  const transactionId = body.transactionId as string;
  expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
  const where = ['client_id = ? AND transaction_id = ?', [client.clientId, transactionId]] as const;
  const [queued] = await eventually(async () => {
    const rows = await gw.store.db.query<Row>(`SELECT * FROM callback_deliveries WHERE ${where[0]}`, [...where[1]]);
    return rows.length === 1 && rows;
  });
  await attacker.execute('DELETE FROM callback_deliveries WHERE id = ?', [queued.id]);
  return { transactionId, where };
}

forEachBackend('A delivered notification\'s audit record put back between the requeue\'s read of it and its walk of the chains (#14, H2)', (ctx) => {
  const suite = requeueSuite(ctx, 'race');

  it('is not queued again: refused, as whether it was delivered cannot be told while the chains have a gap', async function () {
    this.timeout(60_000);
    const { receiver, gw, attacker } = suite.setting();
    const { client, auth, admin } = await clientAndAdmin(gw, receiver, 'ops-race');
    const body = sampleTransfer();
    const transactionId = body.transactionId as string;
    expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
    const where = ['client_id = ? AND transaction_id = ?', [client.clientId, transactionId]] as const;
    const sent = await eventually(async () => {
      const rows = await gw.store.db.query<Row>(`SELECT * FROM callback_deliveries WHERE ${where[0]}`, [...where[1]]);
      return rows[0]?.state === 'DELIVERED' && rows[0];
    });
    await gw.gateway.callbacks.stop();
    // Later transfers: the delivery's links are in the middle of their chains.
    for (let i = 0; i < 3; i += 1) expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);

    // The attacker: the delivery deleted for good; its attempt's audit record and change record, with their links, out.
    const [attempt] = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK');
    expect(attempt.statusCode).to.equal(200);
    const changes = await attacker.query<Row>("SELECT * FROM record_changes WHERE table_name = 'callback_deliveries' AND row_key = ? AND change_kind = 'update'", [
      JSON.stringify([client.clientId, transactionId]),
    ]);
    expect(changes, 'its attempt\'s change record').to.have.length(1);
    const links = [
      ...(await attacker.query<Row>("SELECT * FROM audit_chain WHERE kind IN ('open', 'complete') AND record_id = ?", [attempt.id])),
      ...(await attacker.query<Row>("SELECT * FROM audit_chain WHERE kind = 'record_change' AND record_id = ?", [changes[0].id])),
    ];
    expect(links).to.have.length(3);
    const delivery = await linkedRecords(
      attacker,
      [
        { table: 'audit_exchanges', key: 'id', row: await copyRow(attacker, 'audit_exchanges', 'id = ?', [attempt.id]) },
        { table: 'audit_completions', key: 'exchange_id', row: await copyRow(attacker, 'audit_completions', 'exchange_id = ?', [attempt.id]) },
        { table: 'record_changes', key: 'id', row: changes[0] },
      ],
      links,
    );
    await attacker.execute('DELETE FROM callback_deliveries WHERE id = ?', [sent.id]);
    await delivery.takeOut();

    // Back right after its records are read, out again once the chains are walked.
    const attacked = attackedStore(ctx, [EXCHANGES]);
    attacked.arm([EXCHANGES, delivery.putBack]);
    const store = suite.watch(attacked.store);
    const guard = new ChainGuard(store.audit, TEST_AUDIT_KEYS, suite.checkpoints, store.db.description);
    const chains = () => {
      const vouched = guard.vouchedProblem();
      return async (since: number, audit: Parameters<typeof vouched>[1]) => {
        const problem = await vouched(since, audit);
        await delivery.takeOut();
        return problem;
      };
    };
    const deps = { payments: store.payments, callbacks: store.callbacks, consoleUsers: store.consoleUsers, audit: store.audit, chains, clock: Date.now };
    const outcome = await requeueCallback(deps, { clientId: client.clientId, transactionId, admin, reason: 'verify named it; the ERP never got it' });
    expect(attacked.fired(), 'its records were put back during the requeue').to.equal(true);
    expect(outcome.requeued, JSON.stringify(outcome)).to.equal(false);
    expect('refused' in outcome && outcome.refused).to.contain('cannot be told while the audit chains do not hold as a whole');
    expect(await gw.store.db.query(`SELECT id FROM callback_deliveries WHERE ${where[0]}`, [...where[1]]), 'nothing queued').to.deep.equal([]);
  });
});

forEachBackend('Another writer\'s links committed and checkpointed while a requeue reads a notification\'s records in its snapshot (#14)', (ctx) => {
  const suite = requeueSuite(ctx, 'vouched');
  let other: Store;
  before(() => {
    // Another gateway: its own connection and chain, its heads checkpointed once committed.
    other = createStore(attackerDb(ctx), { auditKeys: TEST_AUDIT_KEYS });
  });
  after(async () => {
    await other?.close();
  });

  it('a notification deleted while queued is queued again: the checkpoints read before the snapshot vouch for nothing it lacks, and a payment made meanwhile is not taken for a gap', async function () {
    this.timeout(60_000);
    const { receiver, gw, attacker } = suite.setting();
    const { client, auth, admin } = await clientAndAdmin(gw, receiver, 'ops-vouched');
    const { transactionId, where } = await heldBack(gw, attacker, client, auth);

    const attacked = attackedStore(ctx, [EXCHANGES]);
    const store = suite.watch(attacked.store);
    const checkpoint = checkpointer(suite.checkpoints, TEST_AUDIT_KEYS, 'gateway (test)');
    const pay = async (tx: string) => {
      await other.payments.reserve({ clientId: 'requeue-vouched', transactionId: tx, requestHash: 'a'.repeat(64), amount: '5.00', currency: 'IDR', sourceAccount: '0209999999' }, Date.now());
      expect(checkpoint(store.db.description, other.audit.ownHeads()), 'checkpointed').to.equal(true);
    };
    await pay('VOUCHED-1');
    // Committed and checkpointed after the requeue's snapshot began, before it walks the chains.
    attacked.arm([EXCHANGES, () => pay('VOUCHED-2')]);
    const guard = new ChainGuard(store.audit, TEST_AUDIT_KEYS, suite.checkpoints, store.db.description);
    const deps = { payments: store.payments, callbacks: store.callbacks, consoleUsers: store.consoleUsers, audit: store.audit, chains: () => guard.vouchedProblem(), clock: Date.now };
    const outcome = await requeueCallback(deps, { clientId: client.clientId, transactionId, admin, reason: 'verify named it deleted; the ERP never got it' });
    expect(attacked.fired(), 'the other gateway paid during the requeue').to.equal(true);
    expect(outcome.requeued, JSON.stringify(outcome)).to.equal(true);
    expect(await gw.store.db.query(`SELECT id FROM callback_deliveries WHERE ${where[0]}`, [...where[1]]), 'queued again').to.have.length(1);
  });
});

forEachBackend('A final payment\'s row changed in SQL while a requeue of its notification is under way, before its snapshot (#14, H2)', (ctx) => {
  const suite = requeueSuite(ctx, 'payment');

  it('is not queued again: decided on the payment as the snapshot holds it (it does not hold itself there), not on a read before', async function () {
    this.timeout(60_000);
    const { receiver, gw, attacker } = suite.setting();
    const { client, auth, admin } = await clientAndAdmin(gw, receiver, 'ops-payment');
    // Held back: its delivery deleted, so a requeue would queue it.
    const { transactionId, where } = await heldBack(gw, attacker, client, auth);
    const [paid] = await attacker.query<Row>(`SELECT id, state FROM payments WHERE ${where[0]}`, [...where[1]]);
    expect(paid.state).to.equal('SUCCESS');

    // The payment's row set back to SENDING once the requeue has begun, before its snapshot.
    const attacked = attackedStore(ctx, [ENDPOINT]);
    attacked.arm([ENDPOINT, async () => void (await attacker.execute("UPDATE payments SET state = 'SENDING' WHERE id = ?", [paid.id]))]);
    const store = suite.watch(attacked.store);
    const guard = new ChainGuard(store.audit, TEST_AUDIT_KEYS, suite.checkpoints, store.db.description);
    const deps = { payments: store.payments, callbacks: store.callbacks, consoleUsers: store.consoleUsers, audit: store.audit, chains: () => guard.vouchedProblem(), clock: Date.now };
    const outcome = await requeueCallback(deps, { clientId: client.clientId, transactionId, admin, reason: 'verify named it deleted; the ERP never got it' });
    expect(attacked.fired(), 'the payment changed during the requeue').to.equal(true);
    expect(outcome.requeued, JSON.stringify(outcome)).to.equal(false);
    expect('refused' in outcome && outcome.refused).to.contain(`the payment of client ${client.clientId}, transactionId ${transactionId} does not hold itself`);
    expect(await gw.store.db.query(`SELECT id FROM callback_deliveries WHERE ${where[0]}`, [...where[1]]), 'nothing queued').to.deep.equal([]);
  });
});
