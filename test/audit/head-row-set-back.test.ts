import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openStore, type Db, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { createMariaDbDatabase, forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { bankTransfers, leaveBehind } from '../support/left-behind.js';
import { copyRow, insertRow, type Row } from '../support/sql-rows.js';

const ZERO_HASH = '0'.repeat(64);

/**
 * A paid transfer whose row an attacker wrote back as its reservation, its newer events deleted
 * with their links from the middle of a chain (a later link of it kept), so that the ERP's resend
 * would take the reservation over and pay it again: the chain guard the takeover asks must find
 * the gap whatever the chain's head row says. Returns what the attacker needs to move the head row:
 * the chain, its real head, and a real older head (the link before the gap).
 */
async function paidThenRolledBack(gw: TestGateway, mover: Store, attacker: Db): Promise<{ body: Record<string, unknown>; auth: { authorization: string }; bankBefore: number; writer: string; head: { seq: number; hash: string }; older: { seq: number; hash: string } }> {
  const client = await gw.createClient();
  const auth = { authorization: `Bearer ${await gw.token(client)}` };
  const body = sampleTransfer();
  const transactionId = body.transactionId as string;
  const reservation = await copyRow(gw.store.db, 'payments', 'id = ?', [(await leaveBehind(gw, client.clientId, body)).id]);
  const id = Number(reservation.id);
  // The mover's chain: a link before the payment's own (an older head for the attacker), and one after (the gap stays in the middle).
  await mover.payments.reserve({ clientId: client.clientId, transactionId: `${transactionId}-before`, requestHash: 'a'.repeat(64), amount: '1.00', currency: 'IDR', sourceAccount: '0201245680' }, Date.now());
  const day = new Date().toISOString().slice(0, 10);
  expect(await mover.payments.update(id, { state: 'SENDING', bank: 'bca', operation: 'transfer', bankTransactionId: '00000042', bankTransactionDate: day }, Date.now())).to.equal(true);
  const result = JSON.stringify({ transactionId, status: 'SUCCESS', bankReference: 'REF-42' });
  expect(await mover.payments.storeSendOutcome(id, { state: 'SUCCESS', bankReference: 'REF-42', resultJson: result, httpStatus: 201 }, Date.now(), (await mover.payments.findById(id))!)).to.equal(true);
  await mover.payments.reserve({ clientId: client.clientId, transactionId: `${transactionId}-after`, requestHash: 'a'.repeat(64), amount: '1.00', currency: 'IDR', sourceAccount: '0201245680' }, Date.now());
  const bankBefore = await bankTransfers(gw, transactionId);

  const events = await attacker.query<Row>('SELECT * FROM payment_events WHERE payment_id = ? AND seq > 1 ORDER BY seq', [id]);
  const links: Row[] = [];
  for (const e of events) links.push(...(await attacker.query<Row>("SELECT * FROM audit_chain WHERE kind = 'payment_event' AND record_id = ?", [e.id])));
  expect(links).to.have.length(events.length);
  const writer = String(links[0].writer_id);
  expect(links.every((l) => String(l.writer_id) === writer)).to.equal(true);
  for (const l of links) await attacker.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [l.writer_id, l.seq]);
  for (const e of events) await attacker.execute('DELETE FROM payment_events WHERE id = ?', [e.id]);
  await attacker.execute('DELETE FROM payments WHERE id = ?', [id]);
  await insertRow(attacker, 'payments', reservation);
  const [head] = await attacker.query<Row>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writer]);
  const firstGone = Math.min(...links.map((l) => Number(l.seq)));
  expect(Number(head.last_seq)).to.be.greaterThan(Math.max(...links.map((l) => Number(l.seq))));
  const [olderLink] = await attacker.query<Row>('SELECT seq, hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writer, firstGone - 1]);
  return { body, auth, bankBefore, writer, head: { seq: Number(head.last_seq), hash: String(head.last_hash) }, older: { seq: Number(olderLink.seq), hash: String(olderLink.hash) } };
}

