import { expect } from 'chai';
import { SimulatorNetwork } from '../../src/banks/simulator/index.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startTestBank, writePartnersFile, type TestBank } from '../support/test-bank.js';

/**
 * Partners and routing against real simulated banks: two connections to BCA (priority 1 and 2)
 * and a BRI that only receives money, all in one simulated network so interbank credits arrive.
 */
forEachBackend('Routing by beneficiary bank, amount and partner priority', (db) => {
  let network: SimulatorNetwork;
  let primary: TestBank;
  let backup: TestBank;
  let bri: TestBank;
  let gw: TestGateway;
  let token: string;

  before(async () => {
    network = new SimulatorNetwork();
    primary = await startTestBank({ network });
    // A second BCA connection (another corporate id) on its own books: not in the network, so
    // the BRI simulator keeps answering for BRINIDJA and BCA's accounts stay the primary's.
    backup = await startTestBank({});
    bri = await startTestBank({ bic: 'BRINIDJA', network, sources: [] });
    const file = writePartnersFile([backup.partnerBlock('bca-backup', 2), primary.partnerBlock('bca-main', 1)]);
    gw = await TestGateway.start(db.url(), { GERBANG_BANK_PARTNERS_FILE: file, GERBANG_BANK_BREAKER_FAILURES: '1', GERBANG_BANK_BREAKER_COOLDOWN_MS: '60000' });
    token = await gw.token(await gw.createClient());
  });
  after(async () => {
    await gw?.close();
    await Promise.all([primary, backup, bri].map((bank) => bank?.simulator.close()));
  });

  const pay = (body: Record<string, unknown>) => gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
  const transfersAt = (bank: TestBank) => bank.simulator.calls.filter((call) => call.path.startsWith('/banking/corporates/transfers') && call.method === 'POST');

  it('pays a BCA beneficiary on-us through the partner of best priority', async () => {
    const before = transfersAt(backup).length;
    const res = await pay(sampleTransfer());
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'SUCCESS', bank: 'bca-main', transferMethod: 'INTRABANK' });
    expect(res.body.routing).to.have.length(1);
    expect(res.body.routing[0].reason).to.match(/paid on-us/);
    expect(transfersAt(backup).length).to.equal(before);
  });

  it('pays a BRI beneficiary interbank through the best partner, the method chosen by amount, and BRI receives it', async () => {
    bri.simulator.setAccount({ number: '0020001111', name: 'CV BRI VENDOR', balance: '0.00' });
    const cases = [
      { amount: '2500000.00', method: 'ONLINE' },
      { amount: '60000000.00', method: 'SKN' },
      { amount: '150000000.00', method: 'RTGS' },
    ];
    for (const { amount, method } of cases) {
      const res = await pay(sampleTransfer({ beneficiaryBankCode: 'BRINIDJA', beneficiaryAccountNumber: '0020001111', beneficiaryName: 'CV BRI VENDOR', amount }));
      // SKN and RTGS stay PENDING (202) until the bank reports them settled.
      const settled = method === 'ONLINE';
      expect(res.status, res.text).to.equal(settled ? 201 : 202);
      expect(res.body).to.include({ status: settled ? 'SUCCESS' : 'PENDING', bank: 'bca-main', transferMethod: method });
      expect(res.body.routing[0].reason).to.match(/not a partner: interbank through bca-main/);
    }
    expect(bri.simulator.balanceOf('0020001111')).to.equal('212500000.00');
    const sent = JSON.parse(transfersAt(primary).at(-1)!.body);
    expect(sent).to.include({ beneficiary_bank_code: 'BRINIDJA', transfer_type: 'RTG', beneficiary_name: 'CV BRI VENDOR' });
  });

  it('honours the method the ERP asks for', async () => {
    const res = await pay(
      sampleTransfer({ beneficiaryBankCode: '002', beneficiaryAccountNumber: '0020001111', beneficiaryName: 'CV BRI VENDOR', amount: '1000.00', transferMethod: 'SKN' }),
    );
    expect(res.status, res.text).to.equal(202);
    expect(res.body).to.include({ transferMethod: 'SKN', status: 'PENDING' });
  });

  it('falls back to the next partner when the best one is down, and records both decisions in the audit', async () => {
    await primary.simulator.close();
    const body = sampleTransfer();
    const before = transfersAt(backup).length;
    const res = await pay(body);
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'SUCCESS', bank: 'bca-backup' });
    expect(res.body.routing.map((d: { partner: string }) => d.partner)).to.deep.equal(['bca-main', 'bca-backup']);
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
});
