import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointer } from '../../src/audit/index.js';
import type { StatementReader } from '../../src/console/statement-reader.js';
import { createStore, type Db, type Store } from '../../src/store/index.js';
import { accountTag } from '../../src/store/repositories/payment-repository.js';
import { DAY_TOTALS_TAG } from '../../src/store/repositories/reconciliation-seals.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend, type BackendContext } from '../support/databases.js';
import { attackedStore, attackedSuite, attackerDb, laterEvents, wholePayment, type LaterEvents } from '../support/later-events.js';
import { copyRow, writeBack, type Row } from '../support/sql-rows.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) against the
 * day seals of the reconciliation and the overview's kept day totals (#16, H2): a day's payment
 * written back as it was before it was paid, its later events taken out with their chain links and
 * put back, over and over. A reading proves each row against its last event and then walks the
 * chains; read one by one, the rows could be proved while the events are out (row and last event
 * agree) and the chains walked while they are in (whole), and the day sealed (or its totals kept)
 * with the payment rolled back. Here the events come back on the attacker's own connection right
 * after the rows' last events and their links are read: the walk and the rows read again are in
 * one snapshot, so the rows no longer match what was proved (a later event), and nothing is sealed.
 */

/** The statement that reads the links of the payments' last events, the last of a row's proof against its history (lastTrustedEvents). */
const LAST_EVENT_LINKS = /kind = 'payment_event' AND record_id IN \(/;
/** The rows a seal is made of read again by id in the snapshot its chain guard walks in (rowsNotAsProved). */
const ROWS_AGAIN = /AS line FROM payments WHERE id IN \(/;
/** The sweep's read of a page of a day's payments to count (dayPages), before they are proved. */
const DAY_PAGE = /FROM payments WHERE id > \? AND id <= \? AND created_at >= \?/;

/** A reading's read of the account's rows from before the tags (readSpan), after its reads of the tags' rows and before its snapshot. */
const UNTAGGED_SPAN = /WHERE source_account_tag IS NULL AND source_account IS NOT NULL AND created_at >= \?/;

/** Days of 2024-03 long closed; the console's clock on 2024-03-20. */
const dayStart = (n: number) => Date.UTC(2024, 2, n) - 7 * HOUR_MS;
const label = (n: number) => `2024-03-${String(n).padStart(2, '0')}`;
const NOW = dayStart(20) + 10 * HOUR_MS;

/** A store whose reads let the attacker act right after the last events' links, or a day's page, are read. */
const watchedStore = (ctx: BackendContext) => attackedStore(ctx, [LAST_EVENT_LINKS, DAY_PAGE]);

/**
 * Payment of `account` made on day `n` and paid (reserved, then SUCCESS), then another payment
 * after it (its links in the middle of their chains); then, as the attacker: its row written back
 * as reserved (its old MAC holds) and its later events taken out with their links. Their rows to put back.
 */
async function rolledBack(store: Store, attacker: Db, account: string, n: number, tx: string): Promise<{ id: number; later: LaterEvents }> {
  const p = await store.payments.reserve({ clientId: 'seal-race', transactionId: tx, requestHash: 'a'.repeat(64), amount: '1001.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + HOUR_MS);
  const reserved = await copyRow(store.db, 'payments', 'id = ?', [p.id]);
  expect(await store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: `BT-${tx}` }, dayStart(n) + 2 * HOUR_MS)).to.equal(true);
  for (const after of ['A', 'B']) await store.payments.reserve({ clientId: 'seal-race', transactionId: `${tx}-${after}`, requestHash: 'b'.repeat(64), amount: '5.00', currency: 'IDR', sourceAccount: '0209999999' }, dayStart(n) + 3 * HOUR_MS);
  const later = await laterEvents(attacker, p.id);
  await later.takeOut();
  await writeBack(attacker, 'payments', reserved, 'id = ?', [p.id]);
  return { id: p.id, later };
}

/** The console's reads of a statement: none of the bank's lines. */
const statements: StatementReader = { read: async (account, from, to) => ({ accountNumber: account, currency: 'IDR', from, to, openingBalance: null, bank: 'bca', entries: [] }) };

/** A console over `store` of the database of `ctx` (its clock at NOW, no sweep), its chains checkpointed into `checkpoints`, and a viewer `username` signed in to it. */
async function consoleOver(ctx: BackendContext, store: Store, checkpoints: string, username: string): Promise<{ con: TestConsole; client: ConsoleClient }> {
  const con = await TestConsole.start(ctx.url(), { GERBANG_LOG_LEVEL: 'silent', GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints }, { store, clock: () => NOW, statements, sealSweep: false });
  const user = await con.createUser(username, 'viewer');
  const client = new ConsoleClient(con.origin);
  expect((await client.signIn(user.username, user.password)).status).to.equal(303);
  return { con, client };
}

/** The seal rows of `tag`'s day `n`. */
const sealsOf = (db: Db, tag: string, n: number) => db.query<Row>('SELECT * FROM reconciliation_seals WHERE account_tag = ? AND day = ?', [tag, Date.UTC(2024, 2, n) / DAY_MS]);

forEachBackend('A day\'s payment rolled back, its later events put back between its proof and the walk of the chains (#16, H2)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-seal-race-')), 'audit-checkpoints.jsonl');
  let attacker: Db;
  let watched: ReturnType<typeof watchedStore>;
  let con: TestConsole;
  let client: ConsoleClient;
  before(async () => {
    attacker = attackerDb(ctx);
    watched = watchedStore(ctx);
    ({ con, client } = await consoleOver(ctx, watched.store, checkpoints, 'seal-race'));
  });
  after(async () => {
    await con?.close();
    await watched?.store.close();
    await attacker?.close();
  });
  const store = () => watched.store;

  it('a reading (the console\'s page): the day is not sealed, and the page says it is not provable, naming the payment', async function () {
    this.timeout(60_000);
    const account = '0201888001';
    const n = 5;
    const { id, later } = await rolledBack(store(), attacker, account, n, 'RACE-READ');
    watched.arm([LAST_EVENT_LINKS, later.putBack]);
    await client.get('/console/lang?to=en');
    const read = await client.get(`/console/reconciliation?account=${account}&from=${label(n)}&to=${label(n)}`);
    expect(read.status, read.text).to.equal(200);
    expect(watched.fired(), 'the events were put back during the reading').to.equal(true);
    expect(await sealsOf(store().db, accountTag(TEST_AUDIT_KEYS, account), n), 'not sealed with the rolled-back payment').to.deep.equal([]);
    expect(read.text).to.contain(`data-unprovable-days="${label(n)}"`).and.to.contain(`payments id ${id} changed or gained a payment event after it was proved`);
  });

  it('an acceptance of a day whose sealed payment was deleted: not sealed anew over the rolled-back one, the day\'s seal left as it was', async function () {
    this.timeout(60_000);
    const account = '0201888002';
    const n = 7;
    const tag = accountTag(TEST_AUDIT_KEYS, account);
    const gone = await store().payments.reserve({ clientId: 'seal-race', transactionId: 'RACE-GONE', requestHash: 'a'.repeat(64), amount: '7.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + HOUR_MS / 2);
    const p = await store().payments.reserve({ clientId: 'seal-race', transactionId: 'RACE-ACCEPT', requestHash: 'a'.repeat(64), amount: '1001.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + HOUR_MS);
    const reserved = await copyRow(store().db, 'payments', 'id = ?', [p.id]);
    expect(await store().payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: 'BT-RACE-ACCEPT' }, dayStart(n) + 2 * HOUR_MS)).to.equal(true);
    for (const after of ['A', 'B']) await store().payments.reserve({ clientId: 'seal-race', transactionId: `RACE-ACCEPT-${after}`, requestHash: 'b'.repeat(64), amount: '5.00', currency: 'IDR', sourceAccount: '0209999999' }, dayStart(n) + 3 * HOUR_MS);
    // Sealed whole as the gateway left it; then a payment of it deleted in SQL, so the day is named and waits for an acceptance.
    await store().paymentSearch.fromAccount(account, dayStart(n), dayStart(n + 1));
    const [sealed] = await sealsOf(store().db, tag, n);
    expect(Number(sealed.row_count)).to.equal(2);
    await attacker.execute('DELETE FROM payments WHERE id = ?', [gone.id]);
    const later = await laterEvents(attacker, p.id);
    await later.takeOut();
    await writeBack(attacker, 'payments', reserved, 'id = ?', [p.id]);
    watched.arm([LAST_EVENT_LINKS, later.putBack]);
    let asked = false;
    const accepted = await store().paymentSearch.acceptDay(account, label(n), async () => (asked = true));
    expect(watched.fired(), 'the events were put back during the acceptance').to.equal(true);
    expect([accepted.sealed, asked], 'neither sealed nor asked').to.deep.equal([false, false]);
    expect(accepted.found.map((f) => f.deleted)).to.deep.equal([[gone.id]]);
    expect(accepted.unsealable).to.contain(`payments id ${p.id} changed or gained a payment event after it was proved`);
    expect((await sealsOf(store().db, tag, n)).map((s) => [Number(s.row_count), s.seal]), 'the seal as it was').to.deep.equal([[2, sealed.seal]]);
  });
});

