import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeViolations, sidewaysOverflow, signInToConsole } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { sampleTransfer, type TestGateway } from '../support/gateway-harness.js';

/** docs/console (the finance guide's pictures) when GERBANG_UPDATE_SCREENSHOTS=1, else a temp folder. */
const SHOTS = process.env.GERBANG_UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', '..', '..', 'docs', 'console') : mkdtempSync(join(tmpdir(), 'gerbang-shots-'));

/** A transfer the bank neither confirmed nor denied, put in the review queue by the gateway's own resolver. */
interface InDoubt {
  paymentId: number;
  transactionId: string;
  clientName: string;
  reviewSince: number;
}

/**
 * Pays `amount` through the gateway while the simulator answers BCA's "ESB-82-024 timeout, check
 * your statement" without executing it, then runs the resolver once: the bank does not know the
 * transfer, the statement proves nothing before the bank's day closes, and GERBANG_REVIEW_AFTER_MS
 * is 1 ms, so the transfer goes to the review queue in doubt.
 */
async function payInDoubt(gw: TestGateway, amount: string): Promise<InDoubt> {
  const client = await gw.createClient();
  const auth = { authorization: `Bearer ${await gw.token(client)}` };
  gw.simulator.failNext({ code: 'ESB-82-024' });
  const body = sampleTransfer({ amount });
  const answer = await gw.request('/v1/transfers', { json: body, headers: auth });
  expect(answer.body.status, answer.text).to.equal('UNKNOWN');
  await gw.gateway.resolver.runOnce();
  const payment = (await gw.store.payments.find(client.clientId, body.transactionId as string))!;
  expect([payment.state, typeof payment.reviewSince], 'in doubt, in the review queue').to.deep.equal(['UNKNOWN', 'number']);
  const record = (await gw.store.clients.findById(client.clientId))!;
  return { paymentId: payment.id, transactionId: payment.transactionId, clientName: record.name, reviewSince: payment.reviewSince! };
}

const MONTHS = {
  id: ['Jan', 'Feb', 'Mar', 'Apr', 'Mei', 'Jun', 'Jul', 'Agu', 'Sep', 'Okt', 'Nov', 'Des'],
  en: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
};

/** A moment in Jakarta time (UTC+7) as the clerk writes it: `6 Des 2026 11.49 WIB`, or `6 Dec 2026 11:49 WIB` in English. */
function wib(lang: 'id' | 'en', epochMs: number): string {
  const jakarta = new Date(epochMs + 7 * 3_600_000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${jakarta.getUTCDate()} ${MONTHS[lang][jakarta.getUTCMonth()]} ${jakarta.getUTCFullYear()} ${two(jakarta.getUTCHours())}${lang === 'id' ? '.' : ':'}${two(jakarta.getUTCMinutes())} WIB`;
}

/** What each language's page must say, in the clerk's words. */
const WORDS = {
  id: {
    status: 'Belum pasti',
    bankSaid: 'Timeout, silakan cek mutasi rekening (ESB-82-024)',
    evidenceKinds: ['Baris mutasi rekening', 'Referensi dari bank', 'Nomor tiket panggilan ke bank'],
    resolvedAs: 'Gagal',
    decided: (admin: string) => `Catatan Gerbang: Diputuskan di antrean tinjauan oleh ${admin}: tidak dijalankan, berdasarkan bukti yang dicatat.`,
    todoFailed: 'Yang harus dilakukan: Perbaiki penyebabnya (lihat alasan di bawah), lalu kirim lagi dari ERP dengan ID transaksi baru.',
    notCrossChecked: 'Alasannya: mutasi tidak membuktikan apa pun: mutasi tidak dapat dibaca (',
  },
  en: {
    status: 'In doubt',
    bankSaid: 'Timeout, please check your statement (ESB-82-024)',
    evidenceKinds: ['Statement line', "The bank's reference", 'Reference of a call with the bank'],
    resolvedAs: 'Failed',
    decided: (admin: string) => `Gerbang's note: Decided in the review queue by ${admin}: not executed, from the recorded evidence.`,
    todoFailed: 'What to do: Fix the cause (see the reason below), then send it again from the ERP with a new transaction id.',
    // The domain's English reason reads the same on an English page.
    notCrossChecked: null,
  },
};

/**
 * An Indonesian finance clerk (and an English-reading one) works the review queue: each transfer
 * in doubt reads in words (its status, Rupiah, the bank's name, the time in WIB, the bank's
 * message in the page's language, the kinds of evidence), the admin resolves it with evidence
 * from the page, and the decision is in the console's access log. The review and admin pages
 * never scroll sideways: only a wide table scrolls inside its own box.
 */
