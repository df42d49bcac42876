import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { SqlAuditRepository, SqlPaymentSearchRepository } from '../../src/store/repositories/index.js';
import { accountTag } from '../../src/store/repositories/payment-repository.js';
import type { StoreReadLimits } from '../../src/store/repositories/payment-search-repository.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { DAY_TOTALS_TAG } from '../../src/store/repositories/reconciliation-seals.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { watchChainWalks } from '../support/chain-walks.js';
import { forEachBackend } from '../support/databases.js';
import { attackedStore } from '../support/later-events.js';
import { copyRow, insertRow, writeBack, type Row } from '../support/sql-rows.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * A reading's chain walk is bounded (#16): before a reading seals the days it proved whole, it
 * proves the audit chains since their start walking at most StoreReadLimits.readingChainLinks
 * links. A longer walk proves nothing either way: the days are not sealed, not checked, and
 * named as left to the seal sweep, which walks the chains whole and seals them (days older than
 * its window too, as the reading asked it). A real break stays not provable.
 */
forEachBackend('A reconciliation reading whose audit chain walk would pass its bound (#16)', (ctx) => {
  const store = (): Store => ctx.store();
  const chain = () => (store().audit as SqlAuditRepository).chain;
  /** A Jakarta midnight of 2024 of this test's own (each test a day of its own, far from the others). */
  const midnight = (slot: number) => Date.UTC(2024, 0, 1) - 7 * HOUR + slot * DAY;
  const label = (start: number) => new Date(start + 7 * HOUR).toISOString().slice(0, 10);
  /** A repository of its own on the store's database and chain, its clock at `now`, its bounds `limits`. */
  const searchAt = (now: number, limits: Partial<StoreReadLimits> = {}) => new SqlPaymentSearchRepository(store().db, TEST_AUDIT_KEYS, chain(), () => now, limits);
  /** The day seals of `account` on the day starting at `start`. */
  const sealsOf = async (account: string, start: number) =>
    (await store().db.query<{ row_count: number | string }>('SELECT row_count FROM reconciliation_seals WHERE account_tag = ? AND day = ?', [accountTag(TEST_AUDIT_KEYS, account), Math.floor((start + 7 * HOUR) / DAY)])).map((s) => Number(s.row_count));
  /** A new account's payments on the day starting at `start`, each reserved then settled `state` (two events each): their ids, and their rows as reserved (with the MAC they had then). */
  async function paidOn(start: number, count: number, state: 'SUCCESS' | 'UNKNOWN' = 'SUCCESS'): Promise<{ account: string; ids: number[]; reserved: Row[] }> {
    const account = `02${parseInt(randomBytes(4).toString('hex'), 16).toString().padStart(10, '0').slice(0, 10)}`;
    const ids: number[] = [];
    const reserved: Row[] = [];
    for (let i = 0; i < count; i += 1) {
      const p = await store().payments.reserve({ clientId: 'bound', transactionId: `B-${account}-${i}`, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: account }, start + HOUR + i);
      reserved.push(await copyRow(store().db, 'payments', 'id = ?', [p.id]));
      expect(await store().payments.update(p.id, { state, bank: 'bca', bankTransactionId: `BT-${account}-${i}` }, start + 2 * HOUR + i)).to.equal(true);
      ids.push(p.id);
    }
    return { account, ids, reserved };
  }

  /**
   * A payment's newest event deleted with its link, its row set back as reserved under the MAC it
   * had then (as an attacker without a key): it agrees with the history left. Returns the link cut
   * and what puts it all back.
   */
  async function rollBackNewest(id: number, reserved: Row): Promise<{ link: Row; putBack: () => Promise<void> }> {
    const settled = await copyRow(store().db, 'payments', 'id = ?', [id]);
    const event = await copyRow(store().db, 'payment_events', 'payment_id = ? AND seq = (SELECT MAX(seq) FROM payment_events WHERE payment_id = ?)', [id, id]);
    const link = await copyRow(store().db, 'audit_chain', "kind = 'payment_event' AND record_id = ?", [event.id]);
    await store().db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [link.writer_id, link.seq]);
    await store().db.execute('DELETE FROM payment_events WHERE id = ?', [event.id]);
    await writeBack(store().db, 'payments', reserved, 'id = ?', [id]);
    return {
      link,
      putBack: async () => {
        await insertRow(store().db, 'payment_events', event);
        await insertRow(store().db, 'audit_chain', link);
        await writeBack(store().db, 'payments', settled, 'id = ?', [id]);
      },
    };
  }

  /**
   * A new account's two payments on the day three days after the midnight of `slot`, and the
   * break: a payment of that earlier day rolled back to its reservation (rollBackNewest).
   */
  async function dayAfterABreak(slot: number): Promise<{ start: number; account: string; link: Row; putBack: () => Promise<void> }> {
    const broken = midnight(slot);
    const { ids, reserved } = await paidOn(broken, 2);
    const start = broken + 3 * DAY;
    const { account } = await paidOn(start, 2);
    return { start, account, ...(await rollBackNewest(ids[0], reserved[0])) };
  }

  /** The day starting at `start` of `account` sealed with `rows` rows, and a reading of it held to its seal: neither unprovable nor left, checked. */
  async function heldToItsSeal(search: SqlPaymentSearchRepository, account: string, start: number, rows: number): Promise<void> {
    expect(await sealsOf(account, start)).to.deep.equal([rows]);
    const held = await search.fromAccount(account, start, start + DAY);
    expect(held.unprovable).to.equal(undefined);
    expect(held.leftToSweep).to.equal(undefined);
    expect(held.unchecked).not.to.include(label(start));
  }

  it('a reading with a tiny bound seals nothing and counts the day as not checked, naming it left to the seal sweep; the sweep seals it and a later reading holds it to its seal', async () => {
    const start = midnight(100);
    const now = start + 2 * DAY + 10 * HOUR;
    const { account } = await paidOn(start, 3);
    const search = searchAt(now, { readingChainLinks: 1 });
    try {
      const read = await search.fromAccount(account, start, start + DAY);
      expect(read.rows).to.have.length(3);
      expect(read.leftToSweep?.days).to.deep.equal([label(start)]);
      expect(read.leftToSweep?.detail).to.contain('are not proved yet').and.to.contain('more than the 1 a reading walks').and.to.contain('left to the seal sweep, which proves them on its next run');
      expect(read.unchecked).to.include(label(start));
      expect(read.unprovable).to.equal(undefined);
      expect(await sealsOf(account, start), 'not sealed by the reading').to.deep.equal([]);

      const swept = await search.sealClosedDays(now);
      expect(swept.sealed).to.be.at.least(1);
      expect(await sealsOf(account, start), 'sealed by the sweep, which walks whole').to.deep.equal([3]);
      const again = await search.fromAccount(account, start, start + DAY);
      expect(again.leftToSweep).to.equal(undefined);
      expect(again.unchecked).not.to.include(label(start));
    } finally {
      await search.close();
    }
  });

  it('a day older than the sweep\'s window left to it by a reading is read and sealed by the sweep\'s next run (a span asked of it), never before a reading asks', async () => {
    const start = midnight(140);
    // Forty days on: the day is outside the 32 the sweep seals by itself.
    const now = start + 40 * DAY + 10 * HOUR;
    const { account } = await paidOn(start, 2);
    const search = searchAt(now, { readingChainLinks: 1 });
    try {
      expect((await search.sealClosedDays(now)).requested, 'nothing asked yet').to.equal(0);
      expect(await sealsOf(account, start), 'outside the window: the sweep alone leaves it').to.deep.equal([]);
      const read = await search.fromAccount(account, start, start + DAY);
      expect(read.leftToSweep?.days).to.deep.equal([label(start)]);
      expect(await sealsOf(account, start)).to.deep.equal([]);

      const swept = await search.sealClosedDays(now);
      expect(swept.requested).to.equal(1);
      expect(await sealsOf(account, start)).to.deep.equal([2]);
      expect((await search.sealClosedDays(now)).requested, 'asked once, proved once').to.equal(0);
      const again = await search.fromAccount(account, start, start + DAY);
      expect(again.leftToSweep).to.equal(undefined);
      expect(again.unchecked).not.to.include(label(start));
    } finally {
      await search.close();
    }
  });

  it('a payment of a span left to the sweep settled between the sweep\'s reading of it and its guard: that span alone is not sealed, never taken for a break of the chains (the run seals the window\'s days, no later reading is told the sweep found them broken); the next run seals it', async () => {
    const start = midnight(500);
    // Forty days on: the day is outside the 32 the sweep seals by itself.
    const now = start + 40 * DAY + 10 * HOUR;
    // The first payment in doubt, to be settled by the resolver's genuine write.
    const { account, ids } = await paidOn(start, 2, 'UNKNOWN');
    const older = await paidOn(start + 2 * DAY, 1);
    const recent = await paidOn(start + 38 * DAY, 2);
    // A reading's statements end with the rows from before account tags: the span is read, its guard not yet asked.
    const UNTAGGED = /source_account_tag IS NULL AND source_account IS NOT NULL/;
    const watched = attackedStore(ctx, [UNTAGGED]);
    const search = new SqlPaymentSearchRepository(watched.store.db, TEST_AUDIT_KEYS, chain(), () => now, { readingChainLinks: 1 });
    try {
      expect((await search.fromAccount(account, start, start + DAY)).leftToSweep?.days).to.deep.equal([label(start)]);
      watched.arm([
        UNTAGGED,
        async () => {
          expect(await store().payments.update(ids[0], { state: 'SUCCESS' }, now - HOUR)).to.equal(true);
        },
      ]);
      const swept = await search.sealClosedDays(now);
      expect(watched.fired(), 'settled while the sweep held the span as read').to.equal(true);
      expect(swept).to.deep.include({ requested: 1, left: false });
      expect(await sealsOf(account, start), 'not sealed on the row as it was read').to.deep.equal([]);
      expect(await sealsOf(recent.account, start + 38 * DAY), 'the window\'s day sealed by the same run').to.deep.equal([2]);
      // The span read again, and a later day left to the sweep: each left to its next run, neither "found broken".
      for (const [who, day] of [
        [account, start],
        [older.account, start + 2 * DAY],
      ] as const) {
        const read = await search.fromAccount(who, day, day + DAY);
        expect(read.unprovable, label(day)).to.equal(undefined);
        expect(read.leftToSweep?.days, label(day)).to.deep.equal([label(day)]);
        expect(read.leftToSweep?.detail, label(day)).to.contain('left to the seal sweep, which proves them on its next run');
      }
      expect((await search.sealClosedDays(now)).requested, 'both spans asked again').to.equal(2);
      await heldToItsSeal(search, account, start, 2);
      await heldToItsSeal(search, older.account, start + 2 * DAY, 1);
    } finally {
      await search.close();
      await watched.store.close();
    }
  });

  it('a break the sweep found, put back once its window moved on: days from where a later run found the chains hold are left to the sweep, never named broken; those before stay not provable until the sweep proves them', async () => {
    const { start, account, putBack } = await dayAfterABreak(560);
    let now = start + 2 * DAY + 10 * HOUR;
    const search = new SqlPaymentSearchRepository(store().db, TEST_AUDIT_KEYS, chain(), () => now, { readingChainLinks: 1 });
    try {
      expect(await search.sealClosedDays(now), 'found from its window\'s start').to.deep.include({ sealed: 0 });
    } finally {
      await putBack();
    }
    try {
      // Forty days on (put back, or accepted by an operator): the run walks from its window's start, long after the break's.
      now += 40 * DAY;
      expect(await search.sealClosedDays(now)).to.deep.include({ left: false });
      const recent = await paidOn(start + 38 * DAY, 2);
      const read = await search.fromAccount(recent.account, start + 38 * DAY, start + 39 * DAY);
      expect(read.unprovable, 'proved clear of the break').to.equal(undefined);
      expect(read.leftToSweep?.days).to.deep.equal([label(start + 38 * DAY)]);
      // A day between the two walks' starts: the break may lie on or after it, as far as the console knows.
      const between = await search.fromAccount(account, start, start + DAY);
      expect(between.leftToSweep).to.equal(undefined);
      expect(between.unprovable?.problem).to.contain('the seal sweep found the audit chains broken since');
      // The sweep proves both (the one between asked by its reading) and seals them.
      expect((await search.sealClosedDays(now)).requested).to.equal(1);
      await heldToItsSeal(search, recent.account, start + 38 * DAY, 2);
      await heldToItsSeal(search, account, start, 2);
    } finally {
      await search.close();
    }
  });

  it('a chain whose head row was deleted while its links remain (as an attacker without a key) is not provable past the bound too: found without a walk', async () => {
    const start = midnight(260);
    const now = start + 2 * DAY + 10 * HOUR;
    const { account } = await paidOn(start, 2);
    // Another process's chain (a store of its own, its writer's links), its head row then deleted;
    // the store's own chain holds more links since then than the bound.
    const other = await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS });
    const p = await other.payments.reserve({ clientId: 'bound', transactionId: `B-OTHER-${account}`, requestHash: 'a'.repeat(64), amount: '5000.00', currency: 'IDR', sourceAccount: '0201999999' }, start + HOUR);
    await other.close();
    const event = await copyRow(store().db, 'payment_events', 'payment_id = ?', [p.id]);
    const link = await copyRow(store().db, 'audit_chain', "kind = 'payment_event' AND record_id = ?", [event.id]);
    expect(store().audit.ownHeads().map((h) => h.writerId)).not.to.include(link.writer_id);
    const head = await copyRow(store().db, 'audit_writers', 'writer_id = ?', [link.writer_id]);
    const bounded = searchAt(now, { readingChainLinks: 1 });
    await store().db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [link.writer_id]);
    try {
      const read = await bounded.fromAccount(account, start, start + DAY);
      expect(read.leftToSweep).to.equal(undefined);
      expect(read.unprovable?.days).to.deep.equal([label(start)]);
      expect(read.unprovable?.problem).to.contain(`the head of chain ${String(link.writer_id)} was deleted from audit_writers`);
      expect(await sealsOf(account, start)).to.deep.equal([]);
    } finally {
      await insertRow(store().db, 'audit_writers', head);
      await bounded.close();
    }
  });

  it('a payment\'s newest event deleted with its link (as an attacker without a key) stays not provable within the bound; past it the day is left to the sweep until the sweep finds the break, then not provable; put back, the sweep seals it', async () => {
    const start = midnight(200);
    const now = start + 40 * DAY + 10 * HOUR;
    const { account, ids, reserved } = await paidOn(start, 2);
    const within = searchAt(now);
    const bounded = searchAt(now, { readingChainLinks: 1 });
    // The first payment (its settle event not its chain's head) rolled back to its reservation.
    const { link, putBack } = await rollBackNewest(ids[0], reserved[0]);
    try {
      const inBound = await within.fromAccount(account, start, start + DAY);
      expect(inBound.unprovable?.days).to.deep.equal([label(start)]);
      expect(inBound.unprovable?.problem).to.contain(`link ${String(link.seq)} of chain ${String(link.writer_id)} is missing`);
      expect(inBound.leftToSweep).to.equal(undefined);

      const past = await bounded.fromAccount(account, start, start + DAY);
      expect(past.leftToSweep?.days).to.deep.equal([label(start)]);
      expect(past.unprovable).to.equal(undefined);
      // The sweep's walk (whole) finds the break: nothing sealed, the span left asked for its next run.
      const broken = await bounded.sealClosedDays(now);
      expect(broken).to.deep.include({ sealed: 0, requested: 0, left: true });
      expect(await sealsOf(account, start), 'not sealed over the rolled-back payment').to.deep.equal([]);
      const found = await bounded.fromAccount(account, start, start + DAY);
      expect(found.leftToSweep, 'no longer "proved shortly"').to.equal(undefined);
      expect(found.unprovable?.days).to.deep.equal([label(start)]);
      expect(found.unprovable?.problem).to.contain(`link ${String(link.seq)} of chain ${String(link.writer_id)} is missing`);
      expect(found.unchecked).to.include(label(start));
      expect(await sealsOf(account, start)).to.deep.equal([]);
    } finally {
      await putBack();
    }
    try {
      // Put back: the sweep proves the chains hold now, and reads and seals the span asked.
      expect((await bounded.sealClosedDays(now)).requested).to.equal(1);
      await heldToItsSeal(bounded, account, start, 2);
    } finally {
      await within.close();
      await bounded.close();
    }
  });

  it('a day past the bound, after the sweep found a break from before that day, is not provable naming the sweep\'s finding on every later reading (never "proved on the sweep\'s next run"); put back, the sweep seals it', async () => {
    // The break: an earlier day's payment rolled back to its reservation.
    const { start, account, link, putBack } = await dayAfterABreak(320);
    const now = start + 2 * DAY + 10 * HOUR;
    const bounded = searchAt(now, { readingChainLinks: 1 });
    try {
      // The sweep asks from its window's start, before the day read: it finds the break and seals nothing.
      expect(await bounded.sealClosedDays(now)).to.deep.include({ sealed: 0 });
      for (const run of ['after the run that found it', 'after another run']) {
        const read = await bounded.fromAccount(account, start, start + DAY);
        expect(read.leftToSweep, run).to.equal(undefined);
        expect(read.unprovable?.days, run).to.deep.equal([label(start)]);
        expect(read.unprovable?.problem, run).to.contain('the seal sweep found the audit chains broken since').and.to.contain('proves no later day until an operator resolves it');
        expect(read.unprovable?.problem, run).to.contain(`link ${String(link.seq)} of chain ${String(link.writer_id)} is missing`);
        expect(read.unchecked, run).to.include(label(start));
        expect(await sealsOf(account, start), run).to.deep.equal([]);
        expect((await bounded.sealClosedDays(now)).sealed, run).to.equal(0);
      }
    } finally {
      await putBack();
    }
    try {
      // Put back: the sweep proves the chains hold and seals the day; the reading holds it to its seal.
      await bounded.sealClosedDays(now);
      await heldToItsSeal(bounded, account, start, 2);
    } finally {
      await bounded.close();
    }
  });
});

