import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/store/index.js';
import { axeViolations, signInToConsole } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';
import { ConsoleClient } from '../support/console-client.js';
import { eventually, sampleTransfer } from '../support/gateway-harness.js';

/**
 * Payments and console users changed in SQL by an attacker without keys
 * (docs/security/database-attacks.md): the console's list, detail, review and run pages and its
 * exports show the payments marked, in both languages, with no action on them and none of their
 * values shown as if real, and still show everything else; the users page flags the users.
 */
describe('Finance console in a browser: payments changed outside Gerbang are marked, never refused nor acted on', function () {
  this.timeout(120_000);

  /** A paid payment whose amount was changed in SQL (its MAC no longer holds). */
  let altered: { id: number; transactionId: string };
  /** A paid payment whose sealed details were replaced by clear text naming another beneficiary. */
  let resealed: { id: number; transactionId: string };
  /** A refused payment moved into the review queue in SQL (its state no longer matches its history). */
  let queued: { id: number; transactionId: string };
  /** A payment run, one of whose lines' payments was altered. */
  let run: { pk: number; forgedLine: number; lines: number };
  /** The values the forged rows carry, none of which a page or an export may show as real. */
  let forgedValues: { alteredAmount: string; queuedAmount: string; queuedBankTransactionId: string; lineAmount: string };
  /** Console users changed in SQL: a role raised, an older copy written back, one with no change record. */
  const forgedUsers = { raised: 'rudi.raised', writtenBack: 'sari.restored', unrecorded: 'tono.unrecorded' };

  /** How the mark names a forged payment: its row, or the sealed value of it that did not open. */
  const named = (forged: { id: number }) => (forged === resealed ? `payments.details_json of row [${forged.id}]` : `payments id ${forged.id} (`);
  const idOf = async (db: Db, transactionId: string) => Number((await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [transactionId]))[0].id);

  const suite = browserConsole(async ({ gw, con }) => {
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
    const [queuedRow] = await db.query<{ amount: string; bank_transaction_id: string | null }>('SELECT amount, bank_transaction_id FROM payments WHERE id = ?', [queued.id]);
    forgedValues = { alteredAmount: 'Rp 1,00', queuedAmount: String(queuedRow.amount), queuedBankTransactionId: queuedRow.bank_transaction_id ?? 'none', lineAmount: 'Rp 1.000,00' };

    // Console users, in SQL: a viewer's role raised; an auditor's row written back from before an
    // admin disabled it; an analyst's change records deleted (a row the gateway never wrote).
    await con.createUser(forgedUsers.raised, 'viewer');
    await db.execute("UPDATE console_users SET role = 'admin' WHERE username = ?", [forgedUsers.raised]);
    await con.createUser(forgedUsers.writtenBack, 'auditor');
    const [before] = await db.query<Record<string, string | number | null>>('SELECT id, status, updated_at, mac_key_id, mac FROM console_users WHERE username = ?', [forgedUsers.writtenBack]);
    expect(await con.store.consoleUsers.update(Number(before.id), { status: 'disabled' }, Date.now() + 1000)).to.equal(true);
    await db.execute('UPDATE console_users SET status = ?, updated_at = ?, mac_key_id = ?, mac = ? WHERE id = ?', [before.status, before.updated_at, before.mac_key_id, before.mac, before.id]);
    await con.createUser(forgedUsers.unrecorded, 'viewer');
    const [unrecorded] = await db.query<{ id: number | string }>('SELECT id FROM console_users WHERE username = ?', [forgedUsers.unrecorded]);
    await db.execute("DELETE FROM record_changes WHERE table_name = 'console_users' AND row_key = ?", [JSON.stringify([String(unrecorded.id)])]);
  });

  for (const lang of ['id', 'en'] as const) {
    const words =
      lang === 'id'
        ? { changed: 'DIUBAH DI LUAR GERBANG', found: 'Yang ditemukan', noAction: 'Tidak bisa diselesaikan' }
        : { changed: 'CHANGED OUTSIDE GERBANG', found: 'What was found', noAction: 'Cannot be resolved' };

    describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
      before(() => signInToConsole(suite.browser, suite.page, suite.con.url, suite.admin, lang));

      it('shows the detail page of a payment whose amount was changed in SQL with the mark in place of its status, and no proof to print', async () => {
        const answer = await suite.page.goto(`${suite.con.url}/payments/${altered.id}`);
        expect(answer?.status()).to.equal(200);
        const banner = (await suite.page.textContent('#status-banner')) ?? '';
        expect(banner).to.contain(words.changed).and.to.contain(words.found);
        expect(banner).to.contain(`payments id ${altered.id} (`).and.to.contain(`/ ${altered.transactionId}) was altered`);
        expect(await suite.page.locator('#proof-link').count(), 'no proof of a forged payment').to.equal(0);
        // Which payment, never its values: the forged amount, its status history or its bank's answer.
        const facts = await suite.page.locator('table.facts th').allTextContents();
        expect(facts).to.have.length(2);
        expect(await suite.page.textContent('main')).to.not.contain(forgedValues.alteredAmount);
        expect(await suite.page.locator('ol.changes').count(), 'no status changes read from the forged row').to.equal(0);
        expect((await suite.page.goto(`${suite.con.url}/payments/${altered.id}/proof`))?.status(), 'nor by its URL').to.equal(500);
        await suite.page.goto(`${suite.con.url}/payments/${altered.id}`);
        expect(await axeViolations(suite.page)).to.deep.equal([]);
      });

      it('shows the detail page of a payment whose sealed details were replaced in SQL marked, without the forged values', async () => {
        const answer = await suite.page.goto(`${suite.con.url}/payments/${resealed.id}`);
        expect(answer?.status()).to.equal(200);
        const banner = (await suite.page.textContent('#status-banner')) ?? '';
        expect(banner).to.contain(words.changed).and.to.contain(`payments.details_json of row [${resealed.id}]`);
        expect((await suite.page.content()).includes('MALLORY'), 'the value that did not open is not shown').to.equal(false);
        expect(await axeViolations(suite.page)).to.deep.equal([]);
      });

      it('shows the review queue with a refused payment moved into it in SQL marked, and no form to resolve it', async () => {
        const answer = await suite.page.goto(`${suite.con.url}/review`);
        expect(answer?.status()).to.equal(200);
        const row = suite.page.locator(`tr[data-payment-id="${queued.id}"]`);
        expect(await row.getAttribute('class')).to.equal('integrity-failed');
        const text = (await row.textContent()) ?? '';
        expect(text).to.contain(words.changed).and.to.contain(words.noAction);
        expect(text).to.contain(`payments id ${queued.id} (`).and.to.contain(`/ ${queued.transactionId}) was changed without an event in its history: state "UNKNOWN"`);
        expect(await row.locator('form').count(), 'no resolve form').to.equal(0);
        expect(await row.locator('a.statement-link').count(), 'no statement to check from its forged account').to.equal(0);
        // Only what `transfer review list` shows: which payment and what was found, none of its values.
        expect(await row.locator('td').allTextContents()).to.have.length(5);
        expect(await row.locator('td.num').count(), 'no amount').to.equal(0);
        expect(text, 'no forged amount').to.not.contain(forgedValues.queuedAmount);
        expect(text, 'no forged bank transaction id').to.not.contain(forgedValues.queuedBankTransactionId);
        expect(await axeViolations(suite.page)).to.deep.equal([]);
        // Nor by posting the form anyway: the resolution reads the payment checked, and refuses it.
        const direct = new ConsoleClient(suite.con.origin, '127.0.0.9');
        expect((await direct.signIn(suite.admin.username, suite.admin.password)).status).to.equal(303);
        await direct.get('/console/review');
        const forced = await direct.post(`/console/review/${queued.id}/resolve`, { _csrf: direct.csrf, outcome: 'SUCCESS', evidenceKind: 'BANK_REFERENCE', evidence: 'REF-FORGED-1' });
        expect(forced.status).to.equal(500);
        expect(await suite.gw.store.db.query('SELECT state FROM payments WHERE id = ?', [queued.id])).to.deep.equal([{ state: 'UNKNOWN' }]);
      });

      it('opens the reconciliation page for a payment changed in SQL marked, its form not filled from the payment', async () => {
        const answer = await suite.page.goto(`${suite.con.url}/reconciliation?payment=${queued.id}`);
        expect(answer?.status()).to.equal(200);
        const mark = (await suite.page.textContent('div.integrity-failed')) ?? '';
        expect(mark).to.contain(words.changed).and.to.contain(words.found).and.to.contain(`payments id ${queued.id} (`);
        expect(await suite.page.inputValue('input[name="account"]'), 'no account taken from a forged payment').to.equal('');
        expect(await suite.page.locator(`#payment-${queued.id}`).count(), 'no statement read for it').to.equal(0);
        expect(await axeViolations(suite.page)).to.deep.equal([]);
      });

      it('lists payments changed in SQL marked with what was found, none of their values shown as if real', async () => {
        const answer = await suite.page.goto(`${suite.con.url}/payments`);
        expect(answer?.status()).to.equal(200);
        for (const forged of [altered, resealed]) {
          const row = suite.page.locator(`tr[data-payment-id="${forged.id}"]`);
          expect(await row.getAttribute('class')).to.equal('integrity-failed');
          const text = (await row.textContent()) ?? '';
          expect(text).to.contain(words.changed).and.to.contain(words.found).and.to.contain(named(forged)).and.to.contain(forged.transactionId);
          expect(await row.locator('td.num').count(), 'no amount').to.equal(0);
          expect(await row.locator('.status, .beneficiary, .bank-name').count(), 'no status, beneficiary or bank').to.equal(0);
          expect(text).to.not.contain(forgedValues.alteredAmount).and.to.not.contain('MALLORY');
        }
        expect(await suite.page.locator('table.payments tbody tr:not(.integrity-failed) td.num').count(), 'the other payments as they are').to.be.greaterThan(0);
        expect(await axeViolations(suite.page)).to.deep.equal([]);
      });

      it('flags on the users page each console user changed in SQL: a role raised, an older row written back, a row with no change record', async () => {
        const answer = await suite.page.goto(`${suite.con.url}/admin`);
        expect(answer?.status()).to.equal(200);
        const flag = async (username: string) => (await suite.page.locator(`tr[data-flagged-user="${username}"]`).textContent()) ?? '';
        const userWord = lang === 'id' ? `Data pengguna "` : `User "`;
        expect(await flag(forgedUsers.raised)).to.contain(`${userWord}${forgedUsers.raised}"`).and.to.contain(words.found).and.to.contain('console_users id').and.to.contain('was altered');
        expect(await flag(forgedUsers.writtenBack)).to.contain(`${userWord}${forgedUsers.writtenBack}"`).and.to.contain('is not its latest state').and.to.contain('an older copy of the row was written back');
        expect(await flag(forgedUsers.unrecorded)).to.contain(`${userWord}${forgedUsers.unrecorded}"`).and.to.contain('has no change record');
        expect(await suite.page.locator('tr[data-flagged-user]').count(), 'no other user flagged').to.equal(3);
        expect(await axeViolations(suite.page)).to.deep.equal([]);
      });

      it('shows a payment run with the altered line marked and its other lines as they are', async () => {
        const answer = await suite.page.goto(`${suite.con.url}/runs/${run.pk}`);
        expect(answer?.status()).to.equal(200);
        const forged = suite.page.locator(`tr[data-line="${run.forgedLine}"]`);
        expect(await forged.getAttribute('class')).to.equal('outcome-forged');
        expect((await forged.textContent()) ?? '').to.contain(words.changed).and.to.contain('was altered');
        expect(await suite.page.locator('table.run-lines tr.outcome-paid').count(), 'the other lines').to.equal(run.lines - 1);
        expect(await suite.page.locator('#run-totals tr[data-outcome="forged"] td.num').allTextContents(), 'counted, its forged amount in no total').to.deep.equal(['1', '—']);
        expect(await forged.locator('td.num').textContent(), 'the forged amount is not shown').to.equal('—');
        expect((await forged.textContent()) ?? '').to.not.contain(forgedValues.alteredAmount);
        expect(await axeViolations(suite.page)).to.deep.equal([]);
      });
    });
  }

  it('exports payments changed in SQL marked, with what was found, and none of their values: CSV and .xlsx', async () => {
    const direct = new ConsoleClient(suite.con.origin, '127.0.0.10');
    expect((await direct.signIn(suite.admin.username, suite.admin.password)).status).to.equal(303);
    const csv = await direct.get('/console/payments/export.csv?csv=intl');
    expect(csv.status).to.equal(200);
    const rows = parse(csv.text.replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];
    const byTransaction = new Map(rows.map((r) => [r.transaction_id, r]));
    for (const forged of [altered, resealed, queued]) {
      const row = byTransaction.get(forged.transactionId)!;
      expect(row.status).to.equal('CHANGED_OUTSIDE_GERBANG');
      expect(row.integrity_problem).to.contain(named(forged));
      expect(row.client_id).to.not.equal('');
      // Nothing a clerk could sum, match against a statement or take for paid.
      for (const column of ['amount', 'currency', 'source_account', 'beneficiary_name', 'beneficiary_account', 'sending_bank', 'bank_reference', 'bank_transaction_id', 'failure_message', 'created_wib', 'updated_wib']) {
        expect(row[column], `${forged.transactionId} ${column}`).to.equal('');
      }
    }
    const real = rows.filter((r) => r.integrity_problem === '');
    expect(real.length, 'the other payments as they are').to.be.greaterThan(0);
    for (const row of real) expect(row.amount).to.match(/^\d+\.\d{2}$/);

    const xlsx = await direct.getBuffer('/console/payments/export.xlsx');
    expect(xlsx.status).to.equal(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.body as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('payments')!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
    const cell = (r: number, name: string) => sheet.getRow(r).getCell(header.indexOf(name) + 1).value;
    const line = Array.from({ length: sheet.rowCount - 1 }, (_, i) => i + 2).find((r) => cell(r, 'transaction_id') === altered.transactionId)!;
    expect(cell(line, 'status')).to.equal('CHANGED_OUTSIDE_GERBANG');
    expect(cell(line, 'amount'), 'no amount, not even a 0 a sum would count').to.equal(null);
    expect(String(cell(line, 'integrity_problem'))).to.contain(`payments id ${altered.id} (`).and.to.contain('was altered');
  });
});
