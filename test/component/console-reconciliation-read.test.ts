import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiStatementReader, StatementReadError, type StatementReader } from '../../src/console/statement-reader.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const ACCOUNT = '0201245680';

/**
 * GET /console/reconciliation reads Gerbang's payments of the period while the bank's statement
 * is read (#16): the clerk waits for the slower of the two, not for both in turn.
 */
forEachBackend('GET /console/reconciliation: the payments read while the statement is (#16)', (db) => {
  let con: TestConsole;
  let client: ConsoleClient;
  // 10:00 WIB on a day of 2024; the reconciled day is the day before.
  const start = Date.UTC(2024, 2, 10) - 7 * HOUR_MS;
  const day = new Date(start + 7 * HOUR_MS).toISOString().slice(0, 10);
  const now = start + DAY_MS + 10 * HOUR_MS;
  /** What the bank's statement read does for the case under test. */
  let read: StatementReader['read'] = () => Promise.reject(new Error('no statement set for this case'));
  const statements: StatementReader = { read: (account, from, to) => read(account, from, to) };

  before(async () => {
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { clock: () => now, statements, sealSweep: false });
    for (let i = 0; i < 3; i += 1) {
      const p = await con.store.payments.reserve({ clientId: 'recon-read', transactionId: `READ-${i}`, requestHash: 'a'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', sourceAccount: ACCOUNT }, start + HOUR_MS + i);
      expect(await con.store.payments.update(p.id, { state: 'SUCCESS', bank: 'bca' }, start + 2 * HOUR_MS)).to.equal(true);
    }
    const user = await con.createUser('recon-reader', 'viewer');
    client = new ConsoleClient(con.origin);
    expect((await client.signIn(user.username, user.password)).status).to.equal(303);
  });
  after(() => con?.close());

  /** Runs `body` with the console's fromAccount replaced by `replacement` (given the real one). */
  async function withFromAccount<T>(replacement: (real: typeof con.store.paymentSearch.fromAccount) => typeof con.store.paymentSearch.fromAccount, body: () => Promise<T>): Promise<T> {
    const search = con.store.paymentSearch;
    const real = search.fromAccount.bind(search);
    search.fromAccount = replacement(real);
    try {
      return await body();
    } finally {
      delete (search as Partial<typeof search>).fromAccount;
    }
  }

  it('asks for the payments before the bank has answered, and matches them once it has', async () => {
    let asked!: () => void;
    const paymentsAsked = new Promise<void>((resolve) => (asked = resolve));
    let paymentsAskedYet = false;
    let askedBeforeTheBankAnswered = false;
    // The bank answers once the payments were asked for, or after a second (then the page had waited for the bank first).
    read = async (account, from, to) => {
      await Promise.race([paymentsAsked, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      askedBeforeTheBankAnswered = paymentsAskedYet;
      return { accountNumber: account, currency: 'IDR', from, to, openingBalance: null, bank: 'bca', entries: [{ date: day, type: 'DEBIT', amount: '1001.00', description: 'TRSF E-BANKING DB READ-1' }] };
    };
    const page = await withFromAccount(
      (real) => (account, from, to) => {
        paymentsAskedYet = true;
        asked();
        return real(account, from, to);
      },
      () => client.get(`/console/reconciliation?account=${ACCOUNT}&from=${day}&to=${day}`),
    );
    expect(page.status).to.equal(200);
    expect(askedBeforeTheBankAnswered).to.equal(true);
    // The debit books its payment; the two others are Gerbang's only.
    expect(page.text.split('data-kind="matched"').length - 1).to.equal(1);
    expect(page.text.split('data-kind="gerbang-only"').length - 1).to.equal(2);
  });

  describe('when the statement is read through the API of a gateway older than bankCode', () => {
    let api: Server;
    /** The statement answer's fields past the documented ones of every version (an older gateway's has no bankCode). */
    let extra: Record<string, string> = {};

    // The gateway's API as its documents (docs/api/openapi.json) describe it: a client token, then the statement.
    before(async () => {
      api = createServer((req, res) => {
        const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        req.resume();
        if (req.method === 'POST' && req.url === '/v1/auth/token') return answer(200, { access_token: 'older-gateway-token', token_type: 'Bearer', expires_in: 300 });
        const asked = new URL(req.url ?? '/', 'http://api.invalid');
        if (req.headers.authorization !== 'Bearer older-gateway-token' || asked.pathname !== `/v1/accounts/${ACCOUNT}/statements`) return answer(404, { code: 'NOT_FOUND', detail: 'No such account.' });
        const [from, to] = [asked.searchParams.get('from'), asked.searchParams.get('to')];
        answer(200, { accountNumber: ACCOUNT, currency: 'IDR', from, to, openingBalance: null, entries: [{ date: day, type: 'DEBIT', amount: '1001.00', description: 'TRSF E-BANKING DB READ-1' }], bank: 'bca-2', ...extra });
      });
      api.listen(0, '127.0.0.1');
      await once(api, 'listening');
    });
    after(() => api?.close());

    it('reads its statement all the same and names the connection that read it by its id; by its bank once the answer names it', async () => {
      const reader = apiStatementReader({ url: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, clientId: 'console', clientSecret: 'older-gateway-secret' }, () => now);
      read = (account, from, to) => reader.read(account, from, to);
      const source = (text: string) => /<span id="statement-source">([^<]*)<\/span>/.exec(text)?.[1];

      extra = {};
      const older = await client.get(`/console/reconciliation?account=${ACCOUNT}&from=${day}&to=${day}`);
      expect(older.status, older.text).to.equal(200);
      expect(source(older.text)).to.equal('bca-2');
      expect(older.text.split('data-kind="matched"').length - 1).to.equal(1);

      extra = { bankCode: 'CENAIDJA' };
      const current = await client.get(`/console/reconciliation?account=${ACCOUNT}&from=${day}&to=${day}`);
      expect(source(current.text)).to.equal('Bank Central Asia (bca-2)');
    });
  });

  it('answers the bank\'s refusal in words when the payments\' read fails too, and nothing is left unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      read = () => Promise.reject(new StatementReadError('unknown-account', 'the bank does not know this account'));
      const page = await withFromAccount(
        () => () => Promise.reject(new Error('the database went away')),
        () => client.get(`/console/reconciliation?account=${ACCOUNT}&from=${day}&to=${day}`),
      );
      expect(page.status).to.equal(400);
      expect(page.text).not.to.contain('data-kind="matched"');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
  it('names a day of the period whose payment was deleted in SQL after it was sealed, by its id, though a payment of that day of another account was released through Gerbang since, in the clerk\'s language, and says not that every line matched', async () => {
    const account = '0201999001';
    const ids: number[] = [];
    for (let i = 0; i < 2; i += 1) {
      ids.push((await con.store.payments.reserve({ clientId: 'recon-gone', transactionId: `GONE-${i}`, requestHash: 'a'.repeat(64), amount: `${2000 + i}.00`, currency: 'IDR', sourceAccount: account }, start + HOUR_MS + i)).id);
      expect(await con.store.payments.update(ids[i], { state: 'SUCCESS', bank: 'bca' }, start + 2 * HOUR_MS)).to.equal(true);
    }
    // The statement books the payment left: every line of the page matches.
    read = async (asked, from, to) => ({ accountNumber: asked, currency: 'IDR', from, to, openingBalance: null, bank: 'bca', entries: [{ date: day, type: 'DEBIT', amount: '2000.00', description: 'TRSF E-BANKING DB GONE-0' }] });
    const url = `/console/reconciliation?account=${account}&from=${day}&to=${day}`;
    // The first reading proves the day and seals it (the console's clock is past the day's end).
    const first = (await client.get(url)).text;
    expect(first).not.to.contain('data-missing-day');
    // Not sealed when it was read: the page says the day was not checked for deleted payments.
    expect(first).to.contain(`data-unchecked-days="${day}"`).and.to.contain('Tidak diperiksa terhadap pembayaran yang dihapus di database');
    // One payment deleted in SQL, and one of that day (of another account) released through Gerbang: as many as were deleted.
    const released = (await con.store.payments.reserve({ clientId: 'recon-gone', transactionId: 'GONE-RELEASED', requestHash: 'a'.repeat(64), amount: '3000.00', currency: 'IDR', sourceAccount: '0201999002' }, start + HOUR_MS + 9)).id;
    await con.store.db.execute('DELETE FROM payments WHERE id = ?', [ids[1]]);
    expect(await con.store.payments.release(released, null)).to.equal(true);
    const page = await client.get(url);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain(`data-missing-day="${day}"`);
    expect(page.text).to.contain('DIHAPUS DI LUAR GERBANG');
    expect(page.text).to.contain('Segel hari itu mencatat 2 pembayaran, yang masih ada atau dibatalkan lewat Gerbang hanya 1.');
    expect(page.text).to.contain(`data-deleted-ids="${ids[1]}"`).and.to.contain(`tidak dibatalkan lewat Gerbang: id ${ids[1]}.`);
    expect(page.text.split('data-kind="matched"').length - 1).to.equal(1);
    expect(page.text).not.to.contain('recon-all-matched');
    expect(page.text).not.to.contain('recon-unchecked');
  });
});
