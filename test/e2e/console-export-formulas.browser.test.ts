import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { signInToConsole } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { sampleTransfer } from '../support/gateway-harness.js';

/** What a spreadsheet runs as a formula, or strips into one (src/export/formula-safe-csv.ts). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * The console's CSV export downloaded by a clerk in a browser (a real download), with text that a
 * spreadsheet would run as a formula in its cells (issue #14): client names an admin typed, an
 * ERP's transaction id, beneficiary name and remark, and a bank reference an attacker wrote in
 * SQL. Every cell that starts a formula is neutralised (a leading apostrophe), the ids are the
 * same text otherwise (leading zeros kept), from both download links, in both languages (the
 * failure message is the console's language).
 */
describe('Finance console in a browser: the CSV export runs no formula a client, an ERP or a database writer put in it', function () {
  this.timeout(120_000);

  /** Client names as an admin may type them (the console's and the CLI's client creation take any text). */
  const NAMES = ['=HYPERLINK("http://evil.example/x","Klik")', '+62 811 CALC', "@SUM(1+1)*cmd|' /C calc'!A0", '\t=1+1', '\r=2+2'];
  /** The clients, by name, and the transaction id each paid under. */
  const paidBy = new Map<string, { clientId: string; transactionId: string }>();
  /** The ERP's own text (the API's patterns allow a leading `-`) and an id with leading zeros, paid by the first client. */
  const erp = { transactionId: `-2-3-${Date.now()}`, beneficiaryName: '-1-1 PT Minus', remark: '-10 (biaya)', zeros: `000${Date.now()}`, refused: `-9-${Date.now()}` };
  /** A paid payment whose bank reference an attacker rewrote in SQL into a formula. */
  let rewritten: string;
  const FORGED_REFERENCE = '=HYPERLINK("http://evil.example/ref","Bukti")';

  const suite = browserConsole(async ({ gw }) => {
    for (const name of NAMES) {
      const client = await gw.createClient({ name });
      const auth = { authorization: `Bearer ${await gw.token(client)}` };
      const transactionId = name === NAMES[0] ? erp.transactionId : `INV-${paidBy.size}-${Date.now()}`;
      const transfer = sampleTransfer({ transactionId, ...(name === NAMES[0] ? { beneficiaryName: erp.beneficiaryName, remark: erp.remark } : {}) });
      expect((await gw.request('/v1/transfers', { json: transfer, headers: auth })).status).to.equal(201);
      paidBy.set(name, { clientId: client.clientId, transactionId });
      if (name !== NAMES[0]) continue;
      expect((await gw.request('/v1/transfers', { json: sampleTransfer({ transactionId: erp.zeros }), headers: auth })).status).to.equal(201);
      // BCA refuses a transfer to its closed sample account (ESB-82-022): a failure message in the console's language.
      const refused = await gw.request('/v1/transfers', { json: sampleTransfer({ transactionId: erp.refused, beneficiaryAccountNumber: '0201245683' }), headers: auth });
      expect(refused.body.status, refused.text).to.equal('FAILED');
      rewritten = `INV-REF-${Date.now()}`;
      expect((await gw.request('/v1/transfers', { json: sampleTransfer({ transactionId: rewritten }), headers: auth })).status).to.equal(201);
    }
    // The attack, in SQL: only a bank (or a database writer) sets a bank reference.
    await gw.store.db.execute('UPDATE payments SET bank_reference = ? WHERE transaction_id = ?', [FORGED_REFERENCE, rewritten]);
  });

  /** The CSV export of `query` downloaded through the link `link` of the payment list, as its text. */
  async function download(link: '#export-csv' | '#export-csv-intl', query: string): Promise<string> {
    const { page, con } = suite;
    await page.goto(`${con.url}/payments?${query}`);
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(link)]);
    expect(file.suggestedFilename()).to.match(/^payments-\d{12}(-intl)?\.csv$/);
    return readFileSync(await file.path(), 'utf8').replace(/^\uFEFF/, '');
  }

  for (const lang of ['id', 'en'] as const) {
    const closed = lang === 'id' ? /ditutup \(ESB-82-022\)$/ : /^Account is closed \(ESB-82-022\)$/;

    describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
      before(() => signInToConsole(suite.browser, suite.page, suite.con.url, suite.admin, lang));

      for (const [link, delimiter] of [['#export-csv', ';'], ['#export-csv-intl', ',']] as const) {
        it(`downloads through ${link} a file none of whose cells starts a formula: names, the ERP's text and ids neutralised, other ids as they are`, async () => {
          const text = await download(link, '');
          const rows = parse(text, { columns: true, delimiter, relax_quotes: false }) as Record<string, string>[];
          const ours = rows.filter((r) => [...paidBy.values()].some((p) => p.clientId === r.client_id));
          expect(ours, 'every payment of the suite').to.have.length(NAMES.length + 3);
          for (const row of rows) for (const [column, cell] of Object.entries(row)) expect(cell, `${row.transaction_id} ${column}`).to.not.match(FORMULA_START);

          // Each client's name, as typed, behind one apostrophe; its id and transaction id as they are.
          for (const [name, { clientId, transactionId }] of paidBy) {
            const row = ours.find((r) => r.client_id === clientId && r.transaction_id === (name === NAMES[0] ? `'${transactionId}` : transactionId));
            expect(row, `${JSON.stringify(name)}'s payment`).to.not.equal(undefined);
            expect(row!.client).to.equal(`'${name}`);
          }
          const first = ours.find((r) => r.transaction_id === `'${erp.transactionId}`)!;
          expect(first).to.include({ beneficiary_name: `'${erp.beneficiaryName}`, remark: `'${erp.remark}`, status: 'SUCCESS', source_account: '0201245680', beneficiary_account: '0201245681' });
          expect(ours.find((r) => r.transaction_id === erp.zeros), 'an id with leading zeros is the same text').to.include({ status: 'SUCCESS' });
          // A decimal comma where `;` separates the cells (Indonesian spreadsheets), a decimal point beside `,`.
          expect(first.amount, 'the amount as this file’s spreadsheet reads a number').to.equal(delimiter === ';' ? '100000,00' : '100000.00');
          const refused = ours.find((r) => r.transaction_id === `'${erp.refused}`)!;
          expect(refused).to.include({ status: 'FAILED', failure_code: 'ESB-82-022' });
          expect(refused.failure_message, 'in the console’s language').to.match(closed);

          // The bank reference written in SQL: the payment is marked changed outside Gerbang, the forged
          // value in no cell of its own, only quoted inside what was found.
          const forged = ours.find((r) => r.transaction_id === rewritten)!;
          expect(forged).to.include({ status: 'CHANGED_OUTSIDE_GERBANG', bank_reference: '' });
          expect(forged.integrity_problem).to.match(/^payments id \d+ \(/).and.to.contain('bank reference "=HYPERLINK(');
          const holding = rows.flatMap((r) => Object.entries(r).filter(([, cell]) => cell.includes('evil.example/ref')).map(([column]) => `${r.transaction_id} ${column}`));
          expect(holding).to.deep.equal([`${rewritten} integrity_problem`]);
        });
      }
    });
  }
});