const setHead = (attacker: Db, writer: string, head: { seq: number; hash: string }) => attacker.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [head.seq, head.hash, writer]);

forEachBackend('a chain\'s head row set back behind the links it holds, over a gap in its middle', (ctx) => {
  let gw: TestGateway;
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-head-back-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  before(async () => {
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  });
  after(() => gw?.close());

  for (const to of ['an older link of the chain', 'link 0 with the all-zero hash'] as const) {
    it(`set back to ${to}: the ERP's resend of the paid transfer rolled back to its reservation is not paid, and audit verify names the chain`, async function () {
      this.timeout(60_000);
      const attacker = ctx.store().db;
      const rolled = await paidThenRolledBack(gw, ctx.store(), attacker);
      await setHead(attacker, rolled.writer, to === 'an older link of the chain' ? rolled.older : { seq: 0, hash: ZERO_HASH });
      const again = await gw.request('/v1/transfers', { json: rolled.body, headers: rolled.auth });
      expect(again.status, JSON.stringify(again.body)).to.not.equal(201);
      expect(await bankTransfers(gw, rolled.body.transactionId as string)).to.equal(rolled.bankBefore);
      const verified = await runCli(['audit', 'verify'], env());
      expect(verified.code, verified.stdout).to.not.equal(0);
      expect(verified.stdout + verified.stderr).to.contain(rolled.writer);
      // The head row put back: the gap in the middle is still named.
      await setHead(attacker, rolled.writer, rolled.head);
      const put = await gw.request('/v1/transfers', { json: rolled.body, headers: rolled.auth });
      expect(put.status, JSON.stringify(put.body)).to.not.equal(201);
      expect(await bankTransfers(gw, rolled.body.transactionId as string)).to.equal(rolled.bankBefore);
    });
  }
});

/**
 * The head row switched back and forth in SQL between its real head and an older link of the
 * chain, or link 0 with the all-zero hash (GENESIS), while the ERP resends: the chain guard's
 * statements read different heads, and must never take one set back for the chain's. A race that
 * only MariaDB's concurrent connections show (SQLite serialises the attacker's writes with the reads).
 */
describe('a chain\'s head row switched back and forth while the ERP resends a paid transfer rolled back to its reservation [mariadb]', () => {
  let url = '';
  let drop: () => Promise<void> = async () => undefined;
  let store: Store | undefined;
  let gw: TestGateway | undefined;
  before(async function () {
    const database = await createMariaDbDatabase(this);
    url = database.url;
    drop = database.drop;
    store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
    await migrate(store.db);
    gw = await TestGateway.start(url);
  });
  after(async () => {
    await gw?.close();
    await store?.close();
    await drop();
  });

  it('not paid in 300 resends, the head row set back to an older link or to link 0 a moment at a time', async function () {
    this.timeout(240_000);
    const attacker = store!.db;
    const rolled = await paidThenRolledBack(gw!, store!, attacker);
    let stop = false;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const toggler = (async () => {
      for (let k = 0; !stop; k += 1) {
        await setHead(attacker, rolled.writer, k % 2 === 0 ? rolled.older : { seq: 0, hash: ZERO_HASH });
        await sleep(Math.random() * 2);
        await setHead(attacker, rolled.writer, rolled.head);
        await sleep(Math.random() * 8);
      }
    })();
    const answers = new Map<number, number>();
    try {
      for (let tries = 0; tries < 300 && !answers.has(201); tries += 1) {
        const again = await gw!.request('/v1/transfers', { json: rolled.body, headers: rolled.auth });
        answers.set(again.status, (answers.get(again.status) ?? 0) + 1);
      }
    } finally {
      stop = true;
      await toggler;
    }
    expect(answers.has(201), JSON.stringify([...answers])).to.equal(false);
    expect(await bankTransfers(gw!, rolled.body.transactionId as string)).to.equal(rolled.bankBefore);
  });
});
