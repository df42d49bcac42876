import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { CallbackDispatcher, CallbackSigner } from '../../src/domain/callbacks/index.js';
import { migrate, openDb, type Db, type SqlValue } from '../../src/store/index.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { startReceiver, type CallbackReceiver } from '../support/callback-receiver.js';
import { runCli, type CliResult } from '../support/cli.js';
import { forEachBackend, type BackendContext } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { captureLogs } from '../support/log-capture.js';
import { copyRow, insertRow, refusedWrites, writeBack, type Row } from '../support/sql-rows.js';

/**
 * The database writer without keys of docs/security/threat-model.md against the outbox of
 * notifications to the ERP (callback_deliveries, migration 038): holding a transfer's notification
 * back (the row deleted, set DELIVERED or FAILED, its next attempt moved ahead, leased far ahead)
 * or having it sent again (a sent one set back to PENDING, its attempts reset, a deleted one
 * inserted back with its own sealed body). Every change is made in SQL only, as the attacker
 * would; the genuine deliveries are made by the gateway.
 */

forEachBackend('An attacker without keys who holds back or repeats a queued callback', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-callback-attacks-')), 'audit-checkpoints.jsonl');
  const db = () => ctx.store().db;
  let gw: TestGateway;
  let receiver: CallbackReceiver;
  let client: TestClient;
  let auth: Record<string, string>;
  let logs: ReturnType<typeof captureLogs>;

  before(async () => {
    logs = captureLogs('error');
    receiver = await startReceiver();
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_CALLBACK_INTERVAL_MS: '50', GERBANG_CALLBACK_RETRY_BASE_MS: '300' });
    client = await gw.createClient();
    await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
    auth = { authorization: `Bearer ${await gw.token(client)}` };
  });
  after(async () => {
    logs.stop();
    await gw?.close();
    receiver?.server.close();
  });

  const verify = (): Promise<CliResult> => runCli(['audit', 'verify'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });

  /** `audit verify` exits 1 and names each of `named`. */
  async function expectNamed(...named: string[]): Promise<void> {
    const result = await verify();
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    for (const text of named) expect(result.stdout + result.stderr).to.contain(text);
  }

  const noticesFor = (transactionId: string) => receiver.received.filter((r) => (JSON.parse(r.body) as { transfer: { transactionId: string } }).transfer.transactionId === transactionId);
  const rowOf = (transactionId: string): Promise<Row> => copyRow(db(), 'callback_deliveries', 'client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
  const described = (row: Row) => `callback_deliveries id ${String(row.id)} (client ${client.clientId}, transactionId ${String(row.transaction_id)})`;

  /** A paid transfer whose notification is queued while the dispatcher is stopped: its id and its row, PENDING. */
  async function queued(): Promise<{ transactionId: string; row: Row }> {
    await gw.gateway.callbacks.stop();
    const body = sampleTransfer();
    expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
    const transactionId = body.transactionId as string;
    const row = await eventually(async () => (await db().query<Row>('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [transactionId])).length === 1 && rowOf(transactionId));
    expect(row.state).to.equal('PENDING');
    return { transactionId, row };
  }

  /** A notification delivered by the gateway: its id, its row as queued (PENDING) and as delivered. */
  async function delivered(): Promise<{ transactionId: string; pending: Row; sent: Row }> {
    const { transactionId, row: pending } = await queued();
    gw.gateway.callbacks.start();
    const sent = await eventually(async () => {
      const row = await rowOf(transactionId);
      return row.state === 'DELIVERED' && row;
    });
    expect(noticesFor(transactionId)).to.have.length(1);
    return { transactionId, pending, sent };
  }

  /** The dispatcher's refusal of `transactionId`'s delivery, audited (never signed nor sent) and logged at error level naming the row. */
  async function refused(transactionId: string, problem: string): Promise<void> {
    const [audited] = await eventually(async () => {
      const rows = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.errorCode === 'AUDIT_INTEGRITY');
      return rows.length > 0 && rows;
    });
    expect(audited.responseBody).to.contain('NOT SENT').and.to.contain(problem);
    expect(logs.lines.filter((line) => line.includes('queued callback refused') && line.includes(transactionId)).join('\n')).to.contain(problem);
  }

  /** Refused as `problem` (refused), still sent once only after some rounds, and named by verify. */
  async function refusedAndNamed(transactionId: string, problem: string): Promise<void> {
    await refused(transactionId, problem);
    await afterSomeRounds();
    expect(noticesFor(transactionId), 'sent once').to.have.length(1);
    await expectNamed(problem);
  }

  /** Puts `row` back as Gerbang left it (over what the attack left, or inserted again), with the dispatcher running. */
  async function putBack(row: Row): Promise<void> {
    await db().execute('DELETE FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [row.client_id, row.transaction_id]);
    await insertRow(db(), 'callback_deliveries', { ...row, lease_owner: null, lease_until: null });
    gw.gateway.callbacks.start();
  }

  /** Lets the dispatcher run a few rounds (it runs every 50 ms), so a notification it would send is sent. */
  const afterSomeRounds = () => new Promise((resolve) => setTimeout(resolve, 400));

  describe('holding a notification back', () => {
    it('deleted while queued: never sent, and audit verify names the delivery deleted', async () => {
      const { transactionId, row } = await queued();
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [row.id]);
      try {
        gw.gateway.callbacks.start();
        await afterSomeRounds();
        expect(noticesFor(transactionId)).to.have.length(0);
        await expectNamed(`callback_deliveries ["${client.clientId}","${transactionId}"] was deleted: its latest change record`);
      } finally {
        await putBack(row);
      }
    });

    for (const state of ['DELIVERED', 'FAILED']) {
      it(`set ${state} while queued: never sent, and audit verify names it altered`, async () => {
        const { transactionId, row } = await queued();
        await db().execute('UPDATE callback_deliveries SET state = ? WHERE id = ?', [state, row.id]);
        try {
          gw.gateway.callbacks.start();
          await afterSomeRounds();
          expect(noticesFor(transactionId)).to.have.length(0);
          await expectNamed(`${described(row)} was altered: its id, client, transaction id, state, attempts or next attempt time no longer match its MAC`);
        } finally {
          await putBack(row);
        }
      });
    }

    it('its next attempt moved ahead: audit verify names it altered, and once due it is refused, not sent', async () => {
      const { transactionId, row } = await queued();
      await db().execute('UPDATE callback_deliveries SET next_attempt_at = ? WHERE id = ?', [Date.now() + 1_000, row.id]);
      try {
        gw.gateway.callbacks.start();
        await expectNamed(`${described(row)} was altered`);
        await refused(transactionId, `${described(row)} was altered`);
        expect(noticesFor(transactionId)).to.have.length(0);
        expect((await rowOf(transactionId)).state, 'left as it is, for verify to name').to.equal('PENDING');
      } finally {
        await putBack(row);
      }
    });

    it('its id changed while queued: never sent, refused naming it, and audit verify names it by its client, transaction id and both ids', async () => {
      const { transactionId, row } = await queued();
      const moved = Number(row.id) + 1_000_000;
      await db().execute('UPDATE callback_deliveries SET id = ? WHERE id = ?', [moved, row.id]);
      try {
        gw.gateway.callbacks.start();
        const problem = `callback_deliveries id ${moved} (client ${client.clientId}, transactionId ${transactionId}) was altered: its id was changed from ${Number(row.id)}, the id its latest change record`;
        await refused(transactionId, problem);
        await afterSomeRounds();
        expect(noticesFor(transactionId), 'never sent').to.have.length(0);
        expect((await rowOf(transactionId)).state, 'left as it is, for verify to name').to.equal('PENDING');
        await expectNamed(problem);
        // What the console's payment page reads to mark it and offer the requeue (an admin's, never on its own).
        expect(await gw.store.callbacks.deliveryProblemOf(client.clientId, transactionId)).to.contain(problem);
      } finally {
        await putBack(row);
      }
    });

    it('leased far ahead (a lease no claim grants): claimed over and sent', async () => {
      const { transactionId, row } = await queued();
      await db().execute("UPDATE callback_deliveries SET lease_owner = 'held-back', lease_until = ? WHERE id = ?", [Date.now() + 86_400_000, row.id]);
      gw.gateway.callbacks.start();
      await eventually(async () => noticesFor(transactionId).length === 1);
      await eventually(async () => (await rowOf(transactionId)).state === 'DELIVERED');
      expect(logs.text()).to.contain('queued callback was leased further ahead than Gerbang leases');
    });
  });

  describe('having a notification sent again', () => {
    it('a sent one set back to PENDING (its row as queued, written back): refused, not sent again, and named as not its latest state', async () => {
      const { transactionId, pending, sent } = await delivered();
      await writeBack(db(), 'callback_deliveries', pending, 'id = ?', [pending.id]);
      try {
        const problem = `${described(pending)} is not its latest state`;
        await refusedAndNamed(transactionId, problem);
      } finally {
        await putBack(sent);
      }
    });

    it('a sent one set back to PENDING in place (state alone): refused, not sent again, and named altered', async () => {
      const { transactionId, sent } = await delivered();
      await db().execute("UPDATE callback_deliveries SET state = 'PENDING' WHERE id = ?", [sent.id]);
      try {
        await refused(transactionId, `${described(sent)} was altered`);
        await afterSomeRounds();
        expect(noticesFor(transactionId), 'sent once').to.have.length(1);
        await expectNamed(`${described(sent)} was altered`);
      } finally {
        await putBack(sent);
      }
    });

    it('its attempts reset while it is retried (in place, then its row from an earlier attempt written back): refused each time, and named', async () => {
      receiver.answers.push(500, 500, 500, 500);
      const { transactionId } = await queued();
      gw.gateway.callbacks.start();
      const first = await eventually(async () => {
        const row = await rowOf(transactionId);
        return Number(row.attempts) === 1 && row;
      });
      await eventually(async () => Number((await rowOf(transactionId)).attempts) === 2);
      await gw.gateway.callbacks.stop();
      const second = await rowOf(transactionId);
      const sentSoFar = noticesFor(transactionId).length;
      expect(sentSoFar).to.equal(2);
      try {
        // In place: attempts 0 and due now.
        await db().execute('UPDATE callback_deliveries SET attempts = 0, next_attempt_at = ? WHERE id = ?', [Date.now(), second.id]);
        gw.gateway.callbacks.start();
        await refused(transactionId, `${described(second)} was altered`);
        await expectNamed(`${described(second)} was altered`);
        // The genuine row of its first attempt, due now: its MAC holds, but it is not the latest.
        await writeBack(db(), 'callback_deliveries', { ...first, lease_owner: null, lease_until: null }, 'id = ?', [first.id]);
        await eventually(async () => {
          const rows = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && (r.responseBody ?? '').includes('is not its latest state'));
          return rows.length > 0;
        }, 5_000);
        await expectNamed(`${described(first)} is not its latest state`);
        expect(noticesFor(transactionId), 'no attempt made from a reset row').to.have.length(sentSoFar);
      } finally {
        receiver.answers.length = 0;
        await putBack(second);
      }
    });

    it('deleted once sent and inserted back as it was queued, with its own sealed body (same id, or a new one): refused, not sent again, and named', async () => {
      const { transactionId, pending, sent } = await delivered();
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [pending.id]);
      await insertRow(db(), 'callback_deliveries', pending);
      try {
        const problem = `${described(pending)} is not its latest state`;
        await refused(transactionId, problem);
        await expectNamed(problem);
        // Again under an id of its own (the row key is its client and transaction id, as its event id).
        await gw.gateway.callbacks.stop();
        await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [pending.id]);
        const { id: _id, ...withoutId } = pending;
        await insertRow(db(), 'callback_deliveries', withoutId);
        const [{ id }] = await db().query<{ id: number }>('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [transactionId]);
        expect(Number(id)).to.not.equal(Number(pending.id));
        gw.gateway.callbacks.start();
        await eventually(async () => logs.lines.some((line) => line.includes('queued callback refused') && line.includes(`callback_deliveries id ${Number(id)} `)));
        await afterSomeRounds();
        expect(noticesFor(transactionId), 'sent once').to.have.length(1);
        await expectNamed(`callback_deliveries id ${Number(id)} (client ${client.clientId}, transactionId ${transactionId}) was altered: its id`);
      } finally {
        await putBack(sent);
      }
    });
  });

  describe('crowding the outbox', () => {
    it('100 forged PENDING rows ahead of a genuine one in the claim\'s order: each refused and audited, the genuine notification still sent at once, not after a lease per 20 forged rows', async () => {
      // The dispatcher stopped (queued()): one run of it, made here, is all there is.
      const { transactionId } = await queued();
      const now = Date.now();
      try {
        for (let i = 1; i <= 100; i += 1) {
          await insertRow(db(), 'callback_deliveries', { id: -i, client_id: client.clientId, transaction_id: `FORGED-CROWD-${i}`, url: receiver.url, body: 'x', state: 'PENDING', attempts: 0, next_attempt_at: 0, created_at: now, updated_at: now });
        }
        // Five claims of forged rows come before it (each refused row left as it is, leased for a
        // minute): one run reaches it, where a run of one claim left it for the fifth run after.
        expect(await gw.gateway.callbacks.runOnce()).to.equal(101);
        expect(noticesFor(transactionId)).to.have.length(1);
        await refused('FORGED-CROWD-100', 'callback_deliveries id -100');
        expect(noticesFor('FORGED-CROWD-1'), 'a forged row is never sent').to.have.length(0);
      } finally {
        await db().execute("DELETE FROM callback_deliveries WHERE transaction_id LIKE 'FORGED-CROWD-%'");
        gw.gateway.callbacks.start();
      }
    });
  });

  describe('having migration 038 key a forged row', () => {
    it('a sent one set back to PENDING with its MAC cleared and 038 deleted from schema_migrations: 038 runs again but keys no row that has a record, so it is refused, not sent again, and named', async () => {
      const { transactionId, sent } = await delivered();
      await db().execute("UPDATE callback_deliveries SET state = 'PENDING', attempts = 0, next_attempt_at = 0, mac = NULL, mac_key_id = NULL WHERE id = ?", [sent.id]);
      await db().execute('DELETE FROM schema_migrations WHERE version = 38');
      try {
        // The next migrating start runs 038 again (its columns are there; it adds none).
        expect((await migrate(db(), { keys: TEST_AUDIT_KEYS })).applied).to.deep.equal(['038_callback_delivery_macs']);
        const problem = `${described(sent)} carries no MAC`;
        expect((await rowOf(transactionId)).mac, 'not keyed as it stands').to.equal(null);
        await refusedAndNamed(transactionId, problem);
      } finally {
        await putBack(sent);
      }
    });
  });

  describe('the operator queues a held-back notification again (gerbang callback requeue)', () => {
    const admin = `ops-${Date.now().toString(36)}`;
    before(async () => {
      await gw.store.consoleUsers.create({ username: admin, passwordHash: 'x', role: 'admin' }, Date.now());
    });

    const requeue = (transactionId: string, reason = 'verify named it; the ERP never got it', ...options: string[]): Promise<CliResult> =>
      runCli(['callback', 'requeue', '--client', client.clientId, '--transaction-id', transactionId, '--admin', admin, '--reason', reason, ...options], {
        GERBANG_DATABASE_URL: ctx.url(),
        GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
        GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints,
      });
    /** The transfer's answer as its payment holds it (what the ERP must be told). */
    const answerOf = async (transactionId: string) => JSON.parse((await gw.store.payments.find(client.clientId, transactionId))!.resultJson!) as unknown;
    const requeueAudits = async (transactionId: string) => (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK-REQUEUE');

    /** Queued again: sent once, with the payment's own answer, to the registered endpoint; audited with who and why; verify names it no more. */
    async function sentOnceAndNoLongerNamed(transactionId: string, result: CliResult): Promise<void> {
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      const [notice] = await eventually(async () => noticesFor(transactionId).length > 0 && noticesFor(transactionId));
      expect(JSON.parse(notice.body).transfer, 'from the payment, not the row found').to.deep.equal(await answerOf(transactionId));
      await eventually(async () => (await rowOf(transactionId)).state === 'DELIVERED');
      await afterSomeRounds();
      expect(noticesFor(transactionId), 'sent once').to.have.length(1);
      const audited = (await requeueAudits(transactionId)).filter((a) => a.statusCode === 200);
      expect(audited, 'requeued once').to.have.length(1);
      expect(audited[0].requestBody).to.contain(admin).and.to.contain('verify named it');
      // --admin is a name typed: the OS user and host that ran the command kept beside it.
      expect(JSON.parse(audited[0].requestBody!).ranBy).to.deep.equal({ osUser: userInfo().username, host: hostname() });
      const verified = await verify();
      expect(verified.stdout + verified.stderr, 'no longer named').to.not.contain(transactionId);
    }

    it('deleted while queued: queued again from the payment, sent once, and no longer named', async () => {
      const { transactionId, row } = await queued();
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [row.id]);
      gw.gateway.callbacks.start();
      await expectNamed(`callback_deliveries ["${client.clientId}","${transactionId}"] was deleted`);
      const result = await requeue(transactionId);
      expect(result.stdout).to.contain('was deleted');
      await sentOnceAndNoLongerNamed(transactionId, result);
    });

    it('set FAILED while queued, its URL and body forged too: sent to the registered endpoint with the payment\'s answer, once, and no longer named', async () => {
      const { transactionId, row } = await queued();
      await db().execute("UPDATE callback_deliveries SET state = 'FAILED', url = 'http://127.0.0.1:9/forged', body = '{\"forged\":true}' WHERE id = ?", [row.id]);
      gw.gateway.callbacks.start();
      await expectNamed(`${described(row)} was altered`);
      await sentOnceAndNoLongerNamed(transactionId, await requeue(transactionId));
    });

    it('refused while the client has no callback endpoint, or the payment itself was changed in SQL, or the delivery holds: nothing queued, each refusal audited', async () => {
      const { transactionId, row } = await queued();
      await db().execute("UPDATE callback_deliveries SET state = 'DELIVERED' WHERE id = ?", [row.id]);
      gw.gateway.callbacks.start();
      // No endpoint.
      await gw.store.callbacks.setEndpoint(client.clientId, null, Date.now());
      let result: CliResult;
      try {
        result = await requeue(transactionId);
      } finally {
        await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
      }
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain(`NOT queued again: client ${client.clientId} has no callback endpoint`);
      // The payment's own state changed in SQL: it proves nothing.
      const payment = await copyRow(db(), 'payments', 'client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
      await db().execute("UPDATE payments SET state = 'FAILED' WHERE id = ?", [payment.id]);
      try {
        result = await requeue(transactionId);
      } finally {
        await writeBack(db(), 'payments', payment, 'id = ?', [payment.id]);
      }
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain(`NOT queued again: the payment of client ${client.clientId}, transactionId ${transactionId} does not hold itself`);
      expect((await rowOf(transactionId)).state, 'nothing queued').to.equal('DELIVERED');
      expect(noticesFor(transactionId)).to.have.length(0);
      // Queued again once it is looked at; a second time, the delivery holds.
      await sentOnceAndNoLongerNamed(transactionId, await requeue(transactionId));
      result = await requeue(transactionId);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('holds (it is DELIVERED as Gerbang left it): nothing to queue again');
      const audits = await requeueAudits(transactionId);
      expect(audits.map((a) => a.statusCode).sort()).to.deep.equal([200, 409, 409, 409]);
      await afterSomeRounds();
      expect(noticesFor(transactionId), 'still sent once').to.have.length(1);
    });
    it('a delivered one with a newer change record inserted in SQL (no chain link): judged as verify judges it, it holds, so it is refused, not sent again', async () => {
      const { transactionId, sent } = await delivered();
      const [inserted] = await db().query<{ id: number | string }>('SELECT MAX(id) + 1000 AS id FROM record_changes');
      await insertRow(db(), 'record_changes', {
        id: Number(inserted.id), table_name: 'callback_deliveries', row_key: JSON.stringify([client.clientId, transactionId]), change_kind: 'update', mac_key_id: sent.mac_key_id, mac: sent.mac, recorded_at: Date.now(),
      });
      let result: CliResult;
      try {
        await expectNamed('UNCHAINED');
        result = await requeue(transactionId);
      } finally {
        await db().execute('DELETE FROM record_changes WHERE id = ?', [Number(inserted.id)]);
      }
      expect(result.code, result.stdout + result.stderr).to.equal(1);
      expect(result.stderr).to.contain('holds (it is DELIVERED as Gerbang left it): nothing to queue again');
      expect((await rowOf(transactionId)).id, 'the row left as it is').to.equal(sent.id);
      await afterSomeRounds();
      expect(noticesFor(transactionId), 'not sent again').to.have.length(1);
    });

    it('answered 500 once (an attempt the audit records as not delivered), then set FAILED: never delivered, so queued again and sent once', async () => {
      receiver.answers.push(500);
      const { transactionId } = await queued();
      gw.gateway.callbacks.start();
      await eventually(async () => Number((await rowOf(transactionId)).attempts) === 1);
      await gw.gateway.callbacks.stop();
      const [attempt] = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK');
      expect(attempt.statusCode, 'its attempt audited as not delivered').to.equal(502);
      const row = await rowOf(transactionId);
      await db().execute("UPDATE callback_deliveries SET state = 'FAILED' WHERE id = ?", [row.id]);
      gw.gateway.callbacks.start();
      await expectNamed(`${described(row)} was altered`);
      expect(noticesFor(transactionId), 'the attempt answered 500').to.have.length(1);
      const result = await requeue(transactionId);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      await eventually(async () => (await rowOf(transactionId)).state === 'DELIVERED');
      await afterSomeRounds();
      expect(noticesFor(transactionId), 'the attempt answered 500, and the one queued again').to.have.length(2);
      expect((await requeueAudits(transactionId)).map((a) => a.statusCode)).to.deep.equal([200]);
      const verified = await verify();
      expect(verified.stdout + verified.stderr, 'no longer named').to.not.contain(transactionId);
    });

    /** The audit record of the one attempt that delivered `transactionId`'s notification (its endpoint answered 2xx), once written (after the row's). */
    const deliveredAttempt = (transactionId: string) =>
      eventually(async () => {
        const attempts = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.statusCode === 200);
        return attempts.length === 1 && attempts[0];
      });

    /** How audit verify names `row`'s delivery deleted. */
    const namedDeleted = (row: Row) => `callback_deliveries ["${client.clientId}","${String(row.transaction_id)}"] was deleted`;

    for (const [change, sql, named] of [
      ['deleted', 'DELETE FROM callback_deliveries WHERE id = ?', namedDeleted],
      ['set FAILED', "UPDATE callback_deliveries SET state = 'FAILED' WHERE id = ?", (row: Row) => `${described(row)} was altered`],
    ] as const) {
      it(`delivered (its endpoint answered 204), then its row ${change}: refused, saying when and where it was delivered, nothing queued nor sent a second time, and still named`, async () => {
        const { transactionId, sent } = await delivered();
        const attempt = await deliveredAttempt(transactionId);
        await db().execute(sql, [sent.id]);
        try {
          await expectNamed(named(sent));
          const result = await requeue(transactionId);
          expect(result.code, result.stdout + result.stderr).to.equal(1);
          expect(result.stderr).to.contain(`NOT queued again: ${named(sent)}`);
          expect(result.stderr).to.contain(`but the ERP's endpoint took it already: delivered to ${receiver.url} at ${new Date(attempt.completedAt!).toISOString()}, answered 204`);
          expect(result.stderr).to.contain(`audit_exchanges id ${attempt.id}`).and.to.contain('it would be sent a second time').and.to.contain('--send-again');
          const rows = await db().query<Row>('SELECT id, state FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
          expect(rows.map((r) => [Number(r.id), r.state]), 'nothing queued').to.deep.equal(change === 'deleted' ? [] : [[Number(sent.id), 'FAILED']]);
          await afterSomeRounds();
          expect(noticesFor(transactionId), 'not sent a second time').to.have.length(1);
          const audits = await requeueAudits(transactionId);
          expect(audits.map((a) => a.statusCode)).to.deep.equal([409]);
          expect(audits[0].responseBody).to.contain('took it already');
          await expectNamed(named(sent));
        } finally {
          await putBack(sent);
        }
      });
    }

    it('delivered, then its row deleted, queued again with --send-again: sent a second time as asked, and its audit record says it is a deliberate second send', async () => {
      const { transactionId, sent } = await delivered();
      const attempt = await deliveredAttempt(transactionId);
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [sent.id]);
      await expectNamed(namedDeleted(sent));
      const result = await requeue(transactionId, 'the ERP lost it; asked to send it again', '--send-again');
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.contain(`A SECOND SEND: sent again as asked (--send-again), although the ERP's endpoint took it already: delivered to ${receiver.url} at ${new Date(attempt.completedAt!).toISOString()}`);
      await eventually(async () => noticesFor(transactionId).length === 2);
      await eventually(async () => (await rowOf(transactionId)).state === 'DELIVERED');
      await afterSomeRounds();
      const notices = noticesFor(transactionId);
      expect(notices, 'sent twice in all').to.have.length(2);
      expect(JSON.parse(notices[1].body).transfer, 'the payment\'s answer').to.deep.equal(await answerOf(transactionId));
      const [audited, ...more] = await requeueAudits(transactionId);
      expect(more).to.deep.equal([]);
      expect(audited.statusCode).to.equal(200);
      expect(JSON.parse(audited.requestBody!)).to.include({ admin, sendAgain: true });
      expect(JSON.parse(audited.responseBody!).secondSend).to.contain(`sent again as asked (--send-again), although the ERP's endpoint took it already: delivered to ${receiver.url}`);
      const verified = await verify();
      expect(verified.stdout + verified.stderr, 'no longer named').to.not.contain(transactionId);
    });

    it('delivered, the audit record of its delivery then altered in SQL (its answer made 502) and its row deleted: whether it was delivered cannot be told, so refused; queued again only with --send-again', async function () {
      this.timeout(60_000);
      const { transactionId, sent } = await delivered();
      const attempt = await deliveredAttempt(transactionId);
      await db().execute('UPDATE audit_completions SET status_code = 502 WHERE exchange_id = ?', [attempt.id]);
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [sent.id]);
      try {
        await expectNamed(`audit_completions id ${attempt.id}`, namedDeleted(sent));
        let result = await requeue(transactionId);
        expect(result.code, result.stdout + result.stderr).to.equal(1);
        expect(result.stderr).to.contain(`but whether the ERP's endpoint took it already cannot be told: audit_exchanges id ${attempt.id} of transactionId ${transactionId} does not hold`);
        expect(result.stderr).to.contain('--send-again');
        expect(await db().query('SELECT id FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [client.clientId, transactionId]), 'nothing queued').to.deep.equal([]);
        result = await requeue(transactionId, 'the ERP says it never got it', '--send-again');
        expect(result.code, result.stdout + result.stderr).to.equal(0);
        expect(result.stdout).to.contain('A SECOND SEND: sent again as asked (--send-again), although whether the ERP\'s endpoint took it already cannot be told');
        expect((await requeueAudits(transactionId)).map((a) => a.statusCode)).to.deep.equal([409, 200]);
      } finally {
        await db().execute('UPDATE audit_completions SET status_code = 200 WHERE exchange_id = ?', [attempt.id]);
        // The scrub holds sending (and payments) while it finds the record altered; let go once it holds again.
        await eventually(async () => gw.gateway.scrub.held === null, 30_000);
      }
      await eventually(async () => noticesFor(transactionId).length === 2, 10_000);
    });

    /**
     * Two requeues of `transactionId` at once (MariaDB): both started while a transaction of the
     * test's holds `lockSql`'s lock, so each waits behind it, then released together. Their results.
     */
    async function twoAtOnce(transactionId: string, lockSql: string, params: SqlValue[]): Promise<CliResult[]> {
      const locker = openDb(ctx.url());
      try {
        const both = await locker.withTransaction(async (tx) => {
          await tx.query(lockSql, params);
          const started = [requeue(transactionId), requeue(transactionId)];
          // What each said if it ended without waiting (refused before its locked write).
          const ended: CliResult[] = [];
          for (const run of started) void run.then((result) => ended.push(result));
          // Those of this test's database only: the server may be shared. Polled slower than
          // eventually polls: InnoDB refreshes innodb_trx only when it was not read for 100 ms.
          const waiting = async () =>
            Number(
              (
                await tx.query<{ n: number | string }>(
                  "SELECT COUNT(*) AS n FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE()",
                )
              )[0].n,
            );
          for (let poll = 0; poll < 120 && (await waiting()) < 2; poll += 1) await new Promise((resolve) => setTimeout(resolve, 250));
          expect(await waiting(), `both requeues wait behind the lock; ended meanwhile: ${JSON.stringify(ended)}`).to.equal(2);
          return { started };
        });
        return await Promise.all(both.started);
      } finally {
        await locker.close();
      }
    }

    /** One of `results` queued it (exit 0), the other refused cleanly (exit 1, no stack), each audited; it is sent once. */
    async function queuedOnceByTwo(transactionId: string, results: CliResult[]): Promise<void> {
      const [won, lost] = results[0].code === 0 ? results : [results[1], results[0]];
      expect(won.code, won.stdout + won.stderr).to.equal(0);
      expect(lost.code, lost.stdout + lost.stderr).to.equal(1);
      expect(lost.stderr).to.match(/^NOT queued again: the delivery of client \S+, transactionId \S+ (holds \(it is PENDING as Gerbang left it\)|was queued meanwhile)/);
      expect(won.stdout + lost.stderr).to.not.contain('undefined').and.to.not.contain('    at ');
      expect((await requeueAudits(transactionId)).map((a) => a.statusCode).sort()).to.deep.equal([200, 409]);
      await eventually(async () => noticesFor(transactionId).length > 0);
      await afterSomeRounds();
      expect(noticesFor(transactionId), 'sent once').to.have.length(1);
      const verified = await verify();
      expect(verified.stdout + verified.stderr, 'no longer named').to.not.contain(transactionId);
    }

    /** Two requeues held at once behind a row lock: MariaDB's (SQLite runs one transaction at a time, so there are none to race). */
    const onMariaDb: Mocha.TestFunction | ((title: string, fn: Mocha.Func) => void) = ctx.backend === 'mariadb' ? it : () => undefined;

    onMariaDb('two at once of a row set FAILED (MariaDB: both wait on its lock): one queues it, the other, reading the row the first queued, is refused; sent once', async function () {
      this.timeout(60_000);
      const { transactionId, row } = await queued();
      await db().execute("UPDATE callback_deliveries SET state = 'FAILED' WHERE id = ?", [row.id]);
      gw.gateway.callbacks.start();
      await queuedOnceByTwo(transactionId, await twoAtOnce(transactionId, 'SELECT id FROM callback_deliveries WHERE id = ? FOR UPDATE', [row.id]));
    });

    onMariaDb('two at once of a deleted one (MariaDB: both past their read before either commits): one queues it, the other is refused cleanly and audited; sent once', async function () {
      this.timeout(60_000);
      const { transactionId, row } = await queued();
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [row.id]);
      gw.gateway.callbacks.start();
      await queuedOnceByTwo(transactionId, await twoAtOnce(transactionId, 'SELECT id FROM callback_deliveries WHERE client_id = ? AND transaction_id = ? FOR UPDATE', [client.clientId, transactionId]));
    });

    it('a reason of 120,000 characters, or one holding control or direction characters, refused naming the reason (its record bounded); a client id with a trailing space finds no payment on any backend', async function () {
      this.timeout(60_000);
      const { transactionId, row } = await queued();
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [row.id]);
      gw.gateway.callbacks.start();
      const long = await requeue(transactionId, 'x'.repeat(120_000));
      expect(long.code, long.stdout + long.stderr).to.equal(1);
      expect(long.stderr).to.contain('NOT queued again: the reason is 120000 characters long; at most 300 are kept');
      const marked = await requeue(transactionId, 'ab\u001b[31mRED\u202eevil');
      expect(marked.code, marked.stdout + marked.stderr).to.equal(1);
      expect(marked.stderr).to.contain('NOT queued again: the reason must be plain text on one line: it holds a control or direction character');
      const padded = await runCli(['callback', 'requeue', '--client', `${client.clientId} `, '--transaction-id', transactionId, '--admin', admin, '--reason', 'verify named it'], {
        GERBANG_DATABASE_URL: ctx.url(),
        GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
        GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints,
      });
      expect(padded.code, padded.stdout + padded.stderr).to.equal(1);
      expect(padded.stderr).to.contain(`NOT queued again: there is no payment of client ${client.clientId} , transactionId ${transactionId}`);
      expect(await db().query('SELECT id FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [client.clientId, transactionId]), 'nothing queued').to.deep.equal([]);
      const audits = await requeueAudits(transactionId);
      expect(audits.map((a) => a.statusCode), 'each refusal audited').to.deep.equal([409, 409, 409]);
      expect(audits[0].requestBody!.length, 'the long reason kept bounded').to.be.below(1_000);
      await sentOnceAndNoLongerNamed(transactionId, await requeue(transactionId));
    });

    it('refused, nothing queued, while its audit record cannot be written (the insert refused by a trigger); queued once it can', async () => {
      const { transactionId, row } = await queued();
      await db().execute("UPDATE callback_deliveries SET state = 'FAILED' WHERE id = ?", [row.id]);
      gw.gateway.callbacks.start();
      const drop = await refusedWrites(db(), 'INSERT', 'audit_exchanges', "NEW.method = 'CALLBACK-REQUEUE'");
      let result: CliResult;
      try {
        result = await requeue(transactionId);
      } finally {
        await drop();
      }
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('NOT queued again: its audit record could not be written').and.to.contain('nothing is queued again unrecorded');
      expect((await rowOf(transactionId)).state, 'nothing queued').to.equal('FAILED');
      await afterSomeRounds();
      expect(noticesFor(transactionId)).to.have.length(0);
      expect(await requeueAudits(transactionId)).to.have.length(0);
      await sentOnceAndNoLongerNamed(transactionId, await requeue(transactionId));
    });

    it('its own write failing (the forged row\'s delete refused by a trigger): nothing queued, and its audit record completed as 500 naming the error', async () => {
      const { transactionId, row } = await queued();
      await db().execute("UPDATE callback_deliveries SET state = 'FAILED' WHERE id = ?", [row.id]);
      gw.gateway.callbacks.start();
      const drop = await refusedWrites(db(), 'DELETE', 'callback_deliveries', `OLD.transaction_id = '${transactionId}'`);
      let result: CliResult;
      try {
        result = await requeue(transactionId);
      } finally {
        await drop();
      }
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('refused by a trigger');
      expect((await rowOf(transactionId)).state, 'nothing queued').to.equal('FAILED');
      const [audited, ...more] = await requeueAudits(transactionId);
      expect(more).to.deep.equal([]);
      expect(audited.statusCode).to.equal(500);
      expect(audited.errorCode).to.equal('INTERNAL_ERROR');
      expect(audited.responseBody).to.contain('refused by a trigger');
      await sentOnceAndNoLongerNamed(transactionId, await requeue(transactionId));
    });
  });

  // Last: every attack above put back, every requeue's notification sent (one requeue had a
  // trigger refuse a CLI process's first audit write, leaving a chain with its head row at link 0
  // and no link, which verify takes for what it is: nothing linked, nothing rolled back).
  describe('once every row is put back as Gerbang left it', () => {
    it('audit verify is INTACT: the genuine deliveries, retries and requeues are named nowhere', async () => {
      // The rows put back PENDING are sent now; each attempt recorded as it goes.
      await eventually(async () => (await db().query('SELECT id FROM callback_deliveries WHERE state = ?', ['PENDING'])).length === 0, 10_000);
      const [{ n }] = await db().query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payments WHERE client_id = ?', [client.clientId]);
      expect(await db().query('SELECT id FROM callback_deliveries'), 'one a payment').to.have.length(Number(n));
      const result = await verify();
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.contain('INTACT');
    });
  });
});

