import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { axeViolations, signInToConsole, trySignIn } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { eventually, sampleTransfer, type TestClient } from '../support/gateway-harness.js';
import { snapCredentials, snapPartnerBlock, startSnapBank } from '../support/snap-bank.js';
import { startTestBank, writePartnersFile, type TestBank } from '../support/test-bank.js';

/**
 * The points of the finance clerk's console (#16) in a browser, each in Bahasa Indonesia and in
 * English: status checks folded, exports, a payment run, the list's search, paging and way back,
 * the bank's refusals in the clerk's words, admin confirmations and user care, axe on the detail
 * pages. One gateway pays through two simulated banks of the test's own, configured as partners:
 * BCA's legacy API and BCA's SNAP API, so both kinds of refusal are the simulated banks' own answers.
 */

/** The export's columns, one stable set whatever the console's language (the finance guide names them). */
const EXPORT_HEADER = [
  'created_wib', 'client', 'client_id', 'transaction_id', 'status', 'amount', 'currency', 'source_account', 'beneficiary_name', 'beneficiary_account',
  'beneficiary_bank', 'remark', 'method', 'sending_bank', 'bank_reference', 'bank_transaction_id', 'failure_code', 'failure_message', 'run_id', 'updated_wib',
  'integrity_problem',
];

/** How many payments the paging tests list under one search: more than one page of 50. */
const SALARIES = 53;

