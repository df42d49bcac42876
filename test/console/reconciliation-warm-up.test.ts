import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { forEachBackend } from '../support/databases.js';
import { TestConsole } from '../support/console-harness.js';
import { captureLogs } from '../support/log-capture.js';

/**
 * The console's start readies the reconciliation on a sealed day before it listens (#16,
 * reconciliation-warm-up.ts), so a clerk's first month in a fresh process does not pay the code's
 * compilation and the pool's first connections. The payments are written through the store as the
 * gateway writes them; the day is sealed by a reading of the store's, as a page or the sweep seals it.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;

forEachBackend('The finance console warming the reconciliation as it starts (#16)', (ctx) => {
  const account = `02${parseInt(randomBytes(4).toString('hex'), 16).toString().padStart(10, '0').slice(0, 10)}`;
  const who = `warm-${randomBytes(3).toString('hex')}`;
  /** Jakarta midnight starting the day three days ago (closed: the seal margin is an hour). */
  const start = Date.now() - ((Date.now() + 7 * HOUR) % DAY) - 3 * DAY;
  const ids: number[] = [];

  /** The console's log lines from its start, and its store's count of rows proved one by one. */
  async function started(): Promise<{ lines: string[]; provedOneByOne: number }> {
    const logged = captureLogs('info');
    // Its sweep off: the rows proved one by one are the warm-up's alone.
    const con = await TestConsole.start(ctx.url(), {}, { sealSweep: false });
    try {
      return { lines: [...logged.lines], provedOneByOne: con.store.paymentSearch.rowsProvedOneByOne };
    } finally {
      await con.close();
      logged.stop();
    }
  }

  const warmed = (lines: string[]) => lines.findIndex((line) => line.includes('reconciliation warmed on a sealed day'));
  const listening = (lines: string[]) => lines.findIndex((line) => line.includes('finance console listening'));

  it('with no day sealed yet, starts and says the reconciliation was not warmed', async () => {
    const { lines } = await started();
    expect(warmed(lines)).to.equal(-1);
    expect(lines.some((line) => line.includes('reconciliation not warmed: no day sealed yet'))).to.equal(true);
    expect(listening(lines)).to.be.above(-1);
  });

  it('reads a sealed day before it listens, proved by its seal (no row opened), and says so with the rows read', async () => {
    for (const [i, tx] of ['WARM-1', 'WARM-2', 'WARM-3'].entries()) {
      const p = await ctx.store().payments.reserve({ clientId: who, transactionId: tx, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: account }, start + (i + 1) * HOUR);
      ids.push(p.id);
    }
    await ctx.store().paymentSearch.fromAccount(account, start, start + DAY);
    const { lines, provedOneByOne } = await started();
    expect(warmed(lines)).to.be.above(-1);
    expect(warmed(lines)).to.be.below(listening(lines));
    expect(JSON.parse(lines[warmed(lines)])).to.deep.include({ rows: 3, lines: 3 });
    expect(provedOneByOne).to.equal(0);
  });

  it('warms the sealed day with the most rows within its bound, else the smallest, so a start stays short', async () => {
    const before = start - DAY;
    await ctx.store().payments.reserve({ clientId: who, transactionId: 'WARM-0', requestHash: 'a'.repeat(64), amount: '999.00', currency: 'IDR', sourceAccount: account }, before + HOUR);
    await ctx.store().paymentSearch.fromAccount(account, before, before + DAY);
    expect(await ctx.store().paymentSearch.sealedDayToWarm(Date.now(), 5)).to.deep.equal({ account, from: start, to: start + DAY });
    expect(await ctx.store().paymentSearch.sealedDayToWarm(Date.now(), 2)).to.deep.equal({ account, from: before, to: before + DAY });
    expect(await ctx.store().paymentSearch.sealedDayToWarm(Date.now(), 0)).to.deep.equal({ account, from: before, to: before + DAY });
  });

  it('trusts nothing for it: a sealed day whose payment was changed in SQL is proved row by row, and the console still starts', async () => {
    await ctx.store().db.execute("UPDATE payments SET amount = '9000000.00', amount_minor = 900000000 WHERE id = ?", [ids[1]]);
    const { lines, provedOneByOne } = await started();
    // The day's three opened and checked as its seal no longer holds; the changed one, which does
    // not hold (never kept as proved), once more by the page's own reading of the day.
    expect(provedOneByOne).to.equal(4);
    expect(JSON.parse(lines[warmed(lines)])).to.deep.include({ rows: 3 });
    expect(listening(lines)).to.be.above(warmed(lines));
  });
});
