import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { EXPORT_COLUMNS } from '../../src/console/index.js';
import { createClient, enableSigning } from '../../src/domain/clients/index.js';
import { verifySecret } from '../../src/security/index.js';
import { SqlPaymentSearchRepository } from '../../src/store/repositories/index.js';
import type { StoreReadLimits } from '../../src/store/repositories/payment-search-repository.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend, type BackendContext } from '../support/databases.js';
import { missingTool } from '../support/missing-tool.js';
import { searchWalkPayments, WALK_TERM } from '../support/search-walk-payments.js';

forEachBackend('Finance console sessions and admin', (db) => {
  let con: TestConsole;
  let now = Date.now();
  const clock = () => now;

  before(async () => {
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent', GERBANG_CONSOLE_IDLE_TIMEOUT_SECONDS: '600', GERBANG_LOGIN_MAX_FAILURES: '3', GERBANG_CONSOLE_SIGN_IN_PER_IP: '1000' }, { clock });
  });
  after(() => con.close());

  async function signedIn(role: 'viewer' | 'auditor' | 'admin'): Promise<{ client: ConsoleClient; user: { username: string; password: string } }> {
    const user = await con.createUser(`${role}-${Math.random().toString(36).slice(2, 8)}`, role);
    const client = new ConsoleClient(con.origin);
    const answer = await client.signIn(user.username, user.password);
    expect(answer.status, answer.text).to.equal(303);
    await client.get('/console/payments');
    return { client, user };
  }

  describe('signing in', () => {
    it('sets an HttpOnly, SameSite=Strict session cookie on /console, not Secure over plain HTTP', async () => {
      const user = await con.createUser('cookie-check', 'viewer');
      const answer = await new ConsoleClient(con.origin).signIn(user.username, user.password);
      expect(answer.status).to.equal(303);
      expect(answer.location).to.equal('/console/payments');
      const cookie = answer.setCookies.find((c) => c.startsWith('gerbang_console='))!;
      expect(cookie).to.match(/; HttpOnly/).and.to.match(/; SameSite=Strict/).and.to.match(/; Path=\/console/);
      expect(cookie).not.to.match(/; Secure/);
      expect(cookie).not.to.contain(user.password);
    });

    it('refuses a sign-in form posted from another origin (login CSRF)', async () => {
      const user = await con.createUser('cross-site', 'viewer');
      const answer = await new ConsoleClient(con.origin).post('/console/sign-in', { username: user.username, password: user.password }, { origin: 'https://evil.example' });
      expect(answer.status).to.equal(403);
      expect(answer.setCookies).to.deep.equal([]);
    });

    it('answers a wrong password with 401 and records the attempt', async () => {
      const user = await con.createUser('typo-user', 'viewer');
      const answer = await new ConsoleClient(con.origin).signIn(user.username, 'wrong-password-123');
      expect(answer.status).to.equal(401);
      expect(answer.text).to.contain('Nama pengguna atau kata sandi salah.');
      const entries = await con.store.consoleAudit.list({ username: user.username });
      expect(entries.map((e) => [e.action, e.detail])).to.deep.equal([['sign_in_failed', 'wrong password']]);
    });

    it('records each list page a user sees, with its filters', async () => {
      const { client, user } = await signedIn('viewer');
      expect((await client.get('/console/payments?status=FAILED&txn=NONE-1')).status).to.equal(200);
      const [entry] = await con.store.consoleAudit.list({ username: user.username, action: 'list_payments' });
      expect(entry).to.deep.include({ target: 'payments:none', detail: 'status=FAILED txn=NONE-1' });
    });

    it('sends a request without a session to the sign-in page', async () => {
      const answer = await new ConsoleClient(con.origin).get('/console/payments');
      expect(answer.status).to.equal(303);
      expect(answer.location).to.equal('/console/sign-in');
    });
  });

  describe('CSRF', () => {
    it('refuses a form post without the session’s token, and accepts it with the token', async () => {
      const { client } = await signedIn('viewer');
      const forged = await client.post('/console/sign-out', {});
      expect(forged.status).to.equal(403);
      expect((await client.get('/console/payments')).status).to.equal(200);
      const wrong = await client.post('/console/sign-out', { _csrf: 'x'.repeat(client.csrf.length) });
      expect(wrong.status).to.equal(403);
      const real = await client.post('/console/sign-out', { _csrf: client.csrf });
      expect(real.status).to.equal(303);
      expect(real.location).to.equal('/console/sign-in?out=1');
    });
  });

  describe('the idle timeout', () => {
    it('ends a session unused for longer than GERBANG_CONSOLE_IDLE_TIMEOUT_SECONDS, but not one in use', async () => {
      const { client } = await signedIn('viewer');
      now += 500_000;
      expect((await client.get('/console/payments')).status).to.equal(200);
      now += 500_000;
      expect((await client.get('/console/payments')).status).to.equal(200);
      now += 600_001;
      const expired = await client.get('/console/payments');
      expect(expired.status).to.equal(303);
      expect(expired.location).to.equal('/console/sign-in?expired=1');
    });
  });

  describe('roles', () => {
    it('keeps viewers and auditors out of the admin pages', async () => {
      for (const role of ['viewer', 'auditor'] as const) {
        const { client } = await signedIn(role);
        expect((await client.get('/console/admin')).status, role).to.equal(403);
        const { client: other } = await signedIn(role);
        expect((await other.post('/console/admin/users', { _csrf: other.csrf, username: 'sneaky', role: 'admin', password: 'p'.repeat(20) })).status).to.equal(403);
      }
      expect(await con.store.consoleUsers.findByUsername('sneaky')).to.equal(null);
    });
  });

  describe('a payment settled by the in-doubt resolver', () => {
    it('tells its story: the ERP request in doubt, the automatic status inquiry, the status changes', async () => {
      const store = con.store;
      const t0 = now - 120_000;
      const body = JSON.stringify({ transactionId: 'DOUBT-1', sourceAccountNumber: '0201245680', beneficiaryAccountNumber: '0201245681', amount: '5000000.00', currency: 'IDR' });
      const payment = await store.payments.reserve({ clientId: 'erp-doubt', transactionId: 'DOUBT-1', requestHash: 'h'.repeat(64), amount: '5000000.00', currency: 'IDR' }, t0);
      const inbound = { remoteIp: '127.0.0.1', origin: null, clientId: 'erp-doubt', transactionId: 'DOUBT-1', amount: '5000000.00', requestHeaders: {} };
      const first = await store.audit.record(
        { ...inbound, requestId: 'req-doubt-1', receivedAt: t0, method: 'POST', path: '/v1/transfers', requestBody: body },
        { outcome: 'completed', statusCode: 202, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{"transactionId":"DOUBT-1","status":"UNKNOWN"}', completedAt: t0 + 30_000 },
      );
      await store.audit.recordBankCall({ exchangeId: first, requestId: 'req-doubt-1', partner: 'bca', operation: 'transfer-intrabank', method: 'POST', url: 'https://bank.example/transfers', requestHeaders: {}, requestBody: '{}', statusCode: null, responseBody: null, errorCode: 'BANK_TIMEOUT', startedAt: t0 + 10, durationMs: 30_000 });
      const check = await store.audit.record(
        { ...inbound, requestId: 'resolver-1', receivedAt: t0 + 60_000, remoteIp: 'internal', method: 'RESOLVE', path: '/internal/resolver/DOUBT-1', requestBody: '{"state":"UNKNOWN"}' },
        { outcome: 'completed', statusCode: 200, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{"status":"SUCCESS"}', completedAt: t0 + 60_200 },
      );
      await store.audit.recordBankCall({ exchangeId: check, requestId: 'resolver-1', partner: 'bca', operation: 'transfer-status', method: 'GET', url: 'https://bank.example/status', requestHeaders: {}, requestBody: null, statusCode: 200, responseBody: '{"Status":"Success"}', errorCode: null, startedAt: t0 + 60_010, durationMs: 180 });
      await store.payments.update(payment.id, { state: 'SUCCESS', bank: 'bca', operation: 'transfer-intrabank', bankReference: 'REF-D1' }, t0 + 60_200);

      const { client } = await signedIn('auditor');
      const page = await client.get(`/console/payments/${payment.id}`);
      expect(page.status).to.equal(200);
      const text = page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      expect(text).to.contain('Permintaan dari ERP').and.to.contain('Pengecekan status otomatis ke bank');
      expect(text).to.contain('transfer-status').and.to.contain('Durasi 180 ms').and.to.contain('BANK_TIMEOUT');
      const changes = /<ol class="changes">([\s\S]*?)<\/ol>/.exec(page.text)![1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      expect(changes.match(/Diterima|Belum pasti|Berhasil/g)).to.deep.equal(['Diterima', 'Belum pasti', 'Berhasil']);
      expect(text).to.contain('Rp 5.000.000,00').and.to.contain('0201245681');
    });
  });

  describe('a failed payment whose stored answer is Gerbang’s own note, not the bank’s reason', () => {
    it('shows the note under "Catatan Gerbang" / "Gerbang\'s note" in the page\'s language, never as "Alasan gagal" / "Failure reason"', async () => {
      const store = con.store;
      const { client: erp } = await createClient(store.clients, { name: 'PT Tinjauan', origins: [], cidrs: [] }, now);
      const payment = await store.payments.reserve({ clientId: erp.id, transactionId: 'NOTE-1', requestHash: 'h'.repeat(64), amount: '7500.00', currency: 'IDR' }, now);
      // As the review queue leaves a payment an admin decided was not executed.
      const resultJson = JSON.stringify({ transactionId: 'NOTE-1', status: 'FAILED', bankResponseCode: null, bankMessage: 'Resolved in review by ana.admin: not executed, from the recorded evidence.' });
      await store.payments.update(payment.id, { state: 'FAILED', bank: 'bca', operation: 'transfer-intrabank', resultJson }, now);
      const { client } = await signedIn('viewer');
      const banner = async () => {
        const page = await client.get(`/console/payments/${payment.id}`);
        return /<section class="banner[^"]*" id="status-banner"[\s\S]*?<\/section>/.exec(page.text)![0].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      };
      const indonesian = await banner();
      expect(indonesian).to.contain('Catatan Gerbang: Diputuskan di antrean tinjauan oleh ana.admin: tidak dijalankan, berdasarkan bukti yang dicatat.');
      expect(indonesian).to.not.contain('Alasan gagal').and.to.not.contain('Resolved in review');
      await client.get('/console/lang?to=en');
      const english = await banner();
      expect(english).to.contain("Gerbang&#39;s note: Decided in the review queue by ana.admin: not executed, from the recorded evidence.");
      expect(english).to.not.contain('Failure reason');
    });
  });

  describe('a payment whose audited exchanges were changed in the database', () => {
    it('shows the altered exchange and bank call marked, with none of their values, and tells the rest of the story', async () => {
      const store = con.store;
      const t0 = now - 200_000;
      const payment = await store.payments.reserve({ clientId: 'erp-forged-audit', transactionId: 'FAUDIT-1', requestHash: 'c'.repeat(64), amount: '8000.00', currency: 'IDR' }, t0 + 5);
      const inbound = { remoteIp: '127.0.0.1', origin: null, clientId: 'erp-forged-audit', transactionId: 'FAUDIT-1', amount: '8000.00', requestHeaders: {} };
      const request = await store.audit.record(
        { ...inbound, requestId: 'req-faudit-1', receivedAt: t0, method: 'POST', path: '/v1/transfers', requestBody: '{"transactionId":"FAUDIT-1"}' },
        { outcome: 'completed', statusCode: 502, errorCode: 'BANK_REJECTED', clientId: null, transactionId: null, amount: null, responseBody: '{"transactionId":"FAUDIT-1","status":"FAILED"}', completedAt: t0 + 900 },
      );
      const call = await store.audit.recordBankCall({ exchangeId: request, requestId: 'req-faudit-1', partner: 'bca', operation: 'transfer-intrabank', method: 'POST', url: 'https://bank.example/transfers', requestHeaders: {}, requestBody: '{}', statusCode: 400, responseBody: '{"ErrorCode":"ESB-14-009"}', errorCode: 'ESB-14-009', startedAt: t0 + 10, durationMs: 77 });
      await store.audit.record(
        { ...inbound, requestId: 'req-faudit-2', receivedAt: t0 + 60_000, method: 'GET', path: '/v1/transfers/FAUDIT-1', requestBody: null },
        { outcome: 'completed', statusCode: 200, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{"transactionId":"FAUDIT-1","status":"FAILED"}', completedAt: t0 + 60_100 },
      );
      await store.payments.update(payment.id, { state: 'FAILED', bank: 'bca', operation: 'transfer-intrabank' }, t0 + 900);
      // As a database writer without keys would: the refused request made to look paid, its bank call made to look accepted.
      await store.db.execute("UPDATE audit_exchanges SET status_code = 201, error_code = 'PAID-IN-SQL' WHERE id = ?", [request]);
      await store.db.execute("UPDATE audit_bank_calls SET status_code = 200, error_code = 'OK-IN-SQL', duration_ms = 4242 WHERE id = ?", [call]);

      const { client } = await signedIn('auditor');
      const page = await client.get(`/console/payments/${payment.id}`);
      expect(page.status).to.equal(200);
      const text = page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      expect(text).to.contain(`audit_exchanges id ${request} was altered or fabricated`).and.to.contain(`audit_bank_calls id ${call} was altered or fabricated`);
      expect(text).to.contain('DIUBAH DI LUAR GERBANG: catatan audit ini gagal cek integritas');
      expect(text).to.not.contain('PAID-IN-SQL').and.to.not.contain('OK-IN-SQL').and.to.not.contain('4242').and.to.not.contain('ESB-14-009');
      expect(page.text.match(/class="exchange forged"/g)).to.have.length(1);
      // The status check, genuine, is told as before.
      expect(text).to.contain('GET /v1/transfers/FAUDIT-1').and.to.contain('Pengecekan status oleh ERP');
    });
  });

  describe('a payment whose first request was refused and released, then paid by a second one to another account', () => {
    it('shows the facts of the request sent to the bank, labels the earlier one as refused, and neither as a replay', async () => {
      const store = con.store;
      const t0 = now - 300_000;
      const inbound = { remoteIp: '127.0.0.1', origin: null, clientId: 'erp-twice', transactionId: 'TWICE-1', amount: '7000.00', requestHeaders: {} };
      const request = (beneficiary: string) =>
        JSON.stringify({ transactionId: 'TWICE-1', sourceAccountNumber: '0201245680', beneficiaryBankCode: '014', beneficiaryAccountNumber: beneficiary, beneficiaryName: `VENDOR ${beneficiary}`, amount: '7000.00', currency: 'IDR' });
      // The first request: reserved, refused before the bank processed it, its reservation released (the row deleted).
      const refused = await store.payments.reserve({ clientId: 'erp-twice', transactionId: 'TWICE-1', requestHash: 'a'.repeat(64), amount: '7000.00', currency: 'IDR' }, t0 + 5);
      const first = await store.audit.record(
        { ...inbound, requestId: 'req-twice-1', receivedAt: t0, method: 'POST', path: '/v1/transfers', requestBody: request('0201000111') },
        { outcome: 'completed', statusCode: 503, errorCode: 'BANK_UNAVAILABLE', clientId: null, transactionId: null, amount: null, responseBody: '{"code":"BANK_UNAVAILABLE"}', completedAt: t0 + 900 },
      );
      await store.audit.recordBankCall({ exchangeId: first, requestId: 'req-twice-1', partner: 'bca', operation: 'transfer-intrabank', method: 'POST', url: 'https://bank.example/transfers', requestHeaders: {}, requestBody: '{}', statusCode: 400, responseBody: '{"ErrorCode":"ESB-14-001"}', errorCode: 'ESB-14-001', startedAt: t0 + 10, durationMs: 50 });
      await store.payments.release(refused.id, null);
      // The second request, with the same transactionId and another beneficiary: reserved anew, paid.
      const t1 = t0 + 60_000;
      const payment = await store.payments.reserve({ clientId: 'erp-twice', transactionId: 'TWICE-1', requestHash: 'b'.repeat(64), amount: '7000.00', currency: 'IDR' }, t1 + 5);
      const paid = await store.audit.record(
        { ...inbound, requestId: 'req-twice-2', receivedAt: t1, method: 'POST', path: '/v1/transfers', requestBody: request('0201000222') },
        { outcome: 'completed', statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{"transactionId":"TWICE-1","status":"SUCCESS"}', completedAt: t1 + 400 },
      );
      await store.audit.recordBankCall({ exchangeId: paid, requestId: 'req-twice-2', partner: 'bca', operation: 'transfer-intrabank', method: 'POST', url: 'https://bank.example/transfers', requestHeaders: {}, requestBody: '{}', statusCode: 200, responseBody: '{"Status":"Success"}', errorCode: null, startedAt: t1 + 10, durationMs: 120 });
      await store.payments.update(payment.id, { state: 'SUCCESS', bank: 'bca', operation: 'transfer-intrabank', bankReference: 'REF-T1' }, t1 + 400);

      const { client } = await signedIn('auditor');
      const page = await client.get(`/console/payments/${payment.id}`);
      expect(page.status).to.equal(200);
      const facts = page.text.split('<ol')[0].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      expect(facts).to.contain('0201000222').and.to.contain('VENDOR 0201000222');
      expect(facts).to.not.contain('0201000111');
      const story = page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      expect(story).to.contain('Permintaan dari ERP').and.to.contain('Permintaan sebelumnya dengan ID ini: ditolak, tidak ada yang dibayar');
      expect(story).to.not.contain('Pengulangan');
    });
  });

  describe('the CSV export', () => {
    /** A payment the gateway paid, written as the gateway writes it (MAC and history): one inserted in SQL is exported marked as forged. */
    const paid = async (store: TestConsole['store'], clientId: string, transactionId: string, amount: string, at: number, bankReference: string | null = null) => {
      const payment = await store.payments.reserve({ clientId, transactionId, requestHash: 'h'.repeat(64), amount, currency: 'IDR' }, at);
      await store.payments.update(payment.id, { state: 'SUCCESS', bank: 'bca', operation: 'transfer-intrabank', bankReference }, at);
    };

    it('holds every matching payment across many pages, quoted so a spreadsheet reads it right', async function () {
      // 1,203 payments written one by one (two chain transactions each): 4-6 s on a quiet machine, over 20 s at load 12.
      this.timeout(60_000);
      const store = con.store;
      const { client: erp } = await createClient(store.clients, { name: 'PT "Maju", Tbk', origins: [], cidrs: [] }, now);
      const total = 1_203;
      for (let i = 0; i < total; i += 1) await paid(store, erp.id, `EXP-${i}`, '1000.00', now - i);
      const { client } = await signedIn('viewer');
      const answer = await client.get(`/console/payments/export.csv?client=${erp.id}`);
      expect(answer.status).to.equal(200);
      expect(answer.headers['content-type']).to.equal('text/csv; charset=utf-8');
      expect(answer.headers['content-disposition']).to.match(/^attachment; filename="payments-\d{12}\.csv"$/);
      // Indonesian Excel: `;` between cells, a decimal comma; column names stable in every language.
      const rows = parse(answer.text.replace(/^\uFEFF/, ''), { columns: true, delimiter: ';' }) as Record<string, string>[];
      expect(rows).to.have.length(total);
      expect(new Set(rows.map((r) => r.transaction_id)).size).to.equal(total);
      expect(rows[0]).to.include({ client: 'PT "Maju", Tbk', transaction_id: 'EXP-0', amount: '1000,00', status: 'SUCCESS' });
      expect(answer.text).to.contain('"PT ""Maju"", Tbk"');

      const intl = await client.get(`/console/payments/export.csv?client=${erp.id}&csv=intl`);
      const intlRows = parse(intl.text.replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];
      expect(intlRows[0]).to.include({ transaction_id: 'EXP-0', amount: '1000.00' });
      expect(Object.keys(intlRows[0])).to.deep.equal(Object.keys(rows[0]));
    });

    it('downloads a real .xlsx: ids as text, amounts as numbers, the same columns, recorded in the console audit', async () => {
      const store = con.store;
      const { client: erp } = await createClient(store.clients, { name: 'PT Excel', origins: [], cidrs: [] }, now);
      await paid(store, erp.id, '000123', '2475000.50', now, '0000777777123456789');
      const { client, user } = await signedIn('viewer');
      const answer = await client.getBuffer(`/console/payments/export.xlsx?client=${erp.id}`);
      expect(answer.status).to.equal(200);
      expect(answer.headers['content-type']).to.equal('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(answer.body as unknown as ArrayBuffer);
      const sheet = workbook.getWorksheet('payments')!;
      const header = (sheet.getRow(1).values as unknown[]).slice(1);
      expect(header).to.deep.equal([...EXPORT_COLUMNS]);
      const cell = (name: string) => sheet.getRow(2).getCell(header.indexOf(name) + 1).value;
      expect(cell('transaction_id')).to.equal('000123');
      expect(cell('bank_reference')).to.equal('0000777777123456789');
      expect(cell('amount')).to.equal(2475000.5);
      const exports = await store.consoleAudit.list({ username: user.username, action: 'export_xlsx' });
      expect(exports[0].detail).to.equal(`client=${erp.id}`);
    });

    it('names the transfer method by its code (INTRABANK, RTGS), the same in both languages, never the internal operation', async () => {
      const store = con.store;
      const { client: erp } = await createClient(store.clients, { name: 'PT Metode', origins: [], cidrs: [] }, now);
      await paid(store, erp.id, 'METHOD-ONUS', '1000.00', now);
      const rtgs = await store.payments.reserve({ clientId: erp.id, transactionId: 'METHOD-RTGS', requestHash: 'h'.repeat(64), amount: '250000000.00', currency: 'IDR' }, now - 1);
      await store.payments.update(rtgs.id, { state: 'SUCCESS', bank: 'bca', operation: 'transfer-rtgs' }, now - 1);
      const { client } = await signedIn('viewer');
      const methods = async () => {
        const answer = await client.get(`/console/payments/export.csv?client=${erp.id}&csv=intl`);
        const rows = parse(answer.text.replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];
        return Object.fromEntries(rows.map((r) => [r.transaction_id, r.method]));
      };
      const indonesian = await methods();
      expect(indonesian).to.deep.equal({ 'METHOD-ONUS': 'INTRABANK', 'METHOD-RTGS': 'RTGS' });
      await client.get('/console/lang?to=en');
      expect(await methods()).to.deep.equal(indonesian);
      const xlsx = await client.getBuffer(`/console/payments/export.xlsx?client=${erp.id}`);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(xlsx.body as unknown as ArrayBuffer);
      const sheet = workbook.getWorksheet('payments')!;
      const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
      const cells = [2, 3].map((r) => [sheet.getRow(r).getCell(header.indexOf('transaction_id') + 1).value, sheet.getRow(r).getCell(header.indexOf('method') + 1).value]);
      expect(Object.fromEntries(cells)).to.deep.equal(indonesian);
    });

    it('neutralises formulas a spreadsheet would run (client name, ids, bank reference) and keeps ids as text, in the CSV and in the .xlsx', async () => {
      const store = con.store;
      const { client: erp } = await createClient(store.clients, { name: '=HYPERLINK("http://evil.example/x","Klik")', origins: [], cidrs: [] }, now);
      // As an attacker with a client, or a bank with a free-text reference, would leave them.
      const hostile = [
        { transactionId: '-2+3', reference: '@SUM(1+1)*cmd|/C calc!A0' },
        { transactionId: '+62811', reference: '\tTAB' },
        { transactionId: '00042', reference: '\r=1+1' },
        { transactionId: 'LINK-1', reference: '=HYPERLINK("http://evil.example/y","Bukti")' },
      ];
      for (const [i, h] of hostile.entries()) await paid(store, erp.id, h.transactionId, '1000.00', now - i, h.reference);
      const { client } = await signedIn('viewer');
      const answer = await client.get(`/console/payments/export.csv?client=${erp.id}`);
      expect(answer.status).to.equal(200);
      const rows = parse(answer.text.replace(/^\uFEFF/, ''), { columns: true, delimiter: ';' }) as Record<string, string>[];
      expect(rows).to.have.length(hostile.length);
      for (const row of rows) for (const cell of Object.values(row)) expect(cell, 'no cell starts a formula').to.not.match(/^[=+\-@\t\r]/);
      expect(rows.map((r) => r.transaction_id)).to.have.members(["'-2+3", "'+62811", '00042', 'LINK-1']);
      expect(rows.map((r) => r.bank_reference)).to.have.members(["'@SUM(1+1)*cmd|/C calc!A0", "'\tTAB", "'\r=1+1", `'=HYPERLINK("http://evil.example/y","Bukti")`]);
      expect(rows[0].client).to.equal(`'=HYPERLINK("http://evil.example/x","Klik")`);
      // The .xlsx as a spreadsheet reads it: no cell a formula, the hostile ones text cells with the apostrophe.
      const xlsx = await client.getBuffer(`/console/payments/export.xlsx?client=${erp.id}`);
      expect(xlsx.status).to.equal(200);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(xlsx.body as unknown as ArrayBuffer);
      const sheet = workbook.getWorksheet('payments')!;
      const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
      const cells = [2, 3, 4, 5].map((r) => Object.fromEntries(header.map((name, i) => [name, sheet.getRow(r).getCell(i + 1)])));
      for (const row of cells) {
        for (const cell of Object.values(row)) {
          expect(cell.type, `${cell.address} is no formula`).to.not.equal(ExcelJS.ValueType.Formula);
          if (typeof cell.value === 'string') expect(cell.value, `${cell.address} starts no formula`).to.not.match(/^[=+\-@\t\r]/);
        }
      }
      const linked = cells.find((row) => row.transaction_id.value === 'LINK-1')!;
      expect(linked.bank_reference.type).to.equal(ExcelJS.ValueType.String);
      expect(linked.bank_reference.value).to.equal(`'=HYPERLINK("http://evil.example/y","Bukti")`);
      expect(linked.client.type).to.equal(ExcelJS.ValueType.String);
      expect(linked.client.value).to.equal(`'=HYPERLINK("http://evil.example/x","Klik")`);
      expect(cells.map((row) => row.transaction_id.value)).to.have.members(["'-2+3", "'+62811", '00042', 'LINK-1']);
    });

    it('exports a payment inserted in SQL marked CHANGED_OUTSIDE_GERBANG with what was found, its amount and bank values empty (CSV and .xlsx)', async () => {
      const store = con.store;
      const { client: erp } = await createClient(store.clients, { name: 'PT Rekonsiliasi', origins: [], cidrs: [] }, now);
      await paid(store, erp.id, 'REAL-1', '2500.00', now - 1, 'REF-REAL-1');
      // As a database writer without keys would: a paid payment the gateway never made.
      await store.db.execute(
        'INSERT INTO payments (client_id, transaction_id, request_hash, state, bank, bank_reference, bank_transaction_id, amount, amount_minor, currency, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [erp.id, 'FORGED-1', 'h'.repeat(64), 'SUCCESS', 'bca', 'REF-FORGED-1', 'BTX-FORGED-1', '99000000.00', 9_900_000_000, 'IDR', now, now],
      );
      const { client } = await signedIn('viewer');
      const answer = await client.get(`/console/payments/export.csv?client=${erp.id}&csv=intl`);
      const rows = parse(answer.text.replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];
      const forged = rows.find((r) => r.transaction_id === 'FORGED-1')!;
      expect(forged).to.include({ status: 'CHANGED_OUTSIDE_GERBANG', client_id: erp.id, amount: '', currency: '', sending_bank: '', bank_reference: '', bank_transaction_id: '', created_wib: '' });
      expect(forged.integrity_problem).to.match(/^payments id \d+ carries no MAC/);
      expect(answer.text).to.not.contain('99000000').and.to.not.contain('REF-FORGED-1').and.to.not.contain('BTX-FORGED-1');
      expect(rows.find((r) => r.transaction_id === 'REAL-1')).to.include({ status: 'SUCCESS', amount: '2500.00', bank_reference: 'REF-REAL-1', integrity_problem: '' });

      const xlsx = await client.getBuffer(`/console/payments/export.xlsx?client=${erp.id}`);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(xlsx.body as unknown as ArrayBuffer);
      const sheet = workbook.getWorksheet('payments')!;
      const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
      const cells = [2, 3].map((r) => Object.fromEntries(header.map((name, i) => [name, sheet.getRow(r).getCell(i + 1).value])));
      const marked = cells.find((c) => c.transaction_id === 'FORGED-1')!;
      expect(marked.status).to.equal('CHANGED_OUTSIDE_GERBANG');
      expect(marked.amount, 'no amount a sum would count, not even 0').to.equal(null);
      expect(cells.find((c) => c.transaction_id === 'REAL-1')!.amount).to.equal(2500);
    });
  });

  describe('admin', () => {
    it('creates a client, showing its secret once after the redirect, and edits its allowlists, naming a bad CIDR and keeping what was typed', async () => {
      const { client } = await signedIn('admin');
      const created = await client.post('/console/admin/clients', { _csrf: client.csrf, name: 'ERP <test> & co', origins: 'https://erp.example.com', cidrs: '203.0.113.0/24\n198.51.100.7/32' });
      // Post/Redirect/Get: the secret waits, sealed, in the session for the next page, never in the URL.
      expect(created.status).to.equal(303);
      expect(created.location).to.equal('/console/admin');
      const waiting = await con.store.db.query<{ flash: string | null }>('SELECT flash FROM console_sessions WHERE flash IS NOT NULL');
      expect(waiting).to.have.length(1);
      expect(waiting[0].flash).to.match(/^gcm2\./);
      const shown = await client.get('/console/admin');
      const clientId = /class="client-id">([^<]+)</.exec(shown.text)![1];
      const clientSecret = /class="client-secret">([^<]+)</.exec(shown.text)![1];
      expect(waiting[0].flash).to.not.contain(clientSecret);
      expect(shown.text).to.contain('ERP &lt;test&gt; &amp; co');
      const stored = (await con.store.clients.findById(clientId))!;
      expect(stored.allowedCidrs).to.deep.equal(['203.0.113.0/24', '198.51.100.7/32']);
      expect(await verifySecret(clientSecret, stored.secretHash)).to.equal(true);
      expect((await client.get('/console/admin')).text).not.to.contain(clientSecret);

      const bad = await client.post(`/console/admin/clients/${clientId}/allowlists`, { _csrf: client.csrf, origins: '', cidrs: '300.1.1.1/8' });
      expect(bad.status).to.equal(400);
      expect(bad.text).to.contain('data-field="cidr"').and.to.match(/<textarea name="cidrs"[^>]*>300\.1\.1\.1\/8<\/textarea>/);
      const good = await client.post(`/console/admin/clients/${clientId}/allowlists`, { _csrf: client.csrf, origins: '*.dynamics.com', cidrs: '10.0.0.0/8' });
      expect(good.status).to.equal(303);
      expect((await con.store.clients.findById(clientId))!).to.deep.include({ allowedOrigins: ['*.dynamics.com'], allowedCidrs: ['10.0.0.0/8'] });

      // A client made to sign its requests (gerbang client enable-signing) says so; its key is never shown.
      const enabled = await enableSigning(con.store.clients, TEST_AUDIT_KEYS, clientId, Date.now());
      const page = (await client.get('/console/admin')).text;
      expect(page).to.match(new RegExp(`data-client-id="${clientId}"[^]*?class="signing">permintaan wajib ditandatangani<`));
      expect(page).to.not.contain((enabled as { signingKey: string }).signingKey).and.not.contain('gcm2.');

      // Rotation goes through a page naming the client; its form, posted twice (a reload), rotates once.
      const confirm = await client.get(`/console/admin/clients/${clientId}/confirm/rotate`);
      expect(confirm.text).to.match(/id="confirm-question"[^]*ERP &lt;test&gt; &amp; co/);
      const fingerprint = /name="fingerprint" value="([^"]+)"/.exec(confirm.text)![1];
      const refused = await client.post(`/console/admin/clients/${clientId}/rotate`, { _csrf: client.csrf });
      expect(refused.text).not.to.contain('class="client-secret"');
      expect((await con.store.clients.findById(clientId))!.secretVersion).to.equal(1);
      const rotated = await client.post(`/console/admin/clients/${clientId}/rotate`, { _csrf: client.csrf, fingerprint });
      expect(rotated.status).to.equal(303);
      const afterRotation = await client.get('/console/admin');
      const newSecret = /class="client-secret">([^<]+)</.exec(afterRotation.text)![1];
      expect(newSecret).not.to.equal(clientSecret);
      expect((await con.store.clients.findById(clientId))!.secretVersion).to.equal(2);
      // A reload shows the page again without the secret and rotates nothing.
      expect((await client.get('/console/admin')).text).not.to.contain('class="client-secret"');
      // The old form posted again (back, then resubmit) rotates nothing either.
      const reposted = await client.post(`/console/admin/clients/${clientId}/rotate`, { _csrf: client.csrf, fingerprint });
      expect(reposted.status).to.equal(303);
      const told = await client.get('/console/admin');
      expect(told.text).not.to.contain('class="client-secret"');
      expect(told.text).to.contain('sudah pernah dikirim');
      expect((await con.store.clients.findById(clientId))!.secretVersion).to.equal(2);

      const disable = await client.get(`/console/admin/clients/${clientId}/confirm/disable`);
      const disableFingerprint = /name="fingerprint" value="([^"]+)"/.exec(disable.text)![1];
      await client.post(`/console/admin/clients/${clientId}/status`, { _csrf: client.csrf, status: 'disabled', fingerprint: disableFingerprint });
      expect((await con.store.clients.findById(clientId))!.status).to.equal('disabled');
      const actions = (await con.store.consoleAudit.list({ action: undefined, limit: 50 })).filter((e) => e.target === `client:${clientId}`).map((e) => e.action);
      expect(actions.sort()).to.deep.equal(['admin_client_allowlists', 'admin_client_create', 'admin_client_rotate', 'admin_client_status']);
    });

    it('grants a client the accounts it may use and withdraws them, naming a malformed account, each change in the console audit, no number in clear', async () => {
      const { client } = await signedIn('admin');
      const { client: erp } = await createClient(con.store.clients, { name: 'ERP accounts', origins: [], cidrs: [] }, now);
      expect((await client.post(`/console/admin/clients/${erp.id}/accounts`, { _csrf: client.csrf, grant: '0201245680\n0201245681', revoke: '' })).status).to.equal(303);
      const granted = await client.get('/console/admin');
      expect(await con.store.accountGrants.isGranted(erp.id, '0201245680')).to.equal(true);
      expect(await con.store.accountGrants.list(erp.id)).to.have.members(['******5680', '******5681']);
      expect(granted.text).to.match(new RegExp(`data-client-id="${erp.id}"[^]*?<li>\\*{6}5680</li>`));
      const bad = await client.post(`/console/admin/clients/${erp.id}/accounts`, { _csrf: client.csrf, grant: '1234', revoke: '0201245680' });
      expect(bad.status).to.equal(400);
      expect(bad.text).to.contain('data-field="accounts"').and.to.match(/<textarea name="grant"[^>]*>1234<\/textarea>/);
      expect(await con.store.accountGrants.isGranted(erp.id, '0201245680'), 'unchanged by a refused form').to.equal(true);
      await client.post(`/console/admin/clients/${erp.id}/accounts`, { _csrf: client.csrf, grant: '', revoke: '0201245680' });
      expect(await con.store.accountGrants.isGranted(erp.id, '0201245680')).to.equal(false);
      expect(await con.store.accountGrants.list(erp.id)).to.deep.equal(['******5681']);
      const details = (await con.store.consoleAudit.list({ action: undefined, limit: 50 })).filter((e) => e.target === `client:${erp.id}`).map((e) => e.detail);
      expect(details.sort()).to.deep.equal(['grant= revoke=******5680', 'grant=******5680 ******5681 revoke=']);
    });

    it('creates a user who can sign in, and disabling a user ends their session at once', async () => {
      const { client } = await signedIn('admin');
      const short = await client.post('/console/admin/users', { _csrf: client.csrf, username: 'new.auditor', role: 'auditor', password: 'short' });
      expect(short.status).to.equal(400);
      expect(short.text).to.contain('data-field="password"');
      // The form comes back as typed, but for the password.
      expect(short.text).to.match(/id="create-user"[^]*name="username"[^>]*value="new.auditor"/).and.to.match(/id="create-user"[^]*<option value="auditor" selected>/);
      expect(short.text).to.not.contain('value="short"');
      const created = await client.post('/console/admin/users', { _csrf: client.csrf, username: 'new.auditor', role: 'auditor', password: 'a-long-enough-password' });
      expect(created.status).to.equal(303);
      const newcomer = new ConsoleClient(con.origin);
      expect((await newcomer.signIn('new.auditor', 'a-long-enough-password')).status).to.equal(303);
      expect((await newcomer.get('/console/payments')).status).to.equal(200);

      const id = (await con.store.consoleUsers.findByUsername('new.auditor'))!.id;
      expect((await client.post(`/console/admin/users/${id}`, { _csrf: client.csrf, status: 'disabled' })).status).to.equal(303);
      expect((await newcomer.get('/console/payments')).location).to.equal('/console/sign-in');
      expect((await newcomer.signIn('new.auditor', 'a-long-enough-password')).status).to.equal(401);
    });

    it('refuses to let an admin disable themself', async () => {
      const { client, user } = await signedIn('admin');
      const me = (await con.store.consoleUsers.findByUsername(user.username))!;
      const answer = await client.post(`/console/admin/users/${me.id}`, { _csrf: client.csrf, status: 'disabled' });
      expect(answer.status).to.equal(400);
      expect((await con.store.consoleUsers.findById(me.id))!.status).to.equal('active');
    });
  });
});

/**
 * Hooks of a block: `seed`, then the console started on `db` with its text search bounded by
 * `limits` (StoreReadLimits: a few payments reach them), handed to `started`; closed after.
 */
function consoleWithSearchLimits(db: BackendContext, limits: Partial<StoreReadLimits>, seed: () => Promise<void>, started: (con: TestConsole) => void): void {
  let con: TestConsole | undefined;
  let search: SqlPaymentSearchRepository | undefined;
  before(async function () {
    this.timeout(60_000);
    await seed();
    search = new SqlPaymentSearchRepository(db.store().db, TEST_AUDIT_KEYS, null, Date.now, limits);
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { store: { ...db.store(), paymentSearch: search }, sealSweep: false });
    started(con);
  });
  after(async () => {
    await con?.close();
    await search?.close();
  });
}

forEachBackend('Finance console search cut short before the matches', (db) => {
  let con: TestConsole;
  const walked = `w-${Math.random().toString(36).slice(2, 8)}`;
  // The console's search in steps of 10 postings, 10 walked at most: the matches lie below 30 payments holding "312" alone.
  consoleWithSearchLimits(db, { gramChunk: 10, gramWalkLimit: 10 }, () => searchWalkPayments(db.store(), walked, Date.UTC(2033, 0, 10)), (started) => (con = started));

  it('says in the clerk’s language that payments older than the oldest it reached were not looked at and how to narrow the search, never that nothing matches', async () => {
    const user = await con.createUser('cut-short', 'viewer');
    const client = new ConsoleClient(con.origin);
    expect((await client.signIn(user.username, user.password)).status).to.equal(303);
    const indonesian = (await client.get(`/console/payments?q=${WALK_TERM}`)).text;
    expect(indonesian).to.match(
      /<p class="warning" role="status" id="search-truncated" data-stopped="walk">Pencarian dihentikan sebelum semua pembayaran diperiksa: [^<]*Hanya pembayaran sejak 10 Jan 2033 07\.00 WIB yang diperiksa; pembayaran sebelum itu tidak diperiksa, jadi yang cocok di antaranya bisa tidak tampil[^<]*ketik kata yang lebih lengkap \(misalnya nomor referensi utuh\) atau pilih rentang tanggal yang lebih pendek\.<\/p>/,
    );
    expect(indonesian).to.contain('Tidak ada pembayaran yang cocok di antara pembayaran yang sempat diperiksa.');
    expect(indonesian).not.to.contain('Pencarian berhenti pada').and.not.to.contain('Tidak ada pembayaran yang cocok dengan saringan ini.');
    await client.get('/console/lang?to=en');
    const english = (await client.get(`/console/payments?q=${WALK_TERM}`)).text;
    expect(english).to.match(
      /<p class="warning" role="status" id="search-truncated" data-stopped="walk">The search was cut short before it looked at every payment: [^<]*Only payments made since 10 Jan 2033 07:00 WIB were looked at; older ones were not, so matches among them may be missing[^<]*type more of the term \(the whole reference, say\) or choose a shorter date range\.<\/p>/,
    );
    expect(english).to.contain('No payment matches among the payments looked at.');
    expect(english).not.to.contain('The search stopped at the newest').and.not.to.contain('No payment matches these filters.');
  });

  it('shows no date taken from the payment the walk stopped at once its creation time was changed in SQL: it says from when could not be proved, and what was found', async () => {
    const user = await con.createUser('cut-forged', 'viewer');
    const client = new ConsoleClient(con.origin);
    expect((await client.signIn(user.username, user.password)).status).to.equal(303);
    const [{ id, created_at: made }] = await db.store().db.query<{ id: number | string; created_at: number | string }>("SELECT id, created_at FROM payments WHERE client_id = ? AND transaction_id = 'PO-0312-20'", [walked]);
    // A year earlier: the page would say every payment since January 2032 was looked at.
    await db.store().db.execute('UPDATE payments SET created_at = ? WHERE id = ?', [Date.UTC(2032, 0, 10), id]);
    try {
      const page = (await client.get(`/console/payments?q=${WALK_TERM}`)).text;
      expect(page).to.match(
        /<div class="warning" role="status" id="search-truncated" data-stopped="walk" data-reached="unproved"><p>Pencarian dihentikan sebelum semua pembayaran diperiksa: [^<]*Hanya pembayaran yang lebih baru yang diperiksa, jadi pembayaran lama yang cocok bisa tidak tampil; sejak kapan tidak dapat dibuktikan, karena pembayaran tempat pencarian berhenti diubah di database, di luar Gerbang[^<]*<\/p>/,
      );
      expect(page).to.contain(`<code class="integrity-problem">payments id ${Number(id)} (${walked} / PO-0312-20) was altered`);
      expect(page).not.to.contain('2032').and.not.to.contain('Hanya pembayaran sejak');
    } finally {
      await db.store().db.execute('UPDATE payments SET created_at = ? WHERE id = ?', [made, id]);
    }
  });
});

forEachBackend('Finance console search with more matches than it proves', (db) => {
  let con: TestConsole;
  const client = `p-${Math.random().toString(36).slice(2, 8)}`;
  // The console's search proving 2 matches at most: the 3 matches are counted, their sum taken as stored.
  consoleWithSearchLimits(db, { searchProvedRows: 2 }, async () => {
    for (let i = 0; i < 3; i += 1) {
      await db.store().payments.reserve({ clientId: client, transactionId: `TEHMANIS-${i}`, requestHash: 'h'.repeat(64), amount: '12.00', currency: 'IDR' }, Date.UTC(2033, 0, 10) + i);
    }
  }, (started) => (con = started));

  it('shows every match counted and their total, and says in the clerk’s language that the total is as stored past the bound it proves', async () => {
    const user = await con.createUser('many-proved', 'viewer');
    const consoleClient = new ConsoleClient(con.origin);
    expect((await consoleClient.signIn(user.username, user.password)).status).to.equal(303);
    const indonesian = (await consoleClient.get('/console/payments?q=tehmanis')).text;
    expect(indonesian).to.contain('TEHMANIS-2').and.to.contain('TEHMANIS-0');
    expect(indonesian).to.match(/<p class="warning" role="status" id="totals-proof" data-proof="stored">Total sesuai yang tersimpan di database: lebih dari 2 pembayaran cocok, jadi tidak dicek satu per satu/);
    await consoleClient.get('/console/lang?to=en');
    const english = (await consoleClient.get('/console/payments?q=tehmanis')).text;
    expect(english).to.match(/<p class="warning" role="status" id="totals-proof" data-proof="stored">Total as stored in the database: more than 2 payments match, so they were not checked one by one/);
    expect(english).to.match(/<p class="totals" id="list-totals"><strong>1–3<\/strong> of <strong>3<\/strong> [^<]*<strong>Rp[^<]*36[^<]*<\/strong><\/p>/);
  });
});

describe('Finance console under TLS', () => {
  let dir: string;
  let con: TestConsole;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'gerbang-console-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    } catch {
      missingTool(this, 'the console TLS test needs openssl (apt-get install openssl)');
    }
    con = await TestConsole.start(`sqlite:${join(dir, 'g.sqlite')}`, {
      GERBANG_LOG_LEVEL: 'silent',
      GERBANG_CONSOLE_TLS_CERT_FILE: join(dir, 'cert.pem'),
      GERBANG_CONSOLE_TLS_KEY_FILE: join(dir, 'key.pem'),
    });
  });
  after(async () => {
    await con?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS and marks the session cookie Secure', async () => {
    expect(con.url).to.match(/^https:\/\//);
    const user = await con.createUser('tls-user', 'viewer');
    const answer = await new ConsoleClient(con.origin).signIn(user.username, user.password);
    expect(answer.status).to.equal(303);
    expect(answer.setCookies.find((c) => c.startsWith('gerbang_console='))).to.match(/; Secure/);
  });
});
