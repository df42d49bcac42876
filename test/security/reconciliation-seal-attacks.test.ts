import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { SqlPaymentSearchRepository } from '../../src/store/repositories/index.js';
import { accountTag, paymentMac } from '../../src/store/repositories/payment-repository.js';
import { LINES_PER_PIECE, RECONCILIATION_SEALS, RESERVES_HELD_MS, writeSeals } from '../../src/store/repositories/reconciliation-seals.js';
import { changeRows } from '../../src/store/repositories/record-changes.js';
import type { MacedRow } from '../../src/store/repositories/record-macs.js';
import { ChainLanes } from '../../src/store/repositories/audit-chain.js';
import { ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { IntegrityError } from '../../src/errors/index.js';
import { migrate, openDb, openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { ringOf, TEST_AUDIT_KEY, TEST_AUDIT_KEYS, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase, forEachBackend, migrateBelow } from '../support/databases.js';
import { copyRow, insertRow, writeBack, type Row } from '../support/sql-rows.js';
import { TestConsole } from '../support/console-harness.js';
import { eventually } from '../support/gateway-harness.js';
import { captureLogs } from '../support/log-capture.js';
import { recordingStatements } from '../support/counting-db.js';

/**
 * The attacker of docs/security/threat-model.md against the reconciliation's day seals (#16,
 * migration 031): a database writer without keys who changes a sealed day's payments, rolls a
 * payment back to an earlier genuine state, forges or copies a seal row, or restores an older
 * seal with the rows it was made over. The payments and seals are written through the store (as
 * the gateway and the console write them); the attacks in SQL only.
 */

const DAY = 86_400_000;
/**
 * The newer key of a ring after `keys rotate`: one for the whole file, as one installation has one
 * key under an id (its chains hold links made under it by every process given it).
 */
const NEWER_KEY = testKeySpec('newer');
const HOUR = 3_600_000;

/** A company account of this test alone (its seals are its own). */
function newAccount(): string {
  return `02${parseInt(randomBytes(4).toString('hex'), 16).toString().padStart(10, '0').slice(0, 10)}`;
}

/** A reconciliation as a console process that has never proved these rows reads it: no kept proofs, writes no seal. */
async function freshRead(store: Store, account: string, from: number, to: number) {
  const search = new SqlPaymentSearchRepository(store.db, TEST_AUDIT_KEYS);
  const found = await search.fromAccount(account, from, to);
  await search.close();
  return { rows: found.rows, missing: found.missing, opened: search.rowsProvedOneByOne };
}

/**
 * `opened`, its seals' chain guard asking nothing: the seals' own checks, each as if the attacker
 * had made the chains whole again. These attacks delete payments, events and seals without their
 * links, which the chain guard (proving every link since a day began, with its record) names on
 * its own before any seal (reconciliation-chain-gap-attacks); the database is the whole block's,
 * so one such deletion would keep every later test's day from being sealed at all.
 */
function chainsWhole<T extends Store | SqlPaymentSearchRepository>(opened: T): T {
  const either: Store | SqlPaymentSearchRepository = opened;
  ('paymentSearch' in either ? either.paymentSearch : either).guardSeals(() => async () => null);
  return opened;
}

forEachBackend('An attacker without keys against the reconciliation day seals (#16)', (ctx) => {
  const db = () => ctx.store().db;
  // The seals' own checks, each as if the attacker had made the chains whole again (chainsWhole).
  before(() => chainsWhole(ctx.store()));
  /** Jakarta midnight starting a day of 2026-11 long over (the seal margin is an hour). */
  const dayAt = (n: number) => Date.UTC(2026, 10, n, 0, 0, 0) - 7 * HOUR;

  /** A migrated database of this backend for one test alone (dropped by `drop`), and a store over it. */
  async function ownDatabase(): Promise<{ url: string; store: Store; drop: () => Promise<void> }> {
    const database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
    const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
    await migrate(store.db);
    return { url: database.url, store, drop: database.drop };
  }

  /** Payments of `account` reserved on the day starting at `start`, as the gateway writes them (each with its reserve event). */
  async function paid(account: string, who: string, start: number, txs: string[], store = ctx.store()): Promise<number[]> {
    const ids: number[] = [];
    for (const [i, tx] of txs.entries()) {
      const p = await store.payments.reserve({ clientId: who, transactionId: tx, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: account }, start + (i + 1) * HOUR);
      ids.push(p.id);
    }
    return ids;
  }

  /** The console's read: proves the day and seals it (the store's audit chain writes the seal). */
  async function sealed(account: string, start: number, days = 1): Promise<void> {
    await ctx.store().paymentSearch.fromAccount(account, start, start + days * DAY);
  }

  async function sealsOf(account: string, on = db()): Promise<Row[]> {
    return on.query<Row>('SELECT * FROM reconciliation_seals WHERE account_tag = ? ORDER BY day', [accountTag(TEST_AUDIT_KEYS, account)]);
  }

  it('seals a day once every row was proved, and a later reading of the sealed day opens no account', async () => {
    const [account, who, start] = [newAccount(), `seal-${randomBytes(3).toString('hex')}`, dayAt(3)];
    await paid(account, who, start, ['SEAL-1', 'SEAL-2', 'SEAL-3']);
    expect(await freshRead(ctx.store(), account, start, start + DAY)).to.deep.include({ opened: 3 });
    await sealed(account, start);
    const seals = await sealsOf(account);
    expect(seals.map((s) => Number(s.row_count))).to.deep.equal([3]);
    const read = await freshRead(ctx.store(), account, start, start + DAY);
    expect(read.opened).to.equal(0);
    expect(read.rows.map((p) => [p.transactionId, p.sourceAccount, p.integrityProblem])).to.deep.equal([
      ['SEAL-1', account, undefined],
      ['SEAL-2', account, undefined],
      ['SEAL-3', account, undefined],
    ]);
    // Another account's reading of the same tag's day is not given these rows by the seal.
    expect((await freshRead(ctx.store(), newAccount(), start, start + DAY)).rows).to.deep.equal([]);
  });

  it('(a) marks a sealed day\'s payment whose amount was changed in SQL as changed outside Gerbang', async () => {
    const [account, who, start] = [newAccount(), `amt-${randomBytes(3).toString('hex')}`, dayAt(4)];
    const [, changed] = await paid(account, who, start, ['AMT-1', 'AMT-2']);
    await sealed(account, start);
    expect(await sealsOf(account)).to.have.length(1);
    await db().execute("UPDATE payments SET amount = '9000000.00', amount_minor = 900000000 WHERE id = ?", [changed]);
    const read = await freshRead(ctx.store(), account, start, start + DAY);
    expect(read.opened).to.equal(2);
    expect(read.rows.map((p) => [p.transactionId, p.amount, p.integrityProblem])).to.deep.equal([
      ['AMT-1', '1000.00', undefined],
      ['AMT-2', '9000000.00', `payments id ${changed} (${who} / AMT-2) was altered: its client, transaction id, request hash, amount, currency or creation time no longer match its MAC`],
    ]);
    // The very console process that proved and sealed the day (and keeps it as proved) marks it
    // too, proving again that payment alone: the other is still as the day was kept.
    const opened = ctx.store().paymentSearch.rowsProvedOneByOne;
    const page = await ctx.store().paymentSearch.fromAccount(account, start, start + DAY);
    expect(page.rows.map((p) => [p.amount, p.integrityProblem === undefined])).to.deep.equal([
      ['1000.00', true],
      ['9000000.00', false],
    ]);
    expect(ctx.store().paymentSearch.rowsProvedOneByOne - opened).to.equal(1);
  });

  it('(a) on a day whose sealed text is held in several pieces, marks the payment changed in a later piece, and proves the others by the seal or as kept', async () => {
    const [account, who, start] = [newAccount(), `pcs-${randomBytes(3).toString('hex')}`, dayAt(5)];
    const rows = LINES_PER_PIECE + 6;
    const ids: number[] = [];
    for (let i = 0; i < rows; i += 1) {
      const tx = i % 2 === 0 ? `PCS-${i}` : `PCS-ÄÖ-日本-${i}`;
      ids.push((await ctx.store().payments.reserve({ clientId: who, transactionId: tx, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: account }, start + (i + 1) * 60_000)).id);
    }
    await sealed(account, start);
    expect((await sealsOf(account)).map((s) => Number(s.row_count))).to.deep.equal([rows]);
    expect(await freshRead(ctx.store(), account, start, start + DAY)).to.deep.include({ opened: 0 });
    const changed = ids[LINES_PER_PIECE + 2];
    await db().execute("UPDATE payments SET amount = '9000000.00', amount_minor = 900000000 WHERE id = ?", [changed]);
    const marked = (found: { rows: { id: number; integrityProblem?: string }[] }) => found.rows.filter((p) => p.integrityProblem !== undefined).map((p) => p.id);
    const read = await freshRead(ctx.store(), account, start, start + DAY);
    expect([read.opened, marked(read)]).to.deep.equal([rows, [changed]]);
    // The process that kept the day proves that payment alone again: every other line is as kept at its place.
    const opened = ctx.store().paymentSearch.rowsProvedOneByOne;
    expect(marked(await ctx.store().paymentSearch.fromAccount(account, start, start + DAY))).to.deep.equal([changed]);
    expect(ctx.store().paymentSearch.rowsProvedOneByOne - opened).to.equal(1);
  });

  it('(b) marks a payment of a sealed day rolled back in SQL to its row before its last event', async () => {
    const [account, who, start] = [newAccount(), `back-${randomBytes(3).toString('hex')}`, dayAt(5)];
    const [, moved] = await paid(account, who, start, ['BACK-1', 'BACK-2']);
    const before = await copyRow(db(), 'payments', 'id = ?', [moved]);
    await ctx.store().payments.update(moved, { state: 'SENDING', bank: 'bca', bankTransactionId: 'BT-BACK-2', bankTransactionDate: '2026-11-05' }, start + 5 * HOUR);
    await sealed(account, start);
    expect(await sealsOf(account)).to.have.length(1);
    // Its old row, whose MAC still holds (the MAC covers what never changes), written back.
    await writeBack(db(), 'payments', before, 'id = ?', [moved]);
    const read = await freshRead(ctx.store(), account, start, start + DAY);
    expect(read.opened).to.equal(2);
    expect(read.rows.map((p) => [p.transactionId, p.state, p.integrityProblem])).to.deep.equal([
      ['BACK-1', 'RECEIVED', undefined],
      [
        'BACK-2',
        'RECEIVED',
        `payments id ${moved} (${who} / BACK-2) was changed without an event in its history: state "RECEIVED" where its last event (seq 2) says "SENDING", ` +
          'bank transaction id null where its last event (seq 2) says "BT-BACK-2", bank transaction date null where its last event (seq 2) says "2026-11-05"',
      ],
    ]);
    // The page itself marks it too, proving it again.
    const page = await ctx.store().paymentSearch.fromAccount(account, start, start + DAY);
    expect(page.rows[1].integrityProblem).to.contain('was changed without an event in its history');
  });

  it('(b) marks it in the very console process that proved and sealed the payment before it moved on', async () => {
    const [account, who, start] = [newAccount(), `same-${randomBytes(3).toString('hex')}`, dayAt(10)];
    const [moved] = await paid(account, who, start, ['SAME-1']);
    // Proved, kept (ProvedRows) and sealed while RECEIVED; then it moves on, and its RECEIVED row is written back.
    await sealed(account, start);
    const before = await copyRow(db(), 'payments', 'id = ?', [moved]);
    await ctx.store().payments.update(moved, { state: 'FAILED', bank: 'bca' }, start + DAY);
    await writeBack(db(), 'payments', before, 'id = ?', [moved]);
    const page = await ctx.store().paymentSearch.fromAccount(account, start, start + DAY);
    expect(page.rows.map((p) => [p.state, p.integrityProblem])).to.deep.equal([
      ['RECEIVED', `payments id ${moved} (${who} / SAME-1) was changed without an event in its history: state "RECEIVED" where its last event (seq 2) says "FAILED"`],
    ]);
  });

  it('a page opened again reads its kept sealed days with their lines alone (nothing shown read), and still marks their payments changed in SQL since (an amount, a bank id outside ASCII), and refuses one whose paying account was copied from another', async () => {
    const [account, who, start] = [newAccount(), `kept-${randomBytes(3).toString('hex')}`, dayAt(20)];
    const ids: number[] = [];
    for (let day = 0; day < 3; day += 1) ids.push(...(await paid(account, who, start + day * DAY, [`KEPT-${day}-1`, `KEPT-${day}-2`])));
    await sealed(account, start, 3);
    // One console process (its own kept proofs), every statement it sends recorded whole.
    const { db: recorded, statements } = recordingStatements(db(), (sql) => sql);
    const search = new SqlPaymentSearchRepository(recorded, TEST_AUDIT_KEYS);
    const spanReads = () => statements().filter((sql) => /FROM payments( FORCE INDEX \(ix_payments_reconcile\))? WHERE source_account_tag = \?/.test(sql));
    const read = async () => {
      const before = statements().length;
      const found = await search.fromAccount(account, start, start + 3 * DAY);
      const marked = found.rows.filter((p) => p.integrityProblem !== undefined).map((p) => p.id);
      // A read of what is shown (and the line), not of the lines alone (`SELECT id, created_at, line`).
      return { rows: found.rows.map((p) => p.transactionId), marked, withLines: spanReads().filter((sql) => statements().indexOf(sql, before) >= before && / AS line /.test(sql) && !/^SELECT id, created_at, /.test(sql)).length };
    };
    try {
      const names = ids.map((_, i) => `KEPT-${Math.floor(i / 2)}-${(i % 2) + 1}`);
      // The first opening hashes the three days' lines (proved by their seals), then keeps them.
      expect(await read()).to.deep.include({ rows: names, marked: [] });
      expect(spanReads().at(-1)).to.match(/ AS line /);
      // Opened again: the span read with its lines alone, each compared with the one kept at its place.
      const before = statements().length;
      expect(await read()).to.deep.equal({ rows: names, marked: [], withLines: 0 });
      // One span (MariaDB: its slices sent together).
      expect(statements().slice(before).filter((sql) => /FROM payments( FORCE INDEX \(ix_payments_reconcile\))? WHERE source_account_tag = \?/.test(sql))).to.have.length(ctx.backend === 'sqlite' ? 1 : 4);
      expect(search.rowsProvedOneByOne).to.equal(0);
      // Changed in SQL since: each opening again marks what changed, the other rows still as kept.
      await db().execute("UPDATE payments SET amount = '9000000.00', amount_minor = 900000000 WHERE id = ?", [ids[1]]);
      expect(await read()).to.deep.include({ rows: names, marked: [ids[1]] });
      expect(search.rowsProvedOneByOne).to.equal(1);
      await db().execute("UPDATE payments SET bank_transaction_id = 'BTX-ÄÖ-1' WHERE id = ?", [ids[2]]);
      expect((await read()).marked).to.deep.equal([ids[1], ids[2]]);
      const [other] = await db().query<{ source_account: string }>('SELECT source_account FROM payments WHERE id = ?', [ids[5]]);
      await db().execute('UPDATE payments SET source_account = ? WHERE id = ?', [other.source_account, ids[4]]);
      // Not sealed for its row: it does not open, and the page is refused rather than shown without it.
      const refused = await read().then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).to.be.instanceOf(IntegrityError);
    } finally {
      await search.close();
    }
  });

  it('a page opened again reads a week of kept sealed days in one span (one round of statements, not one every three days), and still marks a payment of its middle day changed in SQL since', async () => {
    const [account, who, start] = [newAccount(), `week-${randomBytes(3).toString('hex')}`, dayAt(10)];
    const ids: number[] = [];
    for (let day = 0; day < 7; day += 1) ids.push(...(await paid(account, who, start + day * DAY, [`WEEK-${day}-1`])));
    await sealed(account, start, 7);
    const rowsBefore = new Map((await db().query<{ id: number; request_hash: string }>(`SELECT id, request_hash FROM payments WHERE id IN (${ids.join(', ')})`)).map((row) => [Number(row.id), row.request_hash]));
    const { db: recorded, statements } = recordingStatements(db(), (sql) => sql);
    const search = new SqlPaymentSearchRepository(recorded, TEST_AUDIT_KEYS);
    const spanReads = (from: number) => statements().slice(from).filter((sql) => /FROM payments( FORCE INDEX \(ix_payments_reconcile\))? WHERE source_account_tag = \?/.test(sql));
    try {
      // The first opening hashes each day's lines (proved by their seals), three days a span, then keeps them.
      const first = await search.fromAccount(account, start, start + 7 * DAY);
      // Opened again: the whole week kept, read without lines in one span (MariaDB: its slices sent together).
      let before = statements().length;
      const again = await search.fromAccount(account, start, start + 7 * DAY);
      expect(again.rows.map((p) => p.id)).to.deep.equal(ids);
      expect(again.rows.filter((p) => p.integrityProblem !== undefined)).to.deep.equal([]);
      expect(spanReads(before)).to.have.length(ctx.backend === 'sqlite' ? 1 : 4);
      // Each row's line and what places it, nothing shown read apart: the lines compared whole with those kept.
      expect(spanReads(before).filter((sql) => !/^SELECT id, created_at, \S.* AS line FROM payments/.test(sql))).to.deep.equal([]);
      expect(search.rowsProvedOneByOne).to.equal(0);
      // Each payment the very one made when its day was kept, not made again.
      expect(again.rows.filter((p, i) => p !== first.rows[i])).to.deep.equal([]);
      // A value only the line holds (its proof digest: a column the MAC covers) changed in SQL: not the line kept, proved again and marked.
      await db().execute('UPDATE payments SET request_hash = ? WHERE id = ?', ['0'.repeat(64), ids[5]]);
      const digested = await search.fromAccount(account, start, start + 7 * DAY);
      expect(digested.rows.filter((p) => p.integrityProblem !== undefined).map((p) => p.id)).to.deep.equal([ids[5]]);
      expect(search.rowsProvedOneByOne).to.equal(1);
      await db().execute('UPDATE payments SET request_hash = ? WHERE id = ?', [rowsBefore.get(ids[5]) ?? null, ids[5]]);
      expect((await search.fromAccount(account, start, start + 7 * DAY)).rows.filter((p) => p.integrityProblem !== undefined)).to.deep.equal([]);
      // Changed in SQL since: the opening reads its lines again and marks it, the other days still as kept.
      await db().execute("UPDATE payments SET amount = '9000000.00', amount_minor = 900000000 WHERE id = ?", [ids[3]]);
      before = statements().length;
      const changed = await search.fromAccount(account, start, start + 7 * DAY);
      expect(changed.rows.filter((p) => p.integrityProblem !== undefined).map((p) => p.id)).to.deep.equal([ids[3]]);
      expect(changed.rows.find((p) => p.id === ids[3])?.amount).to.equal('9000000.00');
      expect(search.rowsProvedOneByOne).to.equal(2);
      // Put back as it was: proved again, its day kept anew with what was made of it now.
      await db().execute("UPDATE payments SET amount = '1000.00', amount_minor = 100000 WHERE id = ?", [ids[3]]);
      const back = await search.fromAccount(account, start, start + 7 * DAY);
      expect(back.rows.filter((p) => p.integrityProblem !== undefined)).to.deep.equal([]);
      expect(back.rows.find((p) => p.id === ids[3])?.amount).to.equal('1000.00');
    } finally {
      await search.close();
    }
  });

  it('(c) does not trust a forged seal, nor one copied from another day or another account: those rows are proved one by one, and the day named and never sealed anew', async () => {
    const [account, other, who, start] = [newAccount(), newAccount(), `forge-${randomBytes(3).toString('hex')}`, dayAt(6)];
    await paid(account, who, start, ['FORGE-1', 'FORGE-2']);
    await paid(account, who, start + DAY, ['FORGE-3', 'FORGE-4']);
    await paid(other, who, start, ['FORGE-5', 'FORGE-6']);
    await sealed(account, start, 2);
    await sealed(other, start);
    const [first, second] = await sealsOf(account);
    const [theirs] = await sealsOf(other);
    expect(await freshRead(ctx.store(), account, start, start + 2 * DAY)).to.deep.include({ opened: 0 });
    const where = 'account_tag = ? AND day = ?';
    // Random bytes as the seal.
    await db().execute(`UPDATE reconciliation_seals SET seal = ? WHERE ${where}`, [randomBytes(32).toString('hex'), first.account_tag, first.day]);
    expect(await freshRead(ctx.store(), account, start, start + 2 * DAY)).to.deep.include({ opened: 2 });
    // The next day's seal, its MAC and count copied onto the first day.
    await db().execute(`UPDATE reconciliation_seals SET seal = ?, row_count = ?, sealed_at = ?, mac_key_id = ?, mac = ? WHERE ${where}`, [second.seal, second.row_count, second.sealed_at, second.mac_key_id, second.mac, first.account_tag, first.day]);
    expect(await freshRead(ctx.store(), account, start, start + 2 * DAY)).to.deep.include({ opened: 2 });
    // Another account's seal of the same day (its MAC, its count) under our tag.
    await db().execute(`UPDATE reconciliation_seals SET seal = ?, row_count = ?, sealed_at = ?, mac_key_id = ?, mac = ? WHERE ${where}`, [theirs.seal, theirs.row_count, theirs.sealed_at, theirs.mac_key_id, theirs.mac, first.account_tag, first.day]);
    expect(await freshRead(ctx.store(), account, start, start + 2 * DAY)).to.deep.include({ opened: 2 });
    const read = await freshRead(ctx.store(), account, start, start + 2 * DAY);
    expect(read.opened).to.equal(2);
    expect(read.rows.map((p) => [p.transactionId, p.integrityProblem])).to.deep.equal([
      ['FORGE-1', undefined],
      ['FORGE-2', undefined],
      ['FORGE-3', undefined],
      ['FORGE-4', undefined],
    ]);
    // The forged day is named, and never sealed anew (what it held cannot be told): proved one by one at every reading.
    expect(read.missing.map((m) => [m.day, typeof m.sealProblem])).to.deep.equal([['2026-11-06', 'string']]);
    await sealed(account, start, 2);
    expect(await freshRead(ctx.store(), account, start, start + 2 * DAY)).to.deep.include({ opened: 2 });
  });

  it('(d) does not trust an older seal restored together with the rows it was made over', async () => {
    const [account, who, start] = [newAccount(), `old-${randomBytes(3).toString('hex')}`, dayAt(7)];
    await paid(account, who, start, ['OLD-1', 'OLD-2']);
    await sealed(account, start);
    const [older] = await sealsOf(account);
    // A payment of that day arrives later (as a late-booked one would): the day is sealed anew over three rows.
    const [late] = await paid(account, who, start + 20 * HOUR, ['OLD-LATE']);
    await sealed(account, start);
    const [newer] = await sealsOf(account);
    expect([Number(older.row_count), Number(newer.row_count)]).to.deep.equal([2, 3]);
    // The attacker takes the late payment out and restores the older seal: the rows are exactly
    // those it was made over, and its MAC holds; but it is not the seal's latest recorded state.
    await db().execute('DELETE FROM payment_events WHERE payment_id = ?', [late]);
    await db().execute('DELETE FROM payments WHERE id = ?', [late]);
    await writeBack(db(), 'reconciliation_seals', older, 'account_tag = ? AND day = ?', [older.account_tag, older.day]);
    const read = await freshRead(ctx.store(), account, start, start + DAY);
    expect(read.opened).to.equal(2);
  });

  it('(d) with a payment rolled back: the older seal restored with its rows is not trusted, and the payment is marked', async () => {
    const [account, who, start] = [newAccount(), `roll-${randomBytes(3).toString('hex')}`, dayAt(8)];
    const [, moved] = await paid(account, who, start, ['ROLL-1', 'ROLL-2']);
    await sealed(account, start);
    const [older] = await sealsOf(account);
    const before = await copyRow(db(), 'payments', 'id = ?', [moved]);
    await ctx.store().payments.update(moved, { state: 'FAILED', bank: 'bca' }, start + DAY + HOUR);
    await sealed(account, start);
    await writeBack(db(), 'payments', before, 'id = ?', [moved]);
    await writeBack(db(), 'reconciliation_seals', older, 'account_tag = ? AND day = ?', [older.account_tag, older.day]);
    const read = await freshRead(ctx.store(), account, start, start + DAY);
    expect(read.opened).to.equal(2);
    expect(read.rows.map((p) => [p.transactionId, p.state, p.integrityProblem])).to.deep.equal([
      ['ROLL-1', 'RECEIVED', undefined],
      ['ROLL-2', 'RECEIVED', `payments id ${moved} (${who} / ROLL-2) was changed without an event in its history: state "RECEIVED" where its last event (seq 2) says "FAILED"`],
    ]);
  });

  /**
   * Three sealed days of two payments each, read again by the process that proved them (which keeps
   * them whole: its next reading compares each row in place with its kept line) and by a fresh one.
   */
  async function threeSealedDays(n: number): Promise<{ account: string; start: number; ids: number[]; day: string; read: () => Promise<unknown[]> }> {
    const [account, who, start] = [newAccount(), `gone-${randomBytes(3).toString('hex')}`, dayAt(n)];
    const ids: number[] = [];
    for (let day = 0; day < 3; day += 1) ids.push(...(await paid(account, who, start + day * DAY, [`GONE-${day}-1`, `GONE-${day}-2`])));
    await sealed(account, start, 3);
    expect((await sealsOf(account)).map((s) => Number(s.row_count))).to.deep.equal([2, 2, 2]);
    const shown = (found: { rows: { id: number; integrityProblem?: string }[]; missing: unknown[] }) => [found.rows.map((p) => [p.id, p.integrityProblem]), found.missing];
    const read = async () => [shown(await ctx.store().paymentSearch.fromAccount(account, start, start + 3 * DAY)), shown(await freshRead(ctx.store(), account, start, start + 3 * DAY))];
    expect(await read()).to.deep.equal(Array(2).fill([ids.map((id) => [id, undefined]), []]));
    return { account, start, ids, day: `2026-11-${String(n + 1).padStart(2, '0')}`, read };
  }

  it('names a sealed day whose payments were all deleted in SQL (with their history or not) as missing payments, in the process that kept it and in a fresh one, every time', async () => {
    for (const [n, withEvents] of [[12, true], [15, false]] as const) {
      const { account, ids, day, read } = await threeSealedDays(n);
      if (withEvents) await db().execute('DELETE FROM payment_events WHERE payment_id IN (?, ?)', [ids[2], ids[3]]);
      await db().execute('DELETE FROM payments WHERE id IN (?, ?)', [ids[2], ids[3]]);
      const left = [ids[0], ids[1], ids[4], ids[5]].map((id) => [id, undefined]);
      const named = [left, [{ day, sealed: 2, found: 0, deleted: [ids[2], ids[3]] }]];
      expect(await read()).to.deep.equal([named, named]);
      // Never sealed anew without them: named at the next reading too.
      expect(await read()).to.deep.equal([named, named]);
      expect((await sealsOf(account)).map((s) => Number(s.row_count))).to.deep.equal([2, 2, 2]);
    }
  });

  it('names a sealed day one of whose payments was deleted in SQL as missing a payment, though the other still proves, in the process that kept it and in a fresh one, every time', async () => {
    const { account, ids, day, read } = await threeSealedDays(18);
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[3]]);
    const named = [[ids[0], ids[1], ids[2], ids[4], ids[5]].map((id) => [id, undefined]), [{ day, sealed: 2, found: 1, deleted: [ids[3]] }]];
    expect(await read()).to.deep.equal([named, named]);
    expect(await read()).to.deep.equal([named, named]);
    expect((await sealsOf(account)).map((s) => Number(s.row_count))).to.deep.equal([2, 2, 2]);
  });

  it('names a sealed day whose seal row was deleted or changed in SQL with one of its payments, logs it as an error, and never seals the day anew without it', async () => {
    const attacks: [number, string][] = [
      [3, 'DELETE FROM reconciliation_seals WHERE account_tag = ? AND day = ?'],
      [6, 'UPDATE reconciliation_seals SET payment_ids = NULL WHERE account_tag = ? AND day = ?'],
      [9, 'UPDATE reconciliation_seals SET row_count = 1, payment_ids = NULL, mac = NULL, mac_key_id = NULL WHERE account_tag = ? AND day = ?'],
    ];
    for (const [n, attack] of attacks) {
      const { account, ids, day, read } = await threeSealedDays(n);
      const [before] = (await sealsOf(account)).slice(1);
      await db().execute('DELETE FROM payments WHERE id = ?', [ids[3]]);
      await db().execute(attack, [accountTag(TEST_AUDIT_KEYS, account), Number(before.day)]);
      const left = [ids[0], ids[1], ids[2], ids[4], ids[5]].map((id) => [id, undefined]);
      const alerted = (found: unknown[]) => (found as [unknown, { day: string; sealed: number; found: number; sealProblem?: string }[]][]).map(([rows, missing]) => [rows, missing.map((m) => [m.day, m.found, typeof m.sealProblem])]);
      const named = [left, [[day, 1, 'string']]];
      const logs = captureLogs();
      let result: unknown[];
      try {
        result = await read();
      } finally {
        logs.stop();
      }
      expect(alerted(result)).to.deep.equal([named, named], attack);
      const logged = logs.lines.map((l) => JSON.parse(l) as { level?: number; msg?: string; day?: string });
      expect(logged.filter((l) => l.level === 50 && l.day === day && /seal deleted or changed/.test(l.msg ?? '')).length).to.be.above(0);
      // Never sealed anew without the payment: named at every later reading.
      expect(alerted(await read())).to.deep.equal([named, named], attack);
      const after = (await sealsOf(account)).find((s) => Number(s.day) === Number(before.day));
      expect(after === undefined || after.mac === null || after.payment_ids === null, attack).to.equal(true);
    }
  });

  it('names a payment deleted in SQL from a sealed day whose seal\'s MAC alone was cleared in SQL (as migration 032 cleared them): its values are still those its change record covers, so the day is held to them', async () => {
    const { account, ids, day, read } = await threeSealedDays(9);
    const [, second] = await sealsOf(account);
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[3]]);
    await db().execute('UPDATE reconciliation_seals SET mac = NULL, mac_key_id = NULL WHERE account_tag = ? AND day = ?', [second.account_tag, second.day]);
    const named = [[ids[0], ids[1], ids[2], ids[4], ids[5]].map((id) => [id, undefined]), [{ day, sealed: 2, found: 1, deleted: [ids[3]] }]];
    expect(await read()).to.deep.equal([named, named]);
    expect(await read()).to.deep.equal([named, named]);
  });

  it('names a payment deleted in SQL between a sealed span\'s first read and its read again whole (a payment of the day moved on through the gateway), and never seals the day without it', async () => {
    const { account, start, ids, day, read } = await threeSealedDays(27);
    // A genuine settlement: the day's seal no longer holds, so its span is read again with every column.
    await ctx.store().payments.update(ids[2], { state: 'FAILED', bank: 'bca' }, start + DAY + 3 * HOUR);
    const real = db();
    let deleted = false;
    let reads = 0;
    let deleting: Promise<unknown> | null = null;
    const racing = Object.create(real) as typeof real;
    racing.query = (async (sql: string, params?: unknown[]) => {
      // Deleted just before the span's second read (the first read all three sealed days; on MariaDB
      // in four slices, sent together: each slice of the second read waits for the delete, or one
      // sent beside the first could read the row before it is gone).
      if (/FROM payments( FORCE INDEX \(ix_payments_reconcile\))? WHERE source_account_tag = \?/.test(sql) && (reads += 1) === (ctx.backend === 'sqlite' ? 2 : 5)) {
        deleted = true;
        deleting = real.execute('DELETE FROM payments WHERE id = ?', [ids[3]]);
      }
      if (deleting !== null) await deleting;
      return real.query(sql, params as never);
    }) as typeof real.query;
    const search = chainsWhole(new SqlPaymentSearchRepository(racing, TEST_AUDIT_KEYS, new ChainLanes(real, `race-${randomBytes(3).toString('hex')}`, 1, () => TEST_AUDIT_KEYS)));
    const found = await search.fromAccount(account, start, start + 3 * DAY);
    await search.close();
    expect(deleted).to.equal(true);
    const named = [{ day, sealed: 2, found: 1, deleted: [ids[3]] }];
    expect(found.missing).to.deep.equal(named);
    expect((await read())[1]).to.deep.equal([[ids[0], ids[1], ids[2], ids[4], ids[5]].map((id) => [id, undefined]), named]);
  });

  it('after a new audit key, names a payment deleted in SQL from a day sealed under the older one, at the first reading and every later one, and never seals the day anew without it', async () => {
    const { account, start, ids, day } = await threeSealedDays(25);
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[3]]);
    // The same database opened with a newer key added to the ring (a restart after `keys rotate`).
    const ring = ringOf(TEST_AUDIT_KEY, NEWER_KEY);
    const rotated = chainsWhole(await openStore(ctx.url(), { auditKeys: ring }));
    try {
      const named = [{ day, sealed: 2, found: 1, deleted: [ids[3]] }];
      expect((await rotated.paymentSearch.fromAccount(account, start, start + 3 * DAY)).missing).to.deep.equal(named);
      const fresh = new SqlPaymentSearchRepository(rotated.db, ring);
      const again = await fresh.fromAccount(account, start, start + 3 * DAY);
      await fresh.close();
      expect(again.missing).to.deep.equal(named);
      expect(again.unchecked).to.deep.equal([]);
    } finally {
      await rotated.close();
    }
  });

  it('does not take from the lines alone a span with a day kept whole that no row is on any more (deleted in SQL): what is shown is read, and the day named', async () => {
    const { account, start, ids, day } = await threeSealedDays(24);
    const { db: recorded, statements } = recordingStatements(db(), (sql) => sql);
    const search = new SqlPaymentSearchRepository(recorded, TEST_AUDIT_KEYS);
    const read = async () => {
      const before = statements().length;
      const found = await search.fromAccount(account, start, start + 3 * DAY);
      const withLines = statements().slice(before).filter((sql) => /FROM payments( FORCE INDEX \(ix_payments_reconcile\))? WHERE source_account_tag = \?/.test(sql) && / AS line /.test(sql) && !/^SELECT id, created_at, /.test(sql)).length;
      return { rows: found.rows.length, missing: found.missing, withLines };
    };
    // Proved by the seals and kept whole; then read with the lines alone.
    expect((await read()).withLines).to.be.above(0);
    expect(await read()).to.deep.equal({ rows: 6, missing: [], withLines: 0 });
    await db().execute('DELETE FROM payments WHERE id IN (?, ?)', [ids[2], ids[3]]);
    const after = await read();
    expect(after.withLines).to.be.above(0);
    expect(after).to.deep.include({ rows: 4, missing: [{ day, sealed: 2, found: 0, deleted: [ids[2], ids[3]] }] });
    await search.close();
  });

  it('names no missing payment on a sealed day whose payment was released through the gateway since it was sealed', async () => {
    const { ids, read } = await threeSealedDays(21);
    expect(await ctx.store().payments.release(ids[3], null)).to.equal(true);
    const left = [[ids[0], ids[1], ids[2], ids[4], ids[5]].map((id) => [id, undefined]), []];
    expect(await read()).to.deep.equal([left, left]);
  });

  it('names a payment deleted in SQL on a sealed day by its id, though payments of that day were released through the gateway since (one of this account, one of another): as many releases as rows deleted hide nothing', async () => {
    const { account, start, ids, day, read } = await threeSealedDays(26);
    const [theirs] = await paid(newAccount(), `other-${randomBytes(3).toString('hex')}`, start + DAY, ['OTHER-1']);
    expect(await ctx.store().payments.release(ids[2], null)).to.equal(true);
    expect(await ctx.store().payments.release(theirs, null)).to.equal(true);
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[3]]);
    const named = [[ids[0], ids[1], ids[4], ids[5]].map((id) => [id, undefined]), [{ day, sealed: 2, found: 1, deleted: [ids[3]] }]];
    expect(await read()).to.deep.equal([named, named]);
    expect(await read()).to.deep.equal([named, named]);
    expect((await sealsOf(account)).map((s) => Number(s.row_count))).to.deep.equal([2, 2, 2]);
  });

  it('names a payment deleted in SQL on a sealed day by its id when a row of another account of that day was given this account\'s tag in SQL to keep the count', async () => {
    const { account, start, ids, day, read } = await threeSealedDays(1);
    const [theirs] = await paid(newAccount(), `other-${randomBytes(3).toString('hex')}`, start + DAY, ['OTHER-2']);
    await db().execute('UPDATE payments SET source_account_tag = ? WHERE id = ?', [accountTag(TEST_AUDIT_KEYS, account), theirs]);
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[3]]);
    const named = [[ids[0], ids[1], ids[2], ids[4], ids[5]].map((id) => [id, undefined]), [{ day, sealed: 2, found: 1, deleted: [ids[3]] }]];
    expect(await read()).to.deep.equal([named, named]);
    expect(await read()).to.deep.equal([named, named]);
  });

  it('holds a day sealed before seals named their payments (migration 041) to its count, and seals anew with their ids each day whose rows still hash to its seal: a deletion is then named by its id despite releases', async () => {
    const { account, start, ids, day, read } = await threeSealedDays(29);
    const ring = TEST_AUDIT_KEYS;
    const sealer = new ValueSealer(ring);
    // Written back as a console of before 041 wrote them: a count and a seal, under their MAC and change record.
    const seals = await sealsOf(account);
    await changeRows(new ChainLanes(db(), `old-console-${randomBytes(3).toString('hex')}`, 1, () => ring), sealer, Date.now(), async (rows) => {
      for (const seal of seals) expect(await rows.update(RECONCILIATION_SEALS, seal as MacedRow, { payment_ids: null })).to.equal(true);
    });
    expect((await sealsOf(account)).map((s) => s.payment_ids)).to.deep.equal([null, null, null]);
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[3]]);
    const counted = [[ids[0], ids[1], ids[2], ids[4], ids[5]].map((id) => [id, undefined]), [{ day, sealed: 2, found: 1 }]];
    expect(await read()).to.deep.equal([counted, counted]);
    // A console that writes seals hashes the days: the two whose rows hash to their seal are sealed anew with their ids, the short one never.
    const console = chainsWhole(new SqlPaymentSearchRepository(db(), ring, new ChainLanes(db(), `console-${randomBytes(3).toString('hex')}`, 1, () => ring)));
    await console.fromAccount(account, start, start + 3 * DAY);
    await console.close();
    expect((await sealsOf(account)).map((s) => [Number(s.row_count), s.payment_ids === null])).to.deep.equal([[2, false], [2, true], [2, false]]);
    expect(await read()).to.deep.equal([counted, counted]);
    const [theirs] = await paid(newAccount(), `other-${randomBytes(3).toString('hex')}`, start, ['OTHER-3']);
    expect(await ctx.store().payments.release(ids[0], null)).to.equal(true);
    expect(await ctx.store().payments.release(theirs, null)).to.equal(true);
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[1]]);
    const named = [[ids[2], ids[4], ids[5]].map((id) => [id, undefined]), [{ day: '2026-11-29', sealed: 2, found: 1, deleted: [ids[1]] }, { day, sealed: 2, found: 1 }]];
    expect(await read()).to.deep.equal([named, named]);
  });

  it('says the period is truncated when a sealed span read again (a payment of it changed in SQL) comes back with more rows than its bound (one written into the day meanwhile), its last row left out', async () => {
    const [account, who, start] = [newAccount(), `cut-${randomBytes(3).toString('hex')}`, dayAt(2)];
    const ids = await paid(account, who, start, ['CUT-1', 'CUT-2', 'CUT-3']);
    await sealed(account, start);
    await db().execute("UPDATE payments SET amount = '9.00' WHERE id = ?", [ids[1]]);
    // A reconciliation bound to 3 rows; a payment of the day written (between the first two) just before its proof columns are read again.
    let written: number | null = null;
    const store = ctx.store();
    const real = store.db;
    const racing = Object.create(real) as typeof real;
    racing.query = (async (sql: string, ...rest: unknown[]) => {
      if (written === null && /^SELECT id, transaction_id, state, amount, bank_transaction_id, bank_transaction_date, bank_external_id, created_at, source_account, /.test(sql)) {
        written = -1;
        written = (await store.payments.reserve({ clientId: who, transactionId: 'CUT-LATE', requestHash: 'a'.repeat(64), amount: '5.00', currency: 'IDR', sourceAccount: account }, start + HOUR + HOUR / 2)).id;
      }
      return (real.query as (sql: string, ...rest: unknown[]) => unknown)(sql, ...rest);
    }) as typeof real.query;
    const search = new SqlPaymentSearchRepository(racing, TEST_AUDIT_KEYS, null, Date.now, { reconcileRows: 3 });
    const found = await search.fromAccount(account, start, start + DAY);
    await search.close();
    expect(written).to.be.above(0);
    expect(found.rows.map((p) => p.transactionId)).to.deep.equal(['CUT-1', 'CUT-LATE', 'CUT-2']);
    expect(found.truncated).to.equal(true);
  });

  it('names the first day whose payments a period cut at its bound did not all read, and none when it read them all', async () => {
    const [account, who, start] = [newAccount(), `notread-${randomBytes(3).toString('hex')}`, dayAt(14)];
    await paid(account, who, start, ['NR-1', 'NR-2']);
    await paid(account, who, start + DAY, ['NR-3', 'NR-4']);
    await paid(account, who, start + 2 * DAY, ['NR-5']);
    const label = (n: number) => new Date(start + n * DAY + 7 * HOUR).toISOString().slice(0, 10);
    const bound = async (reconcileRows: number) => {
      const search = new SqlPaymentSearchRepository(db(), TEST_AUDIT_KEYS, null, Date.now, { reconcileRows });
      const found = await search.fromAccount(account, start, start + 3 * DAY);
      await search.close();
      return [found.rows.map((p) => p.transactionId), found.truncated, found.notReadFrom];
    };
    expect(await bound(5)).to.deep.equal([['NR-1', 'NR-2', 'NR-3', 'NR-4', 'NR-5'], false, undefined]);
    expect(await bound(3)).to.deep.equal([['NR-1', 'NR-2', 'NR-3'], true, label(1)]);
    // The bound reached with a day's last payment: nothing says that day had no more, so it is the first not read whole.
    expect(await bound(4)).to.deep.equal([['NR-1', 'NR-2', 'NR-3', 'NR-4'], true, label(1)]);
  });

  it('names the days of the period no trusted seal held its payments to, as not checked for deleted payments (a day without payments, a day not sealed yet), and not the sealed days read whole', async () => {
    const { account, start } = await threeSealedDays(4);
    const [other, who] = [newAccount(), `unchecked-${randomBytes(3).toString('hex')}`];
    await paid(other, who, start, ['UNSEALED-1']);
    const label = (n: number) => new Date(start + n * DAY + 7 * HOUR).toISOString().slice(0, 10);
    const search = new SqlPaymentSearchRepository(db(), TEST_AUDIT_KEYS);
    expect((await search.fromAccount(account, start - DAY, start + 3 * DAY)).unchecked).to.deep.equal([label(-1)]);
    expect((await search.fromAccount(other, start, start + 2 * DAY)).unchecked).to.deep.equal([label(0), label(1)]);
    await search.close();
  });

  it('does not seal a day that has not ended, nor one with a payment that does not hold', async () => {
    const [account, who] = [newAccount(), `open-${randomBytes(3).toString('hex')}`];
    const today = Date.now() - ((Date.now() + 7 * HOUR) % DAY);
    await ctx.store().payments.reserve({ clientId: who, transactionId: 'OPEN-1', requestHash: 'a'.repeat(64), amount: '1.00', currency: 'IDR', sourceAccount: account }, Date.now() - 1000);
    await sealed(account, today);
    const start = dayAt(9);
    const [, changed] = await paid(account, who, start, ['OPEN-2', 'OPEN-3']);
    await db().execute("UPDATE payments SET amount = '2.00' WHERE id = ?", [changed]);
    await sealed(account, start);
    expect(await sealsOf(account)).to.deep.equal([]);
  });

  it('after a new audit key, does not trust a seal under the older one: the day is proved row by row and sealed anew under the new key', async () => {
    const [account, who, start] = [newAccount(), `key-${randomBytes(3).toString('hex')}`, dayAt(11)];
    await paid(account, who, start, ['KEY-1', 'KEY-2']);
    await sealed(account, start);
    const [older] = await sealsOf(account);
    expect(older.mac_key_id).to.equal(TEST_AUDIT_KEYS.currentKeyId);
    // The same database opened with a newer key added to the ring (a restart after `keys rotate`).
    const ring = ringOf(TEST_AUDIT_KEY, NEWER_KEY);
    const rotated = chainsWhole(await openStore(ctx.url(), { auditKeys: ring }));
    try {
      await rotated.paymentSearch.fromAccount(account, start, start + DAY);
      expect(rotated.paymentSearch.rowsProvedOneByOne).to.equal(2);
      const [newer] = await sealsOf(account);
      expect(newer.mac_key_id).to.equal('newer');
      expect(newer.seal).not.to.equal(older.seal);
      // Read by another process with the rotated ring: sealed, nothing opened.
      const search = new SqlPaymentSearchRepository(rotated.db, ring);
      const read = await search.fromAccount(account, start, start + DAY);
      expect([read.rows.length, search.rowsProvedOneByOne]).to.deep.equal([2, 0]);
      await search.close();
    } finally {
      await rotated.close();
    }
  });

  it('two consoles sealing the same days at once leave one trusted seal a day', async () => {
    const [account, who, start] = [newAccount(), `race-${randomBytes(3).toString('hex')}`, dayAt(12)];
    await paid(account, who, start, ['RACE-1', 'RACE-2']);
    await paid(account, who, start + DAY, ['RACE-3']);
    const consoles = [chainsWhole(await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS })), chainsWhole(await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS }))];
    try {
      const reads = await Promise.all(consoles.map((c) => c.paymentSearch.fromAccount(account, start, start + 2 * DAY)));
      expect(reads.map((r) => r.rows.length)).to.deep.equal([3, 3]);
    } finally {
      await Promise.all(consoles.map((c) => c.close()));
    }
    expect((await sealsOf(account)).map((s) => Number(s.row_count))).to.deep.equal([2, 1]);
    expect(await freshRead(ctx.store(), account, start, start + 2 * DAY)).to.deep.include({ opened: 0 });
  });

  it('a console process seals the closed days by its sweep at start, and says so in its log', async () => {
    // A database of its own, its chains whole: the console installs its chain guard (ChainGuard)
    // and sweeps at start before the test could make it ask nothing (chainsWhole), and this block's
    // attacks leave gaps in the block's database that the guard rightly names.
    const { url, store, drop } = await ownDatabase();
    try {
      const [account, who] = [newAccount(), `start-${randomBytes(3).toString('hex')}`];
      const midnight = Date.now() - ((Date.now() + 7 * HOUR) % DAY);
      await paid(account, who, midnight - 5 * DAY, ['START-1', 'START-2'], store);
      const logged = captureLogs('info');
      const con = await TestConsole.start(url);
      try {
        const seals = await eventually(async () => ((await sealsOf(account, store.db)).length > 0 ? sealsOf(account, store.db) : null), 20_000);
        expect(seals.map((s) => Number(s.row_count))).to.deep.equal([2]);
        await eventually(async () => logged.lines.some((line) => line.includes('reconciliation seal sweep')), 20_000);
      } finally {
        await con.close();
        logged.stop();
      }
      expect(await freshRead(store, account, midnight - 5 * DAY, midnight - 4 * DAY)).to.deep.include({ opened: 0 });
    } finally {
      await store.close();
      await drop();
    }
  });

  it('the sweep seals the closed days of the last month of accounts that have payments', async () => {
    const [account, who] = [newAccount(), `sweep-${randomBytes(3).toString('hex')}`];
    const midnight = Date.now() - ((Date.now() + 7 * HOUR) % DAY);
    const start = midnight - 3 * DAY;
    await paid(account, who, start, ['SWEEP-1', 'SWEEP-2']);
    await paid(account, who, start + DAY, ['SWEEP-3']);
    expect(await freshRead(ctx.store(), account, start, start + 2 * DAY)).to.deep.include({ opened: 3 });
    const swept = await ctx.store().paymentSearch.sealClosedDays(Date.now());
    expect(swept.sealed).to.be.at.least(2);
    expect((await sealsOf(account)).map((s) => Number(s.row_count))).to.deep.equal([2, 1]);
    const read = await freshRead(ctx.store(), account, start, start + 2 * DAY);
    expect(read.opened).to.equal(0);
    expect(read.rows.map((p) => p.transactionId)).to.deep.equal(['SWEEP-1', 'SWEEP-2', 'SWEEP-3']);
    // A second run finds them sealed: nothing of ours is proved again.
    const again = await ctx.store().paymentSearch.sealClosedDays(Date.now());
    expect(again.sealed).to.equal(0);
  });

  it('the sweep seals anew a day whose payment settled after it was sealed, and never a day with a payment changed in SQL: that one stays marked', async () => {
    const [honest, altered, who] = [newAccount(), newAccount(), `renew-${randomBytes(3).toString('hex')}`];
    const start = Date.now() - ((Date.now() + 7 * HOUR) % DAY) - 4 * DAY;
    const [, settled] = await paid(honest, who, start, ['RENEW-1', 'RENEW-2']);
    const [, changed] = await paid(altered, who, start, ['RENEW-3', 'RENEW-4']);
    await ctx.store().paymentSearch.sealClosedDays(Date.now());
    const [honestBefore] = await sealsOf(honest);
    const [alteredBefore] = await sealsOf(altered);
    // The honest payment settles later, through the store (its event recorded); the other is changed in SQL.
    await ctx.store().payments.update(settled, { state: 'FAILED', bank: 'bca' }, Date.now());
    await db().execute("UPDATE payments SET amount = '7000000.00', amount_minor = 700000000 WHERE id = ?", [changed]);
    expect(await freshRead(ctx.store(), honest, start, start + DAY)).to.deep.include({ opened: 2 });
    const swept = await ctx.store().paymentSearch.sealClosedDays(Date.now());
    // The honest day is sealed anew over its settled payment: read by another process, nothing opened.
    const [honestAfter] = await sealsOf(honest);
    expect(honestAfter.seal).not.to.equal(honestBefore.seal);
    const read = await freshRead(ctx.store(), honest, start, start + DAY);
    expect(read.opened).to.equal(0);
    expect(read.rows.map((p) => [p.transactionId, p.state, p.integrityProblem])).to.deep.equal([
      ['RENEW-1', 'RECEIVED', undefined],
      ['RENEW-2', 'FAILED', undefined],
    ]);
    // The altered day keeps its old seal, which no longer holds: proved row by row, the change marked.
    expect(await sealsOf(altered)).to.deep.equal([alteredBefore]);
    const marked = await freshRead(ctx.store(), altered, start, start + DAY);
    expect(marked.opened).to.equal(2);
    expect(marked.rows.map((p) => [p.transactionId, p.integrityProblem])).to.deep.equal([
      ['RENEW-3', undefined],
      ['RENEW-4', `payments id ${changed} (${who} / RENEW-4) was altered: its client, transaction id, request hash, amount, currency or creation time no longer match its MAC`],
    ]);
    // Its log says so (seal-sweep.ts logs what a run did). The altered day has no event since its
    // seal: the sweep does not read it again, the page reading it marks it (above).
    expect(swept.stale, 'stale seals found').to.be.at.least(1);
    expect(swept.renewed, 'stale seals renewed').to.be.at.least(1);
  });

  it('a sweep over a sealed store reads none of its payments until one changes, then that day alone, and the days of a released payment', async () => {
    const { store, drop } = await ownDatabase();
    try {
      const [who, midnight] = [`quiet-${randomBytes(3).toString('hex')}`, Date.now() - ((Date.now() + 7 * HOUR) % DAY)];
      const [ids, accounts] = [[] as number[], [newAccount(), newAccount(), newAccount()]];
      for (const [a, account] of accounts.entries()) {
        for (const days of [4, 3, 2]) ids.push(...(await paid(account, who, midnight - days * DAY, [`Q-${a}-${days}-1`, `Q-${a}-${days}-2`], store)));
      }
      const sweep = () => store.paymentSearch.sealClosedDays(Date.now());
      expect(await sweep()).to.deep.include({ accounts: 3, rowsRead: 18, sealed: 9, stale: 0 });
      // Sealed, and no payment moved on: not one payment read.
      expect(await sweep()).to.deep.include({ accounts: 0, rowsRead: 0, rowsProved: 0, sealed: 0, stale: 0, renewed: 0 });
      // A payment of the first account's second day settles: that day alone is read, proved and sealed anew.
      await store.payments.update(ids[3], { state: 'FAILED', bank: 'bca' }, Date.now());
      expect(await sweep()).to.deep.include({ accounts: 1, rowsRead: 2, sealed: 1, stale: 1, renewed: 1 });
      expect(await sweep()).to.deep.include({ rowsRead: 0, sealed: 0, stale: 0 });
      // A reservation of the second account's first day released (its row deleted): that day of every account is hashed, its own sealed anew.
      expect(await store.payments.releaseStale(ids[6], Date.now())).to.equal(true);
      expect(await sweep()).to.deep.include({ accounts: 3, rowsRead: 5, sealed: 1, stale: 1, renewed: 1 });
      expect(await sweep()).to.deep.include({ rowsRead: 0, sealed: 0, stale: 0 });
      for (const [account, days] of [[accounts[0], 3], [accounts[1], 4]] as const) {
        expect(await freshRead(store, account, midnight - days * DAY, midnight - (days - 1) * DAY)).to.deep.include({ opened: 0 });
      }
    } finally {
      await store.close();
      await drop();
    }
  });
});

