import { expect } from 'chai';
import { SimulatorNetwork } from '../../src/banks/simulator/index.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startTestBank, writePartnersFile, type TestBank } from '../support/test-bank.js';

/**
 * Routing by the paying account, against real simulated banks that each keep their own books:
 * BCA over two connections (priority 1, and a backup on another corporate, priority 2) both
 * holding the company's BCA account 0201245680; a second block on the main BCA corporate holding
 * 0201245681; a BNI partner (priority 3) holding the company's BNI account; and a BRI that only
 * receives money. BCA main, BNI and BRI are one simulated network so interbank credits arrive.
 */
forEachBackend('Routing by the paying account', (db) => {
  const BCA_ACCOUNT = '0201245680';
  const BCA_SECOND = '0201245681';
  const BNI_ACCOUNT = '0090000000';
  const BRI_VENDOR = '002000000000001';
  let primary: TestBank;
  let backup: TestBank;
  let bni: TestBank;
  let bri: TestBank;
  let gw: TestGateway;
  let token: string;

  before(async () => {
    const network = new SimulatorNetwork();
    primary = await startTestBank({ network });
    // Another BCA corporate on its own books (not in the network, so BCA's accounts stay the primary's there).
    backup = await startTestBank({});
    bni = await startTestBank({ bic: 'BNINIDJA', network });
    bri = await startTestBank({ bic: 'BRINIDJA', network, sources: [] });
    const file = writePartnersFile([
      backup.partnerBlock('bca-backup', 2, [BCA_ACCOUNT]),
      primary.partnerBlock('bca-main', 1, [BCA_ACCOUNT]),
      // A second block on the same BCA corporate id (same credentials), holding another account.
      primary.partnerBlock('bca-main-2', 1, [BCA_SECOND]),
      bni.partnerBlock('bni', 3, [BNI_ACCOUNT]),
    ]);
    gw = await TestGateway.start(db.url(), { GERBANG_BANK_PARTNERS_FILE: file, GERBANG_BANK_BREAKER_FAILURES: '1', GERBANG_BANK_BREAKER_COOLDOWN_MS: '60000' });
    token = await gw.token(await gw.createClient());
  });
  after(async () => {
    await gw?.close();
    await Promise.all([primary, backup, bni, bri].map((bank) => bank?.simulator.close()));
  });

  const pay = (body: Record<string, unknown>) => gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
  const transfersAt = (bank: TestBank) => bank.simulator.calls.filter((call) => call.path.startsWith('/banking/corporates/transfers') && call.method === 'POST');
  const toBri = (overrides: Record<string, unknown> = {}) =>
    sampleTransfer({ beneficiaryBankCode: 'BRINIDJA', beneficiaryAccountNumber: BRI_VENDOR, beneficiaryName: 'CV VENDOR SANDBOX', beneficiaryCustomerType: 'COMPANY', beneficiaryResident: true, ...overrides });

  it('keeps each simulated bank its own books: a BCA account is unknown at BNI and BRI', () => {
    expect(primary.simulator.balanceOf(BCA_ACCOUNT)).to.not.equal(null);
    expect(bni.simulator.balanceOf(BCA_ACCOUNT)).to.equal(null);
    expect(bri.simulator.balanceOf(BCA_ACCOUNT)).to.equal(null);
    expect(primary.simulator.balanceOf(BNI_ACCOUNT)).to.equal(null);
  });

  it('pays a BCA beneficiary from the BCA account on-us through the BCA connection of best priority', async () => {
    const before = transfersAt(backup).length;
    const res = await pay(sampleTransfer({ sourceAccountNumber: BCA_ACCOUNT }));
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'SUCCESS', bank: 'bca-main', transferMethod: 'INTRABANK' });
    expect(res.body.routing).to.have.length(1);
    expect(res.body.routing[0].reason).to.match(/account 0201245680 is held at bca-main.*paid on-us/);
    expect(transfersAt(backup).length).to.equal(before);
  });

  it('pays a BRI beneficiary from the BCA account interbank through BCA, the method chosen by amount, and BRI receives it', async () => {
    const start = Number(bri.simulator.balanceOf(BRI_VENDOR));
    for (const { amount, method } of [
      { amount: '2500000.00', method: 'ONLINE' },
      { amount: '60000000.00', method: 'SKN' },
      { amount: '150000000.00', method: 'RTGS' },
    ]) {
      const res = await pay(toBri({ amount }));
      // SKN and RTGS stay PENDING (202) until the bank reports them settled.
      const settled = method === 'ONLINE';
      expect(res.status, res.text).to.equal(settled ? 201 : 202);
      expect(res.body).to.include({ status: settled ? 'SUCCESS' : 'PENDING', bank: 'bca-main', transferMethod: method });
      expect(res.body.routing[0].reason).to.match(/held at bca-main.*another bank: interbank/);
    }
    expect(Number(bri.simulator.balanceOf(BRI_VENDOR)) - start).to.equal(212500000);
    const sent = JSON.parse(transfersAt(primary).at(-1)!.body);
    expect(sent).to.include({ source_account_number: BCA_ACCOUNT, beneficiary_bank_code: 'BRINIDJA', transfer_type: 'RTG' });
  });

  it('honours the method the ERP asks for, and refuses INTRABANK to another bank naming transferMethod', async () => {
    const asked = await pay(toBri({ amount: '1000.00', transferMethod: 'SKN' }));
    expect(asked.status, asked.text).to.equal(202);
    expect(asked.body).to.include({ transferMethod: 'SKN', status: 'PENDING' });
    const intrabank = await pay(toBri({ transferMethod: 'INTRABANK' }));
    expect(intrabank.status, intrabank.text).to.equal(422);
    expect(intrabank.body.errors[0].field).to.equal('transferMethod');
  });

  it('sends a payment from the BNI account through BNI, interbank to a BCA beneficiary, never on-us at BCA', async () => {
    const bcaBefore = transfersAt(primary).length;
    const vendorBefore = primary.simulator.balanceOf('0201245681');
    const res = await pay(sampleTransfer({ sourceAccountNumber: BNI_ACCOUNT, beneficiaryName: 'CV VENDOR SANDBOX', amount: '500.00' }));
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'SUCCESS', bank: 'bni' });
    expect(res.body.transferMethod).to.not.equal('INTRABANK');
    expect(transfersAt(primary).length, 'BCA was not asked to pay').to.equal(bcaBefore);
    expect(JSON.parse(transfersAt(bni).at(-1)!.body)).to.include({ source_account_number: BNI_ACCOUNT, beneficiary_bank_code: 'CENAIDJA' });
    expect(Number(primary.simulator.balanceOf('0201245681')) - Number(vendorBefore), 'the BCA vendor received it').to.equal(500);
  });

  it('sends a payment from the BCA account to a BNI beneficiary interbank through BCA, not on-us at BNI', async () => {
    const bniBefore = transfersAt(bni).length;
    const res = await pay(sampleTransfer({ beneficiaryBankCode: '009', beneficiaryAccountNumber: '0090000001', beneficiaryName: 'CV VENDOR SANDBOX', amount: '700.00' }));
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'SUCCESS', bank: 'bca-main' });
    expect(res.body.transferMethod).to.not.equal('INTRABANK');
    expect(transfersAt(bni).length, 'BNI was not asked to pay').to.equal(bniBefore);
  });

  it('refuses an account no partner holds with 400 naming sourceAccountNumber, and sends nothing', async () => {
    // Granted to the client, but configured at no partner: the operator's mistake, told plainly.
    const client = await gw.createClient({ accounts: ['0201999999'] });
    const headers = { authorization: `Bearer ${await gw.token(client)}` };
    const sent = [primary, backup, bni].map((bank) => transfersAt(bank).length);
    const res = await gw.request('/v1/transfers', { json: sampleTransfer({ sourceAccountNumber: '0201999999' }), headers });
    expect(res.status, res.text).to.equal(400);
    expect(res.body.code).to.equal('VALIDATION_FAILED');
    expect(res.body.errors[0].field).to.equal('sourceAccountNumber');
    expect([primary, backup, bni].map((bank) => transfersAt(bank).length)).to.deep.equal(sent);
  });

  describe('when the ERP leaves sourceAccountNumber out', () => {
    it("pays from the default account at the beneficiary's bank when the company has one there", async () => {
      const res = await pay(sampleTransfer({ sourceAccountNumber: undefined, beneficiaryBankCode: '009', beneficiaryAccountNumber: '0090000001', amount: '300.00' }));
      expect(res.status, res.text).to.equal(201);
      expect(res.body).to.include({ status: 'SUCCESS', bank: 'bni', transferMethod: 'INTRABANK' });
      expect(JSON.parse(transfersAt(bni).at(-1)!.body)).to.include({ SourceAccountNumber: BNI_ACCOUNT });
    });

    it('pays from the default account of the partner of best priority otherwise', async () => {
      const res = await pay(toBri({ sourceAccountNumber: undefined, amount: '400.00' }));
      expect(res.status, res.text).to.equal(201);
      expect(res.body).to.include({ status: 'SUCCESS', bank: 'bca-main' });
      expect(JSON.parse(transfersAt(primary).at(-1)!.body)).to.include({ source_account_number: BCA_ACCOUNT });
    });
  });

  describe('bank transaction ids', () => {
    const sentIds = () => transfersAt(primary).map((call) => JSON.parse(call.body) as Record<string, string>).map((body) => body.TransactionID ?? body.transaction_id);

    it('are unique per bank and corporate id: two partner blocks on one BCA corporate never collide', async () => {
      for (let i = 0; i < 3; i += 1) {
        const first = await pay(sampleTransfer({ sourceAccountNumber: BCA_ACCOUNT, beneficiaryAccountNumber: BCA_SECOND, amount: '1.00' }));
        const second = await pay(sampleTransfer({ sourceAccountNumber: BCA_SECOND, beneficiaryAccountNumber: BCA_ACCOUNT, amount: '1.00' }));
        expect([first.body.bank, second.body.bank]).to.deep.equal(['bca-main', 'bca-main-2']);
        expect([first.status, second.status], second.text).to.deep.equal([201, 201]);
      }
      const ids = sentIds();
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('never repeat after the store is restored from an earlier backup (its counters set back)', async () => {
      const before = new Set(sentIds());
      // A restore takes the gateway down for longer than a second: let the clock's second turn.
      const second = Math.floor(Date.now() / 1000);
      while (Math.floor(Date.now() / 1000) === second) await new Promise((resolve) => setTimeout(resolve, 20));
      // The restore, as a database restore does it: every counter back to where a backup had it.
      await gw.store.db.execute('UPDATE sequences SET value = 1');
      const res = await pay(sampleTransfer({ sourceAccountNumber: BCA_ACCOUNT, amount: '1.00' }));
      expect(res.status, res.text).to.equal(201);
      expect(res.body.status).to.equal('SUCCESS');
      const issued = sentIds().at(-1)!;
      expect(issued).to.match(/^\d{8}$/);
      expect(before.has(issued), `${issued} was issued before the restore`).to.equal(false);
    });
  });

  // Last: these close the BCA simulators (mocha runs a describe's own tests before its nested ones).
  describe('when BCA connections go down', () => {
    it('falls back to another connection holding the same account when the best one is down, and records both decisions', async () => {
      await primary.simulator.close();
      const body = sampleTransfer();
      const before = transfersAt(backup).length;
      const res = await pay(body);
      expect(res.status, res.text).to.equal(201);
      expect(res.body).to.include({ status: 'SUCCESS', bank: 'bca-backup' });
      // Each decision names the connection and the bank it is at (its BIC), so the console can say "BCA", not only `bca-main`.
      expect(res.body.routing.map((d: { partner: string; bank: string }) => [d.partner, d.bank])).to.deep.equal([['bca-main', 'CENAIDJA'], ['bca-backup', 'CENAIDJA']]);
      expect(res.body.routing[0].result).to.match(/^not sent/);
      expect(res.body.routing[1].result).to.equal('sent');
      expect(transfersAt(backup).length).to.equal(before + 1);

      const [row] = await eventually(async () => {
        const rows = await gw.store.audit.list({ transactionId: body.transactionId as string });
        return rows[0]?.completedAt ? rows : null;
      });
      expect(JSON.parse(row.responseBody!).routing).to.have.length(2);

      // With bca-main's circuit now open, the next transfer skips it without trying to connect.
      const again = await pay(sampleTransfer());
      expect(again.body.bank).to.equal('bca-backup');
      expect(again.body.routing[0].result).to.match(/not answering|not sent/);
    });

    it('never falls back to another bank: with every BCA connection down, a payment from the BCA account is not sent through BNI', async () => {
      await backup.simulator.close();
      const bniBefore = transfersAt(bni).length;
      const res = await pay(toBri({ amount: '100.00' }));
      expect(res.status, res.text).to.equal(503);
      expect(res.body.code).to.equal('BANK_UNAVAILABLE');
      expect(transfersAt(bni).length, 'BNI was not asked to pay from a BCA account').to.equal(bniBefore);
    });
  });
});