forEachBackend('A day\'s payment rolled back, its later events put back between the sweep\'s count of the day and the walk of the chains (#16, H2)', (ctx) => {
  const suite = attackedSuite(ctx, [LAST_EVENT_LINKS, DAY_PAGE]);

  it('the overview\'s totals of the day are not kept: counted from the payments instead', async function () {
    this.timeout(60_000);
    const n = 9;
    const watched = suite.watched();
    const store = watched.store;
    // The events in while the sweep walks the chains for the days before (none has a payment),
    // out from the read of the day's payments to their proof, then in again.
    const { later } = await rolledBack(store, suite.attacker(), '0201888003', n, 'RACE-TOTALS');
    await later.putBack();
    watched.arm([DAY_PAGE, later.takeOut], [LAST_EVENT_LINKS, later.putBack]);
    await store.paymentSearch.sealClosedDays(NOW);
    expect(watched.fired(), 'the events were put back during the count').to.equal(true);
    expect(await sealsOf(store.db, DAY_TOTALS_TAG, n), 'no totals kept with the rolled-back payment').to.deep.equal([]);
  });
});

forEachBackend('Another writer\'s links committed and checkpointed while a reading reads its rows again in its snapshot (#16)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-seal-vouched-')), 'audit-checkpoints.jsonl');
  let watched: ReturnType<typeof attackedStore>;
  let gateway: Store;
  let con: TestConsole;
  let client: ConsoleClient;
  before(async () => {
    watched = attackedStore(ctx, [ROWS_AGAIN]);
    // The gateway: its own connection and chain, its heads checkpointed (into the console's file) once committed.
    gateway = createStore(attackerDb(ctx), { auditKeys: TEST_AUDIT_KEYS });
    ({ con, client } = await consoleOver(ctx, watched.store, checkpoints, 'seal-vouched'));
  });
  after(async () => {
    await con?.close();
    await watched?.store.close();
    await gateway?.close();
  });
  const store = () => watched.store;

  it('a reading seals the day: the checkpoints read before its snapshot began vouch for nothing the snapshot lacks, and the gateway\'s payment made meanwhile is not taken for the chains cut back', async function () {
    this.timeout(60_000);
    const account = '0201888005';
    const n = 11;
    const checkpoint = checkpointer(checkpoints, TEST_AUDIT_KEYS, 'gateway (test)');
    const paid = async (db: Store, tx: string, account: string) => {
      const p = await db.payments.reserve({ clientId: 'seal-vouched', transactionId: tx, requestHash: 'a'.repeat(64), amount: '1001.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + HOUR_MS);
      expect(await db.payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: `BT-${tx}` }, dayStart(n) + 2 * HOUR_MS)).to.equal(true);
      expect(checkpoint(con.store.db.description, gateway.audit.ownHeads()), 'checkpointed').to.equal(true);
    };
    await paid(gateway, 'VOUCHED-1', account);
    // Committed by the gateway and checkpointed after the reading's snapshot began, before its guard walks the chains.
    watched.arm([ROWS_AGAIN, () => paid(gateway, 'VOUCHED-2', '0209999999')]);
    await client.get('/console/lang?to=en');
    const period = `/console/reconciliation?account=${account}&from=${label(n)}&to=${label(n)}`;
    const read = await client.get(period);
    expect(read.status, read.text).to.equal(200);
    expect(watched.fired(), 'the gateway paid during the reading').to.equal(true);
    expect(read.text).not.to.contain('recon-unprovable').and.not.to.contain('recon-left-to-sweep');
    expect((await sealsOf(store().db, accountTag(TEST_AUDIT_KEYS, account), n)).map((s) => Number(s.row_count)), 'sealed').to.deep.equal([1]);
    // Read again, the day is held to its seal.
    expect((await client.get(period)).text).not.to.contain('data-unchecked-days').and.not.to.contain('recon-unprovable');
  });
});

