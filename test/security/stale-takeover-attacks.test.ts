import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db, Store } from '../../src/store/index.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { bankTransfers, leaveBehind, resendLogged } from '../support/left-behind.js';
import { copyRow, insertRow, type Row } from '../support/sql-rows.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) against the
 * takeover of a reservation its process left behind (#14): a transfer whose process stopped before
 * routing it is taken over by the ERP's resend and paid; the attacker then deletes, in SQL, what
 * happened to it after its reservation (the old row's release event, the new row with its events),
 * each with its chain link from the middle of a chain (later records stay linked after them, so
 * no chain head moves and the checkpoints see nothing), and writes the old row back as it stood:
 * RECEIVED, untouched for a minute. Its row and its last event agree; only the chains show the
 * hole. The ERP's next resend must not pay it again.
 *
 * The reservations left behind are made through the store, as a gateway process that stopped right
 * after reserving would have left them; the attack is SQL only, and the bank is counted over HTTP
 * at the simulator.
 */
/** A gateway on a database of its own, where a reservation is left behind, paid, attacked. */
interface Takeover {
  gw: TestGateway;
  /** The suite's own store: another process, with chains of its own. */
  other: Store;
  client: TestClient;
  auth: Record<string, string>;
  db: Db;
  /** Transfers of `transactionId` the bank received, as its own admin endpoint lists them. */
  bankTransfers(transactionId: string): Promise<number>;
  /** A reservation of `body` left RECEIVED a minute ago by a process that stopped before routing it; its row as then. */
  leftBehind(body: Record<string, unknown>): Promise<Row>;
  /** Deletes payment events `records` with their chain links, each checked to have later links on its chain after it (the middle of the chain). */
  eraseEvents(records: number[]): Promise<void>;
}

/**
 * `tests` on each backend, on a database of their own: an attack leaves its chains broken, and a
 * later takeover within seconds of the break is refused for it too.
 */
function onItsOwnDatabase(title: string, tests: (t: () => Takeover) => void): void {
  forEachBackend(title, (ctx) => {
    const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-takeover-')), 'audit-checkpoints.jsonl');
    let takeover: Takeover;

    before(async () => {
      const gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
      const client = await gw.createClient();
      const db = gw.store.db;
      takeover = {
        gw,
        other: ctx.store(),
        client,
        db,
        auth: { authorization: `Bearer ${await gw.token(client)}` },
        bankTransfers: (transactionId) => bankTransfers(gw, transactionId),
        leftBehind: async (body) => copyRow(db, 'payments', 'id = ?', [(await leaveBehind(gw, client.clientId, body)).id]),
        eraseEvents: async (records) => {
          const links = await db.query<{ writer_id: string; seq: number | string }>(
            `SELECT writer_id, seq FROM audit_chain WHERE kind = 'payment_event' AND record_id IN (${records.map(() => '?').join(', ')})`,
            records,
          );
          expect(links).to.have.length(records.length);
          for (const link of links) {
            const [{ n }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain WHERE writer_id = ? AND seq > ?', [link.writer_id, link.seq]);
            expect(Number(n), `chain ${link.writer_id} goes on after link ${link.seq}`).to.be.greaterThan(0);
            await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, link.seq]);
          }
          for (const record of records) await db.execute('DELETE FROM payment_events WHERE id = ?', [record]);
        },
      };
    });
    after(() => takeover?.gw.close());

    tests(() => takeover);
  });
}

onItsOwnDatabase('A reservation left behind (#14)', (t) => {
  it('takes over an honest reservation left behind and pays it once', async () => {
    const { gw, auth, bankTransfers, leftBehind } = t();
    const body = sampleTransfer();
    await leftBehind(body);
    // Its status read proves it left behind too, and reports it as it stands.
    const status = await gw.request(`/v1/transfers/${body.transactionId as string}`, { headers: auth });
    expect([status.status, status.body.status], status.text).to.deep.equal([200, 'PENDING']);
    const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(paid.status, paid.text).to.equal(201);
    expect(paid.body.status).to.equal('SUCCESS');
    expect(await bankTransfers(body.transactionId as string)).to.equal(1);
    const again = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect([again.status, again.body.status]).to.deep.equal([201, 'SUCCESS']);
    expect(await bankTransfers(body.transactionId as string)).to.equal(1);
  });
});

onItsOwnDatabase('A paid transfer rolled back in SQL to the reservation left behind before it (#14)', (t) => {
  it('refuses the resend of a paid transfer rolled back to its reservation left behind: 500 AUDIT_INTEGRITY, logged, the bank called once in all', async () => {
    const { gw, client, auth, db, bankTransfers, leftBehind, eraseEvents } = t();
    const body = sampleTransfer();
    const transactionId = body.transactionId as string;
    const reservation = await leftBehind(body);
    const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect([paid.status, paid.body.status], paid.text).to.deep.equal([201, 'SUCCESS']);
    expect(await bankTransfers(transactionId)).to.equal(1);
    // Later records on the same chains.
    for (let i = 0; i < 3; i += 1) expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);

    // The attack, in SQL: the old row's release and the new row, each event with its link, then the old row back.
    const old = Number(reservation.id);
    const [taken] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
    const events = await db.query<{ id: number | string }>('SELECT id FROM payment_events WHERE (payment_id = ? AND seq > 1) OR payment_id = ?', [old, Number(taken.id)]);
    await eraseEvents(events.map((e) => Number(e.id)));
    await db.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [Number(taken.id)]);
    await db.execute('DELETE FROM payments WHERE id = ?', [Number(taken.id)]);
    await insertRow(db, 'payments', reservation);
    // No chain head moved: the rollback watch holds nothing.
    expect(await gw.gateway.checkCheckpoints()).to.equal(null);

    const { answer: again, refusal } = await resendLogged(gw, body, auth);
    expect(again.status, again.text).to.equal(500);
    expect(again.body.code).to.equal('AUDIT_INTEGRITY');
    expect(await bankTransfers(transactionId)).to.equal(1);
    expect(refusal?.msg).to.equal('a reservation left behind was not taken over: its history does not hold');
    expect(refusal?.where).to.match(new RegExp(`^the history of payments id ${old} after its last event cannot be proved whole: .*link \\d+ of chain \\S+ is missing`));
    // Nothing was taken over: the row is still the one written back, and the refusal is in the audit.
    const [row] = await db.query<{ id: number | string; state: string }>('SELECT id, state FROM payments WHERE client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
    expect([Number(row.id), row.state]).to.deep.equal([old, 'RECEIVED']);
    const recorded = await eventually(async () => {
      const [exchange] = await db.query<{ status_code: number | string; error_code: string }>(
        'SELECT c.status_code, c.error_code FROM audit_exchanges e JOIN audit_completions c ON c.exchange_id = e.id WHERE e.request_id = ?',
        [again.headers['x-request-id']],
      );
      return exchange;
    });
    expect([Number(recorded.status_code), recorded.error_code]).to.deep.equal([500, 'AUDIT_INTEGRITY']);
    // Nor is the older state reported as current (before: 200, PENDING).
    const status = await gw.request(`/v1/transfers/${transactionId}`, { headers: auth });
    expect([status.status, status.body.code], status.text).to.deep.equal([500, 'AUDIT_INTEGRITY']);
  });
});

