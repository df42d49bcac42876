import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { IntegrityError } from '../../src/errors/index.js';
import { SqlAuditRepository, SqlPaymentSearchRepository } from '../../src/store/repositories/index.js';
import { proofDigestSql } from '../../src/store/repositories/payment-search-repository.js';
import { RESERVES_HELD_MS, sealedLineSql } from '../../src/store/repositories/reconciliation-seals.js';
import { trigramsOf } from '../../src/store/repositories/payment-search-grams.js';
import type { Db, PaymentCursor, PaymentRecord, PaymentSearch, PaymentSort, SqlValue, Store } from '../../src/store/types.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { forEachBackend } from '../support/databases.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Walks every page of a search, as the console's list and export do. */
async function allPages(store: Store, search: PaymentSearch, sort: PaymentSort, size: number): Promise<PaymentRecord[]> {
  const out: PaymentRecord[] = [];
  let cursor: PaymentCursor | null = null;
  do {
    const page = await store.paymentSearch.page(search, sort, cursor, size);
    expect(page.rows.length).to.be.at.most(size);
    out.push(...page.rows);
    cursor = page.next;
  } while (cursor);
  return out;
}

/**
 * A Db that notes each query it is asked (as sent), then asks `db`: to plan a repository's own
 * statements. `sentAt` and `answeredAt` place each sending and answer in one count, so statements
 * sent together (each sent before the first of them is answered) can be told from ones in turn.
 */
function recording(db: Db, sent: { sql: string; params: SqlValue[]; rows?: Record<string, unknown>[]; sentAt?: number; answeredAt?: number }[]): Db {
  let events = 0;
  return new Proxy(db, {
    get: (target, name) =>
      name === 'query'
        ? async (sql: string, params: SqlValue[] = [], options?: unknown) => {
            const entry: (typeof sent)[number] = { sql, params, sentAt: events++ };
            sent.push(entry);
            const rows = await target.query<Record<string, unknown>>(sql, params, options as never);
            entry.rows = rows;
            entry.answeredAt = events++;
            return rows;
          }
        : Reflect.get(target, name),
  });
}

/**
 * The reconciliation's reads of its spans among `reads` (in the order sent), each span's slices
 * joined: on MariaDB a span is read in four statements sent together (readSpan), on SQLite in one.
 */
function spansOf<T>(backend: string, reads: readonly T[]): T[][] {
  const per = backend === 'sqlite' ? 1 : 4;
  return Array.from({ length: Math.ceil(reads.length / per) }, (_, i) => reads.slice(i * per, (i + 1) * per));
}