forEachBackend('A sent callback\'s delivery cut from its chain\'s tail, and its row written back as queued', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-callback-cut-')), 'audit-checkpoints.jsonl');
  const db = () => ctx.store().db;
  let gw: TestGateway;
  let receiver: CallbackReceiver;

  before(async () => {
    receiver = await startReceiver();
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_CALLBACK_INTERVAL_MS: '50' });
  });
  after(async () => {
    await gw?.close();
    receiver?.server.close();
  });

  it('holds the gateway (the checkpoints vouched for the cut links) and sends nothing again', async () => {
    const client = await gw.createClient();
    await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
    const auth = { authorization: `Bearer ${await gw.token(client)}` };
    await gw.gateway.callbacks.stop();
    const body = sampleTransfer();
    expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
    const transactionId = body.transactionId as string;
    const [queuedRow] = await eventually(async () => {
      const rows = await db().query<Row>('SELECT * FROM callback_deliveries WHERE transaction_id = ?', [transactionId]);
      return rows.length === 1 && rows;
    });
    gw.gateway.callbacks.start();
    await eventually(async () => (await copyRow(db(), 'callback_deliveries', 'id = ?', [queuedRow.id])).state === 'DELIVERED');
    await gw.gateway.callbacks.stop();
    expect(receiver.received).to.have.length(1);

    // The record of its delivery and every link after it on that chain deleted, the head moved back; the row written back as queued.
    const [record] = await db().query<{ id: number | string }>("SELECT id FROM record_changes WHERE table_name = 'callback_deliveries' AND row_key = ? ORDER BY id DESC LIMIT 1", [
      JSON.stringify([client.clientId, transactionId]),
    ]);
    const [link] = await db().query<{ writer_id: string; seq: number | string }>("SELECT writer_id, seq FROM audit_chain WHERE kind = 'record_change' AND record_id = ?", [Number(record.id)]);
    const cut = await db().query<{ kind: string; record_id: number | string }>('SELECT kind, record_id FROM audit_chain WHERE writer_id = ? AND seq >= ?', [link.writer_id, link.seq]);
    for (const gone of cut.filter((l) => l.kind === 'record_change')) await db().execute('DELETE FROM record_changes WHERE id = ?', [Number(gone.record_id)]);
    await db().execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [link.writer_id, link.seq]);
    const [last] = await db().query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, Number(link.seq) - 1]);
    await db().execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [Number(link.seq) - 1, last.hash, link.writer_id]);
    await writeBack(db(), 'callback_deliveries', { ...queuedRow, lease_owner: null, lease_until: null }, 'id = ?', [queuedRow.id]);

    expect(await gw.gateway.checkCheckpoints()).to.contain(`chain ${link.writer_id}`);
    gw.gateway.callbacks.start();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(receiver.received, 'not sent again while held').to.have.length(1);
    expect((await copyRow(db(), 'callback_deliveries', 'id = ?', [queuedRow.id])).state).to.equal('PENDING');
  });
});

