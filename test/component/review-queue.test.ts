import { expect } from 'chai';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_PATH, TRANSFER_PATH } from '../../src/banks/bca-legacy/index.js';
import { jakartaDate } from '../../src/time/index.js';
import { createConsoleUser } from '../../src/console/index.js';
import { runCli } from '../support/cli.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { receivedAt } from '../support/payment-time.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { startHostileBank, type HostileBank } from '../support/hostile-bank.js';

type Line = { TransactionDate: string; TransactionType: 'C' | 'D'; TransactionAmount: string; TransactionName: string; Trailer: string };

/**
 * A bank that answers as BCA's documents say, raw: every transfer "ESB-82-024 timeout, check your
 * statement", its status inquiry "ESB-99-127 not found", and the statement the test writes
 * (`dd/MM` dates, references in Trailer). What the gateway makes of "not found" and the statement
 * decides; a person resolves what they do not prove.
 */
forEachBackend('Review queue: transfers the bank neither confirms nor denies', (db) => {
  let bank: HostileBank;
  let gw: TestGateway;
  let client: TestClient;
  let token: string;
  let statement: Line[] = [];
  let transferAnswer: (res: ServerResponse) => void;
  const env = () => ({ GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });

  const answerJson = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const inDoubt = (res: ServerResponse) => answerJson(res, 504, { ErrorCode: 'ESB-82-024', ErrorMessage: { Indonesian: 'Timeout', English: 'Timeout, check your statement' } });

  before(async () => {
    bank = await startHostileBank();
    bank.answer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      if (url === TRANSFER_PATH) return transferAnswer(res);
      if (url.startsWith(STATUS_PATH)) return answerJson(res, 404, { ErrorCode: 'ESB-99-127', ErrorMessage: { Indonesian: 'Transaksi tidak ditemukan', English: 'Transaction not found' } });
      if (url.includes('/statements?')) return answerJson(res, 200, { StartDate: '', EndDate: '', Currency: 'IDR', StartBalance: '1000000000.00', Data: statement });
      res.writeHead(404).end();
    });
    gw = await TestGateway.start(db.url(), { ...bank.env(), GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_METRICS_STORE_READ_SECONDS: '0' });
    client = await gw.createClient();
    token = await gw.token(client);
  });
  after(async () => {
    await gw?.close();
    await bank?.close();
  });
  beforeEach(() => {
    transferAnswer = inDoubt;
    statement = [];
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
  const pay = (body: Record<string, unknown>) => gw.request('/v1/transfers', { json: body, headers: auth() });
  const payment = async (transactionId: unknown) => (await gw.store.payments.find(client.clientId, transactionId as string))!;
  /** The check is due now, and the transfer was received `hours` ago. */
  const receivedHoursAgo = (transactionId: unknown, hours: number) =>
    receivedAt(gw.store, client.clientId, transactionId as string, Date.now() - hours * 3_600_000, { next_check_at: 0 });
  const today = () => jakartaDate(Date.now());
  const ddMM = (date: string) => `${date.slice(8, 10)}/${date.slice(5, 7)}`;

  it('reads BCA\'s statement as documented (dd/MM, references in Trailer) and settles SUCCESS from the one referenced debit, keeping the line', async () => {
    const body = sampleTransfer({ amount: '7340000.00' });
    expect((await pay(body)).body.status).to.equal('UNKNOWN');
    statement = [
      { TransactionDate: ddMM(today()), TransactionType: 'D', TransactionAmount: '7340000.00', TransactionName: 'TRSF E-BANKING DB', Trailer: `${body.transactionId as string} Invoice test` },
      { TransactionDate: 'PEND', TransactionType: 'D', TransactionAmount: '10.00', TransactionName: 'BIAYA', Trailer: '' },
    ];
    await gw.gateway.resolver.runOnce();
    const result = JSON.parse((await payment(body.transactionId)).resultJson!);
    expect(result.status).to.equal('SUCCESS');
    expect(result.evidence.kind).to.equal('STATEMENT_LINE');
    expect(result.evidence.detail).to.contain(today()).and.contain('TRSF E-BANKING DB').and.contain(body.transactionId);
  });

  it('keeps it UNKNOWN when the statement is ambiguous (two equal debits without the reference), then puts it in the review queue once overdue', async () => {
    const body = sampleTransfer({ amount: '5550000.00' });
    await pay(body);
    statement = [1, 2].map(() => ({ TransactionDate: ddMM(today()), TransactionType: 'D' as const, TransactionAmount: '5550000.00', TransactionName: 'TRSF E-BANKING DB', Trailer: '' }));
    await gw.gateway.resolver.runOnce();
    expect((await payment(body.transactionId)).reviewSince).to.equal(null);
    await receivedHoursAgo(body.transactionId, 49);
    await gw.gateway.resolver.runOnce();
    const held = await payment(body.transactionId);
    expect(held.state).to.equal('UNKNOWN');
    expect(held.reviewSince).to.be.a('number');
    const read = await gw.request(`/v1/transfers/${body.transactionId as string}`, { headers: auth() });
    expect(read.body).to.include({ status: 'UNKNOWN' });
    expect(read.body.reviewSince).to.be.a('string');
    expect(read.body.guidance).to.match(/review queue/).and.match(/Do NOT pay again/);
  });

  it('shows the transfers in doubt, the oldest one\'s age and the review queue in /metrics, read from the store', async () => {
    const gauges = async () => {
      const res = await fetch(gw.gateway.metricsUrl!);
      expect(res.status).to.equal(200);
      const text = await res.text();
      const value = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        expect(line, series).to.be.a('string');
        return Number(line!.slice(series.length + 1));
      };
      return {
        unknown: value('gerbang_transfers_in_doubt{state="UNKNOWN"}'),
        oldestUnknown: value('gerbang_transfers_in_doubt_oldest_age_seconds{state="UNKNOWN"}'),
        inReview: value('gerbang_review_queue_transfers'),
        oldestInReview: value('gerbang_review_queue_oldest_age_seconds'),
      };
    };
    const before = await gauges();
    const body = sampleTransfer({ amount: '6660000.00' });
    expect((await pay(body)).body.status).to.equal('UNKNOWN');
    const inDoubt = await gauges();
    expect(inDoubt.unknown).to.equal(before.unknown + 1);
    expect(inDoubt.inReview).to.equal(before.inReview);
    // Received 300 hours ago (older than any other payment here), and still unproved: it goes to review.
    statement = [1, 2].map(() => ({ TransactionDate: ddMM(today()), TransactionType: 'D' as const, TransactionAmount: '6660000.00', TransactionName: 'TRSF E-BANKING DB', Trailer: '' }));
    await receivedHoursAgo(body.transactionId, 300);
    const old = await gauges();
    expect(old.oldestUnknown).to.be.within(300 * 3600, 300 * 3600 + 120);
    await gw.gateway.resolver.runOnce();
    expect((await payment(body.transactionId)).reviewSince).to.be.a('number');
    const reviewed = await gauges();
    expect(reviewed.inReview).to.equal(before.inReview + 1);
    expect(reviewed.unknown).to.equal(before.unknown + 1);
    // Waiting in the queue for 20 hours now.
    const { id, reviewSince } = await payment(body.transactionId);
    await receivedAt(gw.store, client.clientId, body.transactionId as string, Date.now() - 300 * 3_600_000, { review_since: Date.now() - 20 * 3_600_000 });
    expect((await gauges()).oldestInReview).to.be.at.least(20 * 3600);
    // Back as Gerbang recorded it: a review time its history does not hold marks the payment
    // changed outside Gerbang, and `transfer review list` below would say so.
    await gw.store.db.execute('UPDATE payments SET review_since = ? WHERE id = ?', [reviewSince, id]);
  });

  it('is resolved from the CLI only by an admin recording evidence: audited, the ERP\'s read and callback show it, nothing re-sent', async function () {
    this.timeout(120_000); // five runs of the real CLI, each a process of its own
    await gw.store.callbacks.setEndpoint(client.clientId, 'https://erp.example.com/gerbang-callback', Date.now());
    const body = sampleTransfer({ amount: '5660000.00' });
    await pay(body);
    await receivedHoursAgo(body.transactionId, 49);
    await gw.gateway.resolver.runOnce();
    const { id } = await payment(body.transactionId);
    const sends = bank.paths.filter((p) => p === TRANSFER_PATH).length;

    const list = await runCli(['transfer', 'review', 'list', '--json'], env());
    expect(list.code, list.stderr).to.equal(0);
    expect(JSON.parse(list.stdout).map((i: { id: number }) => i.id)).to.include(id);

    await createConsoleUser(gw.store.consoleUsers, { username: 'rv-viewer', password: 'pw-rv-viewer-0123456789', role: 'viewer' }, Date.now());
    await createConsoleUser(gw.store.consoleUsers, { username: 'rv-admin', password: 'pw-rv-admin-0123456789', role: 'admin' }, Date.now());
    const resolve = (admin: string, extra: string[] = []) =>
      runCli(['transfer', 'review', 'resolve', String(id), '--admin', admin, '--outcome', 'FAILED', '--evidence-kind', 'CALL_REFERENCE', ...extra], env());
    const byViewer = await resolve('rv-viewer', ['--evidence', 'BCA call centre ticket 4471']);
    expect(byViewer.code).to.equal(1);
    expect(byViewer.stderr).to.match(/Only an active admin/);
    const noEvidence = await resolve('rv-admin');
    expect(noEvidence.code).to.equal(2);
    expect(noEvidence.stderr).to.match(/--evidence is required/);
    expect((await payment(body.transactionId)).state).to.equal('UNKNOWN');

    const done = await resolve('rv-admin', ['--evidence', 'BCA call centre ticket 4471: not executed']);
    expect(done.code, done.stderr).to.equal(0);
    const read = await gw.request(`/v1/transfers/${body.transactionId as string}`, { headers: auth() });
    expect(read.body).to.include({ status: 'FAILED', failureConfirmedBy: 'ADMIN' });
    expect(read.body.evidence).to.include({ kind: 'CALL_REFERENCE', recordedBy: 'rv-admin', detail: 'BCA call centre ticket 4471: not executed' });
    expect(read.body).not.to.have.property('reviewSince');
    const audit = (await gw.store.audit.list({ transactionId: body.transactionId as string })).find((r) => r.method === 'REVIEW')!;
    expect(audit).to.deep.include({ outcome: 'completed', statusCode: 200 });
    expect(JSON.parse(audit.requestBody!)).to.include({ admin: 'rv-admin', outcome: 'FAILED', via: 'cli' });
    const queued = await gw.store.db.query<{ body: string }>('SELECT body FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [client.clientId, body.transactionId as string]);
    expect(queued).to.have.length(1);
    expect(bank.paths.filter((p) => p === TRANSFER_PATH).length, 'nothing re-sent').to.equal(sends);
    const again = await resolve('rv-admin', ['--evidence', 'a second try']);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/not in the review queue/);
  });

  it('is shown on the console\'s review page to every role, and resolved there only by an admin with evidence', async function () {
    this.timeout(60_000);
    const body = sampleTransfer({ amount: '5770000.00' });
    await pay(body);
    await receivedHoursAgo(body.transactionId, 49);
    await gw.gateway.resolver.runOnce();
    const { id } = await payment(body.transactionId);
    const console = await TestConsole.start(db.url());
    try {
      const viewer = await console.createUser('rc-viewer', 'viewer');
      const admin = await console.createUser('rc-admin', 'admin');
      const asViewer = new ConsoleClient(console.origin);
      await asViewer.signIn(viewer.username, viewer.password);
      const seen = await asViewer.get('/console/review');
      expect(seen.status).to.equal(200);
      expect(seen.text).to.contain(body.transactionId as string).and.not.contain(`/console/review/${id}/resolve`);
      const refused = await asViewer.post(`/console/review/${id}/resolve`, { _csrf: asViewer.csrf, outcome: 'SUCCESS', evidenceKind: 'BANK_REFERENCE', evidence: 'REF998877' });
      expect(refused.status).to.equal(403);

      const asAdmin = new ConsoleClient(console.origin);
      await asAdmin.signIn(admin.username, admin.password);
      await asAdmin.get('/console/review');
      const empty = await asAdmin.post(`/console/review/${id}/resolve`, { _csrf: asAdmin.csrf, outcome: 'SUCCESS', evidenceKind: 'BANK_REFERENCE', evidence: '' });
      expect(empty.status).to.equal(400);
      const line = `${ddMM(today())} D 5770000.00 TRSF E-BANKING DB ${body.transactionId as string}`;
      const ok = await asAdmin.post(`/console/review/${id}/resolve`, { _csrf: asAdmin.csrf, outcome: 'SUCCESS', evidenceKind: 'STATEMENT_LINE', evidence: line });
      expect(ok.status, ok.text).to.equal(200);
      expect(ok.text).not.to.contain(`/console/review/${id}/resolve`);
    } finally {
      await console.close();
    }
    const result = JSON.parse((await payment(body.transactionId)).resultJson!);
    expect(result).to.include({ status: 'SUCCESS', failureConfirmedBy: null });
    expect(result.evidence).to.include({ kind: 'STATEMENT_LINE', recordedBy: 'rc-admin' });
    const audit = (await gw.store.audit.list({ transactionId: body.transactionId as string })).find((r) => r.method === 'REVIEW')!;
    expect(JSON.parse(audit.requestBody!)).to.include({ admin: 'rc-admin', via: 'console' });
  });

  it('refuses on the console an outcome the paying account\'s statement contradicts (a pending debit carrying its reference), in the page\'s language, and lets one the statement cannot prove go ahead saying so', async function () {
    this.timeout(60_000);
    const body = sampleTransfer({ amount: '5880000.00' });
    const transactionId = body.transactionId as string;
    await pay(body);
    await receivedHoursAgo(transactionId, 49);
    await gw.gateway.resolver.runOnce();
    const { id } = await payment(transactionId);
    // The console reads statements through the API as its own client (GERBANG_CONSOLE_API_*).
    const reader = await gw.createClient();
    const console = await TestConsole.start(db.url(), { GERBANG_CONSOLE_API_URL: gw.url, GERBANG_CONSOLE_API_CLIENT_ID: reader.clientId, GERBANG_CONSOLE_API_CLIENT_SECRET: reader.clientSecret });
    try {
      const admin = await console.createUser('rx-admin', 'admin');
      const asAdmin = new ConsoleClient(console.origin);
      await asAdmin.signIn(admin.username, admin.password);
      await asAdmin.get('/console/review');
      /** Resolved FAILED on the page, in Indonesian (the default) or in English (the language cookie). */
      const resolve = (lang: 'id' | 'en' = 'id') =>
        asAdmin.post(
          `/console/review/${id}/resolve`,
          { _csrf: asAdmin.csrf, outcome: 'FAILED', evidenceKind: 'CALL_REFERENCE', evidence: 'BCA call centre ticket 5120: not executed' },
          lang === 'en' ? { cookie: `${asAdmin.cookie}; gerbang_lang=en` } : {},
        );

      statement = [{ TransactionDate: 'PEND', TransactionType: 'D', TransactionAmount: '5880000.00', TransactionName: 'TRSF E-BANKING DB', Trailer: `${transactionId} Invoice test` }];
      const refused = await resolve();
      expect(refused.status, refused.text).to.equal(409);
      expect(refused.text).to.contain('Tidak diselesaikan sebagai Gagal').and.contain('membayar dua kali').and.contain(`5880000.00 | TRSF E-BANKING DB | ${transactionId} Invoice test`);
      const refusedEn = await resolve('en');
      expect(refusedEn.status).to.equal(409);
      expect(refusedEn.text).to.contain('Not resolved as Failed').and.contain('would pay it again').and.contain(`5880000.00 | TRSF E-BANKING DB | ${transactionId} Invoice test`);
      const held = await payment(transactionId);
      expect([held.state, typeof held.reviewSince]).to.deep.equal(['UNKNOWN', 'number']);
      const refusals = (await gw.store.audit.list({ transactionId })).filter((r) => r.method === 'REVIEW');
      expect(refusals.map((r) => [r.outcome, r.statusCode, r.errorCode])).to.deep.equal([
        ['rejected', 409, 'REVIEW_CONTRADICTED'],
        ['rejected', 409, 'REVIEW_CONTRADICTED'],
      ]);
      expect(JSON.parse(refusals[0].responseBody!).crossCheck.found).to.contain('a pending debit of 5880000.00').and.contain(`${transactionId} Invoice test`);

      // Two equal debits without its reference prove nothing: the admin's word goes ahead, and the page says it was not cross-checked.
      statement = [1, 2].map(() => ({ TransactionDate: ddMM(today()), TransactionType: 'D' as const, TransactionAmount: '5880000.00', TransactionName: 'TRSF E-BANKING DB', Trailer: '' }));
      const done = await resolve('en');
      expect(done.status, done.text).to.equal(200);
      expect(done.text).to.contain('Gerbang could not cross-check this').and.contain('2 debit(s) of Rp 5.880.000,00 without this transfer');
      expect((await payment(transactionId)).state).to.equal('FAILED');
    } finally {
      await console.close();
    }
  });

  describe('when the HTTP status contradicts the bank\'s code', () => {
    it('answers UNKNOWN, never FAILED, for a refusal code on HTTP 200', async () => {
      transferAnswer = (res) => answerJson(res, 200, { ErrorCode: 'ESB-82-019', ErrorMessage: { Indonesian: 'Saldo tidak cukup', English: 'Insufficient funds' } });
      const res = await pay(sampleTransfer());
      expect(res.body).to.include({ status: 'UNKNOWN', bankResponseCode: 'ESB-82-019' });
      expect(res.body.guidance).to.match(/Do NOT pay again/);
    });
  });
});