/** The database's own plan of `sql`: MariaDB's EXPLAIN FORMAT=JSON, or SQLite's EXPLAIN QUERY PLAN steps joined. */
async function planOf(store: Store, backend: string, sql: string, params: SqlValue[]): Promise<string> {
  if (backend === 'sqlite') return (await store.db.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((p) => p.detail).join(' | ');
  const [row] = await store.db.query<{ EXPLAIN: string }>(`EXPLAIN FORMAT=JSON ${sql}`, params);
  return row.EXPLAIN;
}

/** Payments of client `who`, each paid from its account at its time, as the gateway reserves them. */
async function reservedFrom(store: Store, who: string, payments: readonly (readonly [tx: string, account: string, at: number])[]): Promise<void> {
  for (const [tx, account, at] of payments) {
    await store.payments.reserve({ clientId: who, transactionId: tx, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: account }, at);
  }
}

/**
 * Payments `<prefix>-0`, `<prefix>-1`, … of a new client and account, three a day over `days`
 * closed days from `start` (a Jakarta midnight), proved and sealed by the store's own reading.
 */
async function sealedThreeADay(store: Store, prefix: string, start: number, days: number): Promise<{ who: string; account: string }> {
  const who = `${prefix.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  const account = `02${parseInt(randomBytes(4).toString('hex'), 16).toString().padStart(10, '0').slice(0, 10)}`;
  for (let i = 0; i < 3 * days; i += 1) {
    await store.payments.reserve({ clientId: who, transactionId: `${prefix}-${i}`, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: account }, start + i * (DAY / 3) + 60_000);
  }
  await store.paymentSearch.fromAccount(account, start, start + days * DAY);
  return { who, account };
}

/** As an attacker with the database but no key: payment `from`'s sealed account and tag copied onto payment `to`. */
async function copySealedAccount(store: Store, who: string, from: string, to: string): Promise<void> {
  await store.db.execute(
    'UPDATE payments SET source_account_tag = (SELECT t FROM (SELECT source_account_tag AS t FROM payments WHERE client_id = ? AND transaction_id = ?) o), ' +
      'source_account = (SELECT a FROM (SELECT source_account AS a FROM payments WHERE client_id = ? AND transaction_id = ?) o) WHERE client_id = ? AND transaction_id = ?',
    [who, from, who, from, who, to],
  );
}

/** The reconciliation's read refused: a sealed account that does not open for its row. */
async function expectRefusedSealedAccount(read: Promise<unknown>): Promise<void> {
  let refused: unknown = null;
  await read.catch((error: unknown) => (refused = error));
  expect(refused).to.be.instanceOf(IntegrityError);
  expect((refused as IntegrityError).where).to.contain('payments.source_account').and.to.contain('not a value sealed for it');
}

forEachBackend('Payment search (console list)', (ctx) => {
  const client = `c-${randomBytes(4).toString('hex')}`;
  const base = Date.UTC(2026, 10, 10, 3, 0, 0);
  const made: { id: number; at: number; amount: string; state: string; tx: string }[] = [];

  before(async () => {
    const store = ctx.store();
    // 23 payments over 5 days, several sharing a timestamp and an amount, so ties must be broken by id.
    for (let i = 0; i < 23; i += 1) {
      const at = base + Math.floor(i / 5) * DAY + (i % 2) * 1000;
      const amount = `${(i % 4) * 1000 + 500}.00`;
      const tx = `SRCH-${i}`;
      const p = await store.payments.reserve({ clientId: client, transactionId: tx, requestHash: 'h'.repeat(64), amount, currency: 'IDR' }, at);
      const state = i % 3 === 0 ? 'FAILED' : 'SUCCESS';
      await store.payments.update(p.id, { state, bank: i % 5 === 0 ? 'bni' : 'bca', bankReference: `R${i}` }, at);
      made.push({ id: p.id, at, amount, state, tx });
    }
  });

  it('pages through every match exactly once, in order, for each sort', async () => {
    const store = ctx.store();
    const newest = await allPages(store, { clientId: client }, 'newest', 4);
    expect(newest.map((p) => p.id)).to.deep.equal([...made].sort((a, b) => b.at - a.at || b.id - a.id).map((p) => p.id));
    const oldest = await allPages(store, { clientId: client }, 'oldest', 5);
    expect(oldest.map((p) => p.id)).to.deep.equal([...made].sort((a, b) => a.at - b.at || a.id - b.id).map((p) => p.id));
    const minor = (s: string) => Number(s.replace('.', ''));
    const largest = await allPages(store, { clientId: client }, 'largest', 3);
    expect(largest.map((p) => p.id)).to.deep.equal([...made].sort((a, b) => minor(b.amount) - minor(a.amount) || b.id - a.id).map((p) => p.id));
    const smallest = await allPages(store, { clientId: client }, 'smallest', 7);
    expect(smallest.map((p) => p.id)).to.deep.equal([...made].sort((a, b) => minor(a.amount) - minor(b.amount) || a.id - b.id).map((p) => p.id));
  });

  it('applies every filter together', async () => {
    const store = ctx.store();
    const search: PaymentSearch = { clientId: client, from: base + DAY, to: base + 3 * DAY, state: 'SUCCESS', bank: 'bca', minAmountMinor: 100_000n, maxAmountMinor: 300_000n };
    const expected = made
      .filter((p) => p.at >= base + DAY && p.at < base + 3 * DAY && p.state === 'SUCCESS' && !['SRCH-5', 'SRCH-10', 'SRCH-15', 'SRCH-20'].includes(p.tx))
      .filter((p) => Number(p.amount.replace('.', '')) >= 100_000 && Number(p.amount.replace('.', '')) <= 300_000)
      .map((p) => p.tx)
      .sort();
    const found = (await allPages(store, search, 'newest', 50)).map((p) => p.transactionId).sort();
    expect(found).to.deep.equal(expected);
    expect(found.length).to.be.greaterThan(0);
    expect((await store.paymentSearch.page({ transactionId: 'SRCH-7' }, 'newest', null, 10)).rows.map((p) => p.transactionId)).to.deep.equal(['SRCH-7']);
    expect((await store.paymentSearch.page({ bankReference: 'R8' }, 'newest', null, 10)).rows.map((p) => p.transactionId)).to.deep.equal(['SRCH-8']);
  });

  it('sums each UTC+7 day by state, exactly in minor units', async () => {
    const { totals } = await ctx.store().paymentSearch.dailyTotals(base, base + 5 * DAY);
    const first = totals.filter((t) => t.day === '2026-11-10');
    // Day one holds SRCH-0..4: FAILED 0 and 3; SUCCESS 1, 2, 4.
    expect(first.find((t) => t.state === 'FAILED')).to.deep.include({ count: 2, totalMinor: 50_000n + 350_000n });
    expect(first.find((t) => t.state === 'SUCCESS')).to.deep.include({ count: 3, totalMinor: 150_000n + 250_000n + 50_000n });
  });

  it('sums each day and state over a range of an index alone, nothing grouped row by row, Jakarta midnight splitting the days', async () => {
    const store = ctx.store();
    const who = `day-${randomBytes(4).toString('hex')}`;
    // Midnight in Jakarta (17:00 UTC): one payment a millisecond before it, two after.
    const midnight = Date.UTC(2031, 5, 9, 17, 0, 0);
    for (const [tx, at, amount] of [['DAY-1', midnight - 1, '10.00'], ['DAY-2', midnight, '20.00'], ['DAY-3', midnight + 3_600_000, '30.05']] as const) {
      await store.payments.reserve({ clientId: who, transactionId: tx, requestHash: 'a'.repeat(64), amount, currency: 'IDR' }, at);
    }
    const sent: { sql: string; params: SqlValue[] }[] = [];
    const { totals } = await new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS).dailyTotals(midnight - DAY, midnight + DAY);
    expect(totals).to.deep.equal([
      { day: '2031-06-09', state: 'RECEIVED', count: 1, totalMinor: 1_000n },
      { day: '2031-06-10', state: 'RECEIVED', count: 2, totalMinor: 5_005n },
    ]);
    expect(sent).to.have.length.greaterThan(0);
    // Either index of state, created_at and amount_minor holds all a part reads; none sorts or groups in a temporary table.
    const covering = /^ix_payments_(state_created|created_state)_amount$/;
    for (const { sql, params } of sent) {
      const plan = await planOf(store, ctx.backend, sql, params);
      if (ctx.backend === 'sqlite') {
        expect(plan).to.match(/COVERING INDEX ix_payments_(state_created|created_state)_amount/).and.not.to.match(/TEMP B-TREE/);
      } else {
        const tables: { key?: string; using_index?: boolean }[] = [];
        JSON.parse(plan, (name, value: unknown) => (name === 'table' && tables.push(value as (typeof tables)[number]), value));
        expect(tables).to.have.length(12); // a day, split at midnight: two days of six states
        for (const table of tables) expect(table.using_index === true && covering.test(table.key ?? ''), JSON.stringify(table)).to.equal(true);
        expect(plan).not.to.match(/"filesort"|"temporary_table"/);
      }
    }
  });

  it('walks a client and status filter, with dates, from ix_payments_client_state_created alone in the page\'s order (migration 043): no row opened to test the state', async () => {
    const store = ctx.store();
    const who = `cs-${randomBytes(4).toString('hex')}`;
    const start = Date.UTC(2031, 7, 3, 1, 0, 0);
    for (let i = 0; i < 6; i += 1) {
      const p = await store.payments.reserve({ clientId: who, transactionId: `CS-${i}`, requestHash: 'a'.repeat(64), amount: '100.00', currency: 'IDR' }, start + i * HOUR);
      if (i % 2 === 0) await store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca' }, start + i * HOUR + 1);
    }
    const sent: { sql: string; params: SqlValue[] }[] = [];
    const page = await new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS).page({ clientId: who, state: 'SUCCESS', from: start, to: start + DAY }, 'newest', null, 50);
    expect(page.rows.map((p) => p.transactionId)).to.deep.equal(['CS-4', 'CS-2', 'CS-0']);
    // The walk past the totals' bound (`LIMIT 1 OFFSET …`), as the database plans it.
    const walk = sent.find(({ sql }) => /^SELECT id FROM payments WHERE .* OFFSET \d+$/.test(sql));
    expect(walk, sent.map(({ sql }) => sql).join('\n')).to.not.equal(undefined);
    const plan = await planOf(store, ctx.backend, walk!.sql, walk!.params);
    if (ctx.backend === 'sqlite') expect(plan).to.match(/COVERING INDEX ix_payments_client_state_created/).and.not.to.match(/TEMP B-TREE/);
    else {
      const [step] = (JSON.parse(plan) as { query_block: { nested_loop: { table?: { key: string; using_index?: boolean } }[] } }).query_block.nested_loop;
      expect({ key: step.table?.key, indexOnly: step.table?.using_index ?? false }, plan).to.deep.equal({ key: 'ix_payments_client_state_created', indexOnly: true });
      expect(plan).not.to.match(/filesort|temporary/);
    }
  });

  it('bounds a text search\'s date range by the lowest and highest id of each of its days, two dives of ix_payments_created_day a day (migration 046): no range of a created_at index walked', async () => {
    const store = ctx.store();
    const who = `cd-${randomBytes(4).toString('hex')}`;
    // A Jakarta midnight, three days with payments and a fourth without; the third day's written
    // first (a clock behind): its id is below the others'.
    const start = Date.UTC(2031, 8, 3) - 7 * HOUR;
    const written: number[] = [];
    for (const [i, at] of [start + 2 * DAY + HOUR, start + HOUR, start + DAY + HOUR, start + 2 * DAY + 2 * HOUR].entries()) {
      const details = { sourceAccount: '0201245680', beneficiaryAccount: '0201245681', beneficiaryBankCode: '014', beneficiaryName: 'PT Hari Raya', remark: `Invoice HARI-${i}`, transferMethod: null };
      written.push((await store.payments.reserve({ clientId: who, transactionId: `CD-${i}`, requestHash: 'h'.repeat(64), amount: '100.00', currency: 'IDR', details }, at)).id);
    }
    const sent: { sql: string; params: SqlValue[]; rows?: Record<string, unknown>[] }[] = [];
    const page = await new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS).page({ clientId: who, text: 'hari raya', from: start, to: start + 4 * DAY }, 'oldest', null, 10);
    expect(page.rows.map((p) => p.transactionId)).to.deep.equal(['CD-1', 'CD-2', 'CD-0', 'CD-3']);
    // The bounds' read: one statement for the four days, each day by equality, its lowest and highest id.
    const bounds = sent.filter(({ sql }) => /MIN\(id\)/.test(sql) && !sql.includes('payment_search_grams'));
    expect(bounds.map(({ sql }) => sql.includes('COUNT(')), bounds.map(({ sql }) => sql).join('\n')).to.deep.equal([false]);
    const first = Math.floor((start + 7 * HOUR) / DAY);
    expect(bounds[0].params.map(Number)).to.deep.equal([first, first, first + 1, first + 1, first + 2, first + 2, first + 3, first + 3]);
    const [lo, hi] = [Math.min(...written), Math.max(...written)];
    const days = (bounds[0].rows ?? []).map((row) => [row.lo === null ? null : Number(row.lo), row.hi === null ? null : Number(row.hi)]);
    expect(days).to.deep.equal([[written[1], written[1]], [written[2], written[2]], [Math.min(written[0], written[3]), Math.max(written[0], written[3])], [null, null]]);
    expect(Math.min(...days.flat().filter((id): id is number => id !== null))).to.equal(lo);
    expect(Math.max(...days.flat().filter((id): id is number => id !== null))).to.equal(hi);
    const plan = await planOf(store, ctx.backend, bounds[0].sql, bounds[0].params);
    if (ctx.backend === 'sqlite') {
      const reads = plan.split(' | ').filter((step) => /payments/.test(step));
      expect(reads, plan).to.have.length(8);
      for (const step of reads) expect(step, plan).to.match(/^SEARCH payments USING COVERING INDEX ix_payments_created_day \(<expr>=\?\)$/);
    } else {
      // Each day's MIN and MAX read from the index's ends at the optimisation (no table read, no range walked).
      const messages = [...plan.matchAll(/"message": "([^"]+)"/g)].map((m) => m[1]).filter((m) => m !== 'No tables used');
      expect(messages, plan).to.have.length(8);
      for (const message of messages) expect(['Select tables optimized away', 'No matching min/max row'], plan).to.include(message);
      expect(plan).not.to.match(/"table_name"|"access_type"/);
    }
  });

  it('lists the banks that have payments', async () => {
    expect((await ctx.store().paymentSearch.banks()).map((p) => p.bank)).to.include.members(['bca', 'bni']);
  });

  it('gives each connection’s latest payment once, the later id of two written at one millisecond', async () => {
    const store = ctx.store();
    const who = `b-${randomBytes(4).toString('hex')}`;
    const connection = `conn-${randomBytes(3).toString('hex')}`;
    const at = Date.now();
    await reservedFrom(store, who, [
      ['first', '0201245680', at - HOUR],
      ['second', '0201245680', at],
      ['third', '0201245680', at],
    ]);
    for (const tx of ['first', 'second', 'third']) expect(await store.payments.update((await store.payments.find(who, tx))!.id, { bank: connection }, at)).to.equal(true);
    const latest = (await store.paymentSearch.banks()).filter((p) => p.bank === connection);
    expect(latest.map((p) => p.transactionId)).to.deep.equal(['third']);
  });

  it('finds the connections and their latest payments through ix_payments_bank_created_at, never reading every payment', async () => {
    const store = ctx.store();
    const sent: { sql: string; params: SqlValue[] }[] = [];
    await new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS).banks();
    const [connections, latest] = await Promise.all(sent.slice(0, 2).map((q) => planOf(store, ctx.backend, q.sql, q.params)));
    if (ctx.backend === 'sqlite') {
      expect(connections).to.match(/^SEARCH payments USING COVERING INDEX ix_payments_bank_created_at/);
      expect(latest).to.match(/SEARCH payments USING INDEX ix_payments_bank_created_at \(bank=\? AND created_at=\?\)/).and.not.to.match(/SCAN payments/);
    } else {
      expect(connections).to.match(/"key": "ix_payments_bank_created_at"/).and.to.match(/"using_index_for_group_by": true/);
      expect(latest).to.match(/"access_type": "range"/).and.to.match(/"key": "ix_payments_bank_created_at"/).and.not.to.match(/"access_type": "ALL"/);
    }
  });

  describe('text search over sealed names and remarks', () => {
    const who = `t-${randomBytes(4).toString('hex')}`;
    const other = `o-${randomBytes(4).toString('hex')}`;
    before(async () => {
      const store = ctx.store();
      const names = ['PT Sumber Makmur', 'CV Maju Jaya', 'PT Sumber Rejeki', 'Toko Abadi'];
      for (let i = 0; i < 4; i += 1) {
        const p = await store.payments.reserve(
          {
            clientId: who,
            transactionId: `TXT-${i}`,
            requestHash: 'h'.repeat(64),
            amount: `${(i + 1) * 100}.00`,
            currency: 'IDR',
            details: { sourceAccount: '0201245680', beneficiaryAccount: `020124568${i}`, beneficiaryBankCode: '014', beneficiaryName: names[i], remark: `Invoice INV-${i}`, transferMethod: null },
          },
          base + i,
        );
        await store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankReference: `REFX${i}`, bankTransactionId: `B00${i}` }, base + i);
      }
    });

    it('stores the name and remark sealed, and finds them case-insensitively inside words, with the count and sum of the matches', async () => {
      const store = ctx.store();
      const [raw] = await store.db.query<{ details_json: string; beneficiary_account: string; beneficiary_bank: string }>(
        'SELECT details_json, beneficiary_account, beneficiary_bank FROM payments WHERE client_id = ? AND transaction_id = ?',
        [who, 'TXT-0'],
      );
      expect(raw.details_json).to.match(/^gcm2\./);
      expect(raw.details_json).not.to.contain('Sumber');
      expect(raw.beneficiary_account).to.equal('******5680');
      expect(raw.beneficiary_bank).to.equal('014');
      const page = await store.paymentSearch.page({ clientId: who, text: 'sumber' }, 'newest', null, 10);
      expect(page.rows.map((p) => p.transactionId)).to.deep.equal(['TXT-2', 'TXT-0']);
      expect(page.rows[0].details?.beneficiaryName).to.equal('PT Sumber Rejeki');
      expect(page.totals).to.deep.equal({ count: 2, totalMinor: 40_000n, truncated: false, capped: false, proof: 'proved', changed: 0 });
      expect((await store.paymentSearch.page({ clientId: who, text: 'inv-3' }, 'newest', null, 10)).rows.map((p) => p.transactionId)).to.deep.equal(['TXT-3']);
      expect((await store.paymentSearch.page({ clientId: who, text: 'refx1' }, 'newest', null, 10)).rows.map((p) => p.transactionId)).to.deep.equal(['TXT-1']);
      expect((await store.paymentSearch.page({ clientId: who, text: 'b002' }, 'newest', null, 10)).rows.map((p) => p.transactionId)).to.deep.equal(['TXT-2']);
      expect((await store.paymentSearch.page({ clientId: who, text: 'xt-' }, 'newest', null, 10)).totals.count).to.equal(4);
    });

    it('pages forward and back through the matches', async () => {
      const store = ctx.store();
      const first = await store.paymentSearch.page({ clientId: who, text: 'invoice' }, 'newest', null, 3);
      expect(first.rows.map((p) => p.transactionId)).to.deep.equal(['TXT-3', 'TXT-2', 'TXT-1']);
      expect(first.previous).to.equal(null);
      const second = await store.paymentSearch.page({ clientId: who, text: 'invoice' }, 'newest', first.next, 3);
      expect(second.rows.map((p) => p.transactionId)).to.deep.equal(['TXT-0']);
      const back = await store.paymentSearch.page({ clientId: who, text: 'invoice' }, 'newest', second.previous, 3, 'before');
      expect(back.rows.map((p) => p.transactionId)).to.deep.equal(['TXT-3', 'TXT-2', 'TXT-1']);
      expect(back.previous).to.equal(null);
    });

    it('looks each other trigram of a term up in the trigrams\' own index before it reads a candidate\'s payment, and reads each one\'s next postings newest first', async () => {
      const store = ctx.store();
      const sent: { sql: string; params: SqlValue[] }[] = [];
      const page = await new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS).page({ clientId: who, text: 'makmur' }, 'newest', null, 10);
      expect(page.rows.map((p) => p.transactionId)).to.deep.equal(['TXT-0']);
      // The candidates of each step of the rarest trigram's postings, as sent, planned by the database itself.
      const steps = sent.filter(({ sql }) => sql.includes('JOIN payments ON id = g.payment_id'));
      expect(steps).to.have.length.of.at.least(1);
      for (const { sql, params } of steps) {
        const plan = await planOf(store, ctx.backend, sql, params);
        // The order the database reads the tables in, and the index each other trigram is looked up in.
        const order =
          ctx.backend === 'sqlite'
            ? plan.split(' | ').map((step) => /^(?:SEARCH|SCAN) (\w+)(?: USING (?:COVERING )?INDEX (\w+))?/.exec(step)).filter((m) => m !== null).map((m) => [m[1], m[2] ?? null])
            : (JSON.parse(plan) as { query_block: { nested_loop: { table?: { table_name: string; key: string } }[] } }).query_block.nested_loop.map((n) => [n.table?.table_name, n.table?.key]);
        // Every trigram (in whichever order the database starts from) in the trigrams' index, the payments last.
        const grams = ['g', ...Array.from({ length: trigramsOf('makmur').length - 1 }, (_, i) => `x${i}`)];
        expect(order.slice(0, -1).map(([table]) => table).sort(), plan).to.deep.equal(grams.sort());
        for (const [table, key] of order.slice(0, -1)) expect(key, `${table}: ${plan}`).to.equal('ix_payment_search_grams_gram');
        expect(order[order.length - 1][0], plan).to.equal('payments');
      }
      // Each step first reads the next postings of every trigram, newest first, in one statement:
      // the pages the step then reads.
      const next = sent.filter(({ sql }) => sql.includes(' AS low'));
      expect(next).to.have.length.of.at.least(1);
      for (const { sql, params } of next) {
        expect(sql.match(/ix_payment_search_grams_gram\)? WHERE gram_hash = \?[^)]* ORDER BY payment_id DESC LIMIT \d+\) t\d+/g)).to.have.length(trigramsOf('makmur').length);
        // Read in the index's own order, never sorted.
        const plan = await planOf(store, ctx.backend, sql, params);
        expect(plan).to.contain('ix_payment_search_grams_gram').and.not.to.match(/filesort|TEMP B-TREE/);
      }
    });

    it("reads a step's candidates on MariaDB in slices of its ids sent together (its pages read from disk at once), on SQLite in one statement; the same matches", async () => {
      const store = ctx.store();
      const sent: { sql: string; params: SqlValue[]; rows?: Record<string, unknown>[]; sentAt?: number; answeredAt?: number }[] = [];
      const page = await new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS).page({ clientId: who, text: 'invoice' }, 'newest', null, 10);
      expect(page.rows.map((p) => p.transactionId)).to.deep.equal(['TXT-3', 'TXT-2', 'TXT-1', 'TXT-0']);
      const ids = page.rows.map((p) => p.id);
      // The walk's first step: its next postings, then its candidates (before any next step's postings).
      const [next, nextStep] = sent.filter(({ sql }) => sql.includes(' AS low'));
      const steps = sent.filter(({ sql, sentAt }) => sql.includes('JOIN payments ON id = g.payment_id') && sentAt! < (nextStep?.sentAt ?? Infinity));
      // Each statement's share of the step's ids: its parameters after the trigrams it joins and the walked one.
      const slices = steps.map(({ sql, params }) => {
        const at = (sql.match(/ JOIN payment_search_grams x\d+ /g) ?? []).length + 1;
        return [Number(params[at]), Number(params[at + 1])];
      });
      if (ctx.backend === 'sqlite') expect(slices).to.have.length(1);
      else {
        expect(slices).to.have.length(4);
        // Sent together: each before any of them was answered.
        const firstAnswer = Math.min(...steps.map((q) => q.answeredAt!));
        for (const q of steps) expect(q.sentAt).to.be.below(firstAnswer);
      }
      // Highest first, each next one right below the last: every id of the step once, and the step is one trigram's postings.
      slices.forEach(([high, low], i) => {
        expect(high).to.be.at.least(low);
        if (i > 0) expect(high).to.equal(slices[i - 1][1] - 1);
      });
      const walked = (next.rows ?? []).map((row) => [Number(row.high), Number(row.low)]);
      expect(walked).to.deep.include([slices[0][0], slices[slices.length - 1][1]]);
      for (const id of ids) expect(id).to.be.within(slices[slices.length - 1][1], slices[0][0]);
    });

    it("reads the matches' last events on MariaDB in slices of their payments sent together (their pages read from disk at once), on SQLite in one statement; the same page", async () => {
      const store = ctx.store();
      const sent: { sql: string; params: SqlValue[]; rows?: Record<string, unknown>[]; sentAt?: number; answeredAt?: number }[] = [];
      const page = await new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS, null, Date.now, { eventSliceIds: 1 }).page({ clientId: who, text: 'invoice' }, 'newest', null, 10);
      expect(page.rows.map((p) => p.transactionId)).to.deep.equal(['TXT-3', 'TXT-2', 'TXT-1', 'TXT-0']);
      expect(page.rows.filter((p) => p.integrityProblem !== undefined)).to.deep.equal([]);
      // The proof's reads of the last events (lastEventRows), each with the payments it reads as its parameters.
      const reads = sent.filter(({ sql }) => sql.includes('MAX(seq) AS seq FROM payment_events'));
      const slices = reads.map(({ params }) => params.map(Number));
      expect(slices.flat().sort((a, b) => a - b)).to.deep.equal(page.rows.map((p) => p.id).sort((a, b) => a - b));
      if (ctx.backend === 'sqlite') expect(slices).to.have.length(1);
      else {
        expect(slices).to.have.length(4);
        // Sent together: each before any of them was answered.
        const firstAnswer = Math.min(...reads.map((q) => q.answeredAt!));
        for (const q of reads) expect(q.sentAt).to.be.below(firstAnswer);
      }
      // A payment changed in SQL without its event is still marked when its events are read in a slice.
      const forged = page.rows[1];
      await store.db.execute("UPDATE payments SET state = 'FAILED' WHERE id = ?", [forged.id]);
      try {
        const again = await new SqlPaymentSearchRepository(store.db, TEST_AUDIT_KEYS, null, Date.now, { eventSliceIds: 1 }).page({ clientId: who, text: 'invoice' }, 'newest', null, 10);
        expect(again.rows.map((p) => [p.transactionId, p.integrityProblem !== undefined])).to.deep.equal([['TXT-3', false], ['TXT-2', true], ['TXT-1', false], ['TXT-0', false]]);
        expect(again.rows[1].integrityProblem).to.match(/without an event in its history/);
      } finally {
        // The describe's payments are shared by its tests: put back as it was.
        await store.db.execute('UPDATE payments SET state = ? WHERE id = ?', [forged.state, forged.id]);
      }
    });

    it('flags the same transactionId paid successfully by another client', async () => {
      const store = ctx.store();
      const twin = await store.payments.reserve({ clientId: other, transactionId: 'TXT-1', requestHash: 'h'.repeat(64), amount: '200.00', currency: 'IDR' }, base);
      const mine = (await store.payments.find(who, 'TXT-1'))!;
      expect(await store.paymentSearch.duplicatesOf(mine)).to.deep.equal([]);
      await store.payments.update(twin.id, { state: 'SUCCESS' }, base);
      expect((await store.paymentSearch.duplicatesOf(mine)).map((p) => p.clientId)).to.deep.equal([other]);
    });
  });

  it('pages back from a later page with the previous marker, with the count and sum of the whole filter', async () => {
    const store = ctx.store();
    const first = await store.paymentSearch.page({ clientId: client }, 'newest', null, 5);
    const second = await store.paymentSearch.page({ clientId: client }, 'newest', first.next, 5);
    expect(second.previous).to.not.equal(null);
    const back = await store.paymentSearch.page({ clientId: client }, 'newest', second.previous, 5, 'before');
    expect(back.rows.map((p) => p.id)).to.deep.equal(first.rows.map((p) => p.id));
    expect(back.previous).to.equal(null);
    expect(first.totals.count).to.equal(23);
    const sum = made.reduce((s, p) => s + BigInt(p.amount.replace('.', '')), 0n);
    expect(second.totals.totalMinor).to.equal(sum);
  });

  it('proves a filter\'s total and the days\' figures row by row: payments changed in SQL are left out and counted as changed', async () => {
    const store = ctx.store();
    const who = `prove-${randomBytes(4).toString('hex')}`;
    const day = Date.UTC(2032, 2, 3, 2, 0, 0);
    const ids: number[] = [];
    for (const [i, amount] of ['100.00', '200.00', '400.00', '800.00'].entries()) {
      const p = await store.payments.reserve({ clientId: who, transactionId: `PRV-${i}`, requestHash: 'p'.repeat(64), amount, currency: 'IDR' }, day + i);
      await store.payments.update(p.id, { state: i === 3 ? 'FAILED' : 'SUCCESS', bank: 'bca' }, day + i);
      ids.push(p.id);
    }
    const honest = await store.paymentSearch.page({ clientId: who }, 'newest', null, 10);
    expect(honest.totals).to.deep.equal({ count: 4, totalMinor: 150_000n, truncated: false, capped: false, proof: 'proved', changed: 0 });
    // In SQL: an amount raised with its amount_minor, an amount_minor alone (the MAC covers amount), a refused payment made paid.
    await store.db.execute("UPDATE payments SET amount = '9000.00', amount_minor = 900000 WHERE id = ?", [ids[0]]);
    await store.db.execute('UPDATE payments SET amount_minor = 5000000 WHERE id = ?', [ids[1]]);
    await store.db.execute("UPDATE payments SET state = 'SUCCESS' WHERE id = ?", [ids[3]]);
    const forged = await store.paymentSearch.page({ clientId: who }, 'newest', null, 10);
    expect(forged.totals).to.deep.equal({ count: 4, totalMinor: 40_000n, truncated: false, capped: false, proof: 'proved', changed: 3 });
    expect(forged.rows.find((p) => p.id === ids[1])?.integrityProblem).to.contain(`payments id ${ids[1]} (${who} / PRV-1) was altered: its amount_minor 5000000 is not its amount "200.00"`);
    const paid = await store.paymentSearch.page({ clientId: who, state: 'SUCCESS' }, 'newest', null, 10);
    expect(paid.totals).to.include({ count: 4, totalMinor: 40_000n, changed: 3 });
    const days = await store.paymentSearch.provedDailyTotals(day - 3_600_000, day + 3_600_000);
    expect(days).to.deep.equal({ totals: [{ day: '2032-03-03', state: 'SUCCESS', count: 1, totalMinor: 40_000n }], changed: [{ day: '2032-03-03', count: 3 }] });
  });

  it('finds the payments of one paying account received in a period, oldest first, though the account is sealed', async () => {
    const store = ctx.store();
    const who = `acct-${randomBytes(4).toString('hex')}`;
    const start = Date.UTC(2031, 0, 5, 1, 0, 0);
    const made: { tx: string; at: number; account: string | null }[] = [
      { tx: 'ACC-1', at: start + 2000, account: '0201245680' },
      { tx: 'ACC-2', at: start + 1000, account: '0201245680' },
      { tx: 'ACC-3', at: start + 1500, account: '0201245699' },
      { tx: 'ACC-4', at: start + 1200, account: null },
      { tx: 'ACC-5', at: start + DAY, account: '0201245680' },
    ];
    for (const m of made) {
      await store.payments.reserve({ clientId: who, transactionId: m.tx, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: m.account }, m.at);
    }
    // ACC-2 as a row written before the account tags (migration 022): found all the same.
    await store.db.execute("UPDATE payments SET source_account_tag = NULL WHERE client_id = ? AND transaction_id = 'ACC-2'", [who]);
    const found = await store.paymentSearch.fromAccount('0201245680', start, start + DAY);
    expect(found.rows.map((p) => p.transactionId)).to.deep.equal(['ACC-2', 'ACC-1']);
    expect(found.rows.every((p) => p.sourceAccount === '0201245680')).to.equal(true);
    expect(found.truncated).to.equal(false);
    const raw = await store.db.query<{ source_account: string | null; source_account_tag: string | null; transaction_id: string }>(
      'SELECT transaction_id, source_account, source_account_tag FROM payments WHERE client_id = ? ORDER BY transaction_id',
      [who],
    );
    expect(JSON.stringify(raw)).not.to.contain('0201245680').and.not.to.contain('5680');
    const tag = (tx: string) => raw.find((r) => r.transaction_id === tx)!.source_account_tag;
    // Equal accounts, equal tags; another account, another tag; no account, no tag.
    expect(tag('ACC-1')).to.match(/^[0-9a-f]{32}$/).and.to.equal(tag('ACC-5'));
    expect(tag('ACC-3')).to.match(/^[0-9a-f]{32}$/).and.not.to.equal(tag('ACC-1'));
    expect(tag('ACC-4')).to.equal(null);
  });

  it('reads a period not sealed by one index, a few days per statement, and each row\'s proof columns by its id (migrations 029, 032)', async () => {
    const store = ctx.store();
    const who = `plan-${randomBytes(4).toString('hex')}`;
    const start = Date.UTC(2031, 2, 5, 1, 0, 0);
    // 30 payments over 8 days, the last two at the same millisecond.
    for (let i = 0; i < 30; i += 1) {
      await store.payments.reserve(
        { clientId: who, transactionId: `PLAN-${i}`, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: '0201245680' },
        start + Math.min(i, 28) * (DAY / 4),
      );
    }
    // The statements the reconciliation's read sends, recorded as sent, then planned by the database itself.
    const sent: { sql: string; params: SqlValue[] }[] = [];
    const found = await new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS).fromAccount('0201245680', start, start + 8 * DAY);
    expect(found.rows.map((p) => p.transactionId)).to.deep.equal(Array.from({ length: 30 }, (_, i) => `PLAN-${i}`));
    expect(found.truncated).to.equal(false);
    // The ring's one key's tag, three days per statement (3 + 3 + 2), and the rows from before tags
    // in one; each row's last event seq (in its sealed line: the seals' and kept proofs' history
    // mark) read in the same statement, one dive a payment into the events' own index. Days not
    // sealed (these have not ended) are proved row by row: on MariaDB the range of the index, then
    // each row; SQLite's index holds the proof's columns too (migration 032).
    const reads = sent.filter(({ sql }) => /FROM payments( FORCE INDEX \(ix_payments_reconcile\))? WHERE source_account_tag/.test(sql));
    expect(spansOf(ctx.backend, reads)).to.have.length(4);
    expect(reads).to.have.length(ctx.backend === 'sqlite' ? 4 : 16);
    for (const { sql, params } of reads) {
      const plan = await planOf(store, ctx.backend, sql, params);
      if (ctx.backend === 'sqlite') {
        expect(plan, sql)
          .to.match(/SEARCH payments USING COVERING INDEX ix_payments_reconcile/)
          .and.to.match(/SEARCH e USING COVERING INDEX uq_payment_events_payment_seq|SEARCH e USING COVERING INDEX sqlite_autoindex_payment_events/)
          .and.not.to.match(/TEMP B-TREE|SUBQUERY 2/);
      } else {
        // Read in the index's order too: a sort (filesort) fetched each sorted row from the table again.
        const [step] = (JSON.parse(plan) as { query_block: { nested_loop: { table?: { key: string; using_index?: boolean } }[] } }).query_block.nested_loop;
        expect({ key: step.table?.key, indexOnly: step.table?.using_index ?? false }, plan).to.deep.equal({ key: 'ix_payments_reconcile', indexOnly: false });
        expect(plan).not.to.match(/filesort|temporary/);
        expect(plan).to.match(/"table_name": "e",[^}]*?"key": "uq_payment_events_payment_seq"[^}]*?"using_index": true/);
      }
    }
  });

  it('keeps in ix_payments_reconcile what the page shows and proof_digest, not the columns only the proof reads, on MariaDB (migration 032)', async () => {
    const db = ctx.store().db;
    const columns =
      ctx.backend === 'sqlite'
        ? (await db.query<{ name: string }>("SELECT name FROM pragma_index_info('ix_payments_reconcile') ORDER BY seqno")).map((c) => c.name)
        : (
            await db.query<{ name: string }>(
              "SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'payments' AND INDEX_NAME = 'ix_payments_reconcile' ORDER BY SEQ_IN_INDEX",
            )
          ).map((c) => c.name);
    const shown = ['source_account_tag', 'created_at', 'state', 'amount', 'transaction_id', 'bank_transaction_id', 'bank_transaction_date', 'bank_external_id'];
    // SQLite stores no digest (proofDigestSql): its index keeps the columns themselves (030).
    expect(columns).to.deep.equal(ctx.backend === 'sqlite' ? [...shown, 'source_account', 'client_id', 'request_hash', 'currency', 'mac_key_id', 'mac'] : [...shown, 'proof_digest']);
  });

  it('changes a row\'s proof digest (in its sealed line) when any column only the proof reads is changed in SQL, and lets no writer set it', async () => {
    const store = ctx.store();
    const who = `digest-${randomBytes(4).toString('hex')}`;
    const start = Date.UTC(2031, 6, 5, 1, 0, 0);
    await reservedFrom(store, who, [
      ['DIGEST-A', '0201245680', start + 1000],
      ['DIGEST-B', '0201245699', start + 2000],
    ]);
    const idOf = async (tx: string) => (await store.db.query<{ id: number }>('SELECT id FROM payments WHERE client_id = ? AND transaction_id = ?', [who, tx]))[0].id;
    const [a, b] = [await idOf('DIGEST-A'), await idOf('DIGEST-B')];
    const digestOf = async (id: number) => (await store.db.query<{ d: string }>(`SELECT ${proofDigestSql(store.db.dialect)} AS d FROM payments WHERE id = ?`, [id]))[0].d;
    const seen = new Set([await digestOf(a)]);
    // An attacker with the database but no key, one column at a time: each change gives a digest not seen before.
    const changes: [column: string, value: string | null][] = [
      ['source_account', null],
      ['client_id', `${who}-x`],
      ['request_hash', 'b'.repeat(64)],
      ['currency', 'USD'],
      ['mac_key_id', 'other'],
      ['mac', 'c'.repeat(64)],
    ];
    for (const [column, value] of changes) {
      await store.db.execute(`UPDATE payments SET ${column} = ? WHERE id = ?`, [value, a]);
      const digest = await digestOf(a);
      expect(digest, column).to.be.a('string');
      expect(seen.has(digest), column).to.equal(false);
      seen.add(digest);
    }
    // MariaDB's digest is the database's: a value written for it is refused, or ignored.
    if (ctx.backend === 'sqlite') return;
    const before = await digestOf(b);
    await store.db.execute('UPDATE payments SET proof_digest = ? WHERE id = ?', [Buffer.alloc(16), b]).catch(() => undefined);
    expect(await digestOf(b)).to.equal(before);
  });

  it('reads days all sealed with what the page shows and each row\'s sealed line only, one statement a span, and opens no row', async () => {
    const store = ctx.store();
    // 12 payments over 4 closed days (Jakarta midnight of 2026-10-05 on).
    const start = Date.UTC(2026, 9, 5) - 7 * 3_600_000;
    const { account } = await sealedThreeADay(store, 'SHOWN', start, 4);
    const sent: { sql: string; params: SqlValue[]; rows?: Record<string, unknown>[] }[] = [];
    const search = new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS);
    const found = await search.fromAccount(account, start, start + 4 * DAY);
    expect(found.rows.map((p) => [p.transactionId, p.amount, p.sourceAccount, p.integrityProblem])).to.deep.equal(
      Array.from({ length: 12 }, (_, i) => [`SHOWN-${i}`, `${1000 + i}.00`, account, undefined]),
    );
    expect(search.rowsProvedOneByOne).to.equal(0);
    // Two spans (3 days + 1) of the tag, and the rows from before tags: no other read of payments.
    const reads = sent.filter(({ sql }) => /FROM payments\b/.test(sql) && !sql.includes('reconciliation_seals'));
    const spans = spansOf(ctx.backend, reads);
    expect(spans).to.have.length(3);
    // What the page shows and the line its day's seal is checked with: neither the sealed account
    // nor the MAC and what only it covers are decoded one by one.
    const spanRows = spans.slice(0, 2).flat().flatMap(({ rows }) => rows ?? []);
    expect(spanRows).to.have.length(12);
    for (const row of spanRows) {
      expect(Object.keys(row).sort()).to.deep.equal(['amount', 'bank_external_id', 'bank_transaction_date', 'bank_transaction_id', 'created_at', 'id', 'line', 'state', 'transaction_id']);
    }
    // From ix_payments_reconcile alone, the lines included (proof_digest is in it: migration 032).
    for (const { sql, params } of spans.slice(0, 2).flat()) {
      const plan = await planOf(store, ctx.backend, sql, params);
      if (ctx.backend === 'sqlite') expect(plan, sql).to.match(/SEARCH payments USING COVERING INDEX ix_payments_reconcile/);
      else {
        const [step] = (JSON.parse(plan) as { query_block: { nested_loop: { table?: { key: string; using_index?: boolean } }[] } }).query_block.nested_loop;
        expect({ key: step.table?.key, indexOnly: step.table?.using_index }, plan).to.deep.equal({ key: 'ix_payments_reconcile', indexOnly: true });
      }
    }
  });

  it('reads a span on MariaDB in slices of its time sent together (its rows\' last events read from disk at once), on SQLite in one statement; the same rows in the same order', async () => {
    const store = ctx.store();
    // 12 payments over 4 closed days, sealed: a first opening of a fresh console reads their lines.
    const start = Date.UTC(2026, 9, 20) - 7 * 3_600_000;
    const { account } = await sealedThreeADay(store, 'SLICE', start, 4);
    const sent: { sql: string; params: SqlValue[]; rows?: Record<string, unknown>[]; sentAt?: number; answeredAt?: number }[] = [];
    const found = await new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS).fromAccount(account, start, start + 4 * DAY);
    expect(found.rows.map((p) => [p.transactionId, p.integrityProblem])).to.deep.equal(Array.from({ length: 12 }, (_, i) => [`SLICE-${i}`, undefined]));
    const reads = sent.filter(({ sql }) => /FROM payments( FORCE INDEX \(ix_payments_reconcile\))? WHERE source_account_tag = \?/.test(sql));
    // Two spans of the tag (3 days + 1): each span's statements, their bounds (created_at >= low AND < high).
    const spans = spansOf(ctx.backend, reads);
    expect(spans.map((span) => [Number(span[0].params[1]), Number(span[span.length - 1].params[2])])).to.deep.equal([
      [start, start + 3 * DAY],
      [start + 3 * DAY, start + 4 * DAY],
    ]);
    for (const span of spans) {
      if (ctx.backend === 'sqlite') expect(span).to.have.length(1);
      else {
        expect(span).to.have.length(4);
        // Sent together: each before any of them was answered; each slice right after the one before, none overlapping.
        const firstAnswer = Math.min(...span.map((q) => q.answeredAt!));
        for (const q of span) expect(q.sentAt).to.be.below(firstAnswer);
        span.forEach((q, i) => {
          expect(Number(q.params[2])).to.be.above(Number(q.params[1]));
          if (i > 0) expect(Number(q.params[1])).to.equal(Number(span[i - 1].params[2]));
        });
      }
      // Joined oldest first, the very rows one statement over the span reads, in its order.
      const [first, last] = [span[0], span[span.length - 1]];
      const whole = await store.db.query<{ id: number | string }>(first.sql, [first.params[0], first.params[1], last.params[2], first.params[3]]);
      expect(span.flatMap(({ rows }) => (rows ?? []).map((row) => Number(row.id)))).to.deep.equal(whole.map((row) => Number(row.id)));
    }
  });

  it('reads a day not sealed with its rows\' proof columns, and the sealed days beside it in the same span with what the page shows only', async () => {
    const store = ctx.store();
    // 9 payments over 3 closed days: one span.
    const start = Date.UTC(2026, 9, 12) - 7 * 3_600_000;
    const { who, account } = await sealedThreeADay(store, 'CUT', start, 3);
    // The middle day's seal no longer trusted (its MAC cleared, as migration 032 clears older seals).
    const [{ tag }] = await store.db.query<{ tag: string }>("SELECT source_account_tag AS tag FROM payments WHERE client_id = ? AND transaction_id = 'CUT-0'", [who]);
    const middle = Math.floor((start + DAY + 7 * 3_600_000) / DAY);
    expect((await store.db.execute('UPDATE reconciliation_seals SET mac = NULL WHERE account_tag = ? AND day = ?', [tag, middle])).affectedRows).to.equal(1);
    const sent: { sql: string; params: SqlValue[]; rows?: Record<string, unknown>[] }[] = [];
    const search = new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS);
    const found = await search.fromAccount(account, start, start + 3 * DAY);
    expect(found.rows.map((p) => [p.transactionId, p.integrityProblem])).to.deep.equal(Array.from({ length: 9 }, (_, i) => [`CUT-${i}`, undefined]));
    // Three reads of the tag: the first day shown, the middle day whole, the last day shown.
    const reads = sent.filter(({ sql }) => /FROM payments( FORCE INDEX \(ix_payments_reconcile\))? WHERE source_account_tag = \?/.test(sql));
    const withProofColumns = spansOf(ctx.backend, reads).map((span) => span.flatMap(({ rows }) => rows ?? []).map((row) => [String(row.transaction_id), 'source_account' in row]));
    expect(withProofColumns).to.deep.equal([
      [['CUT-0', false], ['CUT-1', false], ['CUT-2', false]],
      [['CUT-3', true], ['CUT-4', true], ['CUT-5', true]],
      [['CUT-6', false], ['CUT-7', false], ['CUT-8', false]],
    ]);
  });

  it('writes a sealed line as each value with its length or kind and ~ for null, the same bytes when a column declared NOT NULL holds a null', async () => {
    // Values declared NOT NULL go into one flat CONCAT on MariaDB; a null among them after all (a
    // column altered in SQL) must still give the line value by value, as seals were written.
    const line = sealedLineSql(ctx.store().db.dialect, [
      { sql: 'n', kind: 'integer', notNull: true },
      { sql: 'a', kind: 'text', notNull: true },
      { sql: 'b', kind: 'text' },
      { sql: '(SELECT MAX(x.h) FROM (SELECT 41 AS h UNION ALL SELECT 42) x WHERE t.k = 1)', kind: 'highest' },
      { sql: 'c', kind: 'text', notNull: true },
    ]);
    const rows = await ctx.store().db.query<{ line: string | null }>(
      `SELECT ${line} AS line FROM (SELECT 1 AS k, 7 AS n, 'SUCCESS' AS a, NULL AS b, 'IDR' AS c UNION ALL SELECT 2, 8, NULL, 'é', 'IDR' UNION ALL SELECT 3, NULL, 'x', 'y', NULL) t ORDER BY k`,
    );
    expect(rows.map((r) => r.line)).to.deep.equal(['#7;7:SUCCESS~#42;3:IDR', '#8;~2:é~3:IDR', '~1:x1:y~~']);
  });

  it('marks a payment of the account whose amount was changed in the database, from the same index (migration 030)', async () => {
    const store = ctx.store();
    const who = `forge-${randomBytes(4).toString('hex')}`;
    const start = Date.UTC(2031, 4, 5, 1, 0, 0);
    await reservedFrom(store, who, [
      ['FORGE-KEPT', '0201245680', start + 1000],
      ['FORGE-ALTERED', '0201245680', start + 2000],
    ]);
    // An attacker with the database but no key: the amount rewritten, the MAC left as it was.
    await store.db.execute("UPDATE payments SET amount = '1000.0' WHERE client_id = ? AND transaction_id = 'FORGE-ALTERED'", [who]);
    const found = await store.paymentSearch.fromAccount('0201245680', start, start + DAY);
    expect(found.rows.map((p) => [p.transactionId, p.integrityProblem])).to.deep.equal([
      ['FORGE-KEPT', undefined],
      ['FORGE-ALTERED', `payments id ${found.rows[1].id} (${who} / FORGE-ALTERED) was altered: its client, transaction id, request hash, amount, currency or creation time no longer match its MAC`],
    ]);
  });

  it('proves again on the very next read a payment proved before and changed in the database since', async () => {
    const store = ctx.store();
    const who = `again-${randomBytes(4).toString('hex')}`;
    const start = Date.UTC(2031, 5, 5, 1, 0, 0);
    await reservedFrom(store, who, [
      ['AGAIN-KEPT', '0201245680', start + 1000],
      ['AGAIN-AMOUNT', '0201245680', start + 2000],
      ['AGAIN-STATE', '0201245680', start + 3000],
      ['AGAIN-MOVED', '0201245699', start + 4000],
    ]);
    const search = store.paymentSearch;
    const first = await search.fromAccount('0201245680', start, start + DAY);
    expect(first.rows.map((p) => [p.transactionId, p.integrityProblem])).to.deep.equal([
      ['AGAIN-KEPT', undefined],
      ['AGAIN-AMOUNT', undefined],
      ['AGAIN-STATE', undefined],
    ]);
    // An attacker with the database but no key, between two reads of the same store: an amount
    // rewritten, and another account's payment given our tag and our sealed account. A state
    // changed without an event is marked too: it is held to the payment's history (#14).
    await store.db.execute("UPDATE payments SET amount = '1000.0' WHERE client_id = ? AND transaction_id = 'AGAIN-AMOUNT'", [who]);
    await store.db.execute("UPDATE payments SET state = 'FAILED' WHERE client_id = ? AND transaction_id = 'AGAIN-STATE'", [who]);
    const second = await search.fromAccount('0201245680', start, start + DAY);
    expect(second.rows.map((p) => [p.transactionId, p.state, p.integrityProblem])).to.deep.equal([
      ['AGAIN-KEPT', 'RECEIVED', undefined],
      ['AGAIN-AMOUNT', 'RECEIVED', `payments id ${second.rows[1].id} (${who} / AGAIN-AMOUNT) was altered: its client, transaction id, request hash, amount, currency or creation time no longer match its MAC`],
      ['AGAIN-STATE', 'FAILED', `payments id ${second.rows[2].id} (${who} / AGAIN-STATE) was changed without an event in its history: state "FAILED" where its last event (seq 1) says "RECEIVED"`],
    ]);
    // The same payment object is handed out while its row is unchanged, a new one once it changed.
    expect(second.rows[0]).to.equal(first.rows[0]);
    expect(second.rows[2]).not.to.equal(first.rows[2]);
    // Our payment, proved for our account, given the other account's tag: read for that account,
    // it is still ours, not theirs.
    const tagOf = async (tx: string) => (await store.db.query<{ t: string }>('SELECT source_account_tag AS t FROM payments WHERE client_id = ? AND transaction_id = ?', [who, tx]))[0].t;
    const ours = await tagOf('AGAIN-KEPT');
    await store.db.execute("UPDATE payments SET source_account_tag = ? WHERE client_id = ? AND transaction_id = 'AGAIN-KEPT'", [await tagOf('AGAIN-MOVED'), who]);
    expect((await search.fromAccount('0201245699', start, start + DAY)).rows.map((p) => p.transactionId)).to.deep.equal(['AGAIN-MOVED']);
    await store.db.execute("UPDATE payments SET source_account_tag = ? WHERE client_id = ? AND transaction_id = 'AGAIN-KEPT'", [ours, who]);
    await copySealedAccount(store, who, 'AGAIN-KEPT', 'AGAIN-MOVED');
    await expectRefusedSealedAccount(search.fromAccount('0201245680', start, start + DAY));
  });

  it('still opens each row\'s sealed account: a tag or a sealed account copied from another account\'s payment does not bring that payment in', async () => {
    const store = ctx.store();
    const who = `copy-${randomBytes(4).toString('hex')}`;
    const start = Date.UTC(2031, 3, 5, 1, 0, 0);
    await reservedFrom(store, who, [
      ['COPY-OURS', '0201245680', start + 1000],
      ['COPY-TAG', '0201245699', start + 2000],
      ['COPY-SEALED', '0201245699', start + 3000],
    ]);
    // An attacker with the database but no key: our account's tag on another account's payment,
    // then our sealed account and tag both copied onto another.
    await store.db.execute(
      "UPDATE payments SET source_account_tag = (SELECT t FROM (SELECT source_account_tag AS t FROM payments WHERE client_id = ? AND transaction_id = 'COPY-OURS') o) WHERE client_id = ? AND transaction_id = 'COPY-TAG'",
      [who, who],
    );
    const found = await store.paymentSearch.fromAccount('0201245680', start, start + DAY);
    expect(found.rows.map((p) => p.transactionId)).to.deep.equal(['COPY-OURS']);
    await copySealedAccount(store, who, 'COPY-OURS', 'COPY-SEALED');
    await expectRefusedSealedAccount(store.paymentSearch.fromAccount('0201245680', start, start + DAY));
  });

  it('counts a closed day larger than one page for the overview\'s kept totals a page at a time, by id, exactly, and reads its reserve events a page at a time from their own index (migrations 034, 035)', async () => {
    const store = ctx.store();
    const who = `pages-${randomBytes(4).toString('hex')}`;
    // A Jakarta midnight of 2024 of this run's own, and the sweep two days after it.
    const start = Date.UTC(2024, 0, 1) - 7 * HOUR + Math.floor(Math.random() * 300) * DAY;
    const now = start + 2 * DAY + 10 * HOUR;
    // 7 payments of the day, with a payment of the day after reserved among them (its id between
    // theirs) and one of the day before and after around them: 5 RECEIVED of 1,000.00, 2 FAILED.
    const at = [start - 1, start, start + HOUR, start + DAY + HOUR, start + 2 * HOUR, start + 3 * HOUR, start + 4 * HOUR, start + 5 * HOUR, start + DAY - 1, start + DAY];
    const ids: number[] = [];
    for (const [i, when] of at.entries()) {
      const p = await store.payments.reserve({ clientId: who, transactionId: `PAGE-${i}`, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: '0201245680' }, when);
      ids.push(p.id);
      if (i === 2 || i === 5) expect(await store.payments.update(p.id, { state: 'FAILED', bank: 'bca' }, when + 1000)).to.equal(true);
    }
    const sent: { sql: string; params: SqlValue[]; rows?: Record<string, unknown>[] }[] = [];
    const sweep = new SqlPaymentSearchRepository(recording(store.db, sent), TEST_AUDIT_KEYS, (store.audit as SqlAuditRepository).chain, () => now, { dayPageRows: 3 });
    expect((await sweep.sealClosedDays(now)).daysCounted).to.be.at.least(1);
    await sweep.close();

    // The day's rows read in pages of at most 3, every payment of the day once.
    const pages = sent.filter(({ sql, params }) => /^SELECT id, transaction_id, /.test(sql) && sql.includes('FROM payments WHERE') && !sql.includes('source_account_tag') && params.at(-2) === start);
    expect(pages.map((p) => p.rows!.length)).to.deep.equal([3, 3, 1]);
    expect(pages.flatMap((p) => p.rows!.map((r) => r.transaction_id))).to.deep.equal(['PAGE-1', 'PAGE-2', 'PAGE-4', 'PAGE-5', 'PAGE-6', 'PAGE-7', 'PAGE-8']);
    // Kept as its payments count it.
    const [kept] = await store.db.query<{ totals: string; row_count: number | string }>("SELECT totals, row_count FROM reconciliation_seals WHERE account_tag = '*' AND day = ?", [Math.floor((start + 7 * HOUR) / DAY)]);
    expect(Number(kept.row_count)).to.equal(7);
    expect(JSON.parse(kept.totals) as { states: unknown[]; reserved: number }).to.deep.include({
      states: [
        ['FAILED', 2, '200000'],
        ['RECEIVED', 5, '500000'],
      ],
      reserved: 7,
    });
    // The payments its history created that day (their reserve events), in pages of at most 3 too,
    // each a range of ix_payment_events_reserved alone, in its order: no row read, no sort.
    const reserved = sent.filter(({ sql, params }) => sql.includes("FROM payment_events WHERE cause = 'reserve'") && params[0] === start);
    expect(reserved.map((p) => p.rows!.length)).to.deep.equal([3, 3, 1]);
    expect(reserved.flatMap((p) => p.rows!.map((r) => Number(r.payment_id)))).to.deep.equal([1, 2, 4, 5, 6, 7, 8].map((i) => ids[i]));
    for (const { sql, params } of reserved) {
      const plan = await planOf(store, ctx.backend, sql, params);
      if (ctx.backend === 'sqlite') expect(plan, sql).to.match(/SEARCH payment_events USING COVERING INDEX ix_payment_events_reserved/).and.not.to.match(/TEMP B-TREE/);
      else {
        expect(plan, sql).to.match(/"access_type": "range",[^}]*?"key": "ix_payment_events_reserved"/).and.to.match(/"using_index": true/);
        expect(plan, sql).not.to.match(/filesort|temporary/);
      }
    }
    // The sweep's next run (a process of its own) holds the kept day to its reserve events' identities
    // (#16): read whole again, in the same pages of that index alone, the day not counted again.
    const rechecking: typeof sent = [];
    const next = new SqlPaymentSearchRepository(recording(store.db, rechecking), TEST_AUDIT_KEYS, (store.audit as SqlAuditRepository).chain, () => now, { dayPageRows: 3 });
    await next.sealClosedDays(now);
    await next.close();
    expect(rechecking.filter(({ sql, params }) => sql.includes("FROM payment_events WHERE cause = 'reserve'") && params[0] === start).map((p) => p.rows!.length)).to.deep.equal([3, 3, 1]);
    expect(rechecking.filter(({ sql, params }) => /^SELECT id, transaction_id, /.test(sql) && params.at(-2) === start)).to.deep.equal([]);
    // An opening holds the kept day to its reserve events: one COUNT of a range of that index a day,
    // the index alone; the same process's next openings not again before RESERVES_HELD_MS.
    const opening: typeof sent = [];
    let clock = now;
    const read = new SqlPaymentSearchRepository(recording(store.db, opening), TEST_AUDIT_KEYS, null, () => clock);
    const countsRead = async () => {
      opening.length = 0;
      await read.dailyTotals(start, start + DAY);
      return opening.filter(({ sql }) => sql.includes("COUNT(*) AS n FROM payment_events WHERE cause IN ('reserve', 'baseline')"));
    };
    const counts = await countsRead();
    expect(counts.map((c) => c.rows)).to.deep.equal([[{ day: Math.floor((start + 7 * HOUR) / DAY), n: 7 }]]);
    clock += RESERVES_HELD_MS - 1;
    expect(await countsRead()).to.deep.equal([]);
    clock += 1;
    expect(await countsRead()).to.have.length(1);
    await read.close();
    const plan = await planOf(store, ctx.backend, counts[0].sql, counts[0].params);
    if (ctx.backend === 'sqlite') expect(plan).to.match(/SEARCH payment_events USING COVERING INDEX ix_payment_events_reserved/);
    else expect(plan).to.match(/"access_type": "range",[^}]*?"key": "ix_payment_events_reserved"/).and.to.match(/"using_index": true/);
  });

  it('refuses a page size or a search walk\'s bound that is not a whole number of at least 1', () => {
    for (const size of [0, -1, 2.5, Number.NaN]) {
      expect(() => new SqlPaymentSearchRepository(ctx.store().db, TEST_AUDIT_KEYS, null, Date.now, { dayPageRows: size })).to.throw(RangeError, /dayPageRows/);
      expect(() => new SqlPaymentSearchRepository(ctx.store().db, TEST_AUDIT_KEYS, null, Date.now, { gramChunk: size })).to.throw(RangeError, /gramChunk/);
      expect(() => new SqlPaymentSearchRepository(ctx.store().db, TEST_AUDIT_KEYS, null, Date.now, { gramWalkLimit: size })).to.throw(RangeError, /gramWalkLimit/);
    }
  });
});

forEachBackend('Payment text search walk of a term in many payments', (ctx) => {
  it('walks in steps grown to the matches still wanted (at most four times the first), finding the same matches, newest first, as steps of one size', async function () {
    this.timeout(120_000);
    const who = `grow-${randomBytes(4).toString('hex')}`;
    /** A term no other payment holds: its trigrams are these 60 payments' alone. */
    const term = `sop${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < 60; i += 1) {
      const details = { sourceAccount: '0201245680', beneficiaryAccount: '0201245681', beneficiaryBankCode: '014', beneficiaryName: `Warung ${term}`, remark: 'Sop', transferMethod: null };
      await ctx.store().payments.reserve({ clientId: who, transactionId: `GROW-${i}`, requestHash: 'h'.repeat(64), amount: '5.00', currency: 'IDR', details }, Date.UTC(2033, 0, 10) + i);
    }
    const sent: { sql: string; params: SqlValue[] }[] = [];
    // Steps of 10 postings first: the first finds 10 matches in 10, the next ones want 990 more and read 40 (4 × 10).
    const page = await new SqlPaymentSearchRepository(recording(ctx.store().db, sent), TEST_AUDIT_KEYS, null, Date.now, { gramChunk: 10 }).page({ clientId: who, text: term }, 'newest', null, 100);
    expect(page.rows.map((p) => p.transactionId)).to.deep.equal(Array.from({ length: 60 }, (_, i) => `GROW-${59 - i}`));
    expect(page.totals).to.deep.include({ count: 60, truncated: false, proof: 'proved' });
    const steps = sent.filter(({ sql }) => sql.includes(' AS low')).map(({ sql }) => Number(/LIMIT (\d+)\) t0/.exec(sql)?.[1]));
    expect(steps).to.deep.equal([10, 40, 40]);
  });
});
