import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { Db } from '../../src/store/index.js';
import { axeViolations, launchBrowser, requireChromium, signInToConsole, type TestBrowser } from '../support/browser.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * Payments changed in SQL by an attacker without keys (docs/security/database-attacks.md): the
 * console's detail, review and run pages show them marked, in both languages, with no action on
 * them, and still show everything else.
 */
describe('Finance console in a browser: payments changed outside Gerbang are marked, never refused nor acted on', function () {
  this.timeout(120_000);

  let drop: () => Promise<void> = async () => undefined;
  let gw: TestGateway;
  let con: TestConsole;
  let browser: TestBrowser;
  let page: Page;
  let admin: { username: string; password: string };
  /** A paid payment whose amount was changed in SQL (its MAC no longer holds). */
  let altered: { id: number; transactionId: string };
  /** A paid payment whose sealed details were replaced by clear text naming another beneficiary. */
  let resealed: { id: number; transactionId: string };
  /** A refused payment moved into the review queue in SQL (its state no longer matches its history). */
  let queued: { id: number; transactionId: string };
  /** A payment run, one of whose lines' payments was altered. */
  let run: { pk: number; forgedLine: number; lines: number };

  const idOf = async (db: Db, transactionId: string) => Number((await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [transactionId]))[0].id);

  before(async function () {
    requireChromium(this);
    const database = await createMariaDbDatabase(this);
    drop = database.drop;
    gw = await TestGateway.start(database.url, { GERBANG_LOG_LEVEL: 'silent' });
    con = await TestConsole.start(database.url, { GERBANG_LOG_LEVEL: 'silent', GERBANG_CONSOLE_SIGN_IN_PER_IP: '1000' });
    admin = await con.createUser('ayu.admin', 'admin');
    const client = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(client)}` };
    const paid = sampleTransfer();
    expect((await gw.request('/v1/transfers', { json: paid, headers: auth })).status).to.equal(201);
    const other = sampleTransfer();
    expect((await gw.request('/v1/transfers', { json: other, headers: auth })).status).to.equal(201);
    const refused = sampleTransfer({ remark: 'SIM ESB-82-019' });
    expect((await gw.request('/v1/transfers', { json: refused, headers: auth })).status).to.equal(422);
    const batchId = `RUN-${randomBytes(5).toString('hex')}`;
    const batch = await gw.request('/v1/transfer-batches', { headers: auth, json: { batchId, transfers: [0, 1, 2].map(() => sampleTransfer({ amount: '1000.00' })) } });
    expect(batch.status, batch.text).to.equal(202);
    await eventually(async () => (await gw.request(`/v1/transfer-batches/${batchId}`, { headers: auth })).body.state === 'DONE', 15_000);

    // The attacks, in SQL.
    const db = gw.store.db;
    altered = { id: await idOf(db, paid.transactionId as string), transactionId: paid.transactionId as string };
    await db.execute("UPDATE payments SET amount = '1.00' WHERE id = ?", [altered.id]);
    resealed = { id: await idOf(db, other.transactionId as string), transactionId: other.transactionId as string };
    await db.execute('UPDATE payments SET details_json = ? WHERE id = ?', [JSON.stringify({ ...other, beneficiaryName: 'MALLORY FORGED' }), resealed.id]);
    queued = { id: await idOf(db, refused.transactionId as string), transactionId: refused.transactionId as string };
    await db.execute("UPDATE payments SET state = 'UNKNOWN', review_since = ? WHERE id = ?", [Date.now(), queued.id]);
    const [{ id: pk }] = await db.query<{ id: number | string }>('SELECT id FROM transfer_batches WHERE batch_id = ?', [batchId]);
    const [line] = await db.query<{ line_no: number | string; transaction_id: string }>('SELECT line_no, transaction_id FROM transfer_batch_lines WHERE batch_pk = ? ORDER BY line_no LIMIT 1 OFFSET 1', [Number(pk)]);
    await db.execute("UPDATE payments SET amount = '1.00' WHERE transaction_id = ?", [line.transaction_id]);
    run = { pk: Number(pk), forgedLine: Number(line.line_no), lines: 3 };

    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await con?.close();
    await gw?.close();
    await drop();
  });

  for (const lang of ['id', 'en'] as const) {
    const words =
      lang === 'id'
        ? { changed: 'DIUBAH DI LUAR GERBANG', found: 'Yang ditemukan', noAction: 'Tidak bisa diselesaikan' }
        : { changed: 'CHANGED OUTSIDE GERBANG', found: 'What was found', noAction: 'Cannot be resolved' };

    describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
      before(() => signInToConsole(browser, page, con.url, admin, lang));

      it('shows the detail page of a payment whose amount was changed in SQL with the mark in place of its status, and no proof to print', async () => {
        const answer = await page.goto(`${con.url}/payments/${altered.id}`);
        expect(answer?.status()).to.equal(200);
        const banner = (await page.textContent('#status-banner')) ?? '';
        expect(banner).to.contain(words.changed).and.to.contain(words.found);
        expect(banner).to.contain(`payments id ${altered.id} (`).and.to.contain(`/ ${altered.transactionId}) was altered`);
        expect(await page.locator('#proof-link').count(), 'no proof of a forged payment').to.equal(0);
        expect((await page.goto(`${con.url}/payments/${altered.id}/proof`))?.status(), 'nor by its URL').to.equal(500);
        await page.goto(`${con.url}/payments/${altered.id}`);
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('shows the detail page of a payment whose sealed details were replaced in SQL marked, without the forged values', async () => {
        const answer = await page.goto(`${con.url}/payments/${resealed.id}`);
        expect(answer?.status()).to.equal(200);
        const banner = (await page.textContent('#status-banner')) ?? '';
        expect(banner).to.contain(words.changed).and.to.contain(`payments.details_json of row [${resealed.id}]`);
        expect((await page.content()).includes('MALLORY'), 'the value that did not open is not shown').to.equal(false);
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('shows the review queue with a refused payment moved into it in SQL marked, and no form to resolve it', async () => {
        const answer = await page.goto(`${con.url}/review`);
        expect(answer?.status()).to.equal(200);
        const row = page.locator(`tr[data-payment-id="${queued.id}"]`);
        expect(await row.getAttribute('class')).to.equal('integrity-failed');
        const text = (await row.textContent()) ?? '';
        expect(text).to.contain(words.changed).and.to.contain(words.noAction);
        expect(text).to.contain(`payments id ${queued.id} (`).and.to.contain(`/ ${queued.transactionId}) was changed without an event in its history: state "UNKNOWN"`);
        expect(await row.locator('form').count(), 'no resolve form').to.equal(0);
        expect(await row.locator('a.statement-link').count(), 'no statement to check from its forged account').to.equal(0);
        expect(await axeViolations(page)).to.deep.equal([]);
        // Nor by posting the form anyway: the resolution reads the payment checked, and refuses it.
        const direct = new ConsoleClient(con.origin, '127.0.0.9');
        expect((await direct.signIn(admin.username, admin.password)).status).to.equal(303);
        await direct.get('/console/review');
        const forced = await direct.post(`/console/review/${queued.id}/resolve`, { _csrf: direct.csrf, outcome: 'SUCCESS', evidenceKind: 'BANK_REFERENCE', evidence: 'REF-FORGED-1' });
        expect(forced.status).to.equal(500);
        expect(await gw.store.db.query('SELECT state FROM payments WHERE id = ?', [queued.id])).to.deep.equal([{ state: 'UNKNOWN' }]);
      });

      it('opens the reconciliation page for a payment changed in SQL marked, its form not filled from the payment', async () => {
        const answer = await page.goto(`${con.url}/reconciliation?payment=${queued.id}`);
        expect(answer?.status()).to.equal(200);
        const mark = (await page.textContent('div.integrity-failed')) ?? '';
        expect(mark).to.contain(words.changed).and.to.contain(words.found).and.to.contain(`payments id ${queued.id} (`);
        expect(await page.inputValue('input[name="account"]'), 'no account taken from a forged payment').to.equal('');
        expect(await page.locator(`#payment-${queued.id}`).count(), 'no statement read for it').to.equal(0);
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('shows a payment run with the altered line marked and its other lines as they are', async () => {
        const answer = await page.goto(`${con.url}/runs/${run.pk}`);
        expect(answer?.status()).to.equal(200);
        const forged = page.locator(`tr[data-line="${run.forgedLine}"]`);
        expect(await forged.getAttribute('class')).to.equal('outcome-forged');
        expect((await forged.textContent()) ?? '').to.contain(words.changed).and.to.contain('was altered');
        expect(await page.locator('table.run-lines tr.outcome-paid').count(), 'the other lines').to.equal(run.lines - 1);
        expect(await page.locator('#run-totals tr[data-outcome="forged"] td.num').first().textContent()).to.equal('1');
        expect(await axeViolations(page)).to.deep.equal([]);
      });
    });
  }
});