describe('Finance console in a browser: the review queue in the clerk\'s words', function () {
  this.timeout(180_000);
  const inDoubt = {} as Record<'id' | 'en' | 'staying', InDoubt>;
  const suite = browserConsole(
    async ({ gw }) => {
      inDoubt.id = await payInDoubt(gw, '3000000.00');
      inDoubt.en = await payInDoubt(gw, '3000000.00');
      inDoubt.staying = await payInDoubt(gw, '2475000.50');
    },
    { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_REVIEW_AFTER_MS: '1' },
  );

  for (const lang of ['id', 'en'] as const) {
    it(`${lang}: an admin reads a transfer in doubt in words, resolves it with evidence; the payment's page gives the decision as Gerbang's note, and the decision is in the access log`, async () => {
      const { page, con } = suite;
      const words = WORDS[lang];
      const { paymentId, transactionId, clientName, reviewSince } = inDoubt[lang];
      await signInToConsole(suite.browser, page, con.url, suite.admin, lang);
      expect((await page.goto(`${con.url}/review`))?.status()).to.equal(200);
      const row = page.locator(`tr[data-payment-id="${paymentId}"]`);
      const cells = (await row.locator(':scope > td').allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
      const [, txn, client, status, amount, bank, , since] = cells;
      expect(txn).to.equal(transactionId);
      expect(client, 'the client by its name').to.equal(clientName);
      expect(status, 'the status in words').to.match(new RegExp(`^${words.status} `));
      expect(status, "the bank's message in the page's language").to.contain(words.bankSaid);
      expect(amount).to.equal('Rp 3.000.000,00');
      expect(bank, 'the bank by its name, not the partner id').to.contain('Bank Central Asia').and.not.equal('bca');
      expect(since, 'the time in WIB as the clerk writes it').to.equal(wib(lang, reviewSince));
      const kinds = await row.locator('select[name=evidenceKind] option').allTextContents();
      expect(kinds, 'the kinds of evidence in words').to.deep.equal(words.evidenceKinds);
      expect(await axeViolations(page), 'axe on the review page with its resolve forms').to.deep.equal([]);
      await page.screenshot({ path: join(SHOTS, `review-queue-${lang}.png`), fullPage: true });

      await row.locator('select[name=outcome]').selectOption('FAILED');
      await row.locator('select[name=evidenceKind]').selectOption({ label: words.evidenceKinds[2] });
      await row.locator('input[name=evidence]').fill('BCA call centre ticket 88120: never executed');
      await Promise.all([page.waitForLoadState('load'), row.locator('button[type=submit]').click()]);
      expect(await page.textContent('p.ok'), 'the outcome in words').to.contain(`${transactionId}: ${words.resolvedAs}`);
      expect(await page.locator(`tr[data-payment-id="${paymentId}"]`).count(), 'out of the queue').to.equal(0);
      if (words.notCrossChecked) expect(await page.textContent('#review-cross-check'), 'why the statement could not confirm it, in the page’s language').to.contain(words.notCrossChecked);
      expect(await axeViolations(page), 'axe on the page answered after the decision').to.deep.equal([]);

      // The payment's own page: the decision as Gerbang's note (not the bank's words), and what to do.
      await page.goto(`${con.url}/payments/${paymentId}`);
      const banner = ((await page.textContent('#status-banner')) ?? '').replace(/\s+/g, ' ');
      expect(await page.textContent('#bank-said'), 'the decision under Gerbang’s own label').to.equal(words.decided(suite.admin.username));
      expect(banner).to.contain(words.todoFailed);
      expect(await axeViolations(page)).to.deep.equal([]);

      await page.goto(`${con.url}/access-log?action=review.resolve`);
      const audited = (await page.locator('table.access-log tbody tr').allTextContents()).filter((text) => text.includes(transactionId));
      expect(audited, 'the decision in the console audit').to.have.length(1);
      expect(audited[0]).to.contain(suite.admin.username).and.contain('FAILED: CALL_REFERENCE');
    });
  }

  for (const viewport of [{ width: 1024, height: 768 }, { width: 390, height: 844 }]) {
    it(`the review page (with its resolve form) and the admin page do not scroll sideways at ${viewport.width} px, in either language`, async () => {
      const { page, con } = suite;
      await signInToConsole(suite.browser, page, con.url, suite.admin);
      await page.setViewportSize(viewport);
      try {
        for (const lang of ['id', 'en'] as const) {
          await page.goto(`${con.url}/lang?to=${lang}&back=/console/review`);
          expect(await page.locator(`tr[data-payment-id="${inDoubt.staying.paymentId}"] form.resolve`).count(), 'a transfer with its form').to.equal(1);
          expect(await sidewaysOverflow(page), `${lang} /review`).to.be.at.most(0);
          await page.goto(`${con.url}/admin`);
          expect(await page.locator('table.clients tbody tr[data-client-id]').count(), 'clients listed').to.be.greaterThan(0);
          expect(await sidewaysOverflow(page), `${lang} /admin`).to.be.at.most(0);
        }
      } finally {
        await page.setViewportSize({ width: 1280, height: 900 });
      }
    });
  }
});
