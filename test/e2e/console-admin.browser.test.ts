import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { axeViolations, launchBrowser, requireChromium, signInToConsole, type TestBrowser } from '../support/browser.js';
import { TestConsole } from '../support/console-harness.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { TestGateway } from '../support/gateway-harness.js';

/** docs/console (the finance guide's pictures) when GERBANG_UPDATE_SCREENSHOTS=1, else a temp folder of the run. */
const SHOTS = process.env.GERBANG_UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', '..', '..', 'docs', 'console') : mkdtempSync(join(tmpdir(), 'gerbang-shots-'));

describe('Finance console admin in a browser: Post/Redirect/Get and forms that keep what was typed', function () {
  this.timeout(120_000);

  let drop: () => Promise<void> = async () => undefined;
  let gw: TestGateway;
  let con: TestConsole;
  let browser: TestBrowser;
  let page: Page;
  let admin: { username: string; password: string };
  /** Every URL the browser asked for. */
  const requested: string[] = [];

  before(async function () {
    requireChromium(this);
    const database = await createMariaDbDatabase(this);
    drop = database.drop;
    gw = await TestGateway.start(database.url, { GERBANG_LOG_LEVEL: 'silent' });
    con = await TestConsole.start(database.url, { GERBANG_LOG_LEVEL: 'silent', GERBANG_CONSOLE_SIGN_IN_PER_IP: '1000' });
    admin = await con.createUser('adit.admin', 'admin');
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

  /** Whether the API takes this client secret (a token request). */
  async function secretWorks(clientId: string, clientSecret: string): Promise<boolean> {
    const answer = await gw.request('/v1/auth/token', { method: 'POST', json: { client_id: clientId, client_secret: clientSecret } });
    return answer.status === 200;
  }

  for (const lang of ['id', 'en'] as const) {
    const words = lang === 'id' ? { shownOnce: 'hanya ditampilkan sekali' } : { shownOnce: 'shown only once' };

    describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
      before(() => signInToConsole(browser, page, con.url, admin, lang));

      it('rotates a secret once: shown once after the redirect, never in a URL, and neither a reload nor going back rotates it again', async () => {
        const erp = await gw.createClient();
        await page.goto(`${con.url}/admin`);
        await Promise.all([page.waitForURL(/confirm\/rotate$/), page.click(`tr[data-client-id="${erp.clientId}"] a.rotate`)]);
        await Promise.all([page.waitForURL(/\/console\/admin$/), page.click('#confirm-yes')]);
        expect(await page.textContent('#new-secret')).to.contain(words.shownOnce);
        const secret = ((await page.textContent('#new-secret .client-secret')) ?? '').trim();
        expect(secret.length).to.be.greaterThan(20);
        expect(await secretWorks(erp.clientId, secret)).to.equal(true);
        expect(await secretWorks(erp.clientId, erp.clientSecret), 'the old secret').to.equal(false);
        expect(await axeViolations(page)).to.deep.equal([]);
        // The page after the redirect, for the guide: the secret itself is masked in the picture.
        await page.screenshot({ path: join(SHOTS, `admin-rotated-${lang}.png`), fullPage: true, mask: [page.locator('#new-secret .client-secret')] });

        // A reload is a GET of the admin page: the secret is gone and nothing was rotated again.
        await page.reload();
        expect(await page.locator('#new-secret').count()).to.equal(0);
        expect(await secretWorks(erp.clientId, secret)).to.equal(true);
        await page.screenshot({ path: join(SHOTS, `admin-reloaded-${lang}.png`), fullPage: true });

        // Back: the history holds the confirmation page (a GET), not the POST; it asks again
        // and does nothing by itself. (A stale confirmation posted again: the component test.)
        await Promise.all([page.waitForURL(/confirm\/rotate$/), page.goBack()]);
        expect(await page.isVisible('#confirm-question')).to.equal(true);
        expect(await secretWorks(erp.clientId, secret)).to.equal(true);

        const rotations = (await con.store.consoleAudit.list({ action: 'admin_client_rotate', limit: 50 })).filter((e) => e.target === `client:${erp.clientId}`);
        expect(rotations).to.have.length(1);
        expect(requested.filter((url) => url.includes(secret))).to.deep.equal([]);
      });

      it('shows a new client’s secret once after the redirect', async () => {
        await page.goto(`${con.url}/admin`);
        await page.fill('#create-client input[name=name]', `ERP Cabang ${lang}`);
        await page.fill('#create-client textarea[name=cidrs]', '127.0.0.1/32');
        await Promise.all([page.waitForURL(/\/console\/admin$/), page.click('#create-client button[type=submit]')]);
        const clientId = ((await page.textContent('#new-secret .client-id')) ?? '').trim();
        const secret = ((await page.textContent('#new-secret .client-secret')) ?? '').trim();
        expect(await secretWorks(clientId, secret)).to.equal(true);
        await page.reload();
        expect(await page.locator('#new-secret').count()).to.equal(0);
        expect((await con.store.clients.list()).filter((c) => c.name === `ERP Cabang ${lang}`)).to.have.length(1);
        expect(requested.filter((url) => url.includes(secret))).to.deep.equal([]);
      });

      it('keeps what was typed when a form is refused, but never a password', async () => {
        await page.goto(`${con.url}/admin`);
        await page.fill('#create-client input[name=name]', 'ERP Gudang');
        await page.fill('#create-client textarea[name=origins]', 'https://erp.gudang.example');
        await page.fill('#create-client textarea[name=cidrs]', 'bukan-alamat');
        const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/console/admin/clients')), page.click('#create-client button[type=submit]')]);
        expect(refused.status()).to.equal(400);
        expect(await page.inputValue('#create-client input[name=name]')).to.equal('ERP Gudang');
        expect(await page.inputValue('#create-client textarea[name=origins]')).to.equal('https://erp.gudang.example');
        expect(await page.inputValue('#create-client textarea[name=cidrs]')).to.equal('bukan-alamat');
        expect(await page.isVisible('[role=alert] li')).to.equal(true);
        expect(await axeViolations(page)).to.deep.equal([]);

        await page.fill('#create-user input[name=username]', `sinta.${lang}`);
        await page.selectOption('#create-user select[name=role]', 'auditor');
        await page.fill('#create-user input[name=password]', 'pendek');
        // The browser's own minlength check would stop the form: the server's answer is what is tested.
        await page.$eval('#create-user', (form) => (form as unknown as { noValidate: boolean }).noValidate = true);
        const [short] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/console/admin/users')), page.click('#create-user button[type=submit]')]);
        expect(short.status()).to.equal(400);
        expect(await page.inputValue('#create-user input[name=username]')).to.equal(`sinta.${lang}`);
        expect(await page.inputValue('#create-user select[name=role]')).to.equal('auditor');
        expect(await page.inputValue('#create-user input[name=password]')).to.equal('');
        expect(await page.content()).to.not.contain('pendek');
        expect(await axeViolations(page)).to.deep.equal([]);
      });
    });
  }
});
