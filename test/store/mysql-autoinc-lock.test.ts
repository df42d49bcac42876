import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createStore, type Db } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { migratedMariaDb } from '../support/databases.js';

/**
 * Under InnoDB's innodb_autoinc_lock_mode 1 (MariaDB's default) an INSERT … SELECT holds the
 * table's auto-increment lock for its whole statement, also while it waits on a row lock, and every
 * other INSERT into that table fails meanwhile (1467 "Failed to read auto-increment value"). The
 * payment's event sent after the bank, which waits for the row locks of its place like any insert,
 * must not be such an INSERT.
 */
describe('MySQL store: the payment event sent after the bank, while it waits on a row lock (MariaDB)', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof migratedMariaDb>> | undefined;
  let db: Db;

  before(async function () {
    database = await migratedMariaDb(this);
    db = database.db;
  });

  after(async () => {
    await database?.close();
  });

  const newPayment = (sending: boolean) => ({
    clientId: 'gbc_lock',
    transactionId: `INV-${randomBytes(6).toString('hex')}`,
    requestHash: 'c'.repeat(64),
    amount: '10.00',
    currency: 'IDR',
    ...(sending ? { sending: { bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000044', bankTransactionDate: '2026-12-05' } } : {}),
  });

  it('lets another payment\'s event be inserted meanwhile, and is written once the lock is released', async () => {
    const [{ mode }] = await db.query<{ mode: number | string }>('SELECT @@innodb_autoinc_lock_mode AS mode');
    expect(Number(mode), 'this test needs the server at innodb_autoinc_lock_mode 1').to.equal(1);
    const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
    const sent = await store.payments.reserve(newPayment(true), 1);
    // A later payment: its first event (the next key of the index after the sent payment's) bounds the gap where the sent payment's event 2 goes.
    const later = await store.payments.reserve(newPayment(false), 1);

    // A: a transaction that meets the later payment's event as a duplicate, which takes a shared lock on it and the gap before it, and holds it.
    let releaseA!: () => void;
    let aLocked!: () => void;
    const locked = new Promise<void>((resolve) => (aLocked = resolve));
    const a = db.withTransaction(async (tx) => {
      const inserted = await tx.execute('INSERT IGNORE INTO payment_events (payment_id, seq, cause, state, recorded_at) VALUES (?, 1, ?, ?, 1)', [later.id, 'reserve', 'RECEIVED']);
      expect(inserted.affectedRows).to.equal(0);
      aLocked();
      await new Promise<void>((resolve) => (releaseA = resolve));
    });
    await locked;

    // B: the outcome of the sent payment, its event (payment, 2) in A's gap: it waits.
    const b = store.payments.storeSendOutcome(sent.id, { state: 'SUCCESS', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 3, sent);
    const waiting = async () =>
      (await db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = DATABASE() AND command = 'Query' AND info LIKE 'INSERT IGNORE INTO payment_events%'"))[0].n;
    for (let i = 0; i < 100 && Number(await waiting()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(Number(await waiting()), 'the outcome waits on A').to.equal(1);

    // C: another payment reserved meanwhile, its event inserted at the end of the index: at once (an INSERT … SELECT waiting here would hold it until its lock wait timeout).
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 5_000)));
    const other = await Promise.race([store.payments.reserve(newPayment(false), 4), late]).finally(() => {
      clearTimeout(timer);
      releaseA();
    });
    expect(other === 'late' ? other : other.eventSeq, 'another payment reserved meanwhile').to.equal(1);

    await a;
    expect(await b).to.equal(true);
    const events = await db.query<{ seq: number | string; cause: string }>('SELECT seq, cause FROM payment_events WHERE payment_id = ? ORDER BY seq', [sent.id]);
    expect(events.map((e) => [Number(e.seq), e.cause])).to.deep.equal([[1, 'reserve'], [2, 'send']]);
    expect((await store.audit.verify()).breaks).to.deep.equal([]);
  });
});
