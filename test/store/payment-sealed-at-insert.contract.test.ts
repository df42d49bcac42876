import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { IntegrityError } from '../../src/errors/index.js';
import { createStore, openStore, type Db, type NewPayment, type Queryable, type Store, type Transaction } from '../../src/store/index.js';
import { placeOf } from '../../src/security/index.js';
import { ringOf, TEST_AUDIT_KEY, TEST_AUDIT_KEYS, testKeySpec } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { recordingSessions } from '../support/counting-db.js';
import { forEachBackend } from '../support/databases.js';

const DAY = 86_400_000;

/** A payment with a paying account and details, the two values a reservation seals. */
const newPayment = (account: string, overrides: Partial<NewPayment> = {}): NewPayment => ({
  clientId: 'gbc_sealed',
  transactionId: `SEAL-${randomBytes(6).toString('hex')}`,
  requestHash: 'c'.repeat(64),
  amount: '2500.00',
  currency: 'IDR',
  sourceAccount: account,
  details: { sourceAccount: account, beneficiaryAccount: '0611104625', beneficiaryBankCode: 'BCA', beneficiaryName: 'Toko Sumber Rejeki', remark: 'INV 17', transferMethod: null },
  ...overrides,
});

type SealedColumns = { source_account: string | null; details_json: string | null; key_id: string | null };
const sealedOf = async (db: Db, id: number): Promise<SealedColumns> =>
  (await db.query<SealedColumns>('SELECT source_account, details_json, key_id FROM payments WHERE id = ?', [id]))[0];

/** The real database, every statement sent to it counted (on the Db itself and in its transactions and sessions). */
function countingDb(real: Db): { db: Db; statements: () => number } {
  let statements = 0;
  const counted = (q: Queryable): Queryable => ({
    dialect: q.dialect,
    query: (sql, params, options) => {
      statements += 1;
      return q.query(sql, params, options);
    },
    execute: (sql, params) => {
      statements += 1;
      return q.execute(sql, params);
    },
    executeAll: (all) => {
      statements += all.length;
      return q.executeAll(all);
    },
  });
  const countedTx = (tx: Transaction): Transaction => ({
    ...counted(tx),
    commitWith: (all) => {
      statements += all.length;
      return tx.commitWith(all);
    },
  });
  const db = Object.create(real) as Db;
  db.query = counted(real).query;
  db.execute = counted(real).execute;
  db.withTransaction = (fn) => real.withTransaction((tx) => fn(countedTx(tx)));
  db.session = () => {
    const session = real.session();
    return { run: (fn) => session.run((tx) => fn(countedTx(tx))) };
  };
  db.close = async () => undefined;
  return { db, statements: () => statements };
}

