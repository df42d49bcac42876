import { expect } from 'chai';
import { jakartaDate } from '../../src/time/index.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';

const DAY_MS = 86_400_000;
const WIB = 7 * 3_600_000;

/**
 * GET /console/overview: the bank response times (p50 / p95 per WIB day). A closed day is grouped
 * from its bank calls once per console process, as it starts; today is grouped from the calls at
 * every opening; both are what grouping the calls gives.
 */
forEachBackend('GET /console/overview bank response times', (db) => {
  let con: TestConsole;
  let client: ConsoleClient;
  // 10:00 WIB today: yesterday ended ten hours ago.
  const midnight = Math.floor((Date.now() + WIB) / DAY_MS) * DAY_MS - WIB;
  const now = midnight + 10 * 3_600_000;
  const clock = () => now;
  const day = (back: number) => jakartaDate(midnight - back * DAY_MS);
  const from = midnight - 6 * DAY_MS;

  /** Writes one bank call started at `startedAt`, lasting `durationMs` (as the gateway writes it, or as the audit spool writes it back). */
  async function bankCall(startedAt: number, durationMs: number, spoolEntry?: string): Promise<number> {
    const store = db.store();
    const requestId = `req-lat-${Math.random().toString(36).slice(2, 10)}`;
    const exchange = await store.audit.record(
      { requestId, receivedAt: startedAt, remoteIp: '127.0.0.1', origin: null, method: 'POST', path: '/v1/transfers', clientId: 'erp-lat', transactionId: requestId, amount: '1000.00', requestHeaders: {}, requestBody: '{}' },
      { outcome: 'completed', statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{}', completedAt: startedAt + durationMs + 5 },
    );
    return store.audit.recordBankCall(
      { exchangeId: exchange, requestId, partner: 'bca', operation: 'transfer-intrabank', method: 'POST', url: 'https://bank.example/transfers', requestHeaders: {}, requestBody: '{}', statusCode: 200, responseBody: '{}', errorCode: null, startedAt, durationMs },
      spoolEntry,
    );
  }

  /** The p50 / p95 the page shows per day (from the charts' data), days without calls left out. */
  async function shown(on = client): Promise<Record<string, [number, number]>> {
    const page = await on.get('/console/overview?days=7');
    expect(page.status).to.equal(200);
    const attribute = /id="overview-data" hidden data-json="([^"]*)"/.exec(page.text)![1];
    const json = attribute.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#96;/g, '`').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const data = JSON.parse(json) as { labels: string[]; p50: (number | null)[]; p95: (number | null)[] };
    return Object.fromEntries(data.labels.flatMap((label, i) => (data.p50[i] === null ? [] : [[label, [data.p50[i]!, data.p95[i]!]]])));
  }

  /** What grouping every call of the period gives, per day. */
  async function grouped(): Promise<Record<string, [number, number]>> {
    const rows = await db.store().paymentSearch.dailyBankLatency(from, now + 1);
    return Object.fromEntries(rows.map((row) => [row.day, [row.p50Ms, row.p95Ms]]));
  }

  before(async function () {
    this.timeout(60_000);
    for (const [back, durations] of [[3, [100, 200, 300]], [2, [40, 50, 60, 70]], [1, [500, 900]], [0, [10, 20, 30]]] as const) {
      for (const [i, ms] of durations.entries()) await bankCall(midnight - back * DAY_MS + (i + 1) * 60_000, ms);
    }
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { clock });
    client = await signedIn(con);
  });
  after(() => con.close());

  async function signedIn(on: TestConsole): Promise<ConsoleClient> {
    const user = await on.createUser(`viewer-${Math.random().toString(36).slice(2, 8)}`, 'viewer');
    const signing = new ConsoleClient(on.origin);
    expect((await signing.signIn(user.username, user.password)).status).to.equal(303);
    return signing;
  }

  it('shows each day what grouping its calls gives', async () => {
    const figures = await shown();
    expect(Object.keys(figures)).to.deep.equal([day(3), day(2), day(1), day(0)]);
    expect(figures).to.deep.equal(await grouped());
  });

  it('takes a closed day from the figures grouped as the console started, and today from the calls', async () => {
    const first = await shown();
    // Yesterday's calls and today's changed in SQL after the first opening: only today is grouped again.
    await db.store().db.execute('UPDATE audit_bank_calls SET duration_ms = 7000 WHERE started_at >= ? AND started_at < ?', [midnight - DAY_MS, midnight]);
    await db.store().db.execute('UPDATE audit_bank_calls SET duration_ms = 8000 WHERE started_at >= ?', [midnight]);
    const again = await shown();
    expect(again[day(1)], 'yesterday as first grouped').to.deep.equal(first[day(1)]);
    expect(again[day(0)], 'today from its calls').to.deep.equal((await grouped())[day(0)]).and.to.deep.equal([8000, 8000]);
  });

  it('groups a closed day again when a call of it is written back from the audit spool, equal to grouping its calls', async () => {
    const before = await shown();
    await bankCall(midnight - 2 * DAY_MS + 3_600_000, 4000, `spool-${Math.random().toString(36).slice(2, 10)}`);
    const after = await shown();
    expect(after[day(2)]).to.not.deep.equal(before[day(2)]);
    expect(after[day(2)]).to.deep.equal((await grouped())[day(2)]);
    expect(after[day(3)], 'other closed days as kept').to.deep.equal(before[day(3)]);
  });

  it('groups the closed days as it starts: its first opening groups only today', async () => {
    const second = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { clock });
    try {
      const started = await grouped();
      // Changed in SQL after this console started, before its first opening.
      await db.store().db.execute('UPDATE audit_bank_calls SET duration_ms = 6000 WHERE started_at >= ? AND started_at < ?', [midnight - 3 * DAY_MS, midnight - 2 * DAY_MS]);
      await db.store().db.execute('UPDATE audit_bank_calls SET duration_ms = 5000 WHERE started_at >= ?', [midnight]);
      const figures = await shown(await signedIn(second));
      expect(figures[day(3)], 'as grouped when it started').to.deep.equal(started[day(3)]);
      expect(figures[day(0)], 'today from its calls').to.deep.equal([5000, 5000]);
    } finally {
      await second.close();
    }
  });

  it('groups a day that ended less than an hour ago from its calls at every opening, as today', async () => {
    // 00:30 WIB: yesterday's calls may still be being written (a call is written once it has ended).
    const early = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { clock: () => midnight + 30 * 60_000 });
    try {
      const viewer = await signedIn(early);
      await shown(viewer);
      await db.store().db.execute('UPDATE audit_bank_calls SET duration_ms = 3000 WHERE started_at >= ? AND started_at < ?', [midnight - DAY_MS, midnight]);
      expect((await shown(viewer))[day(1)]).to.deep.equal([3000, 3000]).and.to.deep.equal((await grouped())[day(1)]);
    } finally {
      await early.close();
    }
  });
});
