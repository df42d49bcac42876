import { expect } from 'chai';
import { axeViolations, signInToConsole } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { sampleTransfer, type TestGateway } from '../support/gateway-harness.js';
import { bankTransfers, executeAtTheBank, leaveBehind } from '../support/left-behind.js';

/** A reservation left behind in a suite: its payment, its transactionId and the ERP's resend of it. */
interface Reserved {
  transactionId: string;
  paymentId: number;
  resend: () => Promise<{ status: number; body: Record<string, unknown>; text: string }>;
}

/**
 * A suite's setUp leaving a reservation of `body` behind, the ERP's resend held (409, into the
 * review queue), then `after` (the bank's own doings); `reserved` is filled when it has run.
 */
function reservationInReview(body: Record<string, unknown>, after: (gw: TestGateway) => Promise<void> = async () => undefined) {
  const reserved = { transactionId: body.transactionId as string } as Reserved;
  const setUp = async ({ gw }: { gw: TestGateway }) => {
    const client = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(client)}` };
    reserved.paymentId = (await leaveBehind(gw, client.clientId, body)).id;
    reserved.resend = () => gw.request('/v1/transfers', { json: body, headers: auth });
    const held = await reserved.resend();
    expect([held.status, held.body.code], held.text).to.deep.equal([409, 'IDEMPOTENCY_IN_FLIGHT']);
    await after(gw);
  };
  return { reserved, setUp };
}

/**
 * A reservation left behind whose takeover could not be proved (the proof's bound,
 * GERBANG_TAKEOVER_PROOF_LINKS, is 1 here) waits in the console's review queue, marked as never
 * proved sent or unsent; an admin who checked with the bank releases it from the page, and the
 * ERP's resend is then paid once (counted over HTTP at the simulator).
 */
describe('Finance console in a browser: a reservation never proved sent or unsent is resolved in review', function () {
  this.timeout(120_000);
  /** One reservation for each language's page: releasing one takes it out of the queue. */
  const left = { en: reservationInReview(sampleTransfer()), id: reservationInReview(sampleTransfer()) };
  const suite = browserConsole(
    async (setting) => {
      await left.en.setUp(setting);
      await left.id.setUp(setting);
    },
    { GERBANG_TAKEOVER_PROOF_LINKS: '1' },
  );
  const WORDS = {
    en: { reserved: 'Reserved, never proved sent or unsent: check with the bank.', released: 'Released' },
    id: { reserved: 'Dicadangkan, tidak pernah terbukti terkirim atau tidak terkirim: periksa ke bank.', released: 'Dilepas' },
  };

  for (const lang of ['en', 'id'] as const) {
    it(`${lang}: shows it marked in the review queue; released with evidence, the answer passes axe and the ERP's resend is paid once`, async () => {
      const { page, con, gw } = suite;
      const { transactionId, paymentId, resend } = left[lang].reserved;
      await signInToConsole(suite.browser, page, con.url, suite.admin, lang);
      expect((await page.goto(`${con.url}/review`))?.status()).to.equal(200);
      const row = page.locator(`tr[data-payment-id="${paymentId}"]`);
      expect(await row.textContent()).to.contain(transactionId);
      expect(await row.locator('strong.reserved').textContent(), 'marked in the page’s language').to.contain(WORDS[lang].reserved);

      await row.locator('select[name=outcome]').selectOption('FAILED');
      await row.locator('select[name=evidenceKind]').selectOption('CALL_REFERENCE');
      await row.locator('input[name=evidence]').fill('BCA call centre ticket 55120: never received');
      await Promise.all([page.waitForLoadState('load'), row.locator('button[type=submit]').click()]);
      expect(await page.textContent('p.ok')).to.contain(`${transactionId}: ${WORDS[lang].released}`);
      expect(await page.locator(`tr[data-payment-id="${paymentId}"]`).count(), 'out of the queue').to.equal(0);
      expect(await axeViolations(page), 'axe on the page answered after the release').to.deep.equal([]);

      const paid = await resend();
      expect([paid.status, paid.body.status], paid.text).to.deep.equal([201, 'SUCCESS']);
      expect((await resend()).status).to.equal(201);
      expect(await bankTransfers(gw, transactionId), 'paid once').to.equal(1);
      const [audited] = await gw.store.db.query<{ action: string; target: string; detail: string }>("SELECT action, target, detail FROM console_audit WHERE action = 'review.resolve' AND target = ?", [transactionId]);
      expect(audited).to.deep.include({ detail: 'RELEASED: CALL_REFERENCE' });
    });
  }
});

/**
 * The same reservation, but the bank did execute its transfer (its statement carries the debit
 * with the reference): the console reads the paying account's statement through the API, and an
 * admin who misread it and resolves FAILED is refused, in the page's language, with the line
 * Gerbang found; nothing is released and the ERP's resend is not paid again.
 */
describe('Finance console in a browser: a resolution the paying account\'s statement contradicts is refused', function () {
  this.timeout(120_000);
  const body = sampleTransfer({ amount: '106500.00' });
  const { reserved, setUp } = reservationInReview(body, (gw) => executeAtTheBank(gw, body));
  const suite = browserConsole(setUp, { GERBANG_TAKEOVER_PROOF_LINKS: '1' }, { readsStatements: true });

  /** Resolves the reservation FAILED from its row on the review page. */
  const resolveFailed = async () => {
    const { page, con } = suite;
    expect((await page.goto(`${con.url}/review`))?.status()).to.equal(200);
    const row = page.locator(`tr[data-payment-id="${reserved.paymentId}"]`);
    await row.locator('select[name=outcome]').selectOption('FAILED');
    await row.locator('select[name=evidenceKind]').selectOption('STATEMENT_LINE');
    await row.locator('input[name=evidence]').fill('Statement read: no debit of this amount');
    await Promise.all([page.waitForLoadState('load'), row.locator('button[type=submit]').click()]);
  };

  it('refuses FAILED with the statement line it found, in English and in Indonesian; it stays in review and the ERP\'s resend is not paid', async () => {
    const { page, con, gw } = suite;
    const { transactionId, paymentId, resend } = reserved;
    await signInToConsole(suite.browser, page, con.url, suite.admin, 'en');
    await resolveFailed();
    const refusal = page.locator('#review-contradicted');
    expect(await refusal.getAttribute('role')).to.equal('alert');
    expect(await refusal.textContent()).to.contain('Not resolved as Failed').and.contain('would pay it again').and.contain(`DEBIT | 106500.00 | ${transactionId}`);
    expect(await axeViolations(page), 'axe on the refusal').to.deep.equal([]);
    expect(await page.locator(`tr[data-payment-id="${paymentId}"]`).count(), 'still in the queue').to.equal(1);

    await page.goto(`${con.url}/lang?to=id&back=/console/review`);
    await resolveFailed();
    expect(await page.locator('#review-contradicted').textContent()).to.contain('Tidak diselesaikan sebagai Gagal').and.contain(`DEBIT | 106500.00 | ${transactionId}`);
    expect(await axeViolations(page), 'axe on the refusal').to.deep.equal([]);

    expect((await resend()).status, 'held: still in review').to.equal(409);
    expect(await bankTransfers(gw, transactionId), 'paid once, by the bank itself').to.equal(1);
    const audited = await gw.store.db.query("SELECT id FROM console_audit WHERE action = 'review.resolve' AND target = ?", [transactionId]);
    expect(audited, 'nothing resolved').to.deep.equal([]);
  });
});