forEachBackend('Payments sealed in their INSERT (GERBANG_SEAL_PAYMENTS_AT_INSERT)', (ctx) => {
  /** A second process on the same database that writes the one-INSERT form. */
  let atInsert: Store;

  before(async () => {
    atInsert = await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
  });

  after(async () => {
    await atInsert.close();
  });

  it('writes the account and details sealed in the INSERT (gcm3), and both forms read alike in either process', async () => {
    const byUpdate = await ctx.store().payments.reserve(newPayment('0201245680'), 1_000);
    const inInsert = await atInsert.payments.reserve(newPayment('0201245680'), 2_000);
    expect((await sealedOf(ctx.store().db, byUpdate.id)).source_account).to.match(/^gcm2\./);
    const stored = await sealedOf(ctx.store().db, inInsert.id);
    expect(stored.source_account).to.match(/^gcm3\./);
    expect(stored.details_json).to.match(/^gcm3\./);
    expect(stored.key_id).to.equal(TEST_AUDIT_KEYS.currentKeyId);
    for (const store of [ctx.store(), atInsert]) {
      for (const reserved of [byUpdate, inInsert]) {
        const found = await store.payments.find(reserved.clientId, reserved.transactionId);
        expect(found).to.deep.equal(reserved);
        expect(found?.sourceAccount).to.equal('0201245680');
        expect(found?.details?.beneficiaryName).to.equal('Toko Sumber Rejeki');
        // The console's detail and list open them too, marking nothing.
        const detail = await store.paymentSearch.findById(reserved.id);
        expect(detail?.details?.remark).to.equal('INV 17');
        expect(detail?.integrityProblem).to.equal(undefined);
      }
      const page = await store.paymentSearch.page({ clientId: 'gbc_sealed', text: 'sumber rejeki' }, 'oldest', null, 50);
      expect(page.rows.map((p) => p.id)).to.include.members([byUpdate.id, inInsert.id]);
      expect(page.rows.filter((p) => p.integrityProblem !== undefined)).to.deep.equal([]);
    }
    // A payment's later answer is sealed for its id as before, beside the values of its INSERT.
    await atInsert.payments.update(inInsert.id, { resultJson: '{"ok":true}' }, 3_000);
    const answered = await ctx.store().payments.findById(inInsert.id);
    expect(answered).to.include({ resultJson: '{"ok":true}', sourceAccount: '0201245680' });
  });

  it('costs the reservation one statement less than sealing by an UPDATE after the INSERT', async () => {
    const count = async (sealPaymentsAtInsert: boolean) => {
      const { db, statements } = countingDb(ctx.store().db);
      const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert });
      await store.payments.reserve(newPayment('0201245699'), 4_000);
      return statements();
    };
    const byUpdate = await count(false);
    const inInsert = await count(true);
    expect(inInsert).to.equal(byUpdate - 1);
  });

  it('sends the UPDATE that seals a reservation by its id with its links and COMMIT: no round trip of its own', async () => {
    const { db, calls } = recordingSessions(ctx.store().db);
    const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: false });
    const reserved = await store.payments.reserve(newPayment('0201245677'), 5_000);
    expect(calls()).to.deep.equal([['INSERT payments', 'INSERT payment_events'], ['UPDATE payments', 'INSERT payment_search_grams', 'INSERT audit_chain', 'UPDATE audit_writers', 'COMMIT']]);
    expect((await sealedOf(ctx.store().db, reserved.id)).source_account).to.match(/^gcm2\./);
    const found = await ctx.store().payments.find(reserved.clientId, reserved.transactionId);
    expect(found).to.deep.equal(reserved);
    expect(found?.details?.beneficiaryName).to.equal('Toko Sumber Rejeki');
  });

  it('reconciles an account whose payments hold both forms, each opened for its own place', async () => {
    const start = Date.UTC(2033, 4, 1, 2);
    const account = '0201245644';
    const old = await ctx.store().payments.reserve(newPayment(account), start + 1);
    const fresh = await atInsert.payments.reserve(newPayment(account), start + 2);
    expect([(await sealedOf(ctx.store().db, old.id)).source_account?.slice(0, 5), (await sealedOf(ctx.store().db, fresh.id)).source_account?.slice(0, 5)]).to.deep.equal(['gcm2.', 'gcm3.']);
    for (const store of [ctx.store(), atInsert]) {
      const found = await store.paymentSearch.fromAccount(account, start, start + DAY);
      expect(found.rows.map((p) => [p.id, p.sourceAccount, p.integrityProblem])).to.deep.equal([
        [old.id, account, undefined],
        [fresh.id, account, undefined],
      ]);
    }
  });

  describe('when the format of a sealed value is changed in SQL', () => {
    for (const [from, to] of [['gcm3', 'gcm2'], ['gcm2', 'gcm3']] as const) {
      it(`refuses a ${from} value relabelled ${to}: AUDIT_INTEGRITY naming it, never opened for the other place`, async () => {
        const store = from === 'gcm3' ? atInsert : ctx.store();
        const reserved = await store.payments.reserve(newPayment('0201245611'), 5_000);
        const { db } = ctx.store();
        const stored = await sealedOf(db, reserved.id);
        expect(stored.source_account?.startsWith(`${from}.`)).to.equal(true);
        await db.execute('UPDATE payments SET source_account = ? WHERE id = ?', [`${to}${stored.source_account?.slice(4)}`, reserved.id]);
        for (const reader of [ctx.store(), atInsert]) {
          const error = await reader.payments.find(reserved.clientId, reserved.transactionId).then(() => null, (e: unknown) => e);
          expect(error).to.be.instanceOf(IntegrityError);
          expect((error as IntegrityError).where).to.contain(`payments.source_account of row [${reserved.id}]`);
          // The console marks it as changed outside Gerbang instead of showing it.
          const detail = await reader.paymentSearch.findById(reserved.id);
          expect(detail?.sourceAccount).to.equal(null);
          expect(detail?.integrityProblem).to.contain(`payments.source_account of row [${reserved.id}]`);
        }
        const report = await ctx.store().audit.verify();
        expect(report.breaks.map((b) => b.detail).join('\n')).to.contain(`payments.source_account of row [${reserved.id}]`);
        await db.execute('DELETE FROM payments WHERE id = ?', [reserved.id]);
      });
    }
  });

  describe('keys seal-payments-by-id (before rolling back to a release that reads gcm2 only)', () => {
    it('seals every payment sealed in its INSERT again for its id, as the earlier release opens it, and this one still does', async function () {
      this.timeout(60_000);
      const fresh = [await atInsert.payments.reserve(newPayment('0201245633'), 6_000), await atInsert.payments.reserve(newPayment('0201245633'), 6_001)];
      const old = await ctx.store().payments.reserve(newPayment('0201245633'), 6_002);
      const oldStored = await sealedOf(ctx.store().db, old.id);
      const run = await runCli(['keys', 'seal-payments-by-id', '--batch-size', '1'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^keys seal-payments-by-id: \d+ payments sealed again for their id/);
      const [{ n }] = await ctx.store().db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM payments WHERE source_account LIKE 'gcm3.%' OR details_json LIKE 'gcm3.%'");
      expect(Number(n)).to.equal(0);
      for (const reserved of fresh) {
        const stored = await sealedOf(ctx.store().db, reserved.id);
        // What a release that knows gcm2 only does: open it for the payment's id.
        expect(TEST_AUDIT_KEYS.decrypt(stored.source_account as string, placeOf('payments', 'source_account', [reserved.id]))).to.equal('0201245633');
        expect(JSON.parse(TEST_AUDIT_KEYS.decrypt(stored.details_json as string, placeOf('payments', 'details_json', [reserved.id])))).to.deep.equal(reserved.details);
        expect(await atInsert.payments.find(reserved.clientId, reserved.transactionId)).to.deep.equal(reserved);
      }
      expect(await sealedOf(ctx.store().db, old.id), 'a payment sealed for its id is left as it is').to.deep.equal(oldStored);
    });
  });

  // Last: it leaves the database under another key.
  describe('keys rotate', () => {
    it('`keys rotate` re-seals a mix of both forms under the newest key, each in its own form, readable once the old key is retired', async () => {
      const start = Date.UTC(2034, 0, 1);
      const old = await ctx.store().payments.reserve(newPayment('0201245622'), start);
      const fresh = await atInsert.payments.reserve(newPayment('0201245622'), start + 1);
      const newKey = testKeySpec('mix-new');
      const both = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY, newKey) });
      try {
        await both.keyRotation.rotate({ batchSize: 1 });
      } finally {
        await both.close();
      }
      const newOnly = await openStore(ctx.url(), { auditKeys: ringOf(newKey) });
      try {
        const rotatedOld = await sealedOf(newOnly.db, old.id);
        const rotatedFresh = await sealedOf(newOnly.db, fresh.id);
        expect([rotatedOld.source_account, rotatedOld.details_json]).to.satisfy((v: string[]) => v.every((s) => s.startsWith('gcm2.mix-new.')));
        expect([rotatedFresh.source_account, rotatedFresh.details_json]).to.satisfy((v: string[]) => v.every((s) => s.startsWith('gcm3.mix-new.')));
        expect([rotatedOld.key_id, rotatedFresh.key_id]).to.deep.equal(['mix-new', 'mix-new']);
        for (const reserved of [old, fresh]) {
          const found = await newOnly.payments.findById(reserved.id);
          expect(found).to.include({ sourceAccount: '0201245622' });
          expect(found?.details?.remark).to.equal('INV 17');
        }
        const reconciled = await newOnly.paymentSearch.fromAccount('0201245622', start, start + DAY);
        expect(reconciled.rows.map((p) => [p.id, p.integrityProblem])).to.deep.equal([
          [old.id, undefined],
          [fresh.id, undefined],
        ]);
      } finally {
        await newOnly.close();
      }
    });
  });
});

describe('A release that does not know gcm3 (the ring opens gcm2 only)', () => {
  it('refuses the value as not sealed for its place, naming the setting, instead of misreading it', () => {
    // What a reader of the earlier release does: decrypt(value, aad) expecting gcm2.
    const sealed = TEST_AUDIT_KEYS.encrypt('0201245680', 'somewhere', 'gcm3');
    expect(() => TEST_AUDIT_KEYS.decrypt(sealed, 'somewhere')).to.throw(/not a sealed value \(format gcm2\)/);
    expect(TEST_AUDIT_KEYS.decrypt(sealed, 'somewhere', 'gcm3')).to.equal('0201245680');
  });
});
