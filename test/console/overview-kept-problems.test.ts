import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';
import { keptDayOf1001Payments } from '../support/kept-day-totals.js';

/**
 * The overview over more payments than are checked one by one takes a closed day from its kept
 * totals (migration 034); kept totals that do not hold are named to the clerk in the page's
 * language, the day shown as the table shows it, and what was found (as `gerbang audit verify`
 * names it) only folded beneath, for whoever runs it.
 */
forEachBackend('GET /console/overview names kept day totals that do not hold in the clerk’s words (#16)', (db) => {
  let con: TestConsole;
  let client: ConsoleClient;
  let day = '';
  let dayNumber = 0;
  let start = 0;
  let now = 0;
  const where = "account_tag = '*' AND day = ?";

  before(async function () {
    this.timeout(120_000);
    const kept = await keptDayOf1001Payments(db.store(), `words-${randomBytes(3).toString('hex')}`);
    ({ day, dayNumber, start, now } = kept);
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { clock: () => kept.now, sealSweep: false });
    const user = await con.createUser(`viewer-${randomBytes(3).toString('hex')}`, 'viewer');
    client = new ConsoleClient(con.origin);
    expect((await client.signIn(user.username, user.password)).status).to.equal(303);
  });
  after(() => con?.close());

  /** Each problem named on the overview: its words as read (tags dropped, the folded finding apart) and the finding. */
  async function named(): Promise<{ words: string; found: string }[]> {
    const page = await client.get('/console/overview?days=7');
    expect(page.status).to.equal(200);
    const list = /<div class="error" role="alert" id="daily-kept-problems">([\s\S]*?)<\/ul><\/div>/.exec(page.text)?.[1] ?? '';
    return [...list.matchAll(/<li[^>]*>([\s\S]*?)<details class="found"><summary>[^<]*<\/summary><code class="integrity-problem">([\s\S]*?)<\/code><\/details><\/li>/g)].map((m) => ({
      words: m[1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim(),
      found: m[2],
    }));
  }

  const shownDay = () => day.split('-').reverse().join('/');

  it('words kept totals altered in SQL in Indonesian, and in English on an English page', async () => {
    const [kept] = await db.store().db.query<{ totals: string }>(`SELECT totals FROM reconciliation_seals WHERE ${where}`, [dayNumber]);
    await db.store().db.execute(`UPDATE reconciliation_seals SET totals = ? WHERE ${where}`, [kept.totals.replace('"RECEIVED",1000,"100000"', '"RECEIVED",900,"90000"'), dayNumber]);
    const [indonesian] = await named();
    expect(indonesian.words).to.equal(`Angka tersimpan untuk ${shownDay()} diubah, dipalsukan atau ditulis ulang di database, di luar Gerbang.`);
    expect(indonesian.found).to.contain(`reconciliation_seals row of the kept totals of day ${day} was altered`);
    await client.get('/console/lang?to=en');
    try {
      const [english] = await named();
      expect(english.words).to.equal(`The kept figures of ${shownDay()} were altered, forged or written back in the database, outside Gerbang.`);
    } finally {
      await client.get('/console/lang?to=id');
    }
  });

  it('words kept totals deleted in SQL', async () => {
    await db.store().db.execute(`DELETE FROM reconciliation_seals WHERE ${where}`, [dayNumber]);
    const problems = await named();
    expect(problems.map((p) => p.words)).to.deep.equal([`Angka tersimpan untuk ${shownDay()} dihapus dari database, di luar Gerbang.`]);
    expect(problems[0].found).to.contain('was deleted');
  });

  it('words kept totals whose day has other reserve events than were counted: one moved out of the day in SQL', async () => {
    // Counted again (the row was deleted above), then a payment of the day's reserve event given another cause.
    expect((await db.store().paymentSearch.sealClosedDays(now)).daysCounted).to.be.at.least(1);
    const [{ id }] = await db.store().db.query<{ id: number | string }>(
      "SELECT id FROM payment_events WHERE cause = 'reserve' AND recorded_at >= ? AND recorded_at < ? ORDER BY id LIMIT 1",
      [start, start + 86_400_000],
    );
    await db.store().db.execute("UPDATE payment_events SET cause = 'update' WHERE id = ?", [id]);
    try {
      const problems = await named();
      expect(problems.map((p) => p.words)).to.deep.equal([
        `Angka tersimpan untuk ${shownDay()} tidak dapat dibuktikan: pembayaran yang dibuat hari itu menurut riwayatnya tidak sama dengan yang dihitung (diubah di database, di luar Gerbang).`,
      ]);
      expect(problems[0].found).to.contain('was counted with 1001 reserve events of its day, and there are 1000');
    } finally {
      await db.store().db.execute("UPDATE payment_events SET cause = 'reserve' WHERE id = ?", [id]);
    }
  });
});