/**
 * The overview's kept day totals (migration 034, rows of the day seals under the tag '*'): a closed
 * day's counts and sums per state, counted once by the seal sweep and kept with a MAC and a change
 * record, against the attacker of docs/security/threat-model.md who alters, forges, writes back or
 * deletes them in SQL (no key). Figures are compared with what the test counts from the payments
 * in its own SQL.
 */
forEachBackend('An attacker without keys against the overview\'s kept day totals (#16)', (ctx) => {
  const db = () => ctx.store().db;
  // The kept totals' own checks, each as if the attacker had made the chains whole again (chainsWhole).
  before(() => chainsWhole(ctx.store()));
  /** Three closed days of their own in 2024 (a random place, so runs never share them), and a clock two days after. */
  const start = Date.UTC(2024, 0, 1) - 7 * HOUR + Math.floor(Math.random() * 300) * DAY;
  const days = [0, 1, 2].map((n) => new Date(start + 7 * HOUR + n * DAY).toISOString().slice(0, 10));
  const dayNumber = (n: number) => Math.floor((start + 7 * HOUR) / DAY) + n;
  const sweepAt = start + 4 * DAY + 2 * HOUR;
  let who = '';
  const ids: number[] = [];

  before(async () => {
    who = `totals-${randomBytes(3).toString('hex')}`;
    for (const [n, count] of [[0, 3], [1, 2], [2, 4]] as const) {
      for (let i = 0; i < count; i += 1) {
        const p = await ctx.store().payments.reserve({ clientId: who, transactionId: `TOT-${n}-${i}`, requestHash: 'a'.repeat(64), amount: `${100 * (n + 1) + i}.25`, currency: 'IDR', sourceAccount: newAccount() }, start + n * DAY + (i + 1) * HOUR);
        ids.push(p.id);
        if (i === 0) await ctx.store().payments.update(p.id, { state: 'SUCCESS', bank: 'bca' }, start + n * DAY + (i + 1) * HOUR + 60_000);
      }
    }
  });

  /** Each day's figures per state as the test counts them from the payments (its own SQL), as the store hands them out. */
  async function countedFromPayments(): Promise<{ day: string; state: string; count: number; totalMinor: bigint }[]> {
    const rows = await db().query<{ created_at: number | string; state: string; amount_minor: number | string }>('SELECT created_at, state, amount_minor FROM payments WHERE created_at >= ? AND created_at < ?', [start, start + 3 * DAY]);
    const order = ['SUCCESS', 'FAILED', 'PENDING', 'UNKNOWN', 'SENDING', 'RECEIVED'];
    const byKey = new Map<string, { day: string; state: string; count: number; totalMinor: bigint }>();
    for (const row of rows) {
      const day = new Date(Number(row.created_at) + 7 * HOUR).toISOString().slice(0, 10);
      const entry = byKey.get(`${day} ${row.state}`) ?? { day, state: row.state, count: 0, totalMinor: 0n };
      entry.count += 1;
      entry.totalMinor += BigInt(String(row.amount_minor));
      byKey.set(`${day} ${row.state}`, entry);
    }
    return [...byKey.values()].sort((a, b) => a.day.localeCompare(b.day) || order.indexOf(a.state) - order.indexOf(b.state));
  }

  /** The overview's figures of the three days as a console process that kept nothing reads them. */
  async function overview(): Promise<{ totals: unknown[]; problems: string[] }> {
    const search = new SqlPaymentSearchRepository(db(), TEST_AUDIT_KEYS);
    const found = await search.dailyTotals(start, start + 3 * DAY);
    await search.close();
    return { totals: found.totals, problems: found.integrityProblems.map((p) => p.found) };
  }

  type Logged = { level?: number; msg?: string; problem?: string; day?: string };

  /** What `run` gives, and the lines logged meanwhile. */
  async function logging<T>(run: () => Promise<T>): Promise<{ result: T; logged: Logged[] }> {
    const logs = captureLogs();
    try {
      const result = await run();
      return { result, logged: logs.lines.map((l) => JSON.parse(l) as Logged) };
    } finally {
      logs.stop();
    }
  }

  /** A run of the sweep, and the lines it logged. */
  async function sweptLogging(): Promise<{ daysCounted: number; logged: Logged[] }> {
    const { result, logged } = await logging(() => ctx.store().paymentSearch.sealClosedDays(sweepAt));
    return { daysCounted: result.daysCounted, logged };
  }

  async function keptRow(n: number): Promise<Row> {
    return copyRow(db(), 'reconciliation_seals', 'account_tag = ? AND day = ?', ['*', dayNumber(n)]);
  }

  it('keeps each closed day\'s totals once the sweep counted them, and the overview takes them from there: the figures counted from the payments', async () => {
    const before = await overview();
    expect(before.problems).to.deep.equal([]);
    expect(before.totals).to.deep.equal(await countedFromPayments());
    const swept = await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    expect(swept.daysCounted).to.be.at.least(3);
    expect(Number((await keptRow(1)).row_count)).to.equal(2);
    const after = await overview();
    expect(after.problems).to.deep.equal([]);
    expect(after.totals).to.deep.equal(await countedFromPayments());
    expect(after.totals.map((t) => (t as { day: string }).day)).to.include.members(days);
    // Read from the kept totals: not one payment counted for these closed days.
    const { db: recorded, statements } = recordingStatements(db());
    await new SqlPaymentSearchRepository(recorded, TEST_AUDIT_KEYS).dailyTotals(start, start + 3 * DAY);
    expect(statements().filter((s) => s === 'SELECT payments')).to.deep.equal([]);
    // A second sweep counts none of them again.
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(0);
  });

  it('names kept totals altered, copied from another day, written back, inserted or deleted in SQL, and counts their day from the payments', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    const where = 'account_tag = ? AND day = ?';
    const [first, second] = [await keptRow(0), await keptRow(1)];
    const what = (n: number) => `reconciliation_seals row of the kept totals of day ${days[n]}`;
    const expectNamed = async (problem: string) => {
      const read = await overview();
      expect(read.problems).to.deep.equal([problem]);
      expect(read.totals).to.deep.equal(await countedFromPayments());
    };
    // Altered: a larger sum of SUCCESS.
    const inflated = String(first.totals).replace(/"SUCCESS",1,"(\d+)"/, '"SUCCESS",1,"999999999"');
    expect(inflated).not.to.equal(String(first.totals));
    await db().execute(`UPDATE reconciliation_seals SET totals = ? WHERE ${where}`, [inflated, '*', dayNumber(0)]);
    await expectNamed(`${what(0)} was altered: its account tag, day, row count, seal, sealing time or day totals no longer match its MAC`);
    // Another day's totals, with their MAC, copied onto the first day.
    await db().execute(`UPDATE reconciliation_seals SET totals = ?, row_count = ?, sealed_at = ?, mac_key_id = ?, mac = ? WHERE ${where}`, [second.totals, second.row_count, second.sealed_at, second.mac_key_id, second.mac, '*', dayNumber(0)]);
    await expectNamed(`${what(0)} was altered: its account tag, day, row count, seal, sealing time or day totals no longer match its MAC`);
    // The sweep counts it again (and says so in its log); then an older copy, whose MAC holds, written back.
    await writeBack(db(), 'reconciliation_seals', first, where, ['*', dayNumber(0)]);
    await db().execute(`UPDATE reconciliation_seals SET totals = ? WHERE ${where}`, [inflated, '*', dayNumber(0)]);
    const { daysCounted, logged } = await sweptLogging();
    expect(daysCounted).to.equal(1);
    expect(logged.some((l) => l.msg?.includes('overview day totals that do not hold') === true && String(l.problem).startsWith(what(0)))).to.equal(true);
    expect((await overview()).problems).to.deep.equal([]);
    await writeBack(db(), 'reconciliation_seals', first, where, ['*', dayNumber(0)]);
    const renewed = await keptRow(0);
    expect(renewed.mac).to.equal(first.mac);
    const latestRecord = (await db().query<{ id: number | string }>("SELECT MAX(id) AS id FROM record_changes WHERE table_name = 'reconciliation_seals' AND row_key = ?", [JSON.stringify(['*', String(dayNumber(0))])]))[0].id;
    await expectNamed(`${what(0)} is not its latest state: it carries another MAC than its latest change record (record_changes id ${Number(latestRecord)}, update), an older copy of the row was written back`);
    // Deleted.
    await db().execute(`DELETE FROM reconciliation_seals WHERE ${where}`, ['*', dayNumber(0)]);
    await expectNamed(`${what(0)} was deleted: its latest change record (record_changes id ${Number(latestRecord)}, update) says it exists`);
    // Inserted in SQL without a MAC.
    await db().execute('INSERT INTO reconciliation_seals (account_tag, day, row_count, seal, sealed_at, totals) VALUES (?, ?, ?, ?, ?, ?)', ['*', dayNumber(0), 1, '', Date.now(), inflated]);
    await expectNamed(`${what(0)} carries no MAC: it was not written by the gateway`);
    // The sweep counts it anew: kept and trusted again.
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
    const read = await overview();
    expect(read.problems).to.deep.equal([]);
    expect(read.totals).to.deep.equal(await countedFromPayments());
  });

  it('after a new audit key, takes no kept totals under the older one and names none: the days are counted from the payments, then kept anew under the new key', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    expect((await keptRow(1)).mac_key_id).to.equal(TEST_AUDIT_KEYS.currentKeyId);
    // The same database opened with a newer key added to the ring (a restart after `keys rotate`).
    const ring = ringOf(TEST_AUDIT_KEY, NEWER_KEY);
    const rotated = chainsWhole(await openStore(ctx.url(), { auditKeys: ring }));
    try {
      const { db: recorded, statements } = recordingStatements(rotated.db);
      const read = await new SqlPaymentSearchRepository(recorded, ring).dailyTotals(start, start + 3 * DAY);
      expect(read.integrityProblems).to.deep.equal([]);
      expect(read.totals).to.deep.equal(await countedFromPayments());
      expect(statements().filter((s) => s === 'SELECT payments')).to.have.length.greaterThan(0);
      expect((await rotated.paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.be.at.least(3);
      expect((await keptRow(1)).mac_key_id).to.equal('newer');
      const again = await new SqlPaymentSearchRepository(rotated.db, ring).dailyTotals(start, start + 3 * DAY);
      expect([again.integrityProblems, again.totals]).to.deep.equal([[], await countedFromPayments()]);
    } finally {
      await rotated.close();
    }
  });

  it('takes no kept totals kept before their day\'s reserve events (or their digest) were counted with them, and names none: the day is counted from the payments, then kept anew with them', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    for (const field of [/,"reserved":\d+/, /,"reserveDigest":"[0-9a-f]{64}"/]) {
      const current = await keptRow(1);
      const older = String(current.totals).replace(field, '');
      expect(older).not.to.equal(String(current.totals));
      // Written as a console of before wrote it: under its MAC and change record, through a chain of its own.
      const chain = new ChainLanes(db(), `old-console-${randomBytes(3).toString('hex')}`, 1, () => TEST_AUDIT_KEYS);
      expect(await writeSeals(chain, new ValueSealer(TEST_AUDIT_KEYS), Date.now(), [{ tag: '*', day: dayNumber(1), rowCount: Number(current.row_count), seal: '', totals: older }])).to.equal(1);
      const { db: recorded, statements } = recordingStatements(db());
      const read = await new SqlPaymentSearchRepository(recorded, TEST_AUDIT_KEYS).dailyTotals(start, start + 3 * DAY);
      expect([read.integrityProblems, read.totals]).to.deep.equal([[], await countedFromPayments()]);
      expect(statements()).to.include('SELECT payments');
      expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
      expect(String((await keptRow(1)).totals)).to.equal(String(current.totals));
    }
  });

  it('counts a day again from the payments once a payment of it moved on after its totals were counted, and the sweep keeps the new figures', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    const before = await keptRow(2);
    // A console process that held the kept totals to the events before (it remembers up to which).
    const same = new SqlPaymentSearchRepository(db(), TEST_AUDIT_KEYS);
    expect((await same.dailyTotals(start, start + 3 * DAY)).totals).to.deep.equal(await countedFromPayments());
    // A payment of the third day fails later, through the store (its event recorded; older than
    // the window a count waits for late commits, so the totals counted again are trusted after).
    expect(await ctx.store().payments.update(ids[ids.length - 1], { state: 'FAILED', bank: 'bca' }, Date.now() - 11 * 60_000)).to.equal(true);
    const read = await overview();
    expect(read.problems).to.deep.equal([]);
    expect(read.totals).to.deep.equal(await countedFromPayments());
    expect(read.totals).to.deep.include({ day: days[2], state: 'FAILED', count: 1, totalMinor: 30_325n });
    expect((await same.dailyTotals(start, start + 3 * DAY)).totals).to.deep.equal(read.totals);
    await same.close();
    // The sweep counts that day alone again; the figures kept are the new ones.
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
    const after = await keptRow(2);
    expect(after.totals).not.to.equal(before.totals);
    expect(String(after.totals)).to.contain('"FAILED",1,"30325"');
    const again = await overview();
    expect(again.problems).to.deep.equal([]);
    expect(again.totals).to.deep.equal(await countedFromPayments());
    // Taken from the kept totals, the new ones: not one payment counted for these closed days.
    const { db: recorded, statements } = recordingStatements(db());
    expect((await new SqlPaymentSearchRepository(recorded, TEST_AUDIT_KEYS).dailyTotals(start, start + 3 * DAY)).totals).to.deep.equal(again.totals);
    expect(statements().filter((s) => s === 'SELECT payments')).to.deep.equal([]);
  });

  it('never keeps a payment changed in SQL: a forged event makes the sweep count its day again, from payments it proves one by one, and the day keeps no totals while one does not hold', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    const genuine = await countedFromPayments();
    const [target] = await db().query<{ state: string; amount_minor: number | string }>('SELECT state, amount_minor FROM payments WHERE id = ?', [ids[1]]);
    // Changed in SQL, with an event of its own (no chain link, recorded long ago) so its day is counted again.
    await db().execute("UPDATE payments SET state = 'SUCCESS', amount_minor = 999999900 WHERE id = ?", [ids[1]]);
    await db().execute("INSERT INTO payment_events (payment_id, seq, cause, state, recorded_at) VALUES (?, 99, 'update', 'SUCCESS', ?)", [ids[1], 1000]);
    const { daysCounted, logged } = await sweptLogging();
    expect(daysCounted).to.equal(0);
    expect(logged.some((l) => l.msg?.includes('payments of the day that do not prove') === true && l.day === days[0])).to.equal(true);
    expect(await db().query("SELECT day FROM reconciliation_seals WHERE account_tag = '*' AND day = ?", [dayNumber(0)])).to.deep.equal([]);
    // Written back as it was, the forged event deleted: the overview shows what the payments hold, nothing kept of the change.
    await db().execute('UPDATE payments SET state = ?, amount_minor = ? WHERE id = ?', [target.state, target.amount_minor, ids[1]]);
    await db().execute('DELETE FROM payment_events WHERE payment_id = ? AND seq = 99', [ids[1]]);
    expect(await countedFromPayments()).to.deep.equal(genuine);
    expect(await overview()).to.deep.equal({ totals: genuine, problems: [] });
    // The next sweep keeps the day's totals again, from its payments proved.
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
    expect(await overview()).to.deep.equal({ totals: genuine, problems: [] });
  });

  it('never leaves a payment deleted in SQL out of kept totals: deleted while a forged event has its day counted again, then written back, the day keeps no totals, the sweep names the payment, and the overview counts it from the payments', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    const genuine = await countedFromPayments();
    const row = await copyRow(db(), 'payments', 'id = ?', [ids[2]]);
    // Deleted, with an event of its own (no chain link, recorded long ago, an answer in clear) so its day is counted again without it.
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[2]]);
    await db().execute("INSERT INTO payment_events (payment_id, seq, cause, state, result_json, recorded_at) VALUES (?, 99, 'update', 'RECEIVED', '{}', ?)", [ids[2], 1000]);
    const { daysCounted, logged } = await sweptLogging();
    // Written back as it was, the forged event deleted: the history holds again. The gateway goes on (a payment of another day).
    await insertRow(db(), 'payments', row);
    await db().execute('DELETE FROM payment_events WHERE payment_id = ? AND seq = 99', [ids[2]]);
    await ctx.store().payments.reserve({ clientId: who, transactionId: 'TOT-LATER', requestHash: 'a'.repeat(64), amount: '3.00', currency: 'IDR', sourceAccount: newAccount() }, start - 50 * DAY);
    expect(await countedFromPayments()).to.deep.equal(genuine);
    // The overview counts the day from the payments, the payment in it (before: kept totals without it, trusted).
    expect(await overview()).to.deep.equal({ totals: genuine, problems: [] });
    // The count that did not find it kept nothing for the day, and named the payment.
    expect(daysCounted).to.equal(0);
    expect(await db().query("SELECT day FROM reconciliation_seals WHERE account_tag = '*' AND day = ?", [dayNumber(0)])).to.deep.equal([]);
    const named = logged.find((l) => l.msg?.includes('are not among its payments') === true && l.day === days[0]);
    expect(named?.problem).to.match(new RegExp(`^payments id ${ids[2]}, created on ${days[0]} by its history, is not among that day's payments, and payment_events.result_json of row \\[${ids[2]},99\\] is not a value sealed for it`));
    // The next sweep keeps the day's totals again, the payment counted.
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
    expect(Number((await keptRow(0)).row_count)).to.equal(3);
    expect(await overview()).to.deep.equal({ totals: genuine, problems: [] });
  });

  it('names a payment of a kept day deleted in SQL, its history whole, when a payment of that day moves on through the gateway: the day keeps no totals until the row is back', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    const row = await copyRow(db(), 'payments', 'id = ?', [ids[0]]);
    await db().execute('DELETE FROM payments WHERE id = ?', [ids[0]]);
    // Another payment of the day fails later, through the store (older than the window a count waits for late commits).
    expect(await ctx.store().payments.update(ids[1], { state: 'FAILED', bank: 'bca' }, Date.now() - 11 * 60_000)).to.equal(true);
    const { daysCounted, logged } = await sweptLogging();
    await insertRow(db(), 'payments', row);
    expect(await overview()).to.deep.equal({ totals: await countedFromPayments(), problems: [] });
    expect(daysCounted).to.equal(0);
    const named = logged.find((l) => l.msg?.includes('are not among its payments') === true && l.day === days[0]);
    expect(named?.problem).to.equal(`payments id ${ids[0]}, created on ${days[0]} by its history, is not among that day's payments: it was deleted or moved in SQL, its history (last event seq 2, SUCCESS) does not end in its release`);
    expect(await db().query("SELECT day FROM reconciliation_seals WHERE account_tag = '*' AND day = ?", [dayNumber(0)])).to.deep.equal([]);
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
    expect(Number((await keptRow(0)).row_count)).to.equal(3);
    expect(await overview()).to.deep.equal({ totals: await countedFromPayments(), problems: [] });
  });

  it('never leaves a payment deleted in SQL out of kept totals when its reserve event was also moved out of its day for the count and put back after: the overview names the day, counts it from the payments, and the sweep counts it again', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    let clock = Date.now();
    const opened = new SqlPaymentSearchRepository(db(), TEST_AUDIT_KEYS, null, () => clock);
    // Payments of the third day: one deleted, its reserve event moved; another settled meanwhile.
    for (const [victim, settled, move] of [
      [ids[6], ids[5], { out: 'recorded_at = recorded_at - 50 * 86400000', back: 'recorded_at = recorded_at + 50 * 86400000', where: "cause = 'reserve'" }],
      [ids[7], ids[6], { out: "cause = 'update'", back: "cause = 'reserve'", where: 'seq = 1' }],
    ] as const) {
      const row = await copyRow(db(), 'payments', 'id = ?', [victim]);
      // Deleted, and its reserve event out of the day (moved to another day, or its cause changed), while a genuine settlement of the day has it counted again.
      await db().execute('DELETE FROM payments WHERE id = ?', [victim]);
      await db().execute(`UPDATE payment_events SET ${move.out} WHERE payment_id = ? AND ${move.where}`, [victim]);
      expect(await ctx.store().payments.update(settled, { state: 'FAILED', bank: 'bca' }, Date.now() - 11 * 60_000)).to.equal(true);
      const swept = await sweptLogging();
      expect(swept.daysCounted).to.equal(1);
      expect(Number((await keptRow(2)).row_count)).to.equal(3);
      // A console process opens the overview meanwhile: the day's reserve events are as many as kept.
      expect((await opened.dailyTotals(start, start + 3 * DAY)).integrityProblems).to.deep.equal([]);
      // Both put back as they were: the history holds again, audit verify finds nothing.
      await insertRow(db(), 'payments', row);
      await db().execute(`UPDATE payment_events SET ${move.back} WHERE payment_id = ? AND seq = 1`, [victim]);
      const genuine = await countedFromPayments();
      // The overview names the day, and counts it from the payments, the payment in it (before: kept totals without it, trusted and unnamed).
      const { result: read, logged } = await logging(() => overview());
      expect(read.totals).to.deep.equal(genuine);
      expect(read.problems).to.deep.equal([
        `reconciliation_seals row of the kept totals of day ${days[2]} was counted with 3 reserve events of its day, and there are 4: payments were created that day that its count did not find (their rows or events changed in SQL then), or reserve events were changed or deleted in SQL since`,
      ]);
      expect(logged.some((l) => l.level === 50 && l.day === days[2] && l.msg?.includes('other reserve events than counted') === true)).to.equal(true);
      // The process that found them as kept before they were put back: once RESERVES_HELD_MS went by, it names the day too.
      clock += RESERVES_HELD_MS;
      expect(await opened.dailyTotals(start, start + 3 * DAY)).to.deep.equal({ totals: genuine, integrityProblems: [{ day: days[2], kind: 'reserves', found: read.problems[0] }] });
      // The sweep counts it again, the payment counted: trusted, named no more.
      expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
      expect(Number((await keptRow(2)).row_count)).to.equal(4);
      expect(await overview()).to.deep.equal({ totals: genuine, problems: [] });
    }
    await opened.close();
  });

  it('never leaves a payment deleted in SQL out of kept totals when its reserve event, moved out of its day for the count, is put back while another counted payment\'s is moved out: as many reserve events as kept, the sweep names the day and counts it again', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    // Payments of the third day: one deleted, its reserve event's cause changed, while a genuine failure of the day has it counted again.
    const [victim, swapped, failed] = [ids[8], ids[5], ids[7]];
    const row = await copyRow(db(), 'payments', 'id = ?', [victim]);
    await db().execute('DELETE FROM payments WHERE id = ?', [victim]);
    await db().execute("UPDATE payment_events SET cause = 'update' WHERE payment_id = ? AND seq = 1", [victim]);
    expect(await ctx.store().payments.update(failed, { state: 'FAILED', bank: 'bca' }, Date.now() - 11 * 60_000)).to.equal(true);
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
    expect(Number((await keptRow(2)).row_count)).to.equal(3);
    // Put back, and another counted payment's reserve event moved out of the day in its place: the day's reserve events are as many as kept.
    await insertRow(db(), 'payments', row);
    await db().execute("UPDATE payment_events SET cause = 'reserve' WHERE payment_id = ? AND seq = 1", [victim]);
    await db().execute("UPDATE payment_events SET cause = 'update' WHERE payment_id = ? AND seq = 1", [swapped]);
    const genuine = await countedFromPayments();
    // The sweep names the day (at error level) and counts it from the payments, the victim in it (before: kept totals without it, trusted and unnamed).
    const { daysCounted, logged } = await sweptLogging();
    expect(daysCounted).to.equal(1);
    expect(logged.find((l) => l.level === 50 && l.day === days[2])?.problem).to.equal(
      `reconciliation_seals row of the kept totals of day ${days[2]} was counted with other reserve events of its day than there are now (as many, 3, but not the same events): payments were created that day that its count did not find (their rows or events changed in SQL then), or reserve events were changed or deleted in SQL since`,
    );
    expect(Number((await keptRow(2)).row_count)).to.equal(4);
    expect(await overview()).to.deep.equal({ totals: genuine, problems: [] });
    // The moved event put back: named by the count, the day counted again, as the others.
    await db().execute("UPDATE payment_events SET cause = 'reserve' WHERE payment_id = ? AND seq = 1", [swapped]);
    expect((await overview()).problems).to.have.length(1);
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
    expect(await overview()).to.deep.equal({ totals: await countedFromPayments(), problems: [] });
  });

  it('cannot make up for a payment left out of kept totals with a reserve event inserted in SQL, for a payment counted or for one released on another day: the day keeps no totals and the sweep names it', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    // A payment released through the gateway on a day of its own, long before.
    const released = await ctx.store().payments.reserve({ clientId: who, transactionId: 'TOT-PAD', requestHash: 'a'.repeat(64), amount: '6.00', currency: 'IDR', sourceAccount: newAccount() }, start - 60 * DAY);
    expect(await ctx.store().payments.release(released.id, null)).to.equal(true);
    const [victim, counted] = [ids[4], ids[3]];
    const [{ recorded_at: at }] = await db().query<{ recorded_at: number | string }>("SELECT recorded_at FROM payment_events WHERE payment_id = ? AND cause = 'reserve'", [victim]);
    for (const [padding, named] of [
      [counted, `payments id ${counted} has more than one reserve event on ${days[1]}: events were inserted or changed in SQL`],
      [released.id, `payments id ${released.id}, created on ${days[1]} by its history, is not among that day's payments; its history releases it, but its first event is not its reserve that day (it is its reserve recorded at ${new Date(start - 60 * DAY).toISOString()}): a reserve event was inserted or changed in SQL`],
    ] as const) {
      const row = await copyRow(db(), 'payments', 'id = ?', [victim]);
      // The second day counted again (an event of its own, no link, recorded long ago, not its payment's last) without the victim, whose reserve event is moved to another day,
      // and one more reserve event there, in its place, so the day's reserve events are as many after as before.
      await db().execute('DELETE FROM payments WHERE id = ?', [victim]);
      await db().execute("UPDATE payment_events SET recorded_at = recorded_at - 50 * 86400000 WHERE payment_id = ? AND cause = 'reserve'", [victim]);
      await db().execute("INSERT INTO payment_events (payment_id, seq, cause, state, recorded_at) VALUES (?, -1, 'update', 'SUCCESS', 1000)", [counted]);
      await db().execute("INSERT INTO payment_events (payment_id, seq, cause, state, recorded_at) VALUES (?, 0, 'reserve', 'RECEIVED', ?)", [padding, Number(at) + 1]);
      const { daysCounted, logged } = await sweptLogging();
      // All put back as it was, the inserted events deleted.
      await insertRow(db(), 'payments', row);
      await db().execute("UPDATE payment_events SET recorded_at = recorded_at + 50 * 86400000 WHERE payment_id = ? AND cause = 'reserve'", [victim]);
      await db().execute('DELETE FROM payment_events WHERE seq <= 0 AND payment_id IN (?, ?)', [counted, padding]);
      // The count kept nothing for the day, and named the event inserted: the overview counts it from the payments, the victim in it.
      expect(daysCounted).to.equal(0);
      expect(logged.find((l) => l.msg?.includes('are not among its payments') === true && l.day === days[1])?.problem).to.equal(named);
      expect(await db().query("SELECT day FROM reconciliation_seals WHERE account_tag = '*' AND day = ?", [dayNumber(1)])).to.deep.equal([]);
      expect(await overview()).to.deep.equal({ totals: await countedFromPayments(), problems: [] });
      expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
      expect(Number((await keptRow(1)).row_count)).to.equal(2);
      expect(await overview()).to.deep.equal({ totals: await countedFromPayments(), problems: [] });
    }
  });

  it('names kept totals counted up to a payment event id past the highest there is (events deleted, ids gone back), so a later settlement of their day is never hidden', async () => {
    // A payment of long before the swept days, with an event of a high id (inserted in SQL), while the sweep counts.
    const old = await ctx.store().payments.reserve({ clientId: who, transactionId: 'TOT-OLD', requestHash: 'a'.repeat(64), amount: '7.00', currency: 'IDR', sourceAccount: newAccount() }, start - 100 * DAY);
    await db().execute('DELETE FROM reconciliation_seals WHERE account_tag = ? AND day >= ? AND day <= ?', ['*', dayNumber(0), dayNumber(2)]);
    await db().execute("INSERT INTO payment_events (id, payment_id, seq, cause, state, recorded_at) VALUES (1000000000, ?, 99, 'update', 'RECEIVED', 1000)", [old.id]);
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.be.at.least(3);
    expect(String((await keptRow(1)).totals)).to.contain('"events":1000000000');
    // The event deleted and the ids set back: a settlement of the second day gets a lower id.
    await db().execute('DELETE FROM payment_events WHERE id = 1000000000');
    if (ctx.backend === 'sqlite') await db().execute("UPDATE sqlite_sequence SET seq = (SELECT MAX(id) FROM payment_events) WHERE name = 'payment_events'");
    else await db().execute('ALTER TABLE payment_events AUTO_INCREMENT = 1');
    expect(await ctx.store().payments.update(ids[4], { state: 'SUCCESS', bank: 'bca' }, Date.now() - 11 * 60_000)).to.equal(true);
    const [{ top }] = await db().query<{ top: number | string }>('SELECT MAX(id) AS top FROM payment_events');
    expect(Number(top)).to.be.below(1_000_000_000);
    const read = await overview();
    expect(read.totals).to.deep.equal(await countedFromPayments());
    expect(read.totals).to.deep.include({ day: days[1], state: 'SUCCESS', count: 2, totalMinor: 40_150n });
    expect(read.problems).to.include(`reconciliation_seals row of the kept totals of day ${days[1]} was counted up to payment event id 1000000000, past the highest there is (${Number(top)}): payment events were deleted or their ids went back`);
    // The sweep counts those days again up to the ids there are: trusted again.
    expect((await ctx.store().paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.be.at.least(3);
    expect(await overview()).to.deep.equal({ totals: await countedFromPayments(), problems: [] });
  });

  it('in a process started after more payment events than an opening reads, the sweep reads them all and counts none of the days again (none of the events is theirs)', async () => {
    await ctx.store().paymentSearch.sealClosedDays(sweepAt);
    // 20,001 events of a payment of another day (in SQL: what a busy gateway appends in hours).
    const busy = await ctx.store().payments.reserve({ clientId: who, transactionId: 'TOT-BUSY', requestHash: 'a'.repeat(64), amount: '9.00', currency: 'IDR', sourceAccount: newAccount() }, start - 100 * DAY);
    for (let first = 0; first < 20_001; first += 1_000) {
      const values = Array.from({ length: Math.min(1_000, 20_001 - first) }, (_, k) => `(${busy.id}, ${1_000 + first + k}, 'update', 'RECEIVED', 1000)`);
      await db().execute(`INSERT INTO payment_events (payment_id, seq, cause, state, recorded_at) VALUES ${values.join(', ')}`);
    }
    // An opening of a fresh process reads no more than 20,000 of them: it counts the days from the payments.
    const { db: recorded, statements } = recordingStatements(db());
    expect((await new SqlPaymentSearchRepository(recorded, TEST_AUDIT_KEYS).dailyTotals(start, start + 3 * DAY)).totals).to.deep.equal(await countedFromPayments());
    expect(statements()).to.include('SELECT payments');
    // The sweep of a fresh process reads them all: no day proved and counted again.
    const fresh = chainsWhole(await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS }));
    try {
      expect((await fresh.paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(0);
    } finally {
      await fresh.close();
    }
  });

  // Last: its release is recorded now, so later sweeps count its day again (SEAL_AFTER_EVENT_MS).
  it('keeps the totals of a day with a payment released through the gateway: its row deleted with its release, it is in no figure', async () => {
    const released = await ctx.store().payments.reserve({ clientId: who, transactionId: 'TOT-RELEASED', requestHash: 'a'.repeat(64), amount: '5.00', currency: 'IDR', sourceAccount: newAccount() }, start + DAY + 20 * HOUR);
    expect(await ctx.store().payments.release(released.id, null)).to.equal(true);
    const { daysCounted, logged } = await sweptLogging();
    expect(daysCounted).to.be.at.least(1);
    expect(logged.filter((l) => l.msg?.includes('not kept') === true)).to.deep.equal([]);
    expect(Number((await keptRow(1)).row_count)).to.equal(2);
    expect(await overview()).to.deep.equal({ totals: await countedFromPayments(), problems: [] });
  });
});

