import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';

/** The text of each cell of the table row of payment `id` on a page, tags dropped. */
function rowCells(page: string, id: number): string[] {
  const row = new RegExp(`<tr data-payment-id="${id}"[^>]*>([\\s\\S]*?)</tr>`).exec(page)?.[1];
  expect(row, `a row of payment #${id}`).to.be.a('string');
  return [...row!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());
}

/** The value of the facts row labelled `label` on a page. */
function fact(page: string, label: string): string | undefined {
  return new RegExp(`<tr><th scope="row">${label}</th><td[^>]*>([^<]*)</td></tr>`).exec(page)?.[1];
}

/** The options of the list's bank filter, as [value, label]. */
function bankOptions(page: string): [string, string][] {
  const select = /<select name="bank">([\s\S]*?)<\/select>/.exec(page)?.[1];
  expect(select, 'the bank filter').to.be.a('string');
  return [...select!.matchAll(/<option value="([^"]*)"[^>]*>([^<]*)<\/option>/g)].map((m) => [m[1], m[2]]);
}

/**
 * A payment carried by a connection whose id is no bank's name (`bca-main`, as an operator names
 * it in the bank connections' settings): every page that names its sending bank shows it as the
 * detail does, by its bank's name with the connection in brackets, never the connection id alone.
 */