/**
 * What the requeue blocks below share: a gateway of their own (a checkpoint file, the dispatcher
 * every 50 ms) delivering a client's notifications to a receiver, an admin who may queue one
 * again, the CLI's `callback requeue` as that admin, and the notifications the receiver got.
 */
/**
 * A delivered notification's latest attempt cut as the attacker cuts it: its change record and
 * that record's link deleted from the middle of their chain (links after it kept), and its row
 * `queued` (as it was queued) written back.
 */
async function attemptCutAndWrittenBack(db: Db, queued: Row): Promise<void> {
  const [record] = await db.query<{ id: number | string }>("SELECT id FROM record_changes WHERE table_name = 'callback_deliveries' AND row_key = ? ORDER BY id DESC LIMIT 1", [JSON.stringify([queued.client_id, queued.transaction_id])]);
  const [link] = await db.query<Row>("SELECT writer_id, seq FROM audit_chain WHERE kind = 'record_change' AND record_id = ?", [Number(record.id)]);
  const [head] = await db.query<Row>('SELECT last_seq FROM audit_writers WHERE writer_id = ?', [link.writer_id]);
  expect(Number(head.last_seq), 'cut from the middle').to.be.greaterThan(Number(link.seq));
  await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, link.seq]);
  await db.execute('DELETE FROM record_changes WHERE id = ?', [Number(record.id)]);
  await writeBack(db, 'callback_deliveries', { ...queued, lease_owner: null, lease_until: null }, 'id = ?', [queued.id]);
}

