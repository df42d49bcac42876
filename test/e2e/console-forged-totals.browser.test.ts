import { expect } from 'chai';
import type { Db } from '../../src/store/index.js';
import { jakartaDate } from '../../src/time/index.js';
import { axeViolations, signInToConsole } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { sampleTransfer } from '../support/gateway-harness.js';

/**
 * The list's total and the overview's daily figures against an attacker who writes payments in SQL
 * without keys (docs/security/database-attacks.md): when few enough payments match, each is proved
 * as the list proves it and a forged one is left out of every sum and counted as changed outside
 * Gerbang; when more match, the figures are the database's and the page says they were not checked.
 */
describe('Finance console in a browser: totals leave out payments changed outside Gerbang, or say they were not checked', function () {
  this.timeout(120_000);

  let clientId: string;
  const today = jakartaDate(Date.now());
  const idOf = async (db: Db, transactionId: unknown) => Number((await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [String(transactionId)]))[0].id);

  const suite = browserConsole(async ({ gw }) => {
    const client = await gw.createClient();
    clientId = client.clientId;
    const auth = { authorization: `Bearer ${await gw.token(client)}` };
    const honest = sampleTransfer({ amount: '4000.00' });
    const altered = sampleTransfer({ amount: '1000.00' });
    const shifted = sampleTransfer({ amount: '2000.00' });
    const promoted = sampleTransfer({ amount: '8000.00', remark: 'SIM ESB-82-019' });
    for (const transfer of [honest, altered, shifted]) expect((await gw.request('/v1/transfers', { json: transfer, headers: auth })).status).to.equal(201);
    expect((await gw.request('/v1/transfers', { json: promoted, headers: auth })).status).to.equal(422);

    // The attacks, in SQL: an amount raised (amount and amount_minor), only the amount the
    // database sums raised (amount_minor: the MAC covers amount), a refused payment made paid.
    const db = gw.store.db;
    await db.execute("UPDATE payments SET amount = '900000.00', amount_minor = 90000000 WHERE id = ?", [await idOf(db, altered.transactionId)]);
    await db.execute('UPDATE payments SET amount_minor = 50000000 WHERE id = ?', [await idOf(db, shifted.transactionId)]);
    await db.execute("UPDATE payments SET state = 'SUCCESS' WHERE id = ?", [await idOf(db, promoted.transactionId)]);
  });

  const figure = (state: string, what: 'count' | 'sum' | 'changed') =>
    suite.page.textContent(what === 'changed' ? `tr[data-day="${today}"] td[data-figure="changed"]` : `tr[data-day="${today}"] td[data-state="${state}"][data-figure="${what}"]`);

  for (const lang of ['id', 'en'] as const) {
    const words =
      lang === 'id'
        ? { changed: '3 pembayaran diubah di luar Gerbang dan tidak dihitung', proved: 'dicek satu per satu', stored: 'sesuai yang tersimpan di database', limit: '1.000', never: 'belum pernah' }
        : { changed: '3 payment(s) changed outside Gerbang, not counted', proved: 'checked one by one', stored: 'as stored in the database', limit: '1,000', never: 'never' };

    describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
      before(() => signInToConsole(suite.browser, suite.page, suite.con.url, suite.admin, lang));

      it('totals a client\'s payments from the ones that hold only, counting the three changed in SQL as changed outside Gerbang', async () => {
        expect((await suite.page.goto(`${suite.con.url}/payments?client=${encodeURIComponent(clientId)}`))?.status()).to.equal(200);
        const totals = (await suite.page.textContent('#list-totals')) ?? '';
        expect(totals, 'every payment listed, the sum of the one that holds').to.match(/\b4\b/).and.to.contain('Rp 4.000,00');
        expect(totals).to.not.contain('Rp 9').and.to.not.contain('Rp 5');
        expect(await suite.page.getAttribute('#totals-proof', 'data-proof')).to.equal('proved');
        expect(await suite.page.getAttribute('#totals-changed', 'data-changed')).to.equal('3');
        expect((await suite.page.textContent('#totals-proof')) ?? '').to.contain(words.proved).and.to.contain(words.changed);
        expect(await suite.page.locator('tr.integrity-failed').count(), 'the list marks the same three').to.equal(3);
        expect(await axeViolations(suite.page)).to.deep.equal([]);
      });

      it('totals the paid filter the same way: a refused payment made paid in SQL adds nothing', async () => {
        expect((await suite.page.goto(`${suite.con.url}/payments?client=${encodeURIComponent(clientId)}&status=SUCCESS`))?.status()).to.equal(200);
        expect((await suite.page.textContent('#list-totals')) ?? '').to.contain('Rp 4.000,00');
        expect(await suite.page.getAttribute('#totals-changed', 'data-changed')).to.equal('3');
      });

      it('shows the day on the overview proved: the forged payments in no count or sum, counted as changed', async () => {
        expect((await suite.page.goto(`${suite.con.url}/overview?days=7`))?.status()).to.equal(200);
        expect(await suite.page.getAttribute('#daily-proof', 'data-proof')).to.equal('proved');
        expect((await suite.page.textContent('#daily-proof')) ?? '').to.contain(words.proved).and.to.contain(words.changed);
        expect(await suite.page.getAttribute('#daily-changed', 'data-changed')).to.equal('3');
        expect(await figure('all', 'count')).to.equal('1');
        expect(await figure('all', 'sum')).to.equal('Rp 4.000,00');
        expect(await figure('SUCCESS', 'sum')).to.equal('Rp 4.000,00');
        expect(await figure('FAILED', 'count'), 'the refused payment is forged, counted nowhere').to.equal('0');
        expect(await figure('all', 'changed')).to.equal('3');
        expect(await axeViolations(suite.page)).to.deep.equal([]);
      });
    });
  }

  describe('when more payments match than can be checked one by one', () => {
    before(async () => {
      // 1,001 payments inserted in SQL today (no MAC, no history): more than PROVED_LIMIT.
      await suite.gw.store.db.execute(
        'INSERT INTO payments (client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at) ' +
          "SELECT 'bulk-forged', CONCAT('BULK-', seq), REPEAT('a', 64), 'SUCCESS', '1.00', 100, 'IDR', ?, ? FROM seq_1_to_1001",
        [Date.now() - 1000, Date.now() - 1000],
      );
    });

    for (const lang of ['id', 'en'] as const) {
      const words =
        lang === 'id' ? { stored: 'sesuai yang tersimpan di database', limit: '1.000', verify: 'gerbang audit verify', never: 'belum pernah' } : { stored: 'as stored in the database', limit: '1,000', verify: 'gerbang audit verify', never: 'never' };

      it(`says in ${lang} that the list's total is as stored, not checked, and how to check it`, async () => {
        await signInToConsole(suite.browser, suite.page, suite.con.url, suite.admin, lang);
        expect((await suite.page.goto(`${suite.con.url}/payments`))?.status()).to.equal(200);
        expect(await suite.page.getAttribute('#totals-proof', 'data-proof')).to.equal('stored');
        expect((await suite.page.textContent('#totals-proof')) ?? '').to.contain(words.stored).and.to.contain(words.limit).and.to.contain(words.verify);
        expect(await axeViolations(suite.page)).to.deep.equal([]);
        // A narrow filter is still proved.
        await suite.page.goto(`${suite.con.url}/payments?client=${encodeURIComponent(clientId)}`);
        expect(await suite.page.getAttribute('#totals-proof', 'data-proof')).to.equal('proved');
      });

      it(`says in ${lang} that the overview's figures are as stored, dated by the last verification`, async () => {
        expect((await suite.page.goto(`${suite.con.url}/overview?days=7`))?.status()).to.equal(200);
        expect(await suite.page.getAttribute('#daily-proof', 'data-proof')).to.equal('stored');
        expect((await suite.page.textContent('#daily-proof')) ?? '').to.contain(words.stored).and.to.contain(words.limit).and.to.contain(words.verify).and.to.contain(words.never);
        expect(await figure('all', 'changed'), 'nothing counted as changed: nothing was checked').to.equal('—');
        expect(await axeViolations(suite.page)).to.deep.equal([]);
      });
    }
  });
});
