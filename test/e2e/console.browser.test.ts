import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Store } from '../../src/store/types.js';
import { axeViolations, launchBrowser, requireChromium, sidewaysOverflow, signInToConsole, type TestBrowser } from '../support/browser.js';
import { TestConsole } from '../support/console-harness.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';

const DAY_MS = 86_400_000;
/**
 * Where the screenshots go: docs/console (the finance guide's pictures) when
 * GERBANG_UPDATE_SCREENSHOTS=1, else a temp folder: they are taken on every run either way.
 */
const SHOTS =
  process.env.GERBANG_UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', '..', '..', 'docs', 'console') : mkdtempSync(join(tmpdir(), 'gerbang-shots-'));

/** yyyy-MM-dd in Jakarta time, as the console's date inputs take it. */
function jakartaDay(epochMs: number): string {
  return new Date(epochMs + 7 * 3_600_000).toISOString().slice(0, 10);
}

/** A payment written straight through the repositories, days ago, with its audit row. */
async function seedPastPayment(store: Store, clientId: string, at: number, amount: string, state: 'SUCCESS' | 'FAILED'): Promise<string> {
  const transactionId = `OLD-${randomBytes(4).toString('hex')}`;
  const body = { ...sampleTransfer({ transactionId, amount, beneficiaryAccountNumber: '0201245681' }) };
  const payment = await store.payments.reserve(
    { clientId, transactionId, requestHash: createHash('sha256').update(JSON.stringify(body)).digest('hex'), amount, currency: 'IDR' },
    at,
  );
  const result = { transactionId, status: state, bank: 'bca', bankReference: state === 'SUCCESS' ? `REF${transactionId.slice(4)}` : null };
  await store.payments.update(
    payment.id,
    { state, bank: 'bca', operation: 'transfer-intrabank', bankReference: result.bankReference, resultJson: JSON.stringify(result), httpStatus: 200 },
    at + 900,
  );
  await store.audit.record(
    { requestId: `seed-${transactionId}`, receivedAt: at, remoteIp: '127.0.0.1', origin: null, method: 'POST', path: '/v1/transfers', clientId, transactionId, amount, requestHeaders: {}, requestBody: JSON.stringify(body) },
    { outcome: 'completed', statusCode: 200, errorCode: null, clientId, transactionId, amount, responseBody: JSON.stringify(result), completedAt: at + 900 },
  );
  return transactionId;
}