function requeueBench(ctx: BackendContext, name: string) {
  const checkpoints = join(mkdtempSync(join(tmpdir(), `gerbang-callback-${name}-`)), 'audit-checkpoints.jsonl');
  const bench = { checkpoints, admin: `ops-${Date.now().toString(36)}`, gw: undefined as unknown as TestGateway, receiver: undefined as unknown as CallbackReceiver, client: undefined as unknown as TestClient };
  before(async () => {
    bench.receiver = await startReceiver();
    bench.gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints, GERBANG_CALLBACK_INTERVAL_MS: '50' });
    bench.client = await bench.gw.createClient();
    await bench.gw.store.callbacks.setEndpoint(bench.client.clientId, bench.receiver.url, Date.now());
    await bench.gw.store.consoleUsers.create({ username: bench.admin, passwordHash: 'x', role: 'admin' }, Date.now());
  });
  after(async () => {
    await bench.gw?.close();
    bench.receiver?.server.close();
  });
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  return {
    bench,
    db: () => ctx.store().db,
    env,
    requeue: (transactionId: string, ...options: string[]): Promise<CliResult> =>
      runCli(['callback', 'requeue', '--client', bench.client.clientId, '--transaction-id', transactionId, '--admin', bench.admin, '--reason', 'verify named it', ...options], env()),
    noticesFor: (transactionId: string) => bench.receiver.received.filter((r) => (JSON.parse(r.body) as { transfer: { transactionId: string } }).transfer.transactionId === transactionId),
  };
}