/**
 * The sweep asks its guard (the chains walked whole since the first day asked, the rows read again
 * as proved, in one snapshot) once for the days it counts and once for the accounts it seals, each
 * asking over all of them (#16): asked once per day and once per account, a run over a month of a
 * million payments walked some 35 months of links and did not end within an hour. What it seals
 * and keeps is the same: every day of every account sealed with its rows, every day's totals kept.
 */
forEachBackend('The seal sweep walks the audit chains once for all it seals in a run (#16)', (ctx) => {
  it('three accounts over five days: every day sealed and counted, the links walked at most twice what the chains hold', async () => {
    const store = ctx.store();
    const start = Date.UTC(2024, 5, 1) - 7 * HOUR;
    const now = start + 7 * DAY + 10 * HOUR;
    const accounts = ['0201777001', '0201777002', '0201777003'];
    for (const [a, account] of accounts.entries()) {
      for (let d = 0; d < 5; d += 1) {
        for (let i = 0; i < 2; i += 1) {
          const at = start + d * DAY + HOUR + a * 60_000 + i * 1_000;
          const p = await store.payments.reserve({ clientId: 'sweep-walks', transactionId: `SW-${a}-${d}-${i}`, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: account }, at);
          expect(await store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: `BT-SW-${a}-${d}-${i}` }, at + 500)).to.equal(true);
        }
      }
    }
    const own = await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS });
    const walked = watchChainWalks(own.db);
    const search = new SqlPaymentSearchRepository(own.db, TEST_AUDIT_KEYS, (store.audit as SqlAuditRepository).chain, () => now);
    try {
      const swept = await search.sealClosedDays(now);
      expect(swept).to.deep.include({ sealed: 15, daysCounted: 32, left: false });
      const seals = await store.db.query<{ account_tag: string; day: number | string; row_count: number | string }>('SELECT account_tag, day, row_count FROM reconciliation_seals WHERE account_tag <> ? ORDER BY account_tag, day', [DAY_TOTALS_TAG]);
      const first = Math.floor((start + 7 * HOUR) / DAY);
      expect(seals.map((s) => [s.account_tag, Number(s.day), Number(s.row_count)])).to.deep.equal(
        accounts.map((account) => accountTag(TEST_AUDIT_KEYS, account)).sort().flatMap((tag) => [0, 1, 2, 3, 4].map((d) => [tag, first + d, 2])),
      );
      const [{ n: totals }] = await store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM reconciliation_seals WHERE account_tag = ?', [DAY_TOTALS_TAG]);
      expect(Number(totals)).to.equal(32);
      const [{ n: links }] = await store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain');
      expect(walked(), `links walked, of ${String(links)} in the chains`).to.be.at.most(2 * Number(links));
      expect((await search.sealClosedDays(now)).sealed, 'nothing left to seal').to.equal(0);
    } finally {
      await search.close();
      await own.close();
    }
  });

  it('a payment settled while the sweep holds its day\'s seal to ask about with others: that seal alone is not written, the other account\'s is; the next run seals it', async () => {
    const store = ctx.store();
    const start = Date.UTC(2025, 2, 1) - 7 * HOUR;
    const now = start + 2 * DAY + 10 * HOUR;
    const accounts = ['0201888001', '0201888002'];
    const ids: number[] = [];
    for (const [a, account] of accounts.entries()) {
      for (let i = 0; i < 2; i += 1) {
        const at = start + HOUR + a * 60_000 + i * 1_000;
        const p = await store.payments.reserve({ clientId: 'sweep-settled', transactionId: `SS-${a}-${i}`, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: account }, at);
        // The first of each account in doubt, the other paid.
        expect(await store.payments.update(p.id, { state: i === 0 ? 'UNKNOWN' : 'SUCCESS', bank: 'bca', bankTransactionId: `BT-SS-${a}-${i}` }, at + 500)).to.equal(true);
        ids.push(p.id);
      }
    }
    // The sweep reads the accounts in their tags' order: the first one's payment in doubt is settled
    // (the resolver's genuine write) once it was read, as the sweep looks for the next tag's first payment.
    const tags = accounts.map((account) => accountTag(TEST_AUDIT_KEYS, account));
    const [first, second] = tags[0] < tags[1] ? [0, 1] : [1, 0];
    const FIRST_PAYMENT = /FROM payments WHERE source_account_tag = \? AND created_at >= \? AND created_at < \? ORDER BY created_at LIMIT 1/;
    const watched = attackedStore(ctx, [FIRST_PAYMENT]);
    const search = new SqlPaymentSearchRepository(watched.store.db, TEST_AUDIT_KEYS, (store.audit as SqlAuditRepository).chain, () => now);
    const sealOf = async (a: number) =>
      (await store.db.query<{ row_count: number | string }>('SELECT row_count FROM reconciliation_seals WHERE account_tag = ? AND day = ?', [tags[a], Math.floor((start + 7 * HOUR) / DAY)])).map((r) => Number(r.row_count));
    try {
      // Asked once for each account tag in the database (other tests' too), in their order: after the first one's.
      const all = (await store.db.query<{ t: string }>('SELECT source_account_tag AS t FROM payments WHERE source_account_tag IS NOT NULL GROUP BY source_account_tag')).map((r) => r.t).sort();
      watched.arm(
        ...all.slice(0, all.indexOf(tags[first]) + 1).map((): [RegExp, () => Promise<void>] => [FIRST_PAYMENT, async () => undefined]),
        [
          FIRST_PAYMENT,
          async () => {
            expect(await store.payments.update(ids[2 * first], { state: 'SUCCESS' }, now - HOUR)).to.equal(true);
          },
        ],
      );
      const swept = await search.sealClosedDays(now);
      expect(watched.fired(), 'settled while the sweep held the seal').to.equal(true);
      expect(await sealOf(second), 'the other account\'s day sealed').to.deep.equal([2]);
      expect(await sealOf(first), 'not sealed on the row as it was read').to.deep.equal([]);
      expect(swept.sealed).to.equal(1);
      expect((await search.sealClosedDays(now)).sealed, 'read again and sealed by the next run').to.equal(1);
      expect(await sealOf(first)).to.deep.equal([2]);
    } finally {
      await search.close();
      await watched.store.close();
    }
  });
});
