import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';
import { keptDayOf1001Payments } from '../support/kept-day-totals.js';

/**
 * GET /console/overview over more payments than are checked one by one (figures as stored): a
 * closed day's figures come from its kept totals (migration 034, counted by the seal sweep), and
 * kept totals altered in SQL by a writer without keys are named on the page, the day's figures
 * counted from its payments instead.
 */
forEachBackend('GET /console/overview with kept day totals (#16)', (db) => {
  let con: TestConsole;
  let client: ConsoleClient;
  let start = 0;
  let day = '';
  let dayNumber = 0;

  before(async function () {
    this.timeout(120_000);
    // The sweep of a console that ran before: the day counted and kept.
    const kept = await keptDayOf1001Payments(db.store(), `kept-${randomBytes(3).toString('hex')}`);
    ({ start, day, dayNumber } = kept);
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { clock: () => kept.now, sealSweep: false });
    const user = await con.createUser(`viewer-${randomBytes(3).toString('hex')}`, 'viewer');
    client = new ConsoleClient(con.origin);
    expect((await client.signIn(user.username, user.password)).status).to.equal(303);
  });
  after(() => con?.close());

  /** The page, and the day's count and sum of SUCCESS and FAILED as its table shows them. */
  async function shown(): Promise<{ text: string; received: string[]; failed: string[] }> {
    const page = await client.get('/console/overview?days=7');
    expect(page.status).to.equal(200);
    const row = new RegExp(`<tr data-day="${day}">(.*?)</tr>`, 's').exec(page.text)![1];
    const cells = (state: string) => [...row.matchAll(new RegExp(`data-state="${state}" data-figure="(?:count|sum)">([^<]*)<`, 'g'))].map((m) => m[1]);
    return { text: page.text, received: cells('RECEIVED'), failed: cells('FAILED') };
  }

  it('shows the closed day from its kept totals: what its payments count and sum, not one payment of it counted', async () => {
    // Every statement the console's store runs for the page, with its values.
    const read: { sql: string; params: unknown[] }[] = [];
    const consoleDb = con.store.db;
    const query = consoleDb.query;
    consoleDb.query = ((sql: string, params: unknown[] = [], ...rest: unknown[]) => {
      read.push({ sql, params });
      return (query as (...args: unknown[]) => unknown).call(consoleDb, sql, params, ...rest);
    }) as typeof consoleDb.query;
    let page: Awaited<ReturnType<typeof shown>>;
    try {
      page = await shown();
    } finally {
      consoleDb.query = query;
    }
    // The other days of the week are counted from the payments; the kept day's range is in none of those statements.
    const counting = read.filter((s) => s.sql.includes('SUM(amount_minor)') && s.sql.includes('FROM payments'));
    expect(counting).to.have.length.greaterThan(0);
    expect(counting.filter((s) => s.params.includes(start))).to.deep.equal([]);
    expect(page.text).to.contain('data-proof="stored"');
    expect(page.text).not.to.contain('id="daily-kept-problems"');
    expect(page.received).to.deep.equal(['1000', 'Rp 1.000,00']);
    expect(page.failed).to.deep.equal(['1', 'Rp 2,50']);
  });

  it('names kept totals altered in SQL as an integrity error, and shows the day as its payments count it', async () => {
    const where = "account_tag = '*' AND day = ?";
    const [kept] = await db.store().db.query<{ totals: string }>(`SELECT totals FROM reconciliation_seals WHERE ${where}`, [dayNumber]);
    const forged = kept.totals.replace('"RECEIVED",1000,"100000"', '"RECEIVED",900,"90000"');
    expect(forged).not.to.equal(kept.totals);
    await db.store().db.execute(`UPDATE reconciliation_seals SET totals = ? WHERE ${where}`, [forged, dayNumber]);
    const page = await shown();
    const problems = /<div class="error" role="alert" id="daily-kept-problems">(.*?)<\/div>/s.exec(page.text)?.[1] ?? '';
    expect(problems).to.contain(`reconciliation_seals row of the kept totals of day ${day} was altered`);
    expect(page.received).to.deep.equal(['1000', 'Rp 1.000,00']);
    expect(page.failed).to.deep.equal(['1', 'Rp 2,50']);
  });
});