forEachBackend('The console’s pages name the sending bank of a payment by its bank (#16)', (db) => {
  let con: TestConsole;
  let client: ConsoleClient;
  const now = Date.now();
  const who = `erp-${randomBytes(3).toString('hex')}`;
  const LABEL = 'Bank Central Asia (bca-main)';
  // As the router records a route through connection bca-main, a connection at BCA (its BIC).
  const routing = [{ partner: 'bca-main', bank: 'CENAIDJA', method: 'ONLINE', reason: 'account 0201245680 is held at bca-main (priority 1); beneficiary bank BMRIIDJA is another bank: interbank, ONLINE as asked', result: 'sent' }];
  let inDoubt = 0;
  let paid = 0;
  let failedOver = 0;
  // A connection whose only payment was changed in the database: none of its values (its routing record's bank neither) is shown as if real.
  const forgedConnection = `bca-${randomBytes(3).toString('hex')}`;

  before(async () => {
    const store = db.store();
    const carried = async (transactionId: string, state: 'UNKNOWN' | 'SUCCESS', routes = routing) => {
      const p = await store.payments.reserve({ clientId: who, transactionId, requestHash: 'a'.repeat(64), amount: '150000.00', currency: 'IDR', sourceAccount: '0201245680' }, now - 60_000);
      const bank = routes[routes.length - 1].partner;
      const resultJson = JSON.stringify({ transactionId, status: state, bank, transferMethod: 'ONLINE', bankResponseCode: null, bankMessage: null, routing: routes });
      expect(await store.payments.update(p.id, { state, bank, operation: 'transfer-online', bankReference: state === 'SUCCESS' ? 'REF-1' : null, resultJson }, now - 50_000)).to.equal(true);
      return p.id;
    };
    inDoubt = await carried(`SEND-${randomBytes(3).toString('hex')}`, 'UNKNOWN');
    paid = await carried(`SEND-${randomBytes(3).toString('hex')}`, 'SUCCESS');
    // bca-main did not answer, so the router went on to a second connection at BCA.
    failedOver = await carried(`SEND-${randomBytes(3).toString('hex')}`, 'SUCCESS', [
      { ...routing[0], result: 'not sent: Bank bca-main is not answering; nothing was sent. Retry later.' },
      { ...routing[0], partner: 'bca-dr', reason: routing[0].reason.replace('bca-main (priority 1)', 'bca-dr (priority 2)') },
    ]);
    await store.payments.enterReview(inDoubt, now - 40_000);
    const forged = await carried(`SEND-${randomBytes(3).toString('hex')}`, 'SUCCESS', [{ ...routing[0], partner: forgedConnection }]);
    // As an attacker with the database but no key would: the same sum written otherwise, the MAC left as it was.
    await store.db.execute("UPDATE payments SET amount = '150000.0' WHERE id = ?", [forged]);
    con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' }, { clock: () => now, sealSweep: false });
    const user = await con.createUser(`viewer-${randomBytes(3).toString('hex')}`, 'viewer');
    client = new ConsoleClient(con.origin);
    expect((await client.signIn(user.username, user.password)).status).to.equal(303);
  });
  after(() => con?.close());

  it('shows it on the payment detail, in its summary and in the routes tried', async () => {
    const page = (await client.get(`/console/payments/${inDoubt}`)).text;
    expect(fact(page, 'Bank pengirim')).to.equal(LABEL);
    const route = /<table class="routes">[\s\S]*?<tbody><tr><td>([^<]*)<\/td>/.exec(page)?.[1];
    expect(route).to.equal(LABEL);
  });

  it('names a route’s connection by its bank in what became of the route too', async () => {
    const page = (await client.get(`/console/payments/${failedOver}`)).text;
    expect(fact(page, 'Bank pengirim')).to.equal('Bank Central Asia (bca-dr)');
    const routes = /<table class="routes">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(page)![1];
    const tried = [...routes.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1].matchAll(/<td>([^<]*)<\/td>/g)].map((c) => c[1]));
    expect(tried.map((cells) => [cells[0], cells[3]])).to.deep.equal([
      [LABEL, 'tidak terkirim: Bank Central Asia (bca-main) tidak menjawab; tidak ada yang dikirim.'],
      ['Bank Central Asia (bca-dr)', 'terkirim'],
    ]);
  });

  it('shows the same in the payment list’s sending bank column', async () => {
    const list = await client.get('/console/payments');
    expect(list.status).to.equal(200);
    // Created, client, transaction id, beneficiary, remark, status, amount, sending bank, bank reference.
    expect(rowCells(list.text, inDoubt)[7]).to.equal(LABEL);
    expect(rowCells(list.text, paid)[7]).to.equal(LABEL);
  });

  it('shows the same in the list’s bank filter, two connections of one bank by their ids, each sending its connection id', async () => {
    const list = await client.get('/console/payments');
    const options = bankOptions(list.text);
    expect(options).to.deep.include.members([
      ['bca-dr', 'Bank Central Asia (bca-dr)'],
      ['bca-main', LABEL],
    ]);
    const filtered = await client.get('/console/payments?bank=bca-dr');
    expect(filtered.status).to.equal(200);
    expect([...filtered.text.matchAll(/<tr data-payment-id="(\d+)"/g)].map((m) => Number(m[1]))).to.deep.equal([failedOver]);
    expect(/id="print-summary">([^<]*)</.exec(filtered.text)?.[1]).to.contain('Bank pengirim: Bank Central Asia (bca-dr)');
  });

  it('names a connection in the bank filter by its id alone when its latest payment was changed outside Gerbang', async () => {
    const options = bankOptions((await client.get('/console/payments')).text);
    expect(options).to.deep.include([forgedConnection, forgedConnection]);
  });

  it('names the bank filter’s connection so in the access log of a list and an export, keeping its id, in either language', async () => {
    const auditor = await con.createUser(`auditor-${randomBytes(3).toString('hex')}`, 'auditor');
    const reader = new ConsoleClient(con.origin);
    expect((await reader.signIn(auditor.username, auditor.password)).status).to.equal(303);
    expect((await reader.get('/console/payments?bank=bca-dr&status=SUCCESS')).status).to.equal(200);
    expect((await reader.get('/console/payments/export.csv?bank=bca-main')).status).to.equal(200);
    expect((await reader.get(`/console/payments?bank=${forgedConnection}`)).status).to.equal(200);
    const recorded = await con.store.consoleAudit.list({ username: auditor.username });
    expect(recorded.filter((e) => e.action === 'list_payments' || e.action === 'export_csv').map((e) => [e.action, e.detail])).to.deep.equal([
      // A connection whose latest payment was changed outside Gerbang: by its id alone, as its option.
      ['list_payments', `bank=${forgedConnection}`],
      ['export_csv', `bank=${LABEL}`],
      ['list_payments', 'status=SUCCESS bank=Bank Central Asia (bca-dr)'],
    ]);
    for (const lang of ['id', 'en']) {
      await reader.get(`/console/lang?to=${lang}`);
      const log = (await reader.get(`/console/access-log?user=${auditor.username}`)).text;
      const details = [...log.matchAll(/<tr data-action="(list_payments|export_csv)"[^>]*>(?:<td[^>]*>.*?<\/td>){4}<td>([^<]*)<\/td>/g)].map((m) => [m[1], m[2]]);
      expect(details, lang).to.deep.equal([
        ['list_payments', `bank=${forgedConnection}`],
        ['export_csv', 'bank=Bank Central Asia (bca-main)'],
        ['list_payments', 'status=SUCCESS bank=Bank Central Asia (bca-dr)'],
      ]);
    }
  });

  it('shows the same in the review queue’s bank column', async () => {
    const review = await client.get('/console/review');
    expect(review.status).to.equal(200);
    // #, transaction id, client, status, amount, bank, …
    expect(rowCells(review.text, inDoubt)[5]).to.equal(LABEL);
  });

  it('shows the same on the proof of payment', async () => {
    const proof = await client.get(`/console/payments/${paid}/proof`);
    expect(proof.status).to.equal(200);
    expect(fact(proof.text, 'Bank pengirim')).to.equal(LABEL);
  });
});
