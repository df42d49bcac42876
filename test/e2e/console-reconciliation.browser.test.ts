import { expect } from 'chai';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { axeViolations, computedBackground, launchBrowser, requireChromium, sidewaysOverflow, type TestBrowser } from '../support/browser.js';
import { TestConsole } from '../support/console-harness.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { copyRow, writeBack } from '../support/sql-rows.js';

const DAY_MS = 86_400_000;
/** docs/console (the finance guide's pictures) when GERBANG_UPDATE_SCREENSHOTS=1, else a temp folder. */
const SHOTS = process.env.GERBANG_UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', '..', '..', 'docs', 'console') : mkdtempSync(join(tmpdir(), 'gerbang-shots-'));
const ACCOUNT = '0201245680';

/** yyyy-MM-dd and dd/mm/yyyy in Jakarta time. */
function jakartaDay(epochMs: number): string {
  return new Date(epochMs + 7 * 3_600_000).toISOString().slice(0, 10);
}
function typedDay(epochMs: number): string {
  const [y, m, d] = jakartaDay(epochMs).split('-');
  return `${d}/${m}/${y}`;
}

describe('Finance console: reconciliation in a browser', function () {
  this.timeout(120_000);

  let drop: () => Promise<void> = async () => undefined;
  let gw: TestGateway;
  let con: TestConsole;
  let bare: TestConsole;
  let browser: TestBrowser;
  let page: Page;
  let payer: TestClient;
  const ids: Record<'paid' | 'paidInDoubt' | 'notPaid' | 'refused', { transactionId: string; id: number }> = {} as never;
  const manualText = `MANUAL KLIKBCA ${Date.now()}`;
  let auditor: { username: string; password: string };

  before(async function () {
    requireChromium(this);
    const database = await createMariaDbDatabase(this);
    drop = database.drop;
    // The resolver is off: the payments in doubt stay so while the test looks at them. So is the
    // audit scrub: it would hold the gateway (503, statements included) over the rows the tests
    // change in SQL once it found them, a race with the page under test on a busy machine.
    gw = await TestGateway.start(database.url, { GERBANG_LOG_LEVEL: 'silent', GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_AUDIT_SCRUB_MS: '0' });
    payer = await gw.createClient();
    // The console reads statements through the API as a client of its own, granted the company account.
    const reader = await gw.createClient({ accounts: [ACCOUNT] });
    con = await TestConsole.start(database.url, {
      GERBANG_LOG_LEVEL: 'silent',
      GERBANG_CONSOLE_SIGN_IN_PER_IP: '1000',
      GERBANG_CONSOLE_API_URL: gw.url,
      GERBANG_CONSOLE_API_CLIENT_ID: reader.clientId,
      GERBANG_CONSOLE_API_CLIENT_SECRET: reader.clientSecret,
    });
    // A console with no API settings: it cannot read statements, and says so.
    bare = await TestConsole.start(database.url, { GERBANG_LOG_LEVEL: 'silent', GERBANG_CONSOLE_SIGN_IN_PER_IP: '1000' });
    auditor = await con.createUser('rani.rekon', 'auditor');

    const auth = { authorization: `Bearer ${await gw.token(payer)}` };
    const pay = async (key: keyof typeof ids, amount: string, state: string) => {
      const transfer = sampleTransfer({ amount, sourceAccountNumber: ACCOUNT, beneficiaryName: 'PT Sumber Makmur' });
      await gw.request('/v1/transfers', { headers: auth, json: transfer });
      const payment = await gw.store.payments.find(payer.clientId, transfer.transactionId as string);
      expect(payment?.state, key).to.equal(state);
      ids[key] = { transactionId: transfer.transactionId as string, id: payment!.id };
    };
    // Paid and matched; paid but answered "timeout, check your statement" (in doubt, on the
    // statement); the same answer without executing (in doubt, not on the statement); refused.
    await pay('paid', '1234500.00', 'SUCCESS');
    gw.simulator.failNext({ code: 'ESB-82-024', execute: true });
    await pay('paidInDoubt', '2000000.00', 'UNKNOWN');
    gw.simulator.failNext({ code: 'ESB-82-024' });
    await pay('notPaid', '3000000.00', 'UNKNOWN');
    gw.simulator.failNext({ code: 'ESB-82-006' });
    await pay('refused', '4000000.00', 'FAILED');
    // A transfer keyed in the bank's own portal: on the statement, never in Gerbang.
    expect(gw.simulator.bookOutside({ source: ACCOUNT, beneficiary: '0201245681', amount: '750000.00', description: manualText, date: jakartaDay(Date.now()) })).to.equal(null);
    for (const key of ['paidInDoubt', 'notPaid'] as const) await gw.store.payments.enterReview(ids[key].id, Date.now());

    mkdirSync(SHOTS, { recursive: true });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await bare?.close();
    await con?.close();
    await gw?.close();
    await drop();
  });

  async function signIn(target: TestConsole): Promise<void> {
    await browser.context.clearCookies();
    await page.goto(`${target.url}/sign-in`);
    await page.fill('input[name=username]', auditor.username);
    await page.fill('input[name=password]', auditor.password);
    await Promise.all([page.waitForURL(/\/console\/payments/), page.click('form.sign-in button[type=submit]')]);
  }

  /** The kind of the row of a payment, or of the statement line carrying `text`. */
  async function kindOf(selector: string): Promise<string | null> {
    return page.getAttribute(selector, 'data-kind');
  }

  for (const lang of ['id', 'en'] as const) {
    const words =
      lang === 'id'
        ? { title: 'Rekonsiliasi', statementOnly: 'Hanya di mutasi bank', gerbangOnly: 'Hanya di Gerbang', inDoubt: 'mutasi menunjukkan debetnya', tooLong: 'lebih dari 31 hari', refused: 'Bank menolak memberikan mutasi', unknown: 'Rekening ini tidak dikenal', unavailable: 'Bank tidak dapat dihubungi', notConfigured: 'belum disambungkan ke API Gerbang', check: 'Cek di mutasi rekening' }
        : { title: 'Reconciliation', statementOnly: 'On the statement only', gerbangOnly: 'In Gerbang only', inDoubt: 'the statement shows the debit', tooLong: 'longer than 31 days', refused: 'The bank refused to give the statement', unknown: 'This account is not known', unavailable: 'The bank cannot be reached', notConfigured: "not connected to Gerbang's API", check: 'Check on the statement' };

    describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
      before(async () => {
        await signIn(con);
        await page.goto(`${con.url}/lang?to=${lang}&back=/console/payments`);
      });

      it('is reached from the navigation and matches the statement with the payments line by line, unmatched lines highlighted', async () => {
        await Promise.all([page.waitForURL(/\/console\/reconciliation$/), page.click(`nav.main a:text-is("${words.title}")`)]);
        expect(await page.textContent('h1')).to.equal(words.title);
        await page.fill('input[name=account]', ACCOUNT);
        await page.fill('input[name=from]', typedDay(Date.now() - DAY_MS));
        await page.fill('input[name=to]', typedDay(Date.now()));
        await Promise.all([page.waitForURL(/account=/), page.click('form.filters button[type=submit]')]);

        expect(await kindOf(`#payment-${ids.paid.id}`)).to.equal('matched');
        expect(await page.textContent(`#payment-${ids.paid.id}`)).to.contain('Rp 1.234.500,00').and.to.contain(ids.paid.transactionId);
        expect(await kindOf(`#payment-${ids.paidInDoubt.id}`)).to.equal('matched');
        expect(await page.textContent(`#payment-${ids.paidInDoubt.id}`)).to.contain(words.inDoubt);
        expect(await kindOf(`#payment-${ids.notPaid.id}`)).to.equal('gerbang-only');
        expect(await page.textContent(`#payment-${ids.notPaid.id}`)).to.contain(words.gerbangOnly);
        // Refused by the bank, nothing debited: not a line to reconcile.
        expect(await page.locator(`#payment-${ids.refused.id}`).count()).to.equal(0);
        const manual = page.locator(`tr:has-text("${manualText}")`);
        expect(await manual.getAttribute('data-kind')).to.equal('statement-only');
        expect(await manual.textContent()).to.contain(words.statementOnly).and.to.contain('Rp 750.000,00');
        expect(await page.textContent('[data-count=matched]')).to.equal('2');
        expect(await page.textContent('[data-count=statement-only]')).to.equal('1');
        expect(await page.textContent('[data-count=gerbang-only]')).to.equal('1');
        // Highlighted: the unmatched rows are drawn differently from the matched ones.
        expect(await computedBackground(page, `#payment-${ids.notPaid.id} td`)).not.to.equal(await computedBackground(page, `#payment-${ids.paid.id} td`));
        expect(await axeViolations(page)).to.deep.equal([]);
        await page.screenshot({ path: join(SHOTS, `reconciliation-${lang}.png`), fullPage: true });
        const viewed = await con.store.consoleAudit.list({ username: auditor.username, action: 'reconcile' });
        expect(viewed.length).to.be.greaterThan(0);
        expect(viewed[0].target).to.equal('account:******5680');
      });

      it('the review queue links each payment in doubt to its statement lines', async () => {
        await page.goto(`${con.url}/review`);
        await Promise.all([page.waitForURL(/\/console\/reconciliation\?payment=/), page.click(`tr[data-payment-id="${ids.paidInDoubt.id}"] a.statement-link`)]);
        expect(await page.getAttribute(`#payment-${ids.paidInDoubt.id}`, 'class')).to.contain('recon-focus');
        expect(await kindOf(`#payment-${ids.paidInDoubt.id}`)).to.equal('matched');
        expect(await page.textContent(`#payment-${ids.paidInDoubt.id}`)).to.contain('Rp 2.000.000,00');
        expect(await page.inputValue('input[name=account]')).to.equal(ACCOUNT);
        await page.goto(`${con.url}/review`);
        await Promise.all([page.waitForURL(/\/console\/reconciliation\?payment=/), page.click(`tr[data-payment-id="${ids.notPaid.id}"] a.statement-link`)]);
        expect(await kindOf(`#payment-${ids.notPaid.id}`)).to.equal('gerbang-only');
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('refuses a period longer than the bank allows before asking the bank, keeping what was typed', async () => {
        const calls = gw.simulator.calls.length;
        const answer = await page.goto(`${con.url}/reconciliation?account=${ACCOUNT}&from=${encodeURIComponent(typedDay(Date.now() - 40 * DAY_MS))}&to=${encodeURIComponent(typedDay(Date.now()))}`);
        expect(answer?.status()).to.equal(400);
        expect(await page.textContent('li[data-field=to]')).to.contain(words.tooLong);
        expect(await page.inputValue('input[name=from]')).to.equal(typedDay(Date.now() - 40 * DAY_MS));
        expect(gw.simulator.calls.length).to.equal(calls);
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('shows the bank’s refusal, an unknown account and a bank outage in plain words', async () => {
        const query = `from=${encodeURIComponent(typedDay(Date.now()))}&to=${encodeURIComponent(typedDay(Date.now()))}`;
        gw.simulator.failNext({ operation: 'statement', code: 'ESB-82-014' });
        let answer = await page.goto(`${con.url}/reconciliation?account=${ACCOUNT}&${query}`);
        expect(answer?.status()).to.equal(502);
        expect(await page.getAttribute('#statement-error', 'data-problem')).to.equal('bank-refused');
        expect(await page.textContent('#statement-error')).to.contain(words.refused).and.to.contain('ESB-82-014');
        expect(await axeViolations(page)).to.deep.equal([]);

        answer = await page.goto(`${con.url}/reconciliation?account=1111111111&${query}`);
        expect(answer?.status()).to.equal(400);
        expect(await page.textContent('#statement-error')).to.contain(words.unknown);

        gw.simulator.failNext({ operation: 'statement', httpStatus: 503 });
        answer = await page.goto(`${con.url}/reconciliation?account=${ACCOUNT}&${query}`);
        expect(answer?.status()).to.equal(502);
        expect(await page.getAttribute('#statement-error', 'data-problem')).to.equal('bank-unavailable');
        expect(await page.textContent('#statement-error')).to.contain(words.unavailable);
        expect(await page.inputValue('input[name=account]')).to.equal(ACCOUNT);
      });

      it('is usable at 1024 px and on a phone: only the table scrolls sideways', async () => {
        const path = `/reconciliation?account=${ACCOUNT}&from=${encodeURIComponent(typedDay(Date.now() - DAY_MS))}&to=${encodeURIComponent(typedDay(Date.now()))}`;
        for (const viewport of [{ width: 1024, height: 768 }, { width: 390, height: 844 }]) {
          await page.setViewportSize(viewport);
          try {
            await page.goto(`${con.url}${path}`);
            expect(await page.locator('#reconciliation tbody tr').count()).to.be.greaterThan(0);
            expect(await sidewaysOverflow(page), `${viewport.width} px`).to.be.at.most(0);
          } finally {
            await page.setViewportSize({ width: 1280, height: 900 });
          }
        }
      });

      it('says so when the console cannot read statements at all', async () => {
        await signIn(bare);
        await page.goto(`${bare.url}/lang?to=${lang}&back=/console/reconciliation`);
        const answer = await page.goto(`${bare.url}/reconciliation?account=${ACCOUNT}&from=${encodeURIComponent(typedDay(Date.now()))}&to=${encodeURIComponent(typedDay(Date.now()))}`);
        expect(answer?.status()).to.equal(502);
        expect(await page.textContent('#statement-error')).to.contain(words.notConfigured);
        expect(await axeViolations(page)).to.deep.equal([]);
      });
    });
  }
  describe('a payment whose amount was changed in the database', () => {
    let forged: { transactionId: string; id: number };

    before(async () => {
      const transfer = sampleTransfer({ amount: '6500000.00', sourceAccountNumber: ACCOUNT, beneficiaryName: 'PT Sumber Makmur' });
      await gw.request('/v1/transfers', { headers: { authorization: `Bearer ${await gw.token(payer)}` }, json: transfer });
      const payment = await gw.store.payments.find(payer.clientId, transfer.transactionId as string);
      expect(payment?.state).to.equal('SUCCESS');
      forged = { transactionId: transfer.transactionId as string, id: payment!.id };
      // As an attacker with the database but no key would: the same sum written otherwise, so
      // the bank's debit still has its amount; the MAC is left as it was.
      await gw.store.db.execute("UPDATE payments SET amount = '6500000.0' WHERE id = ?", [forged.id]);
      await signIn(con);
    });

    for (const lang of ['id', 'en'] as const) {
      it(`is marked, never matched nor counted, and its debit stays on the statement only (${lang})`, async () => {
        await page.goto(`${con.url}/lang?to=${lang}&back=/console/payments`);
        await page.goto(`${con.url}/reconciliation?account=${ACCOUNT}&from=${typedDay(Date.now() - DAY_MS)}&to=${typedDay(Date.now())}`);
        expect(await kindOf(`#payment-${forged.id}`)).to.equal('forged');
        expect(await page.textContent(`#payment-${forged.id} .integrity-failed`)).to.contain(lang === 'id' ? 'DIUBAH DI LUAR GERBANG' : 'CHANGED OUTSIDE GERBANG');
        expect(await page.textContent(`#payment-${forged.id} .integrity-problem`)).to.contain(`payments id ${forged.id}`).and.to.contain('was altered');
        expect(await page.locator(`tr[data-kind=statement-only]:has-text("${forged.transactionId}")`).count()).to.equal(1);
        expect(await page.textContent('[data-count=forged]')).to.equal('1');
        expect(await page.textContent('[data-count=matched]')).to.equal('2');
        expect(await page.textContent('[data-count=gerbang-only]')).to.equal('1');
        expect(await axeViolations(page)).to.deep.equal([]);
      });
    }
  });

  describe('a payment written back in the database to its state before its last event (#14)', () => {
    let rolledBack: { transactionId: string; id: number };

    before(async () => {
      // In doubt (the bank's timeout), then settled as the resolver would, its SUCCESS an event of its history.
      gw.simulator.failNext({ code: 'ESB-82-024', execute: true });
      const transfer = sampleTransfer({ amount: '7100000.00', sourceAccountNumber: ACCOUNT, beneficiaryName: 'PT Sumber Makmur' });
      await gw.request('/v1/transfers', { headers: { authorization: `Bearer ${await gw.token(payer)}` }, json: transfer });
      const payment = await gw.store.payments.find(payer.clientId, transfer.transactionId as string);
      expect(payment?.state).to.equal('UNKNOWN');
      rolledBack = { transactionId: transfer.transactionId as string, id: payment!.id };
      const before = await copyRow(gw.store.db, 'payments', 'id = ?', [rolledBack.id]);
      expect(await gw.store.payments.update(rolledBack.id, { state: 'SUCCESS' }, Date.now())).to.equal(true);
      // As an attacker with the database but no key would: the row copied while in doubt written
      // back whole (its MAC still holds: it was the gateway's once).
      await writeBack(gw.store.db, 'payments', before, 'id = ?', [rolledBack.id]);
      await signIn(con);
    });

    it('is marked as changed outside Gerbang, naming its last event', async () => {
      await page.goto(`${con.url}/lang?to=en&back=/console/payments`);
      await page.goto(`${con.url}/reconciliation?account=${ACCOUNT}&from=${typedDay(Date.now() - DAY_MS)}&to=${typedDay(Date.now())}`);
      expect(await kindOf(`#payment-${rolledBack.id}`)).to.equal('forged');
      expect(await page.textContent(`#payment-${rolledBack.id} .integrity-failed`)).to.contain('CHANGED OUTSIDE GERBANG');
      expect(await page.textContent(`#payment-${rolledBack.id} .integrity-problem`))
        .to.contain(`payments id ${rolledBack.id}`)
        .and.to.contain('state "UNKNOWN" where its last event')
        .and.to.contain('says "SUCCESS"');
    });
  });
});