forEachBackend('A day\'s payment deleted whole while a reading reads the day, put back before its snapshot (#16, H2)', (ctx) => {
  const suite = attackedSuite(ctx, [UNTAGGED_SPAN]);

  it('the day is not sealed without it, the reading names it, and the next reading seals the day with it', async function () {
    this.timeout(60_000);
    const account = '0201888006';
    const n = 13;
    const watched = suite.watched();
    const store = watched.store;
    const tag = accountTag(TEST_AUDIT_KEYS, account);
    await store.payments.reserve({ clientId: 'seal-whole', transactionId: 'WHOLE-KEPT', requestHash: 'a'.repeat(64), amount: '7.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + HOUR_MS);
    const gone = await store.payments.reserve({ clientId: 'seal-whole', transactionId: 'WHOLE-GONE', requestHash: 'a'.repeat(64), amount: '1001.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + 2 * HOUR_MS);
    expect(await store.payments.update(gone.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: 'BT-WHOLE-GONE' }, dayStart(n) + 3 * HOUR_MS)).to.equal(true);
    await store.payments.reserve({ clientId: 'seal-whole', transactionId: 'WHOLE-AFTER', requestHash: 'b'.repeat(64), amount: '5.00', currency: 'IDR', sourceAccount: '0209999999' }, dayStart(n) + 4 * HOUR_MS);
    // Out before the day's rows are read, back (row, events, links) once they are, before the snapshot the chains are walked in.
    const whole = await wholePayment(suite.attacker(), gone.id);
    await whole.takeOut();
    watched.arm([UNTAGGED_SPAN, whole.putBack]);
    const read = await store.paymentSearch.fromAccount(account, dayStart(n), dayStart(n + 1));
    expect(watched.fired(), 'the payment was put back during the reading').to.equal(true);
    expect(await sealsOf(store.db, tag, n), 'not sealed without the payment put back').to.deep.equal([]);
    expect(read.unprovable?.days).to.deep.equal([label(n)]);
    expect(read.unprovable?.problem).to.contain(`payments id ${gone.id} of the day was not among its rows proved`);
    const again = await store.paymentSearch.fromAccount(account, dayStart(n), dayStart(n + 1));
    expect(again.unprovable).to.equal(undefined);
    expect(again.rows.map((p) => p.id)).to.include(gone.id);
    expect((await sealsOf(store.db, tag, n)).map((s) => Number(s.row_count)), 'sealed with it').to.deep.equal([2]);
  });
});
