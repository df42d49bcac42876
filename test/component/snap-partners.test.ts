import { expect } from 'chai';
import { resolveSnapProfile } from '../../src/banks/snap/index.js';
import { BNI_SNAP_DIALECT, SimulatorNetwork, type BankSimulator } from '../../src/banks/simulator/index.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { snapCredentials, snapPartnerBlock, startSnapBank } from '../support/snap-bank.js';
import { startTestBank, writePartnersFile, type TestBank } from '../support/test-bank.js';

/**
 * SNAP partners configured as blocks of the partners file — BCA on the default profile, BNI on
 * its own (its SDK's paths, HMAC keyed by the API secret, X-DEVICE-ID) — paying through the public
 * API against simulated banks of one network.
 */
forEachBackend('SNAP bank partners through the public API', (db) => {
  const bcaCredentials = snapCredentials();
  const bniCredentials = { ...snapCredentials(), channelId: resolveSnapProfile({ profile: 'bni' }).channelId, partnerId: 'bni-api-key' };
  let bca: BankSimulator;
  let bni: BankSimulator;
  let bri: TestBank;
  let gw: TestGateway;
  let auth: Record<string, string>;

  before(async () => {
    const network = new SimulatorNetwork();
    // BI-FAST does not reach Bank Jago in this network: BCA refuses a BI-FAST transfer there (403xx15).
    const bcaBank = await startSnapBank(bcaCredentials, { network, bic: 'CENAIDJA', snapBifastUnreachable: ['ATOSIDJ1'] });
    const bniBank = await startSnapBank(bniCredentials, { network, bic: 'BNINIDJA', snapProfile: BNI_SNAP_DIALECT });
    bca = bcaBank.simulator;
    bni = bniBank.simulator;
    bri = await startTestBank({ bic: 'BRINIDJA', network, sources: [] });
    const file = writePartnersFile([
      // The company accounts each partner pays from and reads (the tests open them at the banks).
      snapPartnerBlock('bca-snap', '014', 1, bcaBank.url, bcaCredentials, { accounts: ['0201555001', '0201555011', '0201555031', '0201556000', '0201556500', '0201557001', '0201557002', '0201558001'] }),
      snapPartnerBlock('bni-snap', '009', 2, bniBank.url, bniCredentials, { profile: 'bni', apiSecret: bniCredentials.apiSecret, channelId: undefined, accounts: ['0090555021'] }),
    ]);
    gw = await TestGateway.start(db.url(), { GERBANG_BANK_PARTNERS_FILE: file, GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_BANK_HEADERS_TIMEOUT_MS: '400' });
    auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
  });
  after(async () => {
    await gw?.close();
    await Promise.all([bca, bni, bri?.simulator].map((bank) => bank?.close()));
  });

  const snapTransfers = (bank: BankSimulator, path: string) => bank.calls.filter((c) => c.path === path && c.method === 'POST');

  it('pays a BCA beneficiary on-us over SNAP, X-EXTERNAL-ID and partnerReferenceNo from the store, and audits the bank legs', async () => {
    bca.setAccount({ number: '0201555001', name: 'PT PAYER SNAP', balance: '1000000.00' });
    bca.setAccount({ number: '0201555002', name: 'CV PAYEE SNAP', balance: '0.00' });
    const body = sampleTransfer({ sourceAccountNumber: '0201555001', beneficiaryAccountNumber: '0201555002', amount: '2500.00' });
    const res = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'SUCCESS', bank: 'bca-snap', transferMethod: 'INTRABANK' });
    expect(bca.balanceOf('0201555002')).to.equal('2500.00');
    const sent = snapTransfers(bca, '/openapi/v1.0/transfer-intrabank').at(-1)!;
    expect(sent.headers['x-external-id']).to.match(/^\d+$/);
    expect(JSON.parse(sent.body).partnerReferenceNo).to.equal(sent.headers['x-external-id']);

    const [row] = await eventually(async () => {
      const rows = await gw.store.audit.list({ transactionId: body.transactionId as string });
      return rows[0]?.completedAt ? rows : null;
    });
    expect(row.bankCalls.map((c) => c.operation)).to.include.members(['token', 'transfer-intrabank']);
    // The B2B token travels in the token answer and every Authorization header: never in the audit.
    const accessToken = sent.headers.authorization.replace(/^Bearer /, '');
    expect(JSON.stringify(row.bankCalls)).not.to.contain(accessToken);
    expect(JSON.stringify(row.bankCalls)).not.to.contain(sent.headers['x-signature']);
    // X-PARTNER-ID is BNI's API key: redacted for every SNAP bank.
    expect(row.bankCalls.find((c) => c.operation === 'transfer-intrabank')!.requestHeaders['X-PARTNER-ID']).to.equal('[REDACTED]');

    const status = await gw.request(`/v1/transfers/${body.transactionId}`, { headers: auth });
    expect(status.body.status).to.equal('SUCCESS');
  });

  it('pays a BRI beneficiary interbank through the best-priority SNAP partner, and BRI receives it', async () => {
    bca.setAccount({ number: '0201555011', name: 'PT PAYER SNAP', balance: '1000000.00' });
    bri.simulator.setAccount({ number: '002000000555011', name: 'CV BRI VENDOR', balance: '0.00' });
    const res = await gw.request('/v1/transfers', {
      json: sampleTransfer({ sourceAccountNumber: '0201555011', beneficiaryBankCode: 'BRINIDJA', beneficiaryAccountNumber: '002000000555011', beneficiaryName: 'CV BRI VENDOR', amount: '1000.00' }),
      headers: auth,
    });
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'SUCCESS', bank: 'bca-snap' });
    expect(bri.simulator.balanceOf('002000000555011')).to.equal('1000.00');
    expect(snapTransfers(bca, '/openapi/v2.0/transfer-interbank')).to.have.length.greaterThan(0);
  });

  it('pays a BNI beneficiary on-us through the BNI partner, a config block on the BNI profile', async () => {
    bni.setAccount({ number: '0090555021', name: 'PT PAYER BNI', balance: '1000000.00' });
    bni.setAccount({ number: '0090555022', name: 'CV PAYEE BNI', balance: '0.00' });
    const res = await gw.request('/v1/transfers', {
      json: sampleTransfer({ sourceAccountNumber: '0090555021', beneficiaryBankCode: '009', beneficiaryAccountNumber: '0090555022', amount: '700.00' }),
      headers: auth,
    });
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'SUCCESS', bank: 'bni-snap', transferMethod: 'INTRABANK' });
    expect(bni.balanceOf('0090555022')).to.equal('700.00');
    const sent = snapTransfers(bni, '/snap-service/v1/transfer-intrabank').at(-1)!;
    expect(sent.headers['x-timestamp']).to.match(/T\d{2}:\d{2}:\d{2}\+07:00$/);
    expect(JSON.parse(sent.body)).to.deep.include({ feeType: 'OUR', additionalInfo: { deviceId: 'gerbang', channel: 'API' } });
  });

  it('pays a Bank Jago (542) vendor: BI-FAST refused as unavailable for that bank, then online switching at the same partner under a new id', async () => {
    bca.setAccount({ number: '0201558001', name: 'PT PAYER SNAP', balance: '1000000.00' });
    const interbank = () => snapTransfers(bca, '/openapi/v2.0/transfer-interbank');
    const before = interbank().length;
    const res = await gw.request('/v1/transfers', {
      json: sampleTransfer({ sourceAccountNumber: '0201558001', beneficiaryBankCode: '542', beneficiaryAccountNumber: '100200300400', beneficiaryName: 'CV JAGO VENDOR', amount: '1500.00' }),
      headers: auth,
    });
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'SUCCESS', bank: 'bca-snap', transferMethod: 'ONLINE' });
    const [bifast, online] = interbank().slice(before);
    expect([bifast.status, JSON.parse(bifast.body).additionalInfo.transferType, JSON.parse(bifast.body).beneficiaryBankCode]).to.deep.equal([403, '2', 'ATOSIDJ1']);
    expect(bifast.errorCode).to.equal('4031815');
    expect([online.status, JSON.parse(online.body).additionalInfo.transferType]).to.deep.equal([200, '1']);
    expect(JSON.parse(online.body).partnerReferenceNo, 'a new id for the new route').not.to.equal(JSON.parse(bifast.body).partnerReferenceNo);
    expect(interbank().length - before, 'two sends: BI-FAST refused, then switching').to.equal(2);
    expect(bca.balanceOf('0201558001')).to.equal('998500.00');
  });

  it('answers an account inquiry and a balance over SNAP', async () => {
    bca.setAccount({ number: '0201555031', name: 'CV SNAP VENDOR', balance: '42.00' });
    const inquiry = await gw.request('/v1/account-inquiries', { json: { beneficiaryBankCode: '014', beneficiaryAccountNumber: '0201555031' }, headers: auth });
    expect(inquiry.status, inquiry.text).to.equal(200);
    expect(inquiry.body).to.include({ beneficiaryName: 'CV SNAP VENDOR', bank: 'bca-snap', bankCode: 'CENAIDJA' });
    const balance = await gw.request('/v1/accounts/0201555031/balance', { headers: auth });
    expect(balance.status, balance.text).to.equal(200);
    expect(balance.body).to.include({ balance: '42.00', bank: 'bca-snap', bankCode: 'CENAIDJA' });
  });

  for (const [remark, wait] of [['SIM TIMEOUT', 0], ['SIM PENDING', 500]] as const) {
    it(`settles a transfer left in doubt (${remark}) by SNAP status inquiry, without sending it again`, async () => {
      const source = `0201556${String(wait).padStart(3, '0')}`;
      bca.setAccount({ number: source, name: 'PT PAYER SNAP', balance: '1000000.00' });
      const body = sampleTransfer({ sourceAccountNumber: source, remark, amount: '10.00' });
      const first = await gw.request('/v1/transfers', { json: body, headers: auth });
      expect(first.body.status, first.text).to.equal('UNKNOWN');
      const sends = snapTransfers(bca, '/openapi/v1.0/transfer-intrabank').length;
      await new Promise((resolve) => setTimeout(resolve, wait));
      await gw.gateway.resolver.runOnce();
      const settled = await gw.request(`/v1/transfers/${body.transactionId}`, { headers: auth });
      expect(settled.body.status).to.equal('SUCCESS');
      expect(snapTransfers(bca, '/openapi/v1.0/transfer/status').length).to.be.greaterThan(0);
      expect(snapTransfers(bca, '/openapi/v1.0/transfer-intrabank').length, 'never sent again').to.equal(sends);
      expect(bca.balanceOf(source)).to.equal('999990.00');
    });
  }

  it('answers PENDING for an SKN transfer the bank takes into clearing, and GET follows it to SUCCESS by status inquiry (service 23)', async () => {
    bca.setAccount({ number: '0201557001', name: 'PT PAYER SNAP', balance: '1000000.00' });
    bri.simulator.setAccount({ number: '002000000557001', name: 'CV BRI CLEARING', balance: '0.00' });
    const body = sampleTransfer({
      sourceAccountNumber: '0201557001', beneficiaryBankCode: '002', beneficiaryAccountNumber: '002000000557001', beneficiaryName: 'CV BRI CLEARING',
      beneficiaryAddress: 'Jl. Gatot Subroto 10, Jakarta', beneficiaryCustomerType: 'COMPANY', beneficiaryResident: true, amount: '300.00', transferMethod: 'SKN', remark: 'SIM PENDING',
    });
    const first = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(first.status, first.text).to.equal(202);
    expect(first.body).to.include({ status: 'PENDING', transferMethod: 'SKN', bank: 'bca-snap' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const settled = await gw.request(`/v1/transfers/${body.transactionId}`, { headers: auth });
    expect(settled.body.status, settled.text).to.equal('SUCCESS');
    expect(JSON.parse(snapTransfers(bca, '/openapi/v1.0/transfer/status').at(-1)!.body).serviceCode).to.equal('23');
    expect(bri.simulator.balanceOf('002000000557001')).to.equal('300.00');
  });

  it('answers 400 naming beneficiaryAddress, beneficiaryCustomerType and beneficiaryResident for an SKN transfer through SNAP without them, sends nothing, and takes the same transactionId once corrected', async () => {
    bca.setAccount({ number: '0201557002', name: 'PT PAYER SNAP', balance: '1000000.00' });
    bri.simulator.setAccount({ number: '002000000557002', name: 'CV BRI CLEARING', balance: '0.00' });
    const body = sampleTransfer({ sourceAccountNumber: '0201557002', beneficiaryBankCode: '002', beneficiaryAccountNumber: '002000000557002', beneficiaryName: 'CV BRI CLEARING', amount: '300.00', transferMethod: 'SKN' });
    const sentBefore = snapTransfers(bca, '/openapi/v1.0/transfer-skn').length;
    const refused = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(refused.status, refused.text).to.equal(400);
    expect(refused.body.code).to.equal('VALIDATION_FAILED');
    expect((refused.body.errors as { field: string }[]).map((e) => e.field)).to.deep.equal(['beneficiaryAddress', 'beneficiaryCustomerType', 'beneficiaryResident']);
    expect(snapTransfers(bca, '/openapi/v1.0/transfer-skn')).to.have.length(sentBefore);
    const corrected = await gw.request('/v1/transfers', {
      json: { ...body, beneficiaryAddress: 'Jl. Gatot Subroto 10, Jakarta', beneficiaryCustomerType: 'PERSON', beneficiaryResident: false },
      headers: auth,
    });
    expect(corrected.status, corrected.text).to.equal(202);
    expect(JSON.parse(snapTransfers(bca, '/openapi/v1.0/transfer-skn').at(-1)!.body)).to.include({
      beneficiaryAddress: 'Jl. Gatot Subroto 10, Jakarta',
      beneficiaryCustomerType: '1',
      beneficiaryCustomerResidence: '2',
    });
  });
});
