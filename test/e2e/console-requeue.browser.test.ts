import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { axeViolations, sidewaysOverflow, signInToConsole } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { startReceiver, type CallbackReceiver } from '../support/callback-receiver.js';
import { eventually, sampleTransfer, type TestClient } from '../support/gateway-harness.js';

/**
 * An admin queues a notification to the ERP again from the payment's page (#14, #16), where
 * `gerbang callback requeue` was the only way: a paid transfer whose queued notification was
 * deleted in SQL, or set FAILED there, is marked on its detail page for every role; an admin gives
 * a reason, confirms on a page naming the client and the transaction, and is sent back to the
 * page (Post/Redirect/Get), which says what came of it; the ERP's endpoint (a real HTTP server)
 * receives it once, and a reload repeats nothing. A viewer sees the mark, no form, and a POST of
 * theirs is refused 403 and kept on the access log. The page's one-time message is its own: a new
 * client secret waiting for the admin page is not taken by it. Both languages, axe-clean; both backends. The attacks are SQL.
 */
for (const backend of ['sqlite', 'mariadb'] as const) {
  describe(`Finance console in a browser: an admin sends a held-back notification again from the payment's page [${backend}]`, function () {
    this.timeout(180_000);
    let receiver: CallbackReceiver;
    let client: TestClient;
    let viewer: { username: string; password: string };
    /** Paid transfers whose notification was held back in SQL before it went: its row deleted, or set FAILED. */
    const held = {} as Record<'deleted' | 'failed', { id: number; transactionId: string }>;

    const suite = browserConsole(
      async ({ gw, con }) => {
        receiver = await startReceiver();
        client = await gw.createClient({ name: 'PT Nusantara ERP' });
        await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
        viewer = await con.createUser('vito.viewer', 'viewer');
        const auth = { authorization: `Bearer ${await gw.token(client)}` };
        // Paid while the dispatcher is stopped: each notification queued, not sent yet.
        await gw.gateway.callbacks.stop();
        for (const key of ['deleted', 'failed'] as const) {
          const transfer = sampleTransfer();
          expect((await gw.request('/v1/transfers', { json: transfer, headers: auth })).status).to.equal(201);
          const transactionId = transfer.transactionId as string;
          const payment = await gw.store.payments.find(client.clientId, transactionId);
          held[key] = { id: payment!.id, transactionId };
          await eventually(async () => (await gw.store.db.query('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [transactionId])).length === 1, 15_000);
        }
        // The attacks, in SQL: one delivery deleted, the other set FAILED (the dispatcher never sends either).
        await gw.store.db.execute('DELETE FROM callback_deliveries WHERE transaction_id = ?', [held.deleted.transactionId]);
        await gw.store.db.execute("UPDATE callback_deliveries SET state = 'FAILED' WHERE transaction_id = ?", [held.failed.transactionId]);
        gw.gateway.callbacks.start();
      },
      { GERBANG_CALLBACK_INTERVAL_MS: '50', GERBANG_CALLBACK_RETRY_BASE_MS: '300', GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_AUDIT_SCRUB_MS: '0' },
      { backend },
    );
    after(() => receiver?.server.close());

    const noticesFor = (transactionId: string) => receiver.received.filter((r) => (JSON.parse(r.body) as { transfer: { transactionId: string } }).transfer.transactionId === transactionId);
    const requeueAudits = async (transactionId: string) => (await suite.gw.store.audit.list({ transactionId })).filter((r) => r.method === 'CALLBACK-REQUEUE');
    const deliveryOf = async (transactionId: string) => (await suite.gw.store.db.query<{ state: string; attempts: number | string }>('SELECT state, attempts FROM callback_deliveries WHERE transaction_id = ?', [transactionId]))[0];

    /** Posts the requeue form of payment `id` as the signed-in user of `page`, with their own CSRF token, not following the redirect. */
    async function postRequeue(page: Page, id: number): Promise<{ status: number; location: string | undefined }> {
      const csrf = (await page.getAttribute('input[name=_csrf]', 'value'))!;
      const answer = await page.request.post(`${suite.con.url}/payments/${id}/requeue`, { form: { _csrf: csrf, reason: 'tried', confirmed: 'yes' }, maxRedirects: 0, headers: { origin: new URL(suite.con.url).origin } });
      return { status: answer.status(), location: answer.headers().location };
    }

    it('shows a viewer the mark on a held-back notification but no form, and refuses a POST of theirs (403), queuing nothing', async () => {
      const { page, browser, con } = suite;
      await signInToConsole(browser, page, con.url, viewer, 'id');
      await page.goto(`${con.url}/payments/${held.deleted.id}`);
      expect(await page.textContent('#callback-held-back')).to.contain('NOTIFIKASI KE ERP DIUBAH DI LUAR GERBANG').and.to.contain('was deleted');
      expect(await page.locator('#requeue-form').count()).to.equal(0);
      expect(await axeViolations(page)).to.deep.equal([]);
      expect((await postRequeue(page, held.deleted.id)).status).to.equal(403);
      // The refusal on the access log: who tried what, as which role.
      const refusals = await suite.con.store.consoleAudit.list({ action: 'forbidden', username: viewer.username });
      expect(refusals.map((e) => [e.target, e.detail])).to.deep.equal([[`/console/payments/${held.deleted.id}/requeue`, 'POST refused: role viewer; only admin may']]);
      expect(await requeueAudits(held.deleted.transactionId)).to.have.length(0);
      expect(await deliveryOf(held.deleted.transactionId)).to.equal(undefined);
    });

    for (const [lang, key] of [['id', 'deleted'], ['en', 'failed']] as const) {
      const words =
        lang === 'id'
          ? { mark: 'NOTIFIKASI KE ERP DIUBAH DI LUAR GERBANG', confirm: 'Kirim ulang notifikasi pembayaran', done: 'Notifikasi diantrekan lagi', refused: 'Notifikasi TIDAK diantrekan lagi:', holds: 'pengiriman notifikasi ini utuh seperti yang ditinggalkan Gerbang' }
          : { mark: 'NOTIFICATION TO THE ERP CHANGED OUTSIDE GERBANG', confirm: 'Send the notification of payment', done: 'The notification is queued again', refused: 'The notification was NOT queued again:', holds: "this notification's delivery holds as Gerbang left it" };

      it(`(${lang}) an admin gives a reason, confirms naming the client and the transaction, and the ERP receives the notification once (its delivery ${key} in SQL); a reload repeats nothing; a second requeue is refused in words`, async () => {
        const { page, browser, con, admin } = suite;
        const { id, transactionId } = held[key];
        await signInToConsole(browser, page, con.url, admin, lang);
        await page.goto(`${con.url}/payments/${id}`);
        expect(await page.textContent('#callback-held-back')).to.contain(words.mark);
        expect(noticesFor(transactionId)).to.have.length(0);
        expect(await axeViolations(page)).to.deep.equal([]);
        // Usable on a phone: nothing scrolls sideways with the mark and the form on the page.
        await page.setViewportSize({ width: 375, height: 800 });
        expect(await sidewaysOverflow(page)).to.be.at.most(0);
        await page.setViewportSize({ width: 1280, height: 900 });

        // A reason is required: the browser does not send the form without one.
        expect(await page.getAttribute('#requeue-form textarea[name=reason]', 'required')).to.equal('');
        await page.fill('#requeue-form textarea[name=reason]', `verify menyebutnya; ERP belum menerima (${lang})`);
        await Promise.all([page.waitForURL(new RegExp(`/payments/${id}/requeue$`)), page.click('#requeue-form button[type=submit]')]);
        const question = (await page.textContent('#confirm-question'))!;
        expect(question).to.contain(words.confirm).and.to.contain(transactionId).and.to.contain('PT Nusantara ERP').and.to.contain(client.clientId);
        expect(await axeViolations(page)).to.deep.equal([]);
        // Not queued before the confirmation.
        expect(await requeueAudits(transactionId)).to.have.length(0);

        await Promise.all([page.waitForURL(new RegExp(`/payments/${id}\\?requeue=done$`)), page.click('#confirm-yes')]);
        expect(await page.getAttribute('#requeue-outcome', 'data-requeued')).to.equal('true');
        expect(await page.textContent('#requeue-outcome')).to.contain(words.done);
        // Queued again, its delivery holds: no longer marked.
        expect(await page.locator('#callback-held-back').count()).to.equal(0);
        expect(await axeViolations(page)).to.deep.equal([]);

        const [notice] = await eventually(async () => noticesFor(transactionId).length > 0 && noticesFor(transactionId), 20_000);
        expect((JSON.parse(notice.body) as { transfer: { status: string } }).transfer.status).to.equal('SUCCESS');
        await eventually(async () => (await deliveryOf(transactionId))?.state === 'DELIVERED', 20_000);
        const audited = await requeueAudits(transactionId);
        expect(audited.map((a) => a.statusCode)).to.deep.equal([200]);
        expect(audited[0].requestBody).to.contain('"via":"console"').and.to.contain(admin.username).and.to.contain('ERP belum menerima');

        // A reload of the answer is a GET: nothing is queued again, and the outcome is not shown twice.
        await page.reload();
        expect(await page.locator('#requeue-outcome').count()).to.equal(0);
        expect(await page.locator('#callback-held-back').count()).to.equal(0);
        expect(await requeueAudits(transactionId)).to.have.length(1);
        expect(await deliveryOf(transactionId)).to.deep.include({ state: 'DELIVERED' });
        expect(Number((await deliveryOf(transactionId)).attempts)).to.equal(1);
        expect(noticesFor(transactionId)).to.have.length(1);

        // The confirmed form posted again (the browser's resubmission): refused, in the clerk's words.
        const again = await postRequeue(page, id);
        expect(again.status).to.equal(303);
        await page.goto(new URL(again.location!, con.url).href);
        expect(await page.getAttribute('#requeue-outcome', 'data-requeued')).to.equal('false');
        expect(await page.textContent('#requeue-outcome')).to.contain(words.refused).and.to.contain(words.holds);
        expect(await axeViolations(page)).to.deep.equal([]);
        expect((await requeueAudits(transactionId)).map((a) => a.statusCode).sort()).to.deep.equal([200, 409]);
        expect(noticesFor(transactionId)).to.have.length(1);
        const log = await con.store.consoleAudit.list({ action: 'callback_requeue', username: admin.username });
        expect(log.filter((e) => e.target === `payment:${id}`).map((e) => e.detail!.split(' ')[0])).to.deep.equal(['refused:', 'requeued']);
      });
    }

    it('a requeue\'s page takes only its own message: a new client secret, shown once on the admin page, still waits there after a payment page is opened with ?requeue=done', async () => {
      const { page, browser, con, admin } = suite;
      await signInToConsole(browser, page, con.url, admin, 'en');
      await page.goto(`${con.url}/admin`);
      const csrf = (await page.getAttribute('input[name=_csrf]', 'value'))!;
      const made = await page.request.post(`${con.url}/admin/clients`, { form: { _csrf: csrf, name: 'PT Flash Probe', origins: '', cidrs: '' }, maxRedirects: 0, headers: { origin: new URL(con.url).origin } });
      expect(made.status()).to.equal(303);
      await page.goto(`${con.url}/payments/${held.deleted.id}?requeue=done`);
      expect(await page.locator('#requeue-outcome').count(), 'no requeue outcome of its own').to.equal(0);
      await page.goto(`${con.url}/admin`);
      expect(await page.textContent('#new-secret .client-secret'), 'the secret still shown once').to.match(/\S{16,}/);
      await page.reload();
      expect(await page.locator('#new-secret').count(), 'once').to.equal(0);
    });
  });
}
