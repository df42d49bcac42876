import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { PaymentCursor, PaymentRecord, PaymentSearch, PaymentSort, Store } from '../../src/store/types.js';
import { forEachBackend } from '../support/databases.js';

const DAY = 86_400_000;

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
    const totals = await ctx.store().paymentSearch.dailyTotals(base, base + 5 * DAY);
    const first = totals.filter((t) => t.day === '2026-11-10');
    // Day one holds SRCH-0..4: FAILED 0 and 3; SUCCESS 1, 2, 4.
    expect(first.find((t) => t.state === 'FAILED')).to.deep.include({ count: 2, totalMinor: 50_000n + 350_000n });
    expect(first.find((t) => t.state === 'SUCCESS')).to.deep.include({ count: 3, totalMinor: 150_000n + 250_000n + 50_000n });
  });

  it('lists the banks that have payments', async () => {
    expect(await ctx.store().paymentSearch.banks()).to.include.members(['bca', 'bni']);
  });
});