/**
 * A transfer moved on from RECEIVED to SENDING and SUCCESS by `mover` (the gateway, or another
 * process whose chain then falls idle), other records linked after on the same chain; then its two
 * newer events deleted with their links and its row written back as it stood; `backdate`: the
 * idle chain's head link's time moved back too, so the chain looks idle since before the payment.
 */
async function rolledBackInItsRow(takeover: Takeover, mover: Store, backdate: boolean): Promise<void> {
  const { gw, client, auth, db, bankTransfers, leftBehind, eraseEvents } = takeover;
  const body = sampleTransfer();
  const transactionId = body.transactionId as string;
  const reservation = await leftBehind(body);
  const id = Number(reservation.id);
  const day = new Date().toISOString().slice(0, 10);
  expect(await mover.payments.update(id, { state: 'SENDING', bank: 'bca', operation: 'transfer', bankTransactionId: '00000042', bankTransactionDate: day }, Date.now())).to.equal(true);
  const result = JSON.stringify({ transactionId, status: 'SUCCESS', bankReference: 'REF-42' });
  expect(await mover.payments.storeSendOutcome(id, { state: 'SUCCESS', bankReference: 'REF-42', resultJson: result, httpStatus: 201 }, Date.now(), (await mover.payments.findById(id))!)).to.equal(true);
  await mover.payments.reserve({ clientId: client.clientId, transactionId: `${transactionId}-after`, requestHash: 'a'.repeat(64), amount: '1.00', currency: 'IDR', sourceAccount: '0201245680' }, Date.now());
  for (let i = 0; i < 2; i += 1) expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);

  // The attack: its two newer events with their links, and its row as it stood.
  const events = await db.query<{ id: number | string }>('SELECT id FROM payment_events WHERE payment_id = ? AND seq > 1', [id]);
  const [{ writer_id: chain }] = await db.query<{ writer_id: string }>("SELECT writer_id FROM audit_chain WHERE kind = 'payment_event' AND record_id = ?", [Number(events[0].id)]);
  await eraseEvents(events.map((e) => Number(e.id)));
  await db.execute('DELETE FROM payments WHERE id = ?', [id]);
  await insertRow(db, 'payments', reservation);
  if (backdate) await db.execute('UPDATE audit_chain SET recorded_at = ? WHERE writer_id = ? AND seq = (SELECT last_seq FROM audit_writers WHERE writer_id = ?)', [Date.now() - 3_600_000, chain, chain]);
  expect(await gw.gateway.checkCheckpoints()).to.equal(null);

  const again = await gw.request('/v1/transfers', { json: body, headers: auth });
  expect([again.status, again.body.code], again.text).to.deep.equal([500, 'AUDIT_INTEGRITY']);
  expect(await bankTransfers(transactionId)).to.equal(0);
  const [row] = await db.query<{ id: number | string; state: string }>('SELECT id, state FROM payments WHERE client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
  expect([Number(row.id), row.state]).to.deep.equal([id, 'RECEIVED']);
}

onItsOwnDatabase('A transfer rolled back in SQL in its own row to its reservation left behind (#14)', (t) => {
  it('refuses the resend of a transfer its process moved on from RECEIVED, rolled back to it in its own row: 500 AUDIT_INTEGRITY, nothing sent', async () => {
    await rolledBackInItsRow(t(), t().gw.store, false);
  });
});

onItsOwnDatabase('A transfer rolled back in SQL in its own row, its events on a chain since idle whose head was backdated (#14)', (t) => {
  it('refuses the resend: the idle chain\'s head link no longer holds, 500 AUDIT_INTEGRITY, nothing sent', async () => {
    await rolledBackInItsRow(t(), t().other, true);
  });
});