describe('Finance console in a browser', function () {
  this.timeout(120_000);

  let drop: () => Promise<void> = async () => undefined;
  let gw: TestGateway;
  let con: TestConsole;
  let browser: TestBrowser;
  let page: Page;
  let client: TestClient;
  const users: Record<string, { username: string; password: string }> = {};
  const today: Record<string, string> = {};
  let old: { success: string[]; failed: string };
  let runId = '';
  /** Every URL the browser asked for during the suite. */
  const requested: string[] = [];

  before(async function () {
    requireChromium(this);
    const database = await createMariaDbDatabase(this);
    drop = database.drop;
    gw = await TestGateway.start(database.url, { GERBANG_LOGIN_MAX_FAILURES: '3', GERBANG_LOG_LEVEL: 'silent' });
    // Every sign-in of the suite comes from 127.0.0.1: the per-address throttle has its own suite.
    con = await TestConsole.start(database.url, { GERBANG_LOGIN_MAX_FAILURES: '3', GERBANG_LOG_LEVEL: 'silent', GERBANG_CONSOLE_SIGN_IN_PER_IP: '1000' });
    users.viewer = await con.createUser('vina.viewer', 'viewer');
    users.auditor = await con.createUser('adi.auditor', 'auditor');
    users.admin = await con.createUser('ani.admin', 'admin');

    // Today: real transfers through the API to the simulator, a replay, a status check and a refusal.
    client = await gw.createClient();
    const token = await gw.token(client);
    const auth = { authorization: `Bearer ${token}` };
    const paid = sampleTransfer({ amount: '2475000.00', beneficiaryName: 'PT Sumber Makmur', remark: 'Invoice 2475' });
    today.success = paid.transactionId as string;
    expect((await gw.request('/v1/transfers', { headers: auth, json: paid })).status).to.equal(201);
    expect((await gw.request('/v1/transfers', { headers: auth, json: paid })).status).to.be.oneOf([200, 201]);
    expect((await gw.request(`/v1/transfers/${today.success}`, { headers: auth })).status).to.equal(200);
    expect((await gw.request('/v1/transfers', { headers: auth, json: { ...paid, amount: '2475001.00' } })).status).to.equal(422);
    const second = sampleTransfer({ amount: '150000.50' });
    today.second = second.transactionId as string;
    expect((await gw.request('/v1/transfers', { headers: auth, json: second })).status).to.equal(201);
    gw.simulator.failNext({ code: 'ESB-82-006' });
    const refused = sampleTransfer({ amount: '990000.00' });
    today.failed = refused.transactionId as string;
    await gw.request('/v1/transfers', { headers: auth, json: refused });

    // A payment run of three lines, one refused by the bank.
    runId = `RUN-${randomBytes(3).toString('hex')}`;
    const runLines = [
      sampleTransfer({ amount: '100000.00', beneficiaryName: 'CV Maju Jaya', remark: 'Run line one' }),
      sampleTransfer({ amount: '200000.00', beneficiaryName: 'PT Abadi', remark: 'Run line two' }),
    ];
    expect((await gw.request('/v1/transfer-batches', { headers: auth, json: { batchId: runId, transfers: runLines } })).status).to.be.oneOf([200, 201, 202]);
    for (let i = 0; i < 100; i += 1) {
      const state = (await gw.request(`/v1/transfer-batches/${runId}`, { headers: auth })).body as { state?: string };
      if (state.state === 'DONE') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The same transactionId paid successfully by a second client: a possible double payment.
    const twin = await gw.createClient();
    expect((await gw.request('/v1/transfers', { headers: { authorization: `Bearer ${await gw.token(twin)}` }, json: { ...paid, sourceAccountNumber: '0201245680' } })).status).to.equal(201);

    // Earlier days, through the repositories, so dates and the overview have something to show.
    const now = Date.now();
    old = {
      success: [
        await seedPastPayment(gw.store, client.clientId, now - 3 * DAY_MS, '1250000.00', 'SUCCESS'),
        await seedPastPayment(gw.store, client.clientId, now - 3 * DAY_MS + 60_000, '300000.00', 'SUCCESS'),
      ],
      failed: await seedPastPayment(gw.store, client.clientId, now - 5 * DAY_MS, '780000.00', 'FAILED'),
    };

    mkdirSync(SHOTS, { recursive: true });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    browser.context.on('request', (req) => requested.push(req.url()));
  });

  after(async () => {
    await browser?.close();
    await con?.close();
    await gw?.close();
    await drop();
  });

  const signInAs = (who: { username: string; password: string }) => signInToConsole(browser, page, con.url, who);

  async function listedTransactionIds(): Promise<string[]> {
    return page.$$eval('table.payments tbody tr td:nth-child(3) a', (links) => links.map((a) => a.textContent ?? ''));
  }

  describe('signing in', () => {
    it('lands on the payment list with amounts in Indonesian format and labels in Indonesian', async () => {
      await signInAs(users.auditor);
      expect(await page.textContent('h1')).to.equal('Pembayaran');
      const ids = await listedTransactionIds();
      expect(ids).to.include.members([today.success, today.second, today.failed, ...old.success, old.failed]);
      const row = page.locator(`tr:has(a:text-is("${today.success}"))`);
      expect(await row.first().locator('td.num').textContent()).to.equal('Rp 2.475.000,00');
      const audit = await con.store.consoleAudit.list({ username: users.auditor.username, action: 'sign_in' });
      expect(audit).to.have.length(1);
    });

    it('switches the labels to English and back', async () => {
      await page.click('a.lang');
      expect(await page.textContent('h1')).to.equal('Payments');
      await page.click('a.lang');
      expect(await page.textContent('h1')).to.equal('Pembayaran');
    });
  });

  describe('filtering', () => {
    it('by status and date shows only the matching payments', async () => {
      await signInAs(users.auditor);
      await page.selectOption('select[name=status]', 'FAILED');
      await page.fill('input[name=from]', jakartaDay(Date.now()));
      await page.fill('input[name=to]', jakartaDay(Date.now()));
      await Promise.all([page.waitForURL(/status=FAILED/), page.click('form.filters button[type=submit]')]);
      expect(await listedTransactionIds()).to.deep.equal([today.failed]);

      await page.selectOption('select[name=status]', 'SUCCESS');
      await page.fill('input[name=from]', jakartaDay(Date.now() - 4 * DAY_MS));
      await page.fill('input[name=to]', jakartaDay(Date.now() - 2 * DAY_MS));
      await Promise.all([page.waitForURL(/status=SUCCESS/), page.click('form.filters button[type=submit]')]);
      expect((await listedTransactionIds()).sort()).to.deep.equal([...old.success].sort());
    });

    it('by an amount typed the Indonesian way', async () => {
      await page.goto(`${con.url}/payments`);
      await page.fill('input[name=min]', '2.000.000,00');
      await page.fill('input[name=max]', 'Rp 2.500.000');
      await Promise.all([page.waitForURL(/min=/), page.click('form.filters button[type=submit]')]);
      expect(await listedTransactionIds()).to.deep.equal([today.success, today.success]);
    });

    it('names the field of a bad filter instead of failing', async () => {
      const answer = await page.goto(`${con.url}/payments?min=lots&status=MAYBE`);
      expect(answer?.status()).to.equal(400);
      expect(await page.getAttribute('li[data-field=min]', 'data-field')).to.equal('min');
      expect(await page.getAttribute('li[data-field=status]', 'data-field')).to.equal('status');
    });

    it('takes the list screenshot for the guide', async () => {
      await page.goto(`${con.url}/payments`);
      await page.screenshot({ path: join(SHOTS, 'payments-list.png'), fullPage: true });
    });
  });

  describe('a payment’s detail page', () => {
    it('tells an auditor the whole story with the bodies and full account numbers', async () => {
      await signInAs(users.auditor);
      await page.goto(`${con.url}/payments?txn=${today.success}&client=${client.clientId}`);
      await Promise.all([page.waitForURL(/\/console\/payments\/\d+(\?|$)/), page.click(`a:text-is("${today.success}")`)]);
      const text = (await page.textContent('main')) ?? '';
      expect(text).to.contain('Permintaan dari ERP');
      expect(text).to.contain('Pengulangan (idempoten)');
      expect(text).to.contain('Pengecekan status oleh ERP');
      expect(text).to.contain('Pengiriman ulang ditolak');
      expect(await page.locator('li.kind-refusedResend code').allTextContents()).to.include('IDEMPOTENCY_MISMATCH');
      expect(text).to.contain('transfer-intrabank');
      expect(await page.locator('table.routes tbody tr').count()).to.be.greaterThan(0);
      expect(await page.locator('table.routes tbody tr td').first().textContent()).to.equal('Bank Central Asia (bca)');
      expect(text).to.contain('Rp 2.475.000,00');
      expect(text).to.contain('0201245681');
      expect(await page.locator('details.body').count()).to.be.greaterThan(2);
      await page.locator('li.kind-erpRequest details.body').first().evaluate((el) => el.setAttribute('open', ''));
      expect(await page.locator('li.kind-erpRequest details.body pre').first().textContent()).to.contain('"beneficiaryAccountNumber": "0201245681"');
      await page.locator('details.body').evaluateAll((els) => els.slice(0, 3).forEach((el) => el.setAttribute('open', '')));
      await page.screenshot({ path: join(SHOTS, 'payment-detail.png'), fullPage: true });
      const views = await con.store.consoleAudit.list({ username: users.auditor.username, action: 'view_payment' });
      expect(views.map((v) => v.detail)).to.include(`${client.clientId} ${today.success}`);
    });

    it('shows a viewer masked account numbers and no bodies', async () => {
      await signInAs(users.viewer);
      await page.goto(`${con.url}/payments?txn=${today.success}&client=${client.clientId}`);
      await Promise.all([page.waitForURL(/\/console\/payments\/\d+(\?|$)/), page.click(`a:text-is("${today.success}")`)]);
      const htmlText = await page.content();
      expect(htmlText).to.contain('******5681');
      expect(htmlText).to.contain('******5680');
      expect(htmlText).not.to.contain('0201245681');
      expect(htmlText).not.to.contain('0201245680');
      expect(await page.locator('details.body').count()).to.equal(0);
      expect(await page.textContent('main')).to.contain('Isi pesan hanya terlihat oleh auditor dan admin.');
    });
  });

  describe('exporting', () => {
    it('downloads the filtered list as a UTF-8 CSV with one row per payment', async () => {
      await signInAs(users.auditor);
      await page.goto(`${con.url}/payments?status=SUCCESS`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
      const file = await download.path();
      const bytes = readFileSync(file);
      expect([...bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
      const rows = parse(bytes.toString('utf8').slice(1), { columns: true, delimiter: ';' }) as Record<string, string>[];
      expect(rows.map((r) => r.transaction_id)).to.include.members([today.success, today.second, ...old.success]);
      const first = rows.find((r) => r.transaction_id === today.success && r.client_id === client.clientId)!;
      expect(first).to.include({ status: 'SUCCESS', amount: '2475000,00', currency: 'IDR', beneficiary_name: 'PT Sumber Makmur', remark: 'Invoice 2475', beneficiary_account: '0201245681' });
      expect(download.suggestedFilename()).to.match(/^payments-\d{12}\.csv$/);
      const exports = await con.store.consoleAudit.list({ username: users.auditor.username, action: 'export_csv' });
      expect(exports[0].detail).to.equal('status=SUCCESS');
    });
  });

  describe('the overview', () => {
    it('says the audit chain was never verified until a verification has run', async () => {
      await signInAs(users.auditor);
      await page.goto(`${con.url}/overview`);
      expect(await page.textContent('#chain-status')).to.contain('Belum pernah dijalankan');
    });

    it('draws the daily charts from the console’s own Chart.js, lists each day, and shows the last chain verification', async () => {
      await con.store.auditVerifications.record({ checkedAt: Date.now() - 3_600_000, ok: false, links: 4, breaks: 1, firstBreak: 'audit_exchanges #2 altered' });
      await con.store.auditVerifications.record({ checkedAt: Date.now() - 60_000, ok: true, links: 1234, breaks: 0, firstBreak: null });
      await page.goto(`${con.url}/overview`);
      const chain = (await page.textContent('#chain-status')) ?? '';
      expect(chain).to.contain('Utuh').and.to.contain('1234 tautan diperiksa').and.not.to.contain('altered');
      expect(await page.evaluate(() => typeof (globalThis as unknown as { Chart?: unknown }).Chart)).to.equal('function');
      expect(await page.locator('canvas').count()).to.equal(3);
      // What each chart holds, read from the Chart.js instance drawn on its canvas.
      const charts = await page.evaluate(() => {
        type Drawn = { config: { type: string }; data: { labels: string[]; datasets: { label: string; data: (number | null)[] }[] }; getDatasetMeta(i: number): { data: unknown[] } };
        const { Chart } = globalThis as unknown as { Chart: { getChart(canvasId: string): Drawn | undefined } };
        const read = (id: string) => {
          const chart = Chart.getChart(id);
          if (!chart) return null;
          const datasets = chart.data.datasets.map((d, i) => ({ label: d.label, data: d.data, elements: chart.getDatasetMeta(i).data.length }));
          return { type: chart.config.type, labels: chart.data.labels, datasets: Object.fromEntries(datasets.map((d) => [d.label, d])) };
        };
        return { counts: read('chart-counts'), failures: read('chart-failures'), latency: read('chart-latency') };
      });
      // The last six days, oldest first; the payments of today and of 3 and 5 days ago are the suite's.
      const recent = [5, 4, 3, 2, 1, 0].map((n) => jakartaDay(Date.now() - n * DAY_MS));
      const last6 = (data: (number | null)[] | undefined) => (data ?? []).slice(-6);
      for (const chart of [charts.counts, charts.failures, charts.latency]) {
        expect(chart, 'a Chart.js chart on each canvas').to.not.equal(null);
        expect(chart!.labels.slice(-6)).to.deep.equal(recent);
        for (const dataset of Object.values(chart!.datasets)) expect(dataset.elements, `${dataset.label}: one drawn point per day`).to.equal(chart!.labels.length);
      }
      expect(charts.counts!.type).to.equal('bar');
      // Today: five paid (two single transfers, two run lines, the other client's) and one refused.
      expect(last6(charts.counts!.datasets.Berhasil?.data)).to.deep.equal([0, 0, 2, 0, 0, 5]);
      expect(last6(charts.counts!.datasets.Gagal?.data)).to.deep.equal([1, 0, 0, 0, 0, 1]);
      for (const state of ['Tertunda', 'Belum pasti', 'Sedang dikirim', 'Diterima']) {
        expect(last6(charts.counts!.datasets[state]?.data), state).to.deep.equal([0, 0, 0, 0, 0, 0]);
      }
      // Failed share of the day's payments in %, one decimal; no payments, no point.
      const [failureRate] = Object.values(charts.failures!.datasets);
      expect(last6(failureRate.data)).to.deep.equal([100, null, 0, null, null, 16.7]);
      // Bank latency exists only where the bank was called: today, not on the seeded days.
      const { p50, p95 } = charts.latency!.datasets;
      expect(last6(p50.data).slice(0, 5)).to.deep.equal([null, null, null, null, null]);
      expect(last6(p95.data).slice(0, 5)).to.deep.equal([null, null, null, null, null]);
      const [todayP50, todayP95] = [last6(p50.data)[5], last6(p95.data)[5]];
      expect(todayP50).to.be.a('number').and.to.be.at.least(0);
      expect(todayP95).to.be.a('number').and.to.be.at.least(todayP50!);
      const days = await page.$$eval('table.daily tbody tr', (rows) => rows.map((r) => r.getAttribute('data-day')));
      expect(days).to.include.members([jakartaDay(Date.now()), jakartaDay(Date.now() - 3 * DAY_MS), jakartaDay(Date.now() - 5 * DAY_MS)]);
      // Three single transfers, a run of two and another client's payment of the same id.
      expect(await page.textContent(`tr[data-day="${jakartaDay(Date.now())}"] td[data-state=all][data-figure=count]`)).to.equal('6');
      await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });
    });
  });

  describe('a wrong password', () => {
    it('locks the account after the configured number of tries, and the lock holds against the right one', async () => {
      const victim = await con.createUser('lia.locked', 'viewer');
      await browser.context.clearCookies();
      for (let i = 0; i < 3; i += 1) {
        await page.goto(`${con.url}/sign-in`);
        await page.fill('input[name=username]', victim.username);
        await page.fill('input[name=password]', 'not-the-password');
        await Promise.all([page.waitForLoadState(), page.click('form.sign-in button[type=submit]')]);
      }
      expect(await page.textContent('[role=alert]')).to.contain('Akun terkunci');
      await page.fill('input[name=password]', victim.password);
      await Promise.all([page.waitForLoadState(), page.click('form.sign-in button[type=submit]')]);
      expect(page.url()).to.match(/\/console\/sign-in$/);
      expect(await page.textContent('[role=alert]')).to.contain('Akun terkunci');
      const failures = await con.store.consoleAudit.list({ username: victim.username, action: 'sign_in_failed' });
      expect(failures).to.have.length(4);
    });

    it('the admin unlocks the user from the admin page, then sets a new password the user signs in with', async () => {
      const victim = { username: 'lia.locked', password: 'pw-lia.locked-0123456789' };
      await signInAs(users.admin);
      await page.goto(`${con.url}/admin`);
      const row = page.locator(`tr[data-username="${victim.username}"]`);
      await Promise.all([page.waitForLoadState(), row.locator('button.unlock').click()]);
      expect(await page.textContent('[role=status]')).to.contain('Kunci pengguna dibuka');
      expect(await axeViolations(page), 'axe on the admin page after an unlock').to.deep.equal([]);
      await signInAs(victim);
      expect(page.url()).to.match(/\/console\/payments/);

      await signInAs(users.admin);
      await page.goto(`${con.url}/admin`);
      await row.locator('form.reset-password input[name=password]').fill('lia-new-password-2026');
      await Promise.all([page.waitForLoadState(), row.locator('form.reset-password button[type=submit]').click()]);
      expect(await page.textContent('[role=status]')).to.contain('Kata sandi diatur ulang');
      expect(await axeViolations(page), 'axe on the admin page after a password reset').to.deep.equal([]);
      await browser.context.clearCookies();
      await page.goto(`${con.url}/sign-in`);
      await page.fill('input[name=username]', victim.username);
      await page.fill('input[name=password]', victim.password);
      await Promise.all([page.waitForLoadState(), page.click('form.sign-in button[type=submit]')]);
      expect(page.url(), 'the old password no longer works').to.match(/\/console\/sign-in$/);
      await signInAs({ username: victim.username, password: 'lia-new-password-2026' });
      const actions = (await con.store.consoleAudit.list({ username: users.admin.username })).map((a) => a.action);
      expect(actions).to.include.members(['admin_user_unlock', 'admin_user_reset_password']);
    });
  });

  describe('signing out', () => {
    it('ends the session: the list sends the browser back to the sign-in page', async () => {
      await signInAs(users.viewer);
      await Promise.all([page.waitForURL(/sign-in\?out=1/), page.click('nav.main form button')]);
      await page.goto(`${con.url}/payments`);
      expect(page.url()).to.match(/\/console\/sign-in$/);
    });
  });

  describe('assets', () => {
    it('come only from the console itself: nothing was fetched from the internet', async () => {
      await signInAs(users.auditor);
      for (const path of ['/payments', '/overview', `/payments?txn=${today.success}`]) await page.goto(`${con.url}${path}`, { waitUntil: 'networkidle' });
      const origins = new Set(requested.filter((url) => !url.startsWith('data:')).map((url) => new URL(url).origin));
      expect([...origins]).to.deep.equal([con.origin]);
      expect(requested.some((url) => url.endsWith('/console/assets/chart.umd.min.js'))).to.equal(true);
    });
  });

  describe('what a finance clerk needs (#16)', () => {
    let inDoubt = '';
    before(async () => {
      // A payment the bank has not confirmed, written as the gateway would leave it.
      inDoubt = `DOUBT-${randomBytes(3).toString('hex')}`;
      const p = await gw.store.payments.reserve(
        { clientId: client.clientId, transactionId: inDoubt, requestHash: 'd'.repeat(64), amount: '5000000.00', currency: 'IDR', details: { sourceAccount: '0201245680', beneficiaryAccount: '0201245681', beneficiaryBankCode: '014', beneficiaryName: 'PT Ragu', remark: 'Timeout case', transferMethod: null } },
        Date.now() - 120_000,
      );
      await gw.store.payments.update(p.id, { state: 'UNKNOWN', bank: 'bca', resultJson: JSON.stringify({ transactionId: inDoubt, status: 'UNKNOWN', bankResponseCode: 'ESB-82-024', bankMessage: 'Timeout, check your statement' }), httpStatus: 202 }, Date.now() - 60_000);
    });

    async function setLang(lang: 'id' | 'en'): Promise<void> {
      await page.goto(`${con.url}/lang?to=${lang}&back=/console/payments`);
    }

    for (const lang of ['id', 'en'] as const) {
      const words = lang === 'id'
        ? { refused: 'Melebihi jumlah maksimum (ESB-82-006)', of: 'dari', doNotPay: 'Jangan bayar ulang', failedBanner: 'Bank menolak pembayaran ini', runPaid: 'Berhasil dibayar', proof: 'Bukti transfer', duplicate: 'Peringatan pembayaran ganda', reversed: 'Tanggal awal jatuh setelah tanggal akhir', tooShort: 'Kata yang dicari perlu paling sedikit 3 karakter', notFound: 'Halaman tidak ditemukan', forbidden: 'Akses ditolak', back: 'Kembali ke daftar', confirm: 'Ganti rahasia klien', bankDate: 'Tanggal transaksi di bank', todoFailed: 'Yang harus dilakukan: Perbaiki penyebabnya (lihat alasan di bawah), lalu kirim lagi dari ERP dengan ID transaksi baru.', noAddress: (name: string) => `Klien "${name}" belum punya alamat IP yang diizinkan: semua panggilannya ditolak.` }
        : { refused: 'Maximum amount exceeded (ESB-82-006)', of: 'of', doNotPay: 'Do not pay again', failedBanner: 'The bank refused this payment', runPaid: 'Paid', proof: 'Proof of payment', duplicate: 'Possible double payment', reversed: 'The start date is after the end date', tooShort: 'Type at least 3 characters to search', notFound: 'Page not found', forbidden: 'Access denied', back: 'Back to the list', confirm: 'Rotate the secret of client', bankDate: 'Transaction date at the bank', todoFailed: 'What to do: Fix the cause (see the reason below), then send it again from the ERP with a new transaction id.', noAddress: (name: string) => `Client "${name}" has no allowed IP address: every call it makes is refused.` };

      describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
        it('the list shows beneficiary, bank name, remark and the refusal in the clerk’s words, with count and sum, and finds a sealed name by part of it', async () => {
          await signInAs(users.auditor);
          await setLang(lang);
          await page.goto(`${con.url}/payments?client=${client.clientId}`);
          const success = page.locator(`tr:has(a:text-is("${today.success}"))`);
          expect(await success.locator('td.beneficiary').textContent()).to.contain('PT Sumber Makmur').and.to.contain('0201245681').and.to.contain('Bank Central Asia (014)');
          expect(await success.locator('td.remark').textContent()).to.equal('Invoice 2475');
          expect(await page.locator(`tr:has(a:text-is("${today.failed}")) .reason`).textContent()).to.equal(words.refused);
          expect(await page.textContent('#list-totals')).to.match(new RegExp(`^1–\\d+ ${words.of} \\d+ `));
          expect(await page.locator('td.when').first().textContent()).to.match(/^\d{1,2} \w{3} \d{4} \d{2}[.:]\d{2} WIB$/);
          await page.fill('input[name=q]', 'sumber MAKMUR');
          await Promise.all([page.waitForURL(/q=/), page.click('form.filters button[type=submit]')]);
          expect(await listedTransactionIds()).to.deep.equal([today.success]);
          expect(await page.textContent('#list-totals')).to.contain('Rp 2.475.000,00');
          expect(await axeViolations(page)).to.deep.equal([]);
          await page.screenshot({ path: join(SHOTS, `payments-list-${lang}.png`), fullPage: true });
        });

        it('the overview gives each day’s count and value by status, all statuses first, in the clerk’s language', async () => {
          await signInAs(users.auditor);
          await setLang(lang);
          await page.goto(`${con.url}/overview?days=7`);
          const heads = await page.$$eval('table.daily thead tr', (rows) => rows.map((r) => [...r.querySelectorAll('th')].map((th) => th.textContent)));
          expect(heads[0].slice(1, 4)).to.deep.equal(lang === 'id' ? ['Semua status', 'Berhasil', 'Gagal'] : ['All statuses', 'Success', 'Failed']);
          expect(heads[1].slice(0, 2)).to.deep.equal(lang === 'id' ? ['Transaksi', 'Nilai'] : ['Payments', 'Value']);
          const figures = async (ago: number) =>
            page.$$eval(`tr[data-day="${jakartaDay(Date.now() - ago * DAY_MS)}"] td[data-figure]`, (cells) =>
              Object.fromEntries(cells.map((c) => [`${c.getAttribute('data-state')} ${c.getAttribute('data-figure')}`, c.textContent])),
            );
          // The suite's earlier days: two paid three days ago, one refused five days ago.
          const threeAgo = await figures(3);
          expect(threeAgo).to.include({ 'all count': '2', 'all sum': 'Rp 1.550.000,00', 'SUCCESS count': '2', 'SUCCESS sum': 'Rp 1.550.000,00', 'FAILED count': '0', 'FAILED sum': 'Rp 0,00' });
          const fiveAgo = await figures(5);
          expect(fiveAgo).to.include({ 'all count': '1', 'all sum': 'Rp 780.000,00', 'SUCCESS count': '0', 'FAILED count': '1', 'FAILED sum': 'Rp 780.000,00', 'UNKNOWN sum': 'Rp 0,00' });
          const [y, m, d] = jakartaDay(Date.now() - 3 * DAY_MS).split('-');
          expect(await page.textContent(`tr[data-day="${jakartaDay(Date.now() - 3 * DAY_MS)}"] th`)).to.equal(`${d}/${m}/${y}`);
          expect(await axeViolations(page)).to.deep.equal([]);
          await page.screenshot({ path: join(SHOTS, `overview-daily-${lang}.png`), fullPage: true });
        });

        it('names a reversed date range instead of showing an empty list, with dates typed as dd/mm/yyyy', async () => {
          const answer = await page.goto(`${con.url}/payments?from=${encodeURIComponent('25/11/2026')}&to=${encodeURIComponent('20/11/2026')}`);
          expect(answer?.status()).to.equal(400);
          expect(await page.textContent('li[data-field=to]')).to.contain(words.reversed);
          expect(await page.inputValue('input[name=from]')).to.equal('25/11/2026');
          expect(await axeViolations(page)).to.deep.equal([]);
        });

        it('asks for at least 3 characters instead of searching a shorter term, keeping what was typed', async () => {
          await page.goto(`${con.url}/payments?client=${client.clientId}`);
          await page.fill('input[name=q]', 'PT');
          const [answer] = await Promise.all([page.waitForResponse((r) => r.url().includes('q=PT')), page.click('form.filters button[type=submit]')]);
          expect(answer.status()).to.equal(400);
          expect(await page.textContent('li[data-field=q]')).to.contain(words.tooShort);
          expect(await page.inputValue('input[name=q]')).to.equal('PT');
          expect(await listedTransactionIds()).to.deep.equal([]);
          expect(await axeViolations(page)).to.deep.equal([]);
        });

        it('the detail page opens with a banner that says what happened and what to do, and the way back keeps the filters', async () => {
          await page.goto(`${con.url}/payments?client=${client.clientId}&q=${today.failed}`);
          await Promise.all([page.waitForURL(/\/console\/payments\/\d+/), page.click(`a:text-is("${today.failed}")`)]);
          const banner = (await page.textContent('#status-banner')) ?? '';
          expect(banner).to.contain(words.failedBanner);
          // BCA's own Indonesian text on an Indonesian page; the code table's words in English.
          expect(banner).to.contain(lang === 'id' ? 'Melebihi jumlah maksimum' : 'Maximum amount exceeded');
          expect(banner.replace(/\s+/g, ' '), 'what to do after a refusal').to.contain(words.todoFailed);
          expect(await page.getAttribute('details.technical', 'open')).to.equal(null);
          expect(await axeViolations(page)).to.deep.equal([]);
          await Promise.all([page.waitForURL(/\/console\/payments\?/), page.click(`a:text-is("← ${words.back}")`)]);
          expect(page.url()).to.contain(`q=${today.failed}`);

          await page.goto(`${con.url}/payments?q=${inDoubt}`);
          await Promise.all([page.waitForURL(/\/console\/payments\/\d+/), page.click(`a:text-is("${inDoubt}")`)]);
          expect(await page.textContent('#status-banner')).to.contain(words.doNotPay);
          await page.screenshot({ path: join(SHOTS, `payment-in-doubt-${lang}.png`), fullPage: true });
        });

        it('warns on the detail page when another client paid the same transaction id, and prints a proof of payment, the bank’s day written dd/mm/yyyy on both', async () => {
          await page.goto(`${con.url}/payments?client=${client.clientId}&q=${today.success}`);
          await Promise.all([page.waitForURL(/\/console\/payments\/\d+/), page.click(`a:text-is("${today.success}")`)]);
          expect(await page.textContent('#duplicate-warning')).to.contain(words.duplicate);
          expect(await axeViolations(page), 'axe on the detail page with its duplicate warning').to.deep.equal([]);
          // The bank's transaction date as the clerk writes a day (dd/mm/yyyy), here and on the proof.
          const [y, m, d] = (await gw.store.payments.find(client.clientId, today.success))!.bankTransactionDate!.split('-');
          const bankDay = (where: string) => page.locator(`${where} tr`, { has: page.locator(`th:text-is("${words.bankDate}")`) }).locator('td').textContent();
          expect(await bankDay('details.technical table.facts')).to.equal(`${d}/${m}/${y}`);
          await Promise.all([page.waitForURL(/\/proof$/), page.click('#proof-link')]);
          expect(await page.textContent('h1')).to.equal(words.proof);
          const proof = (await page.textContent('#proof')) ?? '';
          expect(proof).to.contain('Rp 2.475.000,00').and.to.contain('PT Sumber Makmur').and.to.contain('0201245681').and.to.contain('Bank Central Asia (014)');
          expect(await bankDay('#proof table.facts'), 'the day the bank booked it, as the clerk writes a day').to.equal(`${d}/${m}/${y}`);
          expect(await axeViolations(page)).to.deep.equal([]);
          await page.emulateMedia({ media: 'print' });
          expect(await page.isVisible('header')).to.equal(false);
          await page.screenshot({ path: join(SHOTS, `proof-of-payment-${lang}.png`), fullPage: true });
          await page.emulateMedia({ media: 'screen' });
        });

        it('prints a list with its filter and the print date, without the form', async () => {
          await page.goto(`${con.url}/payments?status=SUCCESS`);
          await page.emulateMedia({ media: 'print' });
          expect(await page.isVisible('form.filters')).to.equal(false);
          expect(await page.textContent('#print-summary')).to.contain(`Status: ${lang === 'id' ? 'Berhasil' : 'Success'}`).and.to.contain('WIB');
          await page.screenshot({ path: join(SHOTS, `printed-list-${lang}.png`), fullPage: true });
          await page.emulateMedia({ media: 'screen' });
        });

        it('shows a payment run with its counts and totals and every line linked', async () => {
          await page.goto(`${con.url}/runs`);
          expect(await axeViolations(page)).to.deep.equal([]);
          await Promise.all([page.waitForURL(/\/console\/runs\/\d+$/), page.click(`a:text-is("${runId}")`)]);
          expect(await page.textContent('#run-id')).to.equal(runId);
          const paid = page.locator('#run-totals tr[data-outcome=paid] td');
          expect(await paid.nth(0).textContent()).to.equal('2');
          expect(await paid.nth(1).textContent()).to.equal('Rp 300.000,00');
          expect(await page.locator('#run-totals tr[data-outcome=paid] th').textContent()).to.equal(words.runPaid);
          expect(await page.locator('table.run-lines tbody tr a').count()).to.equal(2);
          expect(await page.textContent('table.run-lines')).to.contain('CV Maju Jaya').and.to.contain('Run line two');
          expect(await axeViolations(page)).to.deep.equal([]);
          await page.screenshot({ path: join(SHOTS, `payment-run-${lang}.png`), fullPage: true });
        });

        it('answers an unknown page and a forbidden one with a styled page and a way back', async () => {
          const missing = await page.goto(`${con.url}/payments/999999999`);
          expect(missing?.status()).to.equal(404);
          expect(await page.textContent('h1')).to.equal(words.notFound);
          expect(await page.isVisible(`a:text-is("${words.back}")`)).to.equal(true);
          expect(await axeViolations(page)).to.deep.equal([]);
          await page.screenshot({ path: join(SHOTS, `not-found-${lang}.png`), fullPage: true });
          await signInAs(users.viewer);
          await setLang(lang);
          const forbidden = await page.goto(`${con.url}/access-log`);
          expect(forbidden?.status()).to.equal(403);
          expect(await page.textContent('h1')).to.equal(words.forbidden);
          expect(await page.getAttribute(`a:text-is("${words.back}")`, 'href'), 'a way back from the forbidden page').to.equal('/console/payments');
          expect(await axeViolations(page)).to.deep.equal([]);
          await page.screenshot({ path: join(SHOTS, `forbidden-${lang}.png`), fullPage: true });
        });

        it('admin: names the client before rotating its secret, warns of a client with no allowed address; auditors read the access log', async () => {
          const bare = await gw.createClient({ cidrs: [] });
          await signInAs(users.admin);
          await setLang(lang);
          await page.goto(`${con.url}/admin`);
          const bareName = (await gw.store.clients.findById(bare.clientId))!.name;
          const warning = page.locator(`tr[data-client-id="${bare.clientId}"] + tr.no-address [role=note]`);
          expect(await warning.textContent(), 'the warning names the client with no allowed address').to.equal(words.noAddress(bareName));
          expect(await page.locator(`tr[data-client-id="${client.clientId}"] + tr.no-address`).count(), 'none for a client with an allowed address').to.equal(0);
          expect(await axeViolations(page)).to.deep.equal([]);
          await Promise.all([page.waitForURL(/confirm\/rotate$/), page.click(`tr[data-client-id="${bare.clientId}"] a.rotate`)]);
          expect(await page.textContent('#confirm-question')).to.contain(words.confirm).and.to.contain(bare.clientId);
          expect(await axeViolations(page)).to.deep.equal([]);
          await page.screenshot({ path: join(SHOTS, `admin-confirm-${lang}.png`), fullPage: true });
          await signInAs(users.auditor);
          await setLang(lang);
          // The auditor's own export, so the log has one whichever tests ran before.
          await page.goto(`${con.url}/payments?status=SUCCESS`);
          await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
          await page.goto(`${con.url}/access-log?action=export_csv`);
          expect(await page.locator('table.access-log tbody tr[data-action=export_csv]').count()).to.be.greaterThan(0);
          expect(await axeViolations(page)).to.deep.equal([]);
          await page.screenshot({ path: join(SHOTS, `access-log-${lang}.png`), fullPage: true });
        });

        it('the overview and the sign-in page pass axe too', async () => {
          await page.goto(`${con.url}/overview`);
          expect(await axeViolations(page)).to.deep.equal([]);
          await browser.context.clearCookies();
          await page.goto(`${con.url}/lang?to=${lang}&back=/console/sign-in`);
          expect(await axeViolations(page)).to.deep.equal([]);
        });
      });
    }

    it('downloads the list as a real .xlsx', async () => {
      await signInAs(users.auditor);
      await page.goto(`${con.url}/payments?client=${client.clientId}`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-xlsx')]);
      expect(download.suggestedFilename()).to.match(/^payments-\d{12}\.xlsx$/);
      const bytes = readFileSync(await download.path());
      expect(bytes.subarray(0, 2).toString()).to.equal('PK');
    });

    for (const [label, viewport] of [['at 1024 px', { width: 1024, height: 768 }], ['on a phone', { width: 390, height: 844 }]] as const) {
      it(`is usable ${label}: nothing but the wide tables scrolls sideways, on every page, in either language`, async () => {
        /** How far `path` (under /console, or an absolute path) is wider than the window. */
        const overflowOf = async (path: string): Promise<number> => {
          await page.goto(path.startsWith('/console/') ? `${con.origin}${path}` : `${con.url}${path}`);
          return sidewaysOverflow(page);
        };
        /** The link `text` on `listPath`, as the page gives it. */
        const linkOn = async (listPath: string, text: string): Promise<string> => {
          await page.goto(`${con.url}${listPath}`);
          return (await page.getAttribute(`a:text-is("${text}")`, 'href'))!;
        };
        await signInAs(users.auditor);
        const detail = await linkOn(`/payments?client=${client.clientId}&q=${today.success}`, today.success);
        const failed = await linkOn(`/payments?client=${client.clientId}&q=${today.failed}`, today.failed);
        const doubt = await linkOn(`/payments?q=${inDoubt}`, inDoubt);
        const run = await linkOn('/runs', runId);
        const bare = await gw.createClient({ cidrs: [] });
        await page.setViewportSize(viewport);
        try {
          for (const lang of ['id', 'en'] as const) {
            const as = async (who: { username: string; password: string }) => signInToConsole(browser, page, con.url, who, lang);
            const check = async (paths: string[]) => {
              for (const path of paths) expect(await overflowOf(path), `${lang} ${path}`).to.be.at.most(0);
            };
            await as(users.auditor);
            await check(['/payments', `/payments?q=${today.failed}`, detail, failed, doubt, `${detail.split('?')[0]}/proof`, '/runs', run, '/overview', '/access-log', '/payments/999999999']);
            if (lang === 'id') {
              await page.goto(`${con.url}/payments`);
              await page.screenshot({ path: join(SHOTS, `payments-list-${viewport.width}.png`), fullPage: false });
            }
            await as(users.admin);
            await check(['/admin', `/admin/clients/${bare.clientId}/confirm/rotate`, `/admin/clients/${bare.clientId}/confirm/disable`]);
            await as(users.viewer);
            await check(['/access-log']);
            await browser.context.clearCookies();
            await check([`/lang?to=${lang}&back=/console/sign-in`]);
          }
        } finally {
          await page.setViewportSize({ width: 1280, height: 900 });
        }
      });
    }
  });

  describe('the public API port', () => {
    it('refuses every console path', async () => {
      for (const path of ['/console', '/console/sign-in', '/console/payments', '/console/assets/console.css', '/console/overview']) {
        const answer = await gw.request(path);
        expect(answer.status, path).to.equal(404);
        expect(answer.headers['content-type'], path).to.contain('application/problem+json');
        expect(answer.text, path).not.to.contain('<html');
      }
      const signIn = await gw.request('/console/sign-in', { method: 'POST', body: `username=${users.admin.username}&password=${users.admin.password}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(signIn.status).to.equal(404);
      expect(signIn.headers['set-cookie']).to.equal(undefined);
    });
  });
});
