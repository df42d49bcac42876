import { expect } from 'chai';
import { axeViolations, signInToConsole } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { sampleTransfer } from '../support/gateway-harness.js';
import { startTestBank, writePartnersFile, type TestBank } from '../support/test-bank.js';

/** Today in Jakarta, as the clerk types it (dd/mm/yyyy). */
function typedToday(): string {
  const [y, m, d] = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10).split('-');
  return `${d}/${m}/${y}`;
}

/**
 * The console in the clerk's words (#16): what the router, the admin forms, the bank and the
 * list's filters say reaches the page in its language, banks by name, never as a BIC, a
 * connection id alone or a raw `field=value`. One gateway and one browser for the whole file;
 * each page in both languages.
 */
describe('Finance console in a browser: routing reasons, admin errors, the bank’s words and the printed filters in the page’s language', function () {
  this.timeout(180_000);

  const ids = { onUs: 0, interbank: 0, inDoubt: 0, timedOut: 0, notSent: 0, clientId: '', clientName: '' };
  let viewer: { username: string; password: string };
  // BCA (the connection `bca`) holds 0201245680; 0201245681 is held first by a connection whose
  // bank cannot be reached (`bca-down`, its simulator closed) and then by `bca-2` on the same BCA.
  let bank: TestBank;
  const gatewayEnv: Record<string, string> = { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_AUDIT_SCRUB_MS: '0', GERBANG_BANK_HEADERS_TIMEOUT_MS: '3000' };
  before(async () => {
    bank = await startTestBank();
    const down = await startTestBank();
    await down.simulator.close();
    gatewayEnv.GERBANG_BANK_PARTNERS_FILE = writePartnersFile([
      bank.partnerBlock('bca', 1, ['0201245680']),
      down.partnerBlock('bca-down', 1, ['0201245681']),
      bank.partnerBlock('bca-2', 2, ['0201245681']),
    ]);
  });
  after(() => bank?.simulator.close());
  const suite = browserConsole(
    async ({ gw, con }) => {
      const client = await gw.createClient();
      ids.clientId = client.clientId;
      ids.clientName = (await gw.store.clients.findById(client.clientId))!.name;
      const auth = { authorization: `Bearer ${await gw.token(client)}` };
      const pay = async (transfer: Record<string, unknown>, status: number) => {
        const answer = await gw.request('/v1/transfers', { headers: auth, json: transfer });
        expect(answer.status, answer.text).to.equal(status);
        return (await gw.store.payments.find(client.clientId, transfer.transactionId as string))!.id;
      };
      // On-us at BCA, and to a Mandiri account through BCA by online switching.
      ids.onUs = await pay(sampleTransfer({ beneficiaryName: 'PT Sumber Makmur' }), 201);
      ids.interbank = await pay(sampleTransfer({ amount: '150000.00', beneficiaryBankCode: '008', beneficiaryName: 'PT Mandiri Vendor', beneficiaryAccountNumber: '1230004567890' }), 201);
      // BCA's "timeout, check your statement": in doubt, and it stays so (no resolver). The ERP's
      // status check meets BCA's "transaction not found" (ESB-99-127), which is not what the stored answer says.
      bank.simulator.failNext({ code: 'ESB-82-024' });
      const inDoubt = sampleTransfer({ amount: '3000000.00' });
      ids.inDoubt = await pay(inDoubt, 202);
      const checked = await gw.request(`/v1/transfers/${inDoubt.transactionId as string}`, { headers: auth });
      expect([checked.status, checked.body.status, checked.body.bankResponseCode]).to.deep.equal([200, 'UNKNOWN', 'ESB-82-024']);
      // The bank takes the transfer and never answers: Gerbang's own in-doubt text, no bank code.
      bank.simulator.failNext({ hang: true });
      ids.timedOut = await pay(sampleTransfer({ amount: '4000000.00' }), 202);
      // The first connection of 0201245681 cannot be reached: not sent there, sent through the next.
      ids.notSent = await pay(sampleTransfer({ sourceAccountNumber: '0201245681', amount: '5000.00' }), 201);
      viewer = await con.createUser('vivi.viewer', 'viewer');
    },
    gatewayEnv,
    { readsStatements: true },
  );

  const WORDS = {
    id: {
      onUs: 'Rekening sumber 0201245680 ada di Bank Central Asia (koneksi bca, prioritas 1), bank yang sama dengan bank penerima: dibayar sebagai transfer sesama bank.',
      interbank: 'Rekening sumber 0201245680 ada di Bank Central Asia (koneksi bca, prioritas 1); penerima di bank lain, Bank Mandiri: transfer antarbank, transfer online dipilih sesuai jumlahnya.',
      maskedOnUs: 'Rekening sumber ******5680 ada di Bank Central Asia',
      sent: 'terkirim',
      cidrError: 'Alamat IP/CIDR yang diizinkan: "bukan-alamat" bukan alamat IP atau CIDR',
      bankSaid: 'Kata bank: Timeout, silakan cek mutasi rekening (ESB-82-024)',
      timedOut: 'Catatan Gerbang: Bank tidak menjawab tepat waktu (UND_ERR_HEADERS_TIMEOUT). Bank belum memastikan hasilnya; Gerbang akan menanyakan statusnya ke bank. Jangan bayar ulang dengan ID transaksi baru. (BANK_TIMEOUT)',
      notSent: 'tidak terkirim: Bank tidak dapat dihubungi untuk meminta token (BANK_CONNECT_FAILED); tidak ada yang dikirim.',
      intrabank: 'Sesama bank',
      online: 'Transfer online',
      summary: (client: string) => `Saringan: Klien: ${client} · Status: Berhasil · Urutkan: Jumlah terbesar · Dicetak:`,
      any: 'Semua',
      bankSummary: 'Saringan: Bank pengirim: Bank Central Asia (bca-2) · ',
      statementFrom: 'Mutasi dari Bank Central Asia (bca-2):',
    },
    en: {
      onUs: "The paying account 0201245680 is held at Bank Central Asia (connection bca, priority 1), the beneficiary's own bank: paid as a transfer within the bank.",
      interbank: 'The paying account 0201245680 is held at Bank Central Asia (connection bca, priority 1); the beneficiary is at another bank, Bank Mandiri: interbank transfer, online transfer chosen for the amount.',
      maskedOnUs: 'The paying account ******5680 is held at Bank Central Asia',
      sent: 'sent',
      cidrError: 'Allowed IP addresses/CIDRs: "bukan-alamat" is not an IP address or CIDR',
      bankSaid: 'The bank said: Timeout, please check your statement (ESB-82-024)',
      timedOut: "Gerbang's note: The bank did not answer in time (UND_ERR_HEADERS_TIMEOUT). The bank has not confirmed the outcome; Gerbang will ask the bank for its status. Do not pay again under a new transaction ID. (BANK_TIMEOUT)",
      notSent: 'not sent: The bank could not be reached for a token (BANK_CONNECT_FAILED); nothing was sent.',
      intrabank: 'Within the bank',
      online: 'Online transfer',
      summary: (client: string) => `Filter: Client: ${client} · Status: Success · Sort: Largest amount · Printed:`,
      any: 'Any',
      bankSummary: 'Filter: Sending bank: Bank Central Asia (bca-2) · ',
      statementFrom: 'Statement from Bank Central Asia (bca-2):',
    },
  } as const;

  /** The rows of the detail page's "routes tried" table, as [bank, method, reason, result]. */
  async function routesTried(paymentId: number): Promise<string[][]> {
    const { page, con } = suite;
    await page.goto(`${con.url}/payments/${paymentId}`);
    const rows = page.locator('table.routes tbody tr');
    const cells: string[][] = [];
    for (let i = 0; i < (await rows.count()); i += 1) cells.push((await rows.nth(i).locator('td').allTextContents()).map((text) => text.trim()));
    return cells;
  }

  /** What the detail page shows, its technical details opened; the raw bodies (the exchanges as sent, for auditors) stay folded. */
  async function pageWords(): Promise<string> {
    await suite.page.locator('details.technical').evaluate((el) => el.setAttribute('open', ''));
    return suite.page.innerText('main');
  }

  for (const lang of ['id', 'en'] as const) {
    const words = WORDS[lang];

    describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
      before(() => signInToConsole(suite.browser, suite.page, suite.con.url, suite.admin, lang));

      it('gives the routing reason in the page’s language with banks by name, never a BIC', async () => {
        const onUs = await routesTried(ids.onUs);
        expect(onUs).to.deep.equal([['Bank Central Asia (bca)', words.intrabank, words.onUs, words.sent]]);
        expect(await pageWords()).not.to.contain('CENAIDJA');
        const interbank = await routesTried(ids.interbank);
        expect(interbank).to.deep.equal([['Bank Central Asia (bca)', words.online, words.interbank, words.sent]]);
        expect(await pageWords()).not.to.contain('BMRIIDJA');
      });

      it('names the beneficiary’s bank in the list, another bank’s by its name, beside the bank that sent it', async () => {
        const { page, con } = suite;
        await page.goto(`${con.url}/payments?client=${ids.clientId}`);
        const row = (id: number) => page.locator(`tr[data-payment-id="${id}"]`);
        expect(await row(ids.interbank).locator('td.beneficiary .name').textContent()).to.equal('PT Mandiri Vendor');
        expect(await row(ids.interbank).locator('td.beneficiary .account').textContent()).to.equal('1230004567890');
        expect(await row(ids.interbank).locator('td.beneficiary .bank-name').textContent(), 'the beneficiary’s bank, not the sending one').to.equal('Bank Mandiri (008)');
        expect(await row(ids.interbank).locator('td:nth-child(8)').textContent(), 'the bank that sent it').to.equal('Bank Central Asia (bca)');
        expect(await row(ids.onUs).locator('td.beneficiary .bank-name').textContent()).to.equal('Bank Central Asia (014)');
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('says an admin form’s error in the page’s language, naming the field and the value, and keeps what was typed', async () => {
        const { page, con } = suite;
        await page.goto(`${con.url}/admin`);
        await page.fill('#create-client input[name=name]', 'ERP Cabang Surabaya');
        await page.fill('#create-client textarea[name=cidrs]', 'bukan-alamat');
        await Promise.all([page.waitForResponse((r) => r.url().endsWith('/console/admin/clients')), page.click('#create-client button[type=submit]')]);
        expect(await page.textContent('[role=alert] li[data-field=cidr]')).to.contain(words.cidrError);
        expect(await page.inputValue('#create-client input[name=name]')).to.equal('ERP Cabang Surabaya');
        expect(await page.inputValue('#create-client textarea[name=cidrs]')).to.equal('bukan-alamat');
      });

      it('says what the bank said of a payment in doubt in the page’s language', async () => {
        const { page, con } = suite;
        await page.goto(`${con.url}/payments/${ids.inDoubt}`);
        const banner = ((await page.textContent('#status-banner')) ?? '').replace(/\s+/g, ' ');
        expect(banner).to.contain(words.bankSaid);
      });

      it('gives Gerbang’s own in-doubt guidance after a timeout (no answer from the bank) in the page’s language', async () => {
        const { page, con } = suite;
        await page.goto(`${con.url}/payments/${ids.timedOut}`);
        const banner = ((await page.textContent('#status-banner')) ?? '').replace(/\s+/g, ' ');
        expect(banner).to.contain(words.timedOut);
      });

      it('says why a route was not sent in the page’s language, and names the methods in words', async () => {
        const routes = await routesTried(ids.notSent);
        expect(routes.map(([, method, , result]) => [method, result])).to.deep.equal([
          [words.intrabank, words.notSent],
          [words.intrabank, words.sent],
        ]);
        // Each connection by its bank's name, the operator's connection id in brackets; the sending bank too.
        expect(routes.map(([bank]) => bank)).to.deep.equal(['Bank Central Asia (bca-down)', 'Bank Central Asia (bca-2)']);
        const sending = await suite.page.locator('th', { hasText: lang === 'id' ? 'Bank pengirim' : 'Sending bank' }).first().locator('xpath=following-sibling::td').textContent();
        expect(sending).to.equal('Bank Central Asia (bca-2)');
        const method = await suite.page.locator('th', { hasText: lang === 'id' ? 'Metode transfer' : 'Transfer method' }).first().locator('xpath=following-sibling::td').textContent();
        expect(method).to.equal(words.intrabank);
      });

      it('prints a list’s filters with their labels, the status’s and the client’s names', async () => {
        const { page, con } = suite;
        await page.goto(`${con.url}/payments?client=${ids.clientId}&status=SUCCESS&sort=largest`);
        await page.emulateMedia({ media: 'print' });
        const summary = ((await page.textContent('#print-summary')) ?? '').replace(/\s+/g, ' ');
        await page.emulateMedia({ media: 'screen' });
        expect(summary).to.contain(words.summary(ids.clientName));
        expect(summary).not.to.contain(ids.clientId);
      });

      it('names each connection in the list’s bank filter as the rows do, two of one bank by their ids, and filters by the connection', async () => {
        const { page, con } = suite;
        await page.goto(`${con.url}/payments`);
        const options = page.locator('select[name=bank] option');
        const shown: [string | null, string | null][] = [];
        for (let i = 0; i < (await options.count()); i += 1) shown.push([await options.nth(i).getAttribute('value'), await options.nth(i).textContent()]);
        expect(shown).to.deep.equal([
          ['', words.any],
          ['bca', 'Bank Central Asia (bca)'],
          ['bca-2', 'Bank Central Asia (bca-2)'],
        ]);
        expect(await axeViolations(page)).to.deep.equal([]);
        // The connection id is what the filter sends: the URL keeps it, and the list holds the payment bca-2 carried alone.
        await page.selectOption('select[name=bank]', 'bca-2');
        await Promise.all([page.waitForURL(/[?&]bank=bca-2(&|$)/), page.click('form.filters button[type=submit]')]);
        expect(await page.locator('table.payments tbody tr').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-payment-id'))))).to.deep.equal([ids.notSent]);
        expect(await page.locator('select[name=bank] option:checked').textContent()).to.equal('Bank Central Asia (bca-2)');
        await page.emulateMedia({ media: 'print' });
        const summary = ((await page.textContent('#print-summary')) ?? '').replace(/\s+/g, ' ');
        await page.emulateMedia({ media: 'screen' });
        expect(summary).to.contain(words.bankSummary);
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('names the connection that read a reconciliation’s statement as the payments’ pages do', async () => {
        const { page, con } = suite;
        // 0201245681 is read through bca-2: bca-down, first in line, cannot be reached.
        const answer = await page.goto(`${con.url}/reconciliation?account=0201245681&from=${encodeURIComponent(typedToday())}&to=${encodeURIComponent(typedToday())}`);
        expect(answer?.status()).to.equal(200);
        expect(await page.textContent('#statement-source')).to.equal('Bank Central Asia (bca-2)');
        expect(((await page.textContent('#recon-summary')) ?? '').replace(/\s+/g, ' ')).to.contain(words.statementFrom);
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('gives a viewer the same words with the paying account masked', async () => {
        await signInToConsole(suite.browser, suite.page, suite.con.url, viewer, lang);
        try {
          const [[, , reason]] = await routesTried(ids.onUs);
          expect(reason).to.contain(words.maskedOnUs).and.not.to.contain('0201245680');
        } finally {
          await signInToConsole(suite.browser, suite.page, suite.con.url, suite.admin, lang);
        }
      });
    });
  }
});