forEachBackend('An attacker without keys against the kept day totals of a day of payments from before migration 024 (#16, #14)', (ctx) => {
  let database: { url: string; drop: () => Promise<void> };
  let store: Store | undefined;
  /** A closed Jakarta day three days back, and a sweep two hours after it closed its last month. */
  const start = Math.floor((Date.now() + 7 * HOUR) / DAY) * DAY - 7 * HOUR - 3 * DAY;
  const day = new Date(start + 7 * HOUR).toISOString().slice(0, 10);
  const sweepAt = Date.now() + 2 * HOUR;
  const ids: number[] = [];

  before(async function () {
    this.timeout(60_000);
    database = ctx.backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase(this);
    const legacy = openDb(database.url);
    try {
      // Three payments of that day as the gateway wrote them before 024 (no event), then the upgrade: 037 gives each its baseline.
      await migrateBelow(legacy, '024');
      for (let i = 0; i < 3; i += 1) {
        const fixed = { clientId: 'gbc_old', transactionId: `INV-DAY-${i}`, requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR', createdAt: start + (i + 1) * HOUR };
        const { keyId, mac } = paymentMac(TEST_AUDIT_KEYS, fixed);
        const { insertId } = await legacy.execute(
          "INSERT INTO payments (client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at, key_id, mac_key_id, mac) VALUES (?, ?, ?, 'SUCCESS', ?, 1000, ?, ?, ?, ?, ?, ?)",
          [fixed.clientId, fixed.transactionId, fixed.requestHash, fixed.amount, fixed.currency, fixed.createdAt, fixed.createdAt, TEST_AUDIT_KEYS.currentKeyId, keyId, mac],
        );
        ids.push(insertId);
      }
      await migrate(legacy, { keys: TEST_AUDIT_KEYS });
    } finally {
      await legacy.close();
    }
    store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
  });

  after(async () => {
    await store?.close();
    await database?.drop();
  });

  /** The overview's figures of the day as a console process that kept nothing reads them. */
  async function overview(): Promise<{ totals: unknown[]; problems: string[] }> {
    const search = new SqlPaymentSearchRepository(store!.db, TEST_AUDIT_KEYS, null, () => sweepAt);
    const found = await search.dailyTotals(start, start + DAY);
    await search.close();
    return { totals: found.totals, problems: found.integrityProblems.map((p) => p.found) };
  }

  it('never leaves a payment deleted in SQL out of kept totals: deleted while the sweep counts the day, then written back, the day keeps no totals, the sweep names the payment, and the overview counts it from the payments', async () => {
    const genuine = [{ day, state: 'SUCCESS', count: 3, totalMinor: 3000n }];
    expect(await overview()).to.deep.equal({ totals: genuine, problems: [] });
    const row = await copyRow(store!.db, 'payments', 'id = ?', [ids[1]]);
    await store!.db.execute('DELETE FROM payments WHERE id = ?', [ids[1]]);
    const logs = captureLogs();
    try {
      await store!.paymentSearch.sealClosedDays(sweepAt);
    } finally {
      logs.stop();
    }
    await insertRow(store!.db, 'payments', row);
    // Its baseline is dated the day it was made (its created_at), so the count that did not find it kept nothing and named it.
    const logged = logs.lines.map((l) => JSON.parse(l) as { msg?: string; problem?: string; day?: string });
    expect(logged.find((l) => l.msg?.includes('are not among its payments') === true && l.day === day)?.problem).to.contain(`payments id ${ids[1]}, created on ${day} by its history, is not among that day's payments`);
    expect(await store!.db.query("SELECT day FROM reconciliation_seals WHERE account_tag = '*' AND day = ?", [Math.floor((start + 7 * HOUR) / DAY)])).to.deep.equal([]);
    expect(await overview()).to.deep.equal({ totals: genuine, problems: [] });
    // The next sweep keeps the day's totals, the payment counted.
    expect((await store!.paymentSearch.sealClosedDays(sweepAt)).daysCounted).to.equal(1);
    expect(await overview()).to.deep.equal({ totals: genuine, problems: [] });
  });
});