describe('Finance console for a clerk, each point in both languages (#16)', function () {
  this.timeout(240_000);

  const snapCreds = snapCredentials();
  let bca: TestBank;
  let snap: BankSimulator;
  /** Filled before the gateway starts (browserConsole reads it in its own `before`, registered after this one). */
  const gatewayEnv: Record<string, string> = {};
  before(async () => {
    bca = await startTestBank();
    const snapBank = await startSnapBank(snapCreds);
    snap = snapBank.simulator;
    gatewayEnv.GERBANG_BANK_PARTNERS_FILE = writePartnersFile([
      bca.partnerBlock('bca', 1),
      snapPartnerBlock('bca-snap', '014', 2, snapBank.url, snapCreds, { accounts: ['0201555001'] }),
    ]);
    // The resolver runs by hand: each status check is one pass the test makes.
    gatewayEnv.GERBANG_RESOLVER_INTERVAL_MS = '0';
  });

  let client: TestClient;
  let auth: Record<string, string>;
  const users: Record<'viewer' | 'auditor', { username: string; password: string }> = {} as never;
  /** Transaction ids and payment ids of the suite's payments. */
  const ids = {} as {
    checked: string;
    checkedId: number;
    paid: string;
    paidId: number;
    closed: string;
    closedId: number;
    snapRefused: string;
    snapRefusedId: number;
    snapPaid: string;
    runId: string;
    runPaid: string;
    salaryRemark: string;
  };

  const suite = browserConsole(async ({ gw, con }) => {
    users.viewer = await con.createUser('vera.viewer', 'viewer');
    users.auditor = await con.createUser('aldo.auditor', 'auditor');
    client = await gw.createClient();
    auth = { authorization: `Bearer ${await gw.token(client)}` };
    const pay = (body: Record<string, unknown>) => gw.request('/v1/transfers', { headers: auth, json: body });
    const paymentId = async (transactionId: string) => (await gw.store.payments.find(client.clientId, transactionId))!.id;

    // 1. In doubt (BCA: timeout, check your statement; not executed), then three automatic status
    // checks while BCA answers ESB-82-025 "in progress, check your statement" each time.
    bca.simulator.failNext({ code: 'ESB-82-024' });
    const checked = sampleTransfer({ amount: '3100000.00', beneficiaryName: 'PT Ragu Ragu', remark: 'Cek status' });
    expect((await pay(checked)).status).to.equal(202);
    ids.checked = checked.transactionId as string;
    ids.checkedId = await paymentId(ids.checked);
    for (let i = 0; i < 3; i += 1) {
      bca.simulator.failNext({ operation: 'status', code: 'ESB-82-025' });
      // Due now: the back-off would otherwise wait seconds between checks.
      await gw.store.db.execute('UPDATE payments SET next_check_at = 0 WHERE id = ?', [ids.checkedId]);
      expect(await gw.gateway.resolver.runOnce()).to.deep.equal({ checked: 1, settled: 0 });
    }
    expect((await gw.store.payments.find(client.clientId, ids.checked))!.state).to.be.oneOf(['UNKNOWN', 'PENDING']);

    // A paid transfer with a remark in mixed case.
    const paid = sampleTransfer({ amount: '2475000.00', beneficiaryName: 'PT Sumber Makmur', remark: 'Faktur INV-Kopi 77' });
    expect((await pay(paid)).status).to.equal(201);
    ids.paid = paid.transactionId as string;
    ids.paidId = await paymentId(ids.paid);

    // 5. BCA refuses a transfer to its closed sample account: ESB-82-022 with its own Indonesian text.
    const closed = sampleTransfer({ amount: '990000.00', beneficiaryAccountNumber: '0201245683', beneficiaryName: 'PT Tutup', remark: 'Ke rekening tutup' });
    expect((await pay(closed)).body.status).to.equal('FAILED');
    ids.closed = closed.transactionId as string;
    ids.closedId = await paymentId(ids.closed);

    // 5. The SNAP partner refuses a transfer the paying account cannot cover (403xx14).
    snap.setAccount({ number: '0201555001', name: 'PT PAYER SNAP', balance: '150.00' });
    snap.setAccount({ number: '0201555002', name: 'CV PAYEE SNAP', balance: '0.00' });
    // First one it can cover: the SNAP bank's own reference (referenceNo) is its bank reference.
    const snapPaid = sampleTransfer({ sourceAccountNumber: '0201555001', beneficiaryAccountNumber: '0201555002', amount: '50.00', remark: 'Lewat SNAP' });
    expect((await pay(snapPaid)).body.status).to.equal('SUCCESS');
    ids.snapPaid = snapPaid.transactionId as string;
    const snapRefused = sampleTransfer({ sourceAccountNumber: '0201555001', beneficiaryAccountNumber: '0201555002', amount: '2500.00', remark: 'Lewat SNAP' });
    const snapAnswer = await pay(snapRefused);
    expect(snapAnswer.body.status, snapAnswer.text).to.equal('FAILED');
    ids.snapRefused = snapRefused.transactionId as string;
    ids.snapRefusedId = await paymentId(ids.snapRefused);

    // 3. A payment run: one line paid, one refused by the bank (closed account), one in doubt
    // (the simulator's sandbox remark: BCA answers ESB-82-024 without executing).
    ids.runId = `RUN-${randomBytes(3).toString('hex')}`;
    const lines = [
      sampleTransfer({ amount: '125000.00', beneficiaryName: 'CV Maju Jaya', remark: 'Baris dibayar' }),
      sampleTransfer({ amount: '250000.00', beneficiaryAccountNumber: '0201245683', beneficiaryName: 'PT Tutup', remark: 'Baris ditolak' }),
      sampleTransfer({ amount: '375000.00', beneficiaryName: 'PT Ragu', remark: 'SIM ESB-82-024' }),
    ];
    ids.runPaid = lines[0].transactionId as string;
    expect((await gw.request('/v1/transfer-batches', { headers: auth, json: { batchId: ids.runId, transfers: lines } })).status).to.be.oneOf([200, 201, 202]);
    await eventually(async () => ((await gw.request(`/v1/transfer-batches/${ids.runId}`, { headers: auth })).body as { state?: string }).state === 'DONE', 60_000);

    // 4. More than a page of salaries under one remark, each with its own number.
    ids.salaryRemark = `Gaji Desember ${randomBytes(2).toString('hex').toUpperCase()}`;
    for (let i = 0; i < SALARIES; i += 1) {
      const salary = sampleTransfer({ amount: `${1000 + i}.00`, beneficiaryName: `Karyawan ${i}`, remark: `${ids.salaryRemark} ${i}` });
      expect((await pay(salary)).status).to.equal(201);
    }
  }, gatewayEnv);

  after(async () => {
    await bca?.simulator.close();
    await snap?.close();
  });

  const signIn = (who: { username: string; password: string }, lang: 'id' | 'en') => signInToConsole(suite.browser, suite.page, suite.con.url, who, lang);
  const listed = () => suite.page.$$eval('table.payments tbody tr td:nth-child(3) a', (links) => links.map((a) => a.textContent ?? ''));
  async function search(term: string): Promise<string[]> {
    const { page, con } = suite;
    await page.goto(`${con.url}/payments`);
    await page.fill('input[name=q]', term);
    await Promise.all([page.waitForURL(/q=/), page.click('form.filters button[type=submit]')]);
    return listed();
  }

  /**
   * The CSV export of the list filtered by `query`, downloaded through the page's button (the
   * Indonesian spreadsheet's `;`) or its international link (`,`), as rows with the header apart.
   */
  async function csvExport(query: string, kind: 'id' | 'intl' = 'id'): Promise<{ header: string[]; rows: Record<string, string>[] }> {
    const { page, con } = suite;
    await page.goto(`${con.url}/payments?${query}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(kind === 'id' ? '#export-csv' : '#export-csv-intl')]);
    const text = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
    const delimiter = kind === 'id' ? ';' : ',';
    const [header] = parse(text, { delimiter, to: 1 }) as string[][];
    return { header, rows: parse(text, { columns: true, delimiter }) as Record<string, string>[] };
  }

  /** The first facts table of a payment's detail page, as its labels and values. */
  async function lineFacts(): Promise<Record<string, string>> {
    const rows = await suite.page.locator('table.facts').first().locator('tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? '']));
    return Object.fromEntries(rows);
  }

  /** axe's violations on a page with folded parts (technical details, bodies, checks): axeViolations opens them for axe, which skips what is hidden. */
  async function axeOpenedAndFolded(): Promise<string[]> {
    const { page } = suite;
    expect(await page.locator('details:not([open])').count(), 'a folded part to open').to.be.greaterThan(0);
    return axeViolations(page);
  }

  for (const lang of ['id', 'en'] as const) {
    const words =
      lang === 'id'
        ? {
            checks: 'pengecekan status otomatis',
            of: 'dari',
            paid: 'Berhasil dibayar',
            failed: 'Gagal',
            inDoubt: 'Belum pasti',
            closed: 'Rekening ditutup (ESB-82-022)',
            closedExport: /ditutup \(ESB-82-022\)$/,
            snap: 'Saldo tidak cukup (4031714)',
            disable: 'Nonaktifkan klien',
            bannerSuccess: 'Bank telah melaksanakan pembayaran ini',
            bannerFailed: 'Bank menolak pembayaran ini',
            /** The facts of the run's paid line (CV Maju Jaya, "Baris dibayar") on its own page, its accounts as the reader may see them. */
            facts: (shown: { source: string; account: string }) => ({
              'ID transaksi': ids.runPaid,
              'Rekening sumber': shown.source,
              'Nama penerima': 'CV Maju Jaya',
              'Rekening tujuan': shown.account,
              'Bank penerima': 'Bank Central Asia (014)',
              Keterangan: 'Baris dibayar',
            }),
          }
        : {
            checks: 'automatic status checks',
            of: 'of',
            paid: 'Paid',
            failed: 'Failed',
            inDoubt: 'In doubt',
            closed: 'Account is closed (ESB-82-022)',
            closedExport: /^Account is closed \(ESB-82-022\)$/,
            snap: 'Insufficient funds (4031714)',
            disable: 'Disable client',
            bannerSuccess: 'The bank executed this payment',
            bannerFailed: 'The bank refused this payment',
            facts: (shown: { source: string; account: string }) => ({
              'Transaction id': ids.runPaid,
              'Source account': shown.source,
              'Beneficiary name': 'CV Maju Jaya',
              'Beneficiary account': shown.account,
              "Beneficiary's bank": 'Bank Central Asia (014)',
              Remark: 'Baris dibayar',
            }),
          };

    describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
      it('folds the repeated automatic status checks into one closed entry with their count; the in-doubt page passes axe', async () => {
        const { page, con } = suite;
        await signIn(suite.admin, lang);
        await page.goto(`${con.url}/payments/${ids.checkedId}`);
        const group = page.locator('ol.story > li.checks-group');
        expect(await group.count()).to.equal(1);
        expect(await group.locator('> details').getAttribute('open')).to.equal(null);
        expect(await group.locator('> details > summary').textContent()).to.match(new RegExp(`^3 ${words.checks} · `));
        expect(await group.locator('li.kind-resolverCheck').count()).to.equal(3);
        expect(await page.locator('ol.story > li.kind-resolverCheck').count(), 'no check left outside the group').to.equal(0);
        expect(await page.textContent('#status-banner')).to.contain(words.inDoubt);
        expect(await axeOpenedAndFolded()).to.deep.equal([]);
      });

      it('the success detail page passes axe', async () => {
        const { page, con } = suite;
        await signIn(suite.admin, lang);
        await page.goto(`${con.url}/payments/${ids.paidId}`);
        expect(await page.textContent('#status-banner')).to.contain(words.bannerSuccess);
        expect(await axeOpenedAndFolded()).to.deep.equal([]);
      });

      it('exports the same columns from this language’s page: run id on a run line, method and failure on a refusal, a decimal comma beside `;` and a point beside `,`', async () => {
        await signIn(suite.admin, lang);
        const { header, rows } = await csvExport(`client=${client.clientId}`);
        expect(header).to.deep.equal(EXPORT_HEADER);
        const runLine = rows.find((r) => r.transaction_id === ids.runPaid)!;
        expect(runLine).to.include({ run_id: ids.runId, status: 'SUCCESS', source_account: '0201245680' });
        const refused = rows.find((r) => r.transaction_id === ids.closed)!;
        expect(refused).to.include({ status: 'FAILED', failure_code: 'ESB-82-022', method: 'INTRABANK', run_id: '' });
        expect(refused.failure_message).to.match(words.closedExport);
        const paid = rows.find((r) => r.transaction_id === ids.paid)!;
        expect(paid).to.include({ failure_code: '', failure_message: '', method: 'INTRABANK', amount: '2475000,00' });

        // The international CSV: the same columns and values, `,` between cells and a decimal point.
        const intl = await csvExport(`client=${client.clientId}`, 'intl');
        expect(intl.header).to.deep.equal(EXPORT_HEADER);
        expect(intl.rows.find((r) => r.transaction_id === ids.paid)).to.include({ amount: '2475000.00', method: 'INTRABANK', beneficiary_name: 'PT Sumber Makmur' });
        expect(intl.rows.find((r) => r.transaction_id === ids.runPaid)).to.include({ amount: '125000.00', run_id: ids.runId });
      });

      it('the .xlsx holds the same columns, ids and references as text cells, amounts as numbers', async () => {
        const { page, con } = suite;
        await signIn(suite.admin, lang);
        await page.goto(`${con.url}/payments?client=${client.clientId}`);
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-xlsx')]);
        const workbook = new ExcelJS.Workbook();
        await workbook.xlsx.readFile(await download.path());
        const sheet = workbook.getWorksheet('payments')!;
        const header = (sheet.getRow(1).values as unknown[]).slice(1);
        expect(header).to.deep.equal(EXPORT_HEADER);
        const column = (name: string) => EXPORT_HEADER.indexOf(name) + 1;
        const rows: ExcelJS.Row[] = [];
        sheet.eachRow((row, n) => void (n > 1 && rows.push(row)));
        const byTxn = (transactionId: string) => rows.find((row) => row.getCell(column('transaction_id')).value === transactionId)!;
        const paid = (await suite.gw.store.payments.find(client.clientId, ids.paid))!;
        const row = byTxn(ids.paid);
        for (const [name, value] of [['source_account', '0201245680'], ['beneficiary_account', '0201245681'], ['bank_reference', paid.bankReference], ['bank_transaction_id', paid.bankTransactionId], ['client_id', client.clientId]] as const) {
          const cell = row.getCell(column(name));
          expect(cell.type, name).to.equal(ExcelJS.ValueType.String);
          expect(cell.value, name).to.equal(value);
        }
        expect(row.getCell(column('amount')).value).to.equal(2475000);
        expect(row.getCell(column('amount')).type).to.equal(ExcelJS.ValueType.Number);
        const runLine = byTxn(ids.runPaid).getCell(column('run_id'));
        expect([runLine.type, runLine.value]).to.deep.equal([ExcelJS.ValueType.String, ids.runId]);
        const refused = byTxn(ids.closed);
        expect(refused.getCell(column('failure_code')).value).to.equal('ESB-82-022');
        expect(refused.getCell(column('failure_message')).value).to.match(words.closedExport);
      });

      it('shows a run’s paid, failed and in-doubt counts and totals, the source account of each line, and opens a line with all its facts, masked for a viewer as on the run page', async () => {
        const { page, con } = suite;
        await signIn(suite.admin, lang);
        await page.goto(`${con.url}/runs`);
        await Promise.all([page.waitForURL(/\/console\/runs\/\d+$/), page.click(`a:text-is("${ids.runId}")`)]);
        const totals = (outcome: string) => page.locator(`#run-totals tr[data-outcome=${outcome}]`);
        for (const [outcome, label, sum] of [['paid', words.paid, 'Rp 125.000,00'], ['failed', words.failed, 'Rp 250.000,00'], ['inDoubt', words.inDoubt, 'Rp 375.000,00']] as const) {
          expect(await totals(outcome).locator('th').textContent()).to.equal(label);
          expect(await totals(outcome).locator('td').allTextContents(), outcome).to.deep.equal(['1', sum]);
        }
        expect(await totals('waiting').locator('td').allTextContents()).to.deep.equal(['0', 'Rp 0,00']);
        expect(await page.locator('table.run-lines tbody tr > td:nth-child(3)').allTextContents()).to.deep.equal(['0201245680', '0201245680', '0201245680']);
        expect(await page.textContent('table.run-lines tr[data-line="2"] .reason')).to.contain('(ESB-82-022)');
        expect(await axeViolations(page)).to.deep.equal([]);
        await Promise.all([page.waitForURL(/\/console\/payments\/\d+$/), page.click(`table.run-lines a:text-is("${ids.runPaid}")`)]);
        expect(await page.textContent('#status-banner')).to.contain(words.bannerSuccess).and.to.contain('Rp 125.000,00');
        expect(await lineFacts()).to.include(words.facts({ source: '0201245680', account: '0201245681' }));

        // A viewer reads the line's accounts masked on the run page, and the same on the line's own page.
        await signIn(users.viewer, lang);
        await page.goto(`${con.url}/runs`);
        await Promise.all([page.waitForURL(/\/console\/runs\/\d+$/), page.click(`a:text-is("${ids.runId}")`)]);
        const line = page.locator('table.run-lines tr[data-line="1"]');
        expect(await line.locator('td.account').textContent()).to.equal('******5680');
        expect(await line.locator('span.account').textContent()).to.equal('******5681');
        await Promise.all([page.waitForURL(/\/console\/payments\/\d+$/), page.click(`table.run-lines a:text-is("${ids.runPaid}")`)]);
        expect(await lineFacts()).to.include(words.facts({ source: '******5680', account: '******5681' }));
      });

      it('finds a payment by part of the bank’s reference, of the transaction id, of the bank transaction id and of the remark in any case', async () => {
        await signIn(suite.admin, lang);
        // BCA's legacy reference is the TransactionID Gerbang sent (its bank transaction id); the SNAP bank's referenceNo is a reference of the bank's own.
        const snapPaid = (await suite.gw.store.payments.find(client.clientId, ids.snapPaid))!;
        const paid = (await suite.gw.store.payments.find(client.clientId, ids.paid))!;
        expect(snapPaid.bankReference).to.be.a('string').and.to.have.length.greaterThan(4);
        expect(snapPaid.bankReference).not.to.equal(snapPaid.bankTransactionId);
        expect(await search(snapPaid.bankReference!.slice(1))).to.include(ids.snapPaid);
        expect(await search(snapPaid.bankTransactionId!)).to.deep.equal([ids.snapPaid]);
        expect(await search(paid.bankTransactionId!)).to.include(ids.paid);
        // A part of either id, in any case: what a clerk copies from an ERP screen or a statement line.
        expect(await search(ids.paid.slice(2, -2).toUpperCase()), 'by part of the transaction id').to.deep.equal([ids.paid]);
        expect(await search(snapPaid.bankTransactionId!.slice(1, -1)), 'by part of the bank transaction id').to.include(ids.snapPaid);
        expect(await search('inv-KOPI')).to.deep.equal([ids.paid]);
        expect(await suite.page.inputValue('input[name=q]')).to.equal('inv-KOPI');
      });

      it('pages through a search: next, previous, "x–y of z", and Back from page 2 keeps the filter and the page', async () => {
        const { page } = suite;
        await signIn(suite.admin, lang);
        const term = ids.salaryRemark.toLowerCase();
        const first = await search(term);
        expect(first).to.have.length(50);
        const range = async () => ((await page.textContent('#list-totals')) ?? '').replace(/\s+/g, ' ').split(' · ')[0];
        expect(await range()).to.match(new RegExp(`^1–50 ${words.of} ${SALARIES} `));
        await Promise.all([page.waitForURL(/after=/), page.click('nav.pager a[rel=next]')]);
        expect(await range()).to.match(new RegExp(`^51–${SALARIES} ${words.of} ${SALARIES} `));
        const second = await listed();
        expect(second).to.have.length(SALARIES - 50);
        expect(second.filter((id) => first.includes(id))).to.deep.equal([]);
        await Promise.all([page.waitForURL(/before=/), page.click('nav.pager a[rel=prev]')]);
        expect(await range()).to.match(new RegExp(`^1–50 ${words.of} ${SALARIES} `));
        expect(await listed()).to.deep.equal(first);

        // Page 2 again, into a payment, and Back.
        await Promise.all([page.waitForURL(/after=/), page.click('nav.pager a[rel=next]')]);
        const pageTwo = page.url();
        await Promise.all([page.waitForURL(/\/console\/payments\/\d+/), page.click(`table.payments a:text-is("${second[0]}")`)]);
        await page.goBack();
        expect(page.url()).to.equal(pageTwo);
        expect(await page.inputValue('input[name=q]')).to.equal(term);
        expect(await range()).to.match(new RegExp(`^51–${SALARIES} ${words.of} ${SALARIES} `));
        expect(await listed()).to.deep.equal(second);
      });

      it('masks the beneficiary’s account in the list for a viewer, not for an auditor', async () => {
        const { page, con } = suite;
        for (const [who, shown, hidden] of [[users.viewer, '******5681', '0201245681'], [users.auditor, '0201245681', '******5681']] as const) {
          await signIn(who, lang);
          await page.goto(`${con.url}/payments?q=${encodeURIComponent('inv-kopi')}`);
          const account = (await page.textContent(`tr:has(a:text-is("${ids.paid}")) td.beneficiary .account`)) ?? '';
          expect(account, who.username).to.equal(shown);
          expect(await page.textContent('table.payments'), who.username).not.to.contain(hidden);
        }
      });

      it('shows BCA’s own Indonesian text for its refusal, and a SNAP partner’s refusal through the SNAP code table', async () => {
        const { page, con } = suite;
        await signIn(users.auditor, lang);
        await page.goto(`${con.url}/payments/${ids.closedId}`);
        expect(await page.textContent('#status-banner')).to.contain(words.bannerFailed);
        expect(((await page.textContent('#status-banner .reason')) ?? '').replace(/\s+/g, ' ')).to.match(new RegExp(`: ${words.closed.replace(/[()]/g, '\\$&')}$`));
        expect(await axeViolations(page)).to.deep.equal([]);
        await page.goto(`${con.url}/payments/${ids.snapRefusedId}`);
        expect(((await page.textContent('#status-banner .reason')) ?? '').replace(/\s+/g, ' ')).to.match(new RegExp(`: ${words.snap.replace(/[()]/g, '\\$&')}$`));
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('admin: the disable confirmation names the client and passes axe; confirming disables it', async () => {
        const { page, con, gw } = suite;
        const erp = await gw.createClient();
        const name = (await gw.store.clients.findById(erp.clientId))!.name;
        await signIn(suite.admin, lang);
        await page.goto(`${con.url}/admin`);
        await Promise.all([page.waitForURL(/confirm\/disable$/), page.click(`tr[data-client-id="${erp.clientId}"] a.toggle`)]);
        expect(await page.textContent('#confirm-question')).to.contain(`${words.disable} "${name}" (${erp.clientId})?`);
        expect(await axeViolations(page)).to.deep.equal([]);
        expect((await gw.store.clients.findById(erp.clientId))!.status, 'nothing changed before the confirmation').to.equal('active');
        await Promise.all([page.waitForURL(/\/console\/admin$/), page.click('#confirm-yes')]);
        expect((await gw.store.clients.findById(erp.clientId))!.status).to.equal('disabled');
      });
    });
  }

  describe('in English (in Bahasa Indonesia: console.browser.test.ts)', () => {
    it('admin: unlocks a locked-out user and resets a password', async () => {
      const { page, con, browser } = suite;
      const victim = await con.createUser('lena.locked', 'viewer');
      // Five wrong passwords from this address (GERBANG_LOGIN_MAX_FAILURES) lock it out of this user.
      for (let i = 0; i < 5; i += 1) await trySignIn(browser, page, con.url, { ...victim, password: 'not-the-password' }, 'en');
      await trySignIn(browser, page, con.url, victim, 'en');
      expect(page.url(), 'the right password is refused while locked').to.match(/\/console\/sign-in$/);
      expect(await page.textContent('[role=alert]')).to.contain('This account is locked');

      await signIn(suite.admin, 'en');
      await page.goto(`${con.url}/admin`);
      const row = page.locator(`tr[data-username="${victim.username}"]`);
      await Promise.all([page.waitForLoadState(), row.locator('button.unlock').click()]);
      expect(await page.textContent('[role=status]')).to.contain('User unlocked.');
      expect(await axeViolations(page)).to.deep.equal([]);
      await signIn(victim, 'en');
      expect(page.url()).to.match(/\/console\/payments/);

      await signIn(suite.admin, 'en');
      await page.goto(`${con.url}/admin`);
      await row.locator('form.reset-password input[name=password]').fill('lena-new-password-2026');
      await Promise.all([page.waitForLoadState(), row.locator('form.reset-password button[type=submit]').click()]);
      expect(await page.textContent('[role=status]')).to.contain("Password reset; that user's sessions ended.");
      expect(await axeViolations(page), 'axe on the admin page after a password reset').to.deep.equal([]);
      await trySignIn(browser, page, con.url, victim, 'en');
      expect(page.url(), 'the old password no longer works').to.match(/\/console\/sign-in$/);
      await signIn({ username: victim.username, password: 'lena-new-password-2026' }, 'en');
      expect(page.url()).to.match(/\/console\/payments/);
      const actions = (await con.store.consoleAudit.list({ username: suite.admin.username })).map((a) => a.action);
      expect(actions).to.include.members(['admin_user_unlock', 'admin_user_reset_password']);
    });
  });
});