forEachBackend('An attacker without keys who has a callback queued again while it is being sent, or once its audit record is deleted', (ctx) => {
  const { bench, db, env, requeue, noticesFor } = requeueBench(ctx, 'unaudited');
  const rowsOf = (transactionId: string) => db().query<Row>('SELECT id, state FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [bench.client.clientId, transactionId]);

  /** A paid transfer whose notification the endpoint has received and not answered yet (its answers held): its id, its row, and the release. */
  async function inFlight(): Promise<{ transactionId: string; row: Row; release: () => void }> {
    const release = bench.receiver.hold();
    const body = sampleTransfer();
    expect((await bench.gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await bench.gw.token(bench.client)}` } })).status).to.equal(201);
    const transactionId = body.transactionId as string;
    await eventually(async () => noticesFor(transactionId).length === 1);
    const row = await copyRow(db(), 'callback_deliveries', 'client_id = ? AND transaction_id = ?', [bench.client.clientId, transactionId]);
    return { transactionId, row, release };
  }

  /** The CALLBACK record of the one attempt at `transactionId`, once completed. */
  const attemptRecord = (transactionId: string) =>
    eventually(async () => {
      const records = (await bench.gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK');
      return records.length === 1 && records[0].outcome !== 'in_progress' && records[0];
    }, 15_000);

  it('while it is being sent (its answer not back yet) and its row altered in SQL: its audit record is open, so refused; with --send-again, refused while its row is leased; sent once', async function () {
    this.timeout(60_000);
    const { transactionId, row, release } = await inFlight();
    let result: CliResult;
    let asked: CliResult;
    try {
      const open = (await bench.gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK');
      expect(open.map((r) => r.outcome), 'its audit record opened before the POST').to.deep.equal(['in_progress']);
      await db().execute('UPDATE callback_deliveries SET attempts = 7 WHERE id = ?', [row.id]);
      result = await requeue(transactionId);
      asked = await requeue(transactionId, '--send-again');
    } finally {
      release();
    }
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    expect(result.stderr).to.contain('has no outcome (it is being sent now, or its process stopped before the outcome was written): it may have been delivered');
    expect(asked.code, asked.stdout + asked.stderr).to.equal(1);
    expect(asked.stderr).to.match(/is leased to \S+ until \S+ \(a process may be sending it now\); run it again after then/);
    const attempt = await attemptRecord(transactionId);
    expect(JSON.parse(attempt.responseBody!).notRecorded).to.contain('its row is not Gerbang\'s latest state');
    expect((await rowsOf(transactionId)).map((r) => Number(r.id)), 'the row left as it is').to.deep.equal([Number(row.id)]);
    expect(noticesFor(transactionId), 'sent once').to.have.length(1);
  });

  it('while it is being sent, its row deleted in SQL: the attempt is not recorded on a row, which its audit record says; the ERP took it, so a requeue is refused', async function () {
    this.timeout(60_000);
    const { transactionId, row, release } = await inFlight();
    try {
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [row.id]);
    } finally {
      release();
    }
    const attempt = await attemptRecord(transactionId);
    expect(attempt.statusCode).to.equal(200);
    expect(JSON.parse(attempt.responseBody!).notRecorded).to.contain('no longer leased to this process');
    const result = await requeue(transactionId);
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    expect(result.stderr).to.contain(`the ERP's endpoint took it already`).and.to.contain(`audit_exchanges id ${attempt.id}`);
    expect(await rowsOf(transactionId), 'nothing queued').to.deep.equal([]);
    expect(noticesFor(transactionId), 'sent once').to.have.length(1);
  });

  // Last: an audit record deleted holds the gateway (the scrub finds it) for the rest of the block.
  it('delivered, its CALLBACK audit record deleted and its row deleted or set FAILED: the attempt its keyed change records hold is not audited, so refused without --send-again; verify names all three', async function () {
    this.timeout(60_000);
    const attacks = [
      { change: 'deleted', sql: 'DELETE FROM callback_deliveries WHERE id = ?' },
      { change: 'set FAILED', sql: "UPDATE callback_deliveries SET state = 'FAILED' WHERE id = ?" },
    ];
    const auth = { authorization: `Bearer ${await bench.gw.token(bench.client)}` };
    // Both delivered before either attack: a deleted audit record holds the gateway once the scrub finds it.
    const delivered = await Promise.all(
      attacks.map(async (attack) => {
        const body = sampleTransfer();
        expect((await bench.gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
        const transactionId = body.transactionId as string;
        const sent = await eventually(async () => {
          const row = await copyRow(db(), 'callback_deliveries', 'client_id = ? AND transaction_id = ?', [bench.client.clientId, transactionId]).catch(() => null);
          return row?.state === 'DELIVERED' && row;
        });
        const attempt = await attemptRecord(transactionId);
        expect(attempt.statusCode).to.equal(200);
        return { ...attack, transactionId, sent, attempt };
      }),
    );
    expect(delivered.map(({ transactionId }) => noticesFor(transactionId).length), 'each sent once').to.deep.equal([1, 1]);
    for (const { sql, sent, attempt } of delivered) {
      await db().execute('DELETE FROM audit_completions WHERE exchange_id = ?', [attempt.id]);
      await db().execute('DELETE FROM audit_exchanges WHERE id = ?', [attempt.id]);
      await db().execute(sql, [sent.id]);
    }
    const verified = await runCli(['audit', 'verify'], env());
    expect(verified.code, verified.stdout + verified.stderr).to.equal(1);
    for (const { transactionId, attempt } of delivered) expect(verified.stdout + verified.stderr).to.contain(`audit_exchanges id ${attempt.id}`).and.to.contain(transactionId);

    for (const { change, transactionId } of delivered) {
      const result = await requeue(transactionId);
      expect(result.code, result.stdout + result.stderr).to.equal(1);
      expect(result.stderr).to.contain('record 1 delivery attempt(s) and its audit holds records of 0: an attempt is on record whose audit record is missing').and.to.contain('--send-again');
      expect((await rowsOf(transactionId)).map((r) => r.state), 'nothing queued').to.deep.equal(change === 'deleted' ? [] : ['FAILED']);
      const audits = (await bench.gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK-REQUEUE');
      expect(audits.map((a) => a.statusCode)).to.deep.equal([409]);
      expect(audits[0].responseBody).to.contain('audit record is missing');
      const asked = await requeue(transactionId, '--send-again');
      expect(asked.code, asked.stdout + asked.stderr).to.equal(0);
      expect(asked.stdout).to.contain('A SECOND SEND: sent again as asked (--send-again), although its change records (keyed) record 1 delivery attempt(s) and its audit holds records of 0');
      expect(await rowsOf(transactionId), 'queued again as asked').to.have.length(1);
    }
  });
});

forEachBackend('An attacker without keys who deletes a delivered callback\'s audit record and attempts with their chain links (#14)', (ctx) => {
  const { bench, db, env, requeue, noticesFor } = requeueBench(ctx, 'gap');
  const rowKey = (transactionId: string) => JSON.stringify([bench.client.clientId, transactionId]);

  /** A paid transfer whose notification the gateway delivered (its endpoint answered), with its CALLBACK audit record: its id, row and record. */
  async function delivered(): Promise<{ transactionId: string; sent: Row; attempt: { id: number } }> {
    const body = sampleTransfer();
    expect((await bench.gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await bench.gw.token(bench.client)}` } })).status).to.equal(201);
    const transactionId = body.transactionId as string;
    const sent = await eventually(async () => {
      const row = await copyRow(db(), 'callback_deliveries', 'client_id = ? AND transaction_id = ?', [bench.client.clientId, transactionId]).catch(() => null);
      return row?.state === 'DELIVERED' && row;
    });
    const attempt = await eventually(async () => {
      const records = (await bench.gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.outcome !== 'in_progress');
      return records.length === 1 && records[0];
    }, 15_000);
    expect(noticesFor(transactionId)).to.have.length(1);
    return { transactionId, sent, attempt };
  }

  it('honest: a delivery deleted alone is queued again and sent once, after audit verify checkpointed the chains and with a CLI chain at link 0', async function () {
    this.timeout(60_000);
    await bench.gw.gateway.callbacks.stop();
    const body = sampleTransfer();
    expect((await bench.gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await bench.gw.token(bench.client)}` } })).status).to.equal(201);
    const transactionId = body.transactionId as string;
    const row = await eventually(async () => (await db().query<Row>('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [transactionId]))[0]);
    // Verified intact first: verify checkpoints the heads it walked.
    const verified = await runCli(['audit', 'verify'], env());
    expect(verified.code, verified.stdout + verified.stderr).to.equal(0);
    expect(readFileSync(bench.checkpoints, 'utf8')).to.contain('"by":"verify"');
    await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [row.id]);
    bench.gw.gateway.callbacks.start();
    await insertRow(db(), 'audit_writers', { writer_id: 'cli-host-4343-0badf00d', host: 'cli-host', pid: 4343, started_at: Date.now(), last_seq: 0, last_hash: '0'.repeat(64), updated_at: Date.now() });
    const result = await requeue(transactionId);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    await eventually(async () => noticesFor(transactionId).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(noticesFor(transactionId), 'sent once').to.have.length(1);
  });

  /**
   * `transactionId`'s delivery (row `sent`) with its CALLBACK record `attempt` and the change
   * records of its attempt (those after the one that queued it) deleted, their links kept or, with
   * `junk`, each replaced by a made-up link at its place (the count of links unchanged either way).
   * Returns how to put it all back.
   */
  async function deletedKeepingCount(transactionId: string, sent: Row, attempt: { id: number }, junk: boolean): Promise<() => Promise<void>> {
    const changes = (await db().query<Row>("SELECT * FROM record_changes WHERE table_name = 'callback_deliveries' AND row_key = ? ORDER BY id", [rowKey(transactionId)])).slice(1);
    expect(changes.length, 'its attempt recorded').to.be.greaterThan(0);
    const records = [
      ...(await db().query<Row>('SELECT * FROM audit_exchanges WHERE id = ?', [attempt.id])).map((row) => ({ table: 'audit_exchanges', row })),
      ...(await db().query<Row>('SELECT * FROM audit_completions WHERE exchange_id = ?', [attempt.id])).map((row) => ({ table: 'audit_completions', row })),
      ...changes.map((row) => ({ table: 'record_changes', row })),
    ];
    const links = [
      ...(await db().query<Row>("SELECT * FROM audit_chain WHERE kind IN ('open', 'complete', 'record') AND record_id = ?", [attempt.id])),
      ...(await db().query<Row>(`SELECT * FROM audit_chain WHERE kind = 'record_change' AND record_id IN (${changes.map(() => '?').join(', ')})`, changes.map((c) => Number(c.id)))),
    ];
    const relink = async (rows: Row[]) => {
      for (const link of rows) {
        await db().execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, link.seq]);
        await insertRow(db(), 'audit_chain', link);
      }
    };
    if (junk) await relink(links.map((link) => ({ ...link, kind: 'open', record_id: 987654321, hash: 'e'.repeat(64) })));
    await db().execute('DELETE FROM audit_completions WHERE exchange_id = ?', [attempt.id]);
    await db().execute('DELETE FROM audit_exchanges WHERE id = ?', [attempt.id]);
    for (const change of changes) await db().execute('DELETE FROM record_changes WHERE id = ?', [Number(change.id)]);
    await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [sent.id]);
    return async () => {
      for (const { table, row } of records) await insertRow(db(), table, row);
      // (One queued anew by a requeue that should have been refused gives way to the row as it was.)
      await db().execute('DELETE FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [bench.client.clientId, transactionId]);
      await insertRow(db(), 'callback_deliveries', sent);
      await relink(links);
    };
  }

  for (const junk of [false, true]) {
    it(`delivered, then two more transfers made; its CALLBACK record and the change records of its attempt deleted ${junk ? 'with their links, made-up links put in their places' : 'while their links stay'}, its row deleted: refused naming the record deleted, the endpoint not hit a second time`, async function () {
      this.timeout(60_000);
      const { transactionId, sent, attempt } = await delivered();
      // Later traffic: the links of the records deleted are not their chains' heads.
      await delivered();
      await delivered();
      const putBack = await deletedKeepingCount(transactionId, sent, attempt, junk);
      try {
        const result = await requeue(transactionId);
        expect(result.code, result.stdout + result.stderr).to.equal(1);
        expect(result.stderr).to.contain('cannot be told while the audit chains do not hold as a whole: ').and.to.contain('was deleted').and.to.contain(junk ? 'id 987654321' : '');
        expect(await db().query('SELECT id FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [bench.client.clientId, transactionId]), 'nothing queued').to.deep.equal([]);
        await new Promise((resolve) => setTimeout(resolve, 400));
        expect(noticesFor(transactionId), 'the endpoint hit once').to.have.length(1);
      } finally {
        await putBack();
      }
    });
  }

  // Last: the gap it leaves stays.
  it('delivered, then its CALLBACK record and the change records of its attempt deleted with their links and its row deleted: refused, naming the gap and audit verify, and the endpoint is not hit a second time; with --send-again it is', async function () {
    this.timeout(60_000);
    const { transactionId, sent, attempt } = await delivered();
    // The CALLBACK record (its exchange, its completion) and their links.
    await db().execute("DELETE FROM audit_chain WHERE kind IN ('open', 'complete', 'record') AND record_id = ?", [attempt.id]);
    await db().execute('DELETE FROM audit_completions WHERE exchange_id = ?', [attempt.id]);
    await db().execute('DELETE FROM audit_exchanges WHERE id = ?', [attempt.id]);
    // Every change record of the delivery after the one that queued it (its attempt), with their links.
    const changes = await db().query<{ id: number | string }>("SELECT id FROM record_changes WHERE table_name = 'callback_deliveries' AND row_key = ? ORDER BY id", [rowKey(transactionId)]);
    expect(changes.length, 'queued, then its attempt recorded').to.be.greaterThan(1);
    for (const { id } of changes.slice(1)) {
      await db().execute("DELETE FROM audit_chain WHERE kind = 'record_change' AND record_id = ?", [Number(id)]);
      await db().execute('DELETE FROM record_changes WHERE id = ?', [Number(id)]);
    }
    await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [sent.id]);

    const result = await requeue(transactionId);
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    expect(result.stderr).to.contain('NOT queued again: whether the ERP\'s endpoint took the payment of client').and.to.contain('cannot be told while the audit chains do not hold as a whole: ');
    expect(result.stderr).to.match(/link \d+ of chain \S+ is missing|chain \S+ ends at link \d+/).and.to.contain('Run gerbang audit verify first').and.to.contain('--send-again');
    expect(await db().query('SELECT id FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [bench.client.clientId, transactionId]), 'nothing queued').to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(noticesFor(transactionId), 'the endpoint hit once').to.have.length(1);
    const audits = (await bench.gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK-REQUEUE');
    expect(audits.map((a) => a.statusCode)).to.deep.equal([409]);

    const asked = await requeue(transactionId, '--send-again');
    expect(asked.code, asked.stdout + asked.stderr).to.equal(0);
  });
});

forEachBackend('An attacker without keys who keeps a due callback unsent for minutes (a dispatcher on a clock of the test\'s)', (ctx) => {
  const db = () => ctx.store().db;
  let gw: TestGateway;
  let receiver: CallbackReceiver;
  let client: TestClient;
  let logs: ReturnType<typeof captureLogs>;
  let signer: CallbackSigner;

  before(async () => {
    logs = captureLogs('warn');
    receiver = await startReceiver();
    gw = await TestGateway.start(ctx.url(), { GERBANG_CALLBACK_INTERVAL_MS: '50', GERBANG_METRICS_STORE_READ_SECONDS: '0' });
    // The dispatchers here run on the test's clock; the gateway's own sends nothing meanwhile.
    await gw.gateway.callbacks.stop();
    client = await gw.createClient();
    await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
    signer = CallbackSigner.fromFile(join(mkdtempSync(join(tmpdir(), 'gerbang-held-lease-')), 'key.pem'));
  });
  after(async () => {
    logs.stop();
    await gw?.close();
    receiver?.server.close();
  });

  const noticesFor = (transactionId: string) => receiver.received.filter((r) => (JSON.parse(r.body) as { transfer: { transactionId: string } }).transfer.transactionId === transactionId);
  const heldLines = (transactionId: string) => logs.lines.filter((line) => line.includes('due callback held under a lease') && line.includes(transactionId));
  const refusedLines = (transactionId: string) => logs.lines.filter((line) => line.includes('queued callback refused') && line.includes(transactionId));
  const refusalAudits = async (transactionId: string) => (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.errorCode === 'AUDIT_INTEGRITY');
  /** The overdue gauges as the gateway's /metrics shows them now. */
  async function overdue(): Promise<{ count: number; ageSeconds: number }> {
    const text = await (await fetch(gw.gateway.metricsUrl!)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { count: value('gerbang_callbacks_overdue'), ageSeconds: value('gerbang_callbacks_overdue_oldest_age_seconds') };
  }
  /**
   * A dispatcher (as a process of its own) of the gateway's store on a clock of the test's from
   * `start`: `runs` runs it `times`, 50 s apart, doing `before` before each run.
   */
  function dispatcherFrom(start = Date.now()) {
    const clock = { now: start };
    const dispatcher = new CallbackDispatcher({ callbacks: gw.store.callbacks, audit: gw.store.audit, signer, clock: () => clock.now }, { intervalMs: 0, retryBaseMs: 30_000 });
    const runs = async (times: number, before: (now: number) => Promise<unknown> = async () => undefined) => {
      for (let step = 0; step < times; step += 1) {
        await before(clock.now);
        await dispatcher.runOnce();
        clock.now += 50_000;
      }
    };
    return { clock, runs };
  }
  /** A forged PENDING row of the client's, due since 1970, never written by the gateway. */
  const forged = (id: number, transactionId: string) =>
    insertRow(db(), 'callback_deliveries', { id, client_id: client.clientId, transaction_id: transactionId, url: receiver.url, body: 'x', state: 'PENDING', attempts: 0, next_attempt_at: 0, created_at: Date.now(), updated_at: Date.now() });

  /** A transfer paid through the gateway, and its notification's delivery row once queued. */
  async function paidAndQueued(): Promise<{ transactionId: string; row: Row }> {
    const body = sampleTransfer();
    const auth = { authorization: `Bearer ${await gw.token(client)}` };
    expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
    const transactionId = body.transactionId as string;
    const [row] = await eventually(async () => {
      const rows = await db().query<Row>('SELECT * FROM callback_deliveries WHERE transaction_id = ?', [transactionId]);
      return rows.length === 1 && rows;
    });
    return { transactionId, row };
  }

  describe('its lease rewritten before it ends', () => {
    it('held 250 s by a lease rewritten every 50 s, 110 s ahead (within what a claim is granted): not sent, overdue in /metrics, and logged once, naming it; sent once the writer stops', async () => {
      const { transactionId, row } = await paidAndQueued();
      const held = dispatcherFrom();
      await held.runs(6, (at) => db().execute("UPDATE callback_deliveries SET lease_owner = 'held-back', lease_until = ? WHERE id = ?", [at + 110_000, row.id]));
      expect(noticesFor(transactionId), 'held back').to.have.length(0);
      const [line] = heldLines(transactionId);
      expect(heldLines(transactionId), 'logged once while it stays held').to.have.length(1);
      expect(line).to.contain(`"deliveryId":${Number(row.id)}`).and.to.contain(`"clientId":"${client.clientId}"`).and.to.contain('"leaseOwner":"held-back"');
      const shown = await overdue();
      expect(shown.count).to.equal(1);
      expect(shown.ageSeconds).to.be.greaterThan(0).and.to.be.at.most((Date.now() - Number(row.next_attempt_at)) / 1000);
      // The writer stops: its last lease ends, and the next run sends it.
      await dispatcherFrom(held.clock.now + 120_000).runs(1);
      expect(noticesFor(transactionId)).to.have.length(1);
      expect(await overdue()).to.deep.equal({ count: 0, ageSeconds: 0 });
    });

    it('held 300 s by a lease rewritten every 50 s with its id changed each time: still logged once, naming it and the id it had; refused once the writer stops (its id is under its MAC), never sent', async () => {
      const { transactionId, row } = await paidAndQueued();
      let id = Number(row.id);
      const held = dispatcherFrom();
      await held.runs(7, async (at) => {
        await db().execute("UPDATE callback_deliveries SET id = ?, lease_owner = 'held-back', lease_until = ? WHERE id = ?", [id + 100_000, at + 110_000, id]);
        id += 100_000;
      });
      expect(noticesFor(transactionId), 'held back').to.have.length(0);
      expect(heldLines(transactionId), 'logged once while it stays held').to.have.length(1);
      // First seen held (at the first run) with the id the first rewrite gave it; logged at the fourth (150 s held), under the id the fourth gave it.
      expect(heldLines(transactionId)[0]).to.contain(`"idWas":${Number(row.id) + 100_000}`).and.to.contain(`"deliveryId":${Number(row.id) + 400_000}`).and.to.contain('"leaseOwner":"held-back"');
      await dispatcherFrom(held.clock.now + 120_000).runs(1);
      expect(noticesFor(transactionId), 'never sent').to.have.length(0);
      expect(refusedLines(transactionId).join('\n')).to.contain(`callback_deliveries id ${id} (client ${client.clientId}, transactionId ${transactionId}) was altered: its id`);
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [id]);
    });

    it('a forged row refused and leased again by each claim as its lease ends: refused, never logged as held under a lease', async () => {
      await forged(-1, 'FORGED-LEASED');
      try {
        await dispatcherFrom().runs(6);
        expect(refusedLines('FORGED-LEASED'), 'refused').to.not.deep.equal([]);
        expect(heldLines('FORGED-LEASED')).to.deep.equal([]);
        expect((await overdue()).count, 'overdue while it stays').to.equal(1);
      } finally {
        await db().execute("DELETE FROM callback_deliveries WHERE transaction_id = 'FORGED-LEASED'");
      }
    });
  });

  describe('its id changed between its claim and its attempt\'s write', () => {
    it('sent once: the attempt is not recorded on it, its audit record naming both ids, and once its lease ends it is refused, not sent a second time', async () => {
      const { transactionId, row } = await paidAndQueued();
      const moved = Number(row.id) + 1_000_000;
      const release = receiver.hold();
      const sending = dispatcherFrom();
      const run = sending.runs(1);
      try {
        await eventually(async () => noticesFor(transactionId).length === 1);
        await db().execute('UPDATE callback_deliveries SET id = ? WHERE id = ?', [moved, row.id]);
      } finally {
        release();
      }
      await run;
      const [attempt] = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.errorCode !== 'AUDIT_INTEGRITY');
      expect(JSON.parse(attempt.responseBody!).notRecorded).to.contain(`callback_deliveries id ${moved} (client ${client.clientId}, transactionId ${transactionId}) was claimed as id ${Number(row.id)}`);
      // Its lease (a minute) ended: claimed again, and refused.
      await dispatcherFrom(sending.clock.now + 120_000).runs(2);
      expect(noticesFor(transactionId), 'sent once').to.have.length(1);
      expect(refusedLines(transactionId).join('\n')).to.contain(`callback_deliveries id ${moved} (client ${client.clientId}, transactionId ${transactionId}) was altered: its id was changed from ${Number(row.id)}`);
      expect((await refusalAudits(transactionId)).length, 'the refusal audited').to.be.greaterThan(0);
      await db().execute('DELETE FROM callback_deliveries WHERE id = ?', [moved]);
    });
  });

  describe('its lease cleared while it is being sent (lease_owner and lease_until are outside its MAC)', () => {
    /** Sends `transactionId`'s notification with a dispatcher whose POST is held until `during` has run: the dispatcher, its run done. */
    async function sentWhile(transactionId: string, during: () => Promise<unknown>) {
      const release = receiver.hold();
      const sending = dispatcherFrom();
      const run = sending.runs(1);
      try {
        await eventually(async () => noticesFor(transactionId).length === 1);
        await during();
      } finally {
        release();
      }
      await run;
      return sending;
    }
    const attemptsOf = async (transactionId: string) => (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.errorCode !== 'AUDIT_INTEGRITY');

    it('cleared: the attempt is recorded on its row all the same (DELIVERED), and it is not sent a second time, nor by another process claiming it while it is sent', async () => {
      const { transactionId, row } = await paidAndQueued();
      const sending = await sentWhile(transactionId, async () => {
        await db().execute('UPDATE callback_deliveries SET lease_owner = NULL, lease_until = NULL WHERE id = ?', [row.id]);
        // Another process claims it meanwhile: its attempt is being sent, so not sent by that one.
        await dispatcherFrom().runs(1);
      });
      expect((await copyRow(db(), 'callback_deliveries', 'id = ?', [row.id])).state, 'recorded').to.equal('DELIVERED');
      await dispatcherFrom(sending.clock.now + 120_000).runs(2);
      expect(noticesFor(transactionId), 'sent once').to.have.length(1);
      const [attempt] = await attemptsOf(transactionId);
      expect(JSON.parse(attempt.responseBody!)).to.not.have.property('notRecorded');
    });

    it('given to a made-up owner: the attempt is not recorded on its row, and the next claim refuses it, naming the audit record of the attempt its row lost; sent once', async () => {
      const { transactionId, row } = await paidAndQueued();
      const sending = await sentWhile(transactionId, () => db().execute("UPDATE callback_deliveries SET lease_owner = 'another-node', lease_until = ? WHERE id = ?", [Date.now(), row.id]));
      const [attempt] = await attemptsOf(transactionId);
      expect(JSON.parse(attempt.responseBody!).notRecorded).to.contain('no longer leased to this process');
      await dispatcherFrom(sending.clock.now + 120_000).runs(3);
      expect(noticesFor(transactionId), 'sent once').to.have.length(1);
      expect(refusedLines(transactionId).join('\n')).to.contain(`callback_deliveries id ${Number(row.id)} (client ${client.clientId}, transactionId ${transactionId}) records 0 attempt(s), but audit_exchanges id ${attempt.id} records attempt 1 of it, DELIVERED`);
      expect((await refusalAudits(transactionId))[0].responseBody).to.contain('NOT SENT');
    });
  });

  describe('its lease cleared between one process\'s check of its attempts and the POST', () => {
    it('posted once: of two processes sending the same attempt, the one whose audit record was opened first posts it', async () => {
      const { transactionId, row } = await paidAndQueued();
      let hooked = false;
      const other = dispatcherFrom();
      // Process A reads the delivery's CALLBACK records; right after, the attacker clears the lease
      // in SQL and process B claims the row and sends it as far as it may.
      const auditA = Object.create(gw.store.audit) as typeof gw.store.audit;
      auditA.list = async (...args: Parameters<typeof gw.store.audit.list>) => {
        const rows = await gw.store.audit.list(...args);
        if (!hooked && args[0]?.transactionId === transactionId) {
          hooked = true;
          await db().execute('UPDATE callback_deliveries SET lease_owner = NULL, lease_until = NULL WHERE id = ?', [row.id]);
          await other.runs(1);
        }
        return rows;
      };
      const a = new CallbackDispatcher({ callbacks: gw.store.callbacks, audit: auditA, signer, clock: () => Date.now() }, { intervalMs: 0, retryBaseMs: 30_000 });
      await a.runOnce();
      expect(hooked).to.equal(true);
      await eventually(async () => noticesFor(transactionId).length >= 1);
      // Both processes have finished their runs: a second POST would have been made by now.
      expect(noticesFor(transactionId), 'posted once').to.have.length(1);
      const attempts = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.errorCode !== 'AUDIT_INTEGRITY');
      expect(attempts.map((r) => JSON.parse(r.responseBody!).delivery).sort(), 'one attempt posted, the other recorded not sent').to.deep.equal(['DELIVERED', 'NOT SENT']);
    });
  });

  describe('its attempt\'s change record cut from the middle of its chain, its row written back as queued', () => {
    it('refused before it is sent: its CALLBACK audit record shows the attempt its row lost; sent once', async () => {
      const { transactionId, row: queuedRow } = await paidAndQueued();
      const sending = dispatcherFrom();
      await sending.runs(1);
      expect((await copyRow(db(), 'callback_deliveries', 'id = ?', [queuedRow.id])).state).to.equal('DELIVERED');
      // More of the gateway's work after it: its attempt's link is not its chain's tail.
      await paidAndQueued();
      await attemptCutAndWrittenBack(db(), queuedRow);
      await dispatcherFrom(sending.clock.now + 120_000).runs(2);
      expect(noticesFor(transactionId), 'sent once').to.have.length(1);
      expect(refusedLines(transactionId).join('\n')).to.contain(`callback_deliveries id ${Number(queuedRow.id)} (client ${client.clientId}, transactionId ${transactionId}) records 0 attempt(s)`).and.to.contain('records attempt 1 of it, DELIVERED');
    });
  });

  describe('a forged row left as it is, claimed and refused again as each lease ends', () => {
    it('audited and logged once per forged state: two claims of the same row, one record; the row forged otherwise, a second; a process started anew, once more', async () => {
      await forged(-2, 'FORGED-ONCE');
      try {
        const running = dispatcherFrom();
        // Claimed at 0 s and at 100 s (its lease of 60 s ended), refused each time.
        await running.runs(3);
        expect(await refusalAudits('FORGED-ONCE'), 'one audit record').to.have.length(1);
        expect(refusedLines('FORGED-ONCE'), 'one log line').to.have.length(1);
        await db().execute('UPDATE callback_deliveries SET attempts = 5 WHERE id = -2');
        await running.runs(4);
        const [, second] = await refusalAudits('FORGED-ONCE');
        expect(await refusalAudits('FORGED-ONCE'), 'forged otherwise: a second').to.have.length(2);
        expect(second.responseBody).to.contain('NOT SENT');
        expect(refusedLines('FORGED-ONCE')).to.have.length(2);
        await dispatcherFrom(running.clock.now + 120_000).runs(1);
        expect(await refusalAudits('FORGED-ONCE'), 'a restarted process reports it once more').to.have.length(3);
        expect(noticesFor('FORGED-ONCE')).to.have.length(0);
      } finally {
        await db().execute("DELETE FROM callback_deliveries WHERE transaction_id = 'FORGED-ONCE'");
      }
    });

    it('remembered by a digest of the state found, not its values: a row with a MAC of 1 MB (SQLite enforces no column width) costs the memory 44 characters', async () => {
      const mac = ctx.backend === 'sqlite' ? 'm'.repeat(1_000_000) : 'm'.repeat(64);
      await insertRow(db(), 'callback_deliveries', { id: -3, client_id: client.clientId, transaction_id: 'FORGED-BIG', url: receiver.url, body: 'x', state: 'PENDING', attempts: 0, next_attempt_at: 0, mac_key_id: 'k', mac, created_at: Date.now(), updated_at: Date.now() });
      try {
        const claimed = await gw.store.callbacks.claimDue({ owner: 'attack-test', now: Date.now(), leaseMs: 60_000, limit: 100 });
        const [refusal] = claimed.filter((delivery) => delivery.transactionId === 'FORGED-BIG');
        expect(refusal).to.have.property('leftAsIs', true);
        expect((refusal as { asFound: string }).asFound).to.match(/^[A-Za-z0-9+/]{43}=$/);
      } finally {
        await db().execute("DELETE FROM callback_deliveries WHERE transaction_id = 'FORGED-BIG'");
      }
    });
  });
});

forEachBackend('An attacker without keys who alters a delivered callback\'s CALLBACK audit record in place (a column its MAC covers), to have it posted again (dispatchers on a clock of the test\'s)', (ctx) => {
  const { bench, db, requeue, noticesFor } = requeueBench(ctx, 'altered');
  let logs: ReturnType<typeof captureLogs>;
  let signer: CallbackSigner;
  /** Three transfers paid and their notifications delivered (one POST each) before any attack: an attack here holds the gateway once the scrub finds it. */
  const paid: { transactionId: string; pending: Row; attempt: { id: number } }[] = [];

  before(async function () {
    this.timeout(60_000);
    logs = captureLogs('error');
    // Only the dispatchers of the tests send: the gateway's own would be held by its scrub once it finds an attack.
    await bench.gw.gateway.callbacks.stop();
    signer = CallbackSigner.fromFile(join(mkdtempSync(join(tmpdir(), 'gerbang-altered-record-')), 'key.pem'));
    const auth = { authorization: `Bearer ${await bench.gw.token(bench.client)}` };
    // One after the other: the first one's records are not its chain's tail (MariaDB: a process links on four chains, an idle one first).
    for (let n = 0; n < 3; n += 1) {
      const body = sampleTransfer();
      expect((await bench.gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(201);
      const transactionId = body.transactionId as string;
      const pending = await eventually(async () => (await db().query<Row>('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [transactionId])).length === 1 && rowOf(transactionId));
      await dispatcherFrom().runs(1);
      expect((await rowOf(transactionId)).state).to.equal('DELIVERED');
      expect(noticesFor(transactionId)).to.have.length(1);
      const [attempt] = await attemptsOf(transactionId);
      paid.push({ transactionId, pending, attempt });
    }
  });
  after(() => logs.stop());

  const rowOf = (transactionId: string): Promise<Row> => copyRow(db(), 'callback_deliveries', 'client_id = ? AND transaction_id = ?', [bench.client.clientId, transactionId]);
  const attemptsOf = async (transactionId: string) => (await bench.gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.errorCode !== 'AUDIT_INTEGRITY');
  const refusedLines = (transactionId: string) => logs.lines.filter((line) => line.includes('queued callback refused') && line.includes(transactionId));
  const refusalAudits = async (transactionId: string) => (await bench.gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK' && r.errorCode === 'AUDIT_INTEGRITY');
  /** A dispatcher (as a process of its own) of the gateway's store on a clock of the test's from `start`: `runs` runs it `times`, 50 s apart. */
  function dispatcherFrom(start = Date.now()) {
    const clock = { now: start };
    const dispatcher = new CallbackDispatcher({ callbacks: bench.gw.store.callbacks, audit: bench.gw.store.audit, signer, clock: () => clock.now }, { intervalMs: 0, retryBaseMs: 30_000 });
    const runs = async (times: number) => {
      for (let step = 0; step < times; step += 1) {
        await dispatcher.runOnce();
        clock.now += 50_000;
      }
    };
    return { clock, runs };
  }
  /** Refused, not posted: audited NOT SENT (500 AUDIT_INTEGRITY) and logged at error level, each naming `problem`. */
  async function refusedNaming(transactionId: string, problem: string): Promise<void> {
    const [audited] = await refusalAudits(transactionId);
    expect(audited?.responseBody, 'its refusal audited').to.contain('NOT SENT').and.to.contain(problem);
    expect(audited.statusCode).to.equal(500);
    expect(refusedLines(transactionId).join('\n'), 'logged at error level').to.contain(problem);
  }
  /**
   * The delivery's row deleted in SQL and its attempt's CALLBACK record made to say 502 (in its
   * completion, a column its MAC covers), then the operator's requeue --send-again: its output and the row it queued.
   */
  async function requeuedOverAlteredRecord(transactionId: string, attempt: { id: number }): Promise<{ asked: CliResult; queuedAgain: Row }> {
    await db().execute('UPDATE audit_completions SET status_code = 502 WHERE exchange_id = ?', [attempt.id]);
    await db().execute('DELETE FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [bench.client.clientId, transactionId]);
    const asked = await requeue(transactionId, '--send-again');
    expect(asked.code, asked.stdout + asked.stderr).to.equal(0);
    return { asked, queuedAgain: await rowOf(transactionId) };
  }

  it('its attempt\'s change record cut from the middle of its chain, its row written back as queued, and its CALLBACK record altered in place: refused before it is sent; posted once', async () => {
    const { transactionId, pending, attempt } = paid[0];
    await attemptCutAndWrittenBack(db(), pending);
    // The attempt's record altered in place (its time, which its MAC covers): it no longer holds, and is not deleted.
    await db().execute('UPDATE audit_exchanges SET received_at = received_at + 1 WHERE id = ?', [attempt.id]);
    await dispatcherFrom(Date.now() + 120_000).runs(2);
    expect(noticesFor(transactionId), 'posted once').to.have.length(1);
    await refusedNaming(transactionId, `callback_deliveries id ${Number(pending.id)} (client ${bench.client.clientId}, transactionId ${transactionId}) cannot be told unsent: audit_exchanges id ${attempt.id} of its transaction does not hold`);
    expect((await rowOf(transactionId)).state, 'left as it is').to.equal('PENDING');
  });

  it('its row deleted and its CALLBACK record altered in place, then the operator\'s requeue --send-again: the requeue names the record as found, and the row it queued is posted once more, as asked', async function () {
    this.timeout(60_000);
    const { transactionId, attempt } = paid[1];
    const { asked, queuedAgain } = await requeuedOverAlteredRecord(transactionId, attempt);
    expect(asked.stdout).to.contain('A SECOND SEND');
    const [audited] = (await bench.gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK-REQUEUE');
    const answered = JSON.parse(audited.responseBody!) as { deliveryId: number; overrides: { id: number; asFound: string }[] };
    expect(answered.deliveryId, 'the row it queued').to.equal(Number(queuedAgain.id));
    expect(answered.overrides.map((o) => o.id), 'the record it sends over').to.deep.equal([attempt.id]);
    await dispatcherFrom(Date.now() + 1_000).runs(2);
    expect(noticesFor(transactionId), 'posted once more, as the operator asked').to.have.length(2);
    expect((await rowOf(transactionId)).state).to.equal('DELIVERED');
    expect(await refusalAudits(transactionId), 'not refused').to.deep.equal([]);
  });

  it('its CALLBACK record altered again after the requeue named it: the row queued is refused, not posted; put back as the requeue named it, posted once more', async function () {
    this.timeout(60_000);
    const { transactionId, attempt } = paid[2];
    const { queuedAgain } = await requeuedOverAlteredRecord(transactionId, attempt);
    await db().execute('UPDATE audit_completions SET status_code = 503 WHERE exchange_id = ?', [attempt.id]);
    const sending = dispatcherFrom(Date.now() + 1_000);
    await sending.runs(2);
    expect(noticesFor(transactionId), 'not posted again').to.have.length(1);
    await refusedNaming(transactionId, `callback_deliveries id ${Number(queuedAgain.id)} (client ${bench.client.clientId}, transactionId ${transactionId}) cannot be told unsent: audit_exchanges id ${attempt.id} of its transaction does not hold`);
    expect(refusedLines(transactionId).join('\n')).to.contain('altered again after the requeue that queued it named it');
    // As the operator saw it when they asked: sent over, once its refusal's lease ends.
    await db().execute('UPDATE audit_completions SET status_code = 502 WHERE exchange_id = ?', [attempt.id]);
    await dispatcherFrom(sending.clock.now + 120_000).runs(2);
    expect(noticesFor(transactionId), 'posted once more').to.have.length(2);
  });
});
