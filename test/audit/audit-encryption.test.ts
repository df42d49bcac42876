import { expect } from 'chai';
import { randomBytes, randomInt } from 'node:crypto';
import { openStore } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY, TEST_AUDIT_KEYS, testKeySpec } from '../support/audit-keys.js';
import { startReceiver, type CallbackReceiver } from '../support/callback-receiver.js';
import { runCli } from '../support/cli.js';
import { everyRow, forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type HttpAnswer } from '../support/gateway-harness.js';
import { startTestBank, type TestBank } from '../support/test-bank.js';

/** Every audit row (exchanges, their completions, bank calls), as the database holds it, as one searchable text. */
async function rawAudit(gw: TestGateway): Promise<string> {
  const rows = [
    ...(await gw.store.db.query('SELECT * FROM audit_exchanges')),
    ...(await gw.store.db.query('SELECT * FROM audit_completions')),
    ...(await gw.store.db.query('SELECT * FROM audit_bank_calls')),
  ];
  return JSON.stringify(rows);
}

forEachBackend('Encryption at rest: the audit, payments, payment runs and callbacks', (db) => {
  let gw: TestGateway;
  let bank: TestBank;
  let receiver: CallbackReceiver;
  /** Values only this suite's transfers carry, so finding them anywhere means a leak. */
  const remark = `Inv ${randomBytes(4).toString('hex')}`;
  const beneficiary = '0201245681'; // a simulator account; stored only masked
  const source = `03${randomInt(10_000_000, 100_000_000)}`;
  const vendor = `04${randomInt(10_000_000, 100_000_000)}`;
  const vendorName = `CV SEAL ${randomBytes(4).toString('hex').toUpperCase()}`;
  const vendorEmail = `ap-${randomBytes(4).toString('hex')}@vendor.co.id`;
  const batchId = `RUN-${randomBytes(5).toString('hex')}`;
  let transactionId = '';
  let paid: HttpAnswer;
  let vendorPayment: Record<string, unknown>;
  let runLines: Record<string, unknown>[] = [];
  let auth: Record<string, string>;

  before(async () => {
    receiver = await startReceiver();
    // A bank of the test's own, so the company account paid from (a secret here) is configured at it.
    bank = await startTestBank();
    bank.simulator.setAccount({ number: source, name: 'PT SEAL SOURCE', balance: '100000000.00' });
    bank.simulator.setAccount({ number: vendor, name: vendorName, balance: '0.00' });
    gw = await TestGateway.start(db.url(), bank.env({ GERBANG_CALLBACK_INTERVAL_MS: '50' }));
    const client = await gw.createClient();
    await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
    const token = await gw.token(client);
    auth = { authorization: `Bearer ${token}` };
    const transfer = sampleTransfer({ remark, beneficiaryAccountNumber: beneficiary });
    transactionId = transfer.transactionId as string;
    const answer = await gw.request('/v1/transfers', { headers: auth, json: transfer });
    expect(answer.status, answer.text).to.equal(201);
    await eventually(async () => (await gw.store.audit.list({ transactionId }))[0]?.completedAt);
    const balance = await gw.request('/v1/accounts/0201245680/balance', { headers: auth });
    expect(balance.status, balance.text).to.equal(200);

    // A payment and a payment run to the vendor, by name, each notified to the ERP by callback.
    const toVendor = (amount: string) =>
      sampleTransfer({ sourceAccountNumber: source, beneficiaryAccountNumber: vendor, beneficiaryName: vendorName, beneficiaryEmail: vendorEmail, remark, amount });
    vendorPayment = toVendor('1500.00');
    paid = await gw.request('/v1/transfers', { headers: auth, json: vendorPayment });
    expect(paid.status, paid.text).to.equal(201);
    runLines = [toVendor('2000.00'), toVendor('2500.00')];
    const run = await gw.request('/v1/transfer-batches', { headers: auth, json: { batchId, transfers: runLines } });
    expect(run.status, run.text).to.equal(202);
    await eventually(async () => (await gw.request(`/v1/transfer-batches/${batchId}`, { headers: auth })).body.state === 'DONE', 15_000);
    await eventually(async () => receiver.received.length >= 4, 10_000);
    // The callbacks' audit records are written just after their delivery state.
    await eventually(async () => (await gw.store.audit.list({ limit: 1000 })).filter((r) => r.method === 'CALLBACK' && r.completedAt !== null).length >= 4);
  });

  after(async () => {
    await gw?.close();
    await bank?.simulator.close();
    receiver?.server.close();
  });

  it('stores no request or response body, header or bank URL in clear', async () => {
    const raw = await rawAudit(gw);
    expect(raw).to.contain(transactionId, 'the transaction id stays searchable');
    for (const secret of [remark, beneficiary, '0201245680', 'Bearer ', 'application/json', 'SUCCESS', '/banking/']) {
      expect(raw.includes(secret), `${secret} readable in the database`).to.equal(false);
    }
    const [row] = await gw.store.db.query<Record<string, string>>('SELECT * FROM audit_exchanges WHERE transaction_id = ?', [transactionId]);
    for (const column of ['request_headers', 'request_body']) expect(row[column]).to.match(/^gcm2\.test-run\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(row.key_id).to.equal('test-run');
    // The answer is in the exchange's completion (appended, migration 023).
    const [completion] = await gw.store.db.query<Record<string, string>>('SELECT response_body, key_id FROM audit_completions WHERE exchange_id = ?', [row.id]);
    expect(completion.response_body).to.match(/^gcm2\.test-run\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(completion.key_id).to.equal('test-run');
  });

  it('holds no full account number, beneficiary name, e-mail or remark in clear in any row of any table', async () => {
    const raw = await everyRow(gw.store.db);
    expect(raw).to.contain(batchId).and.to.contain(vendorPayment.transactionId as string, 'the ids stay searchable');
    for (const secret of [source, vendor, vendorName, vendorEmail, remark, beneficiary, '0201245680']) {
      expect(raw.includes(secret), `${secret} readable in the database`).to.equal(false);
    }
    const sealed = /^gcm2\.test-run\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/;
    const [payment] = await gw.store.db.query<Record<string, string>>('SELECT result_json, key_id FROM payments WHERE transaction_id = ?', [vendorPayment.transactionId as string]);
    expect(payment).to.have.property('key_id', 'test-run');
    expect(payment.result_json).to.match(sealed);
    const lines = await gw.store.db.query<Record<string, string>>(
      'SELECT request_json, result_json, key_id FROM transfer_batch_lines WHERE transaction_id IN (?, ?)',
      runLines.map((line) => line.transactionId as string),
    );
    expect(lines).to.have.length(2);
    for (const line of lines) expect([line.request_json, line.result_json, line.key_id]).to.satisfy(([a, b, k]: string[]) => sealed.test(a) && sealed.test(b) && k === 'test-run');
    const callbacks = await gw.store.db.query<Record<string, string>>('SELECT body, key_id, state FROM callback_deliveries');
    expect(callbacks).to.have.length(4);
    for (const callback of callbacks) expect(callback).to.deep.include({ key_id: 'test-run', state: 'DELIVERED' }).and.to.have.property('body').that.matches(sealed);
  });

  it('keeps the searchable columns clear, with the accounts masked', async () => {
    const [row] = await gw.store.db.query<Record<string, unknown>>(
      'SELECT e.client_id, e.amount, c.outcome, c.status_code, e.source_account, e.beneficiary_account FROM audit_exchanges e JOIN audit_completions c ON c.exchange_id = e.id WHERE e.transaction_id = ?',
      [transactionId],
    );
    expect(row).to.include({ amount: '100000.00', outcome: 'completed', source_account: '******5680', beneficiary_account: `******${beneficiary.slice(-4)}` });
    expect(Number(row.status_code)).to.equal(201);
    expect(row.client_id).to.match(/^gbc_/);
    const [balance] = await gw.store.db.query<Record<string, unknown>>("SELECT path, source_account FROM audit_exchanges WHERE method = 'GET'");
    expect(balance).to.deep.equal({ path: '/v1/accounts/******5680/balance', source_account: '******5680' });

    const [payment] = await gw.store.db.query<Record<string, unknown>>('SELECT state, amount, bank, bank_reference FROM payments WHERE transaction_id = ?', [vendorPayment.transactionId as string]);
    expect(payment).to.deep.equal({ state: 'SUCCESS', amount: '1500.00', bank: 'bca', bank_reference: paid.body.bankReference });
    const lines = await gw.store.db.query<Record<string, unknown>>('SELECT transaction_id, state, source_account, beneficiary_account FROM transfer_batch_lines ORDER BY line_no');
    expect(lines).to.deep.equal(
      runLines.map((line) => ({ transaction_id: line.transactionId, state: 'SUBMITTED', source_account: `******${source.slice(-4)}`, beneficiary_account: `******${vendor.slice(-4)}` })),
    );
  });

  it('gives clear text back through the repository, to every reader', async () => {
    const [exchange] = await gw.store.audit.list({ transactionId });
    expect(JSON.parse(exchange.requestBody!)).to.include({ remark, beneficiaryAccountNumber: beneficiary });
    expect(JSON.parse(exchange.responseBody!)).to.include({ transactionId, status: 'SUCCESS' });
    expect(exchange.requestHeaders.authorization).to.equal('[REDACTED]');
    expect(exchange.bankCalls.map((call) => call.url).join(' ')).to.contain('/banking/');
    expect(exchange.bankCalls.some((call) => call.requestBody?.includes(beneficiary))).to.equal(true);

    const exported = await runCli(['audit', 'export', '--format', 'jsonl'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
    expect(exported.code, exported.stderr).to.equal(0);
    expect(exported.stdout).to.contain(remark).and.to.contain('******5680');
  });

  it('still pays and answers from the sealed values: the run, the status reads and the callbacks', async () => {
    // The run's lines were paid from their sealed requests: the vendor got every amount.
    expect(bank.simulator.balanceOf(vendor)).to.equal('6000.00');
    const run = await gw.request(`/v1/transfer-batches/${batchId}`, { headers: auth });
    expect(run.body.progress).to.deep.equal({ queued: 0, submitted: 2, rejected: 0 });
    expect(run.body.lines.map((l: { state: string; result: { status: string; amount: string } }) => [l.state, l.result.status, l.result.amount])).to.deep.equal([
      ['SUBMITTED', 'SUCCESS', '2000.00'],
      ['SUBMITTED', 'SUCCESS', '2500.00'],
    ]);
    // The status answer is the stored (sealed) answer, as first given.
    const status = await gw.request(`/v1/transfers/${vendorPayment.transactionId as string}`, { headers: auth });
    expect(status.status).to.equal(200);
    expect(status.body).to.deep.equal(paid.body);
    // Each callback carried the answer in clear, from its sealed outbox row.
    const notices = receiver.received.map((r) => JSON.parse(r.body) as { event: string; transfer: { transactionId: string; status: string } });
    expect(notices.find((n) => n.transfer.transactionId === vendorPayment.transactionId)).to.deep.equal({ event: 'transfer.final', transfer: paid.body });
    const paidIds = [transactionId, vendorPayment.transactionId, ...runLines.map((l) => l.transactionId)];
    expect(notices.map((n) => n.transfer.transactionId).sort()).to.deep.equal(paidIds.sort());
    expect(notices.every((n) => n.transfer.status === 'SUCCESS')).to.equal(true);
  });

  it('seals the same body twice with different nonces', async () => {
    const ring = TEST_AUDIT_KEYS;
    const [a, b] = [ring.encrypt(remark), ring.encrypt(remark)];
    expect(a).to.not.equal(b);
    expect(a.split('.')[2]).to.not.equal(b.split('.')[2]);
    expect([ring.decrypt(a), ring.decrypt(b)]).to.deep.equal([remark, remark]);
  });

  describe('when the key is wrong or missing', () => {
    it('audit export names GERBANG_AUDIT_KEYS when the configured key is not the one used, exit 2', async () => {
      const result = await runCli(['audit', 'export', '--format', 'jsonl'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: testKeySpec('other') });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain('GERBANG_AUDIT_KEYS').and.to.contain('"test-run", which is not configured');
    });

    it('audit export names GERBANG_AUDIT_KEYS when no key is configured, exit 2', async () => {
      const result = await runCli(['audit', 'export', '--format', 'jsonl'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: '', GERBANG_AUDIT_KEY_FILES: '' });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain('GERBANG_AUDIT_KEYS: is required');
    });

    it('a key with the right id but other bytes is refused, naming the setting, never returning garbage', async () => {
      const store = await openStore(db.url(), { auditKeys: ringOf(testKeySpec('test-run')) });
      try {
        const error = await store.audit.list({ transactionId }).then(() => null, (e: Error & { code?: string; where?: string }) => e);
        expect(error?.code).to.equal('AUDIT_INTEGRITY');
        expect(error?.where).to.match(/is not a value sealed for it: .*\(GERBANG_AUDIT_KEYS: a value sealed with key test-run does not decrypt/);
      } finally {
        await store.close();
      }
    });

    it('a store opened without keys refuses to write the audit, naming the setting', async () => {
      const store = await openStore(db.url());
      try {
        const error = await store.audit
          .record(
            { requestId: 'r', receivedAt: 1, remoteIp: '127.0.0.1', origin: null, method: 'GET', path: '/', clientId: null, transactionId: null, amount: null, requestHeaders: {}, requestBody: null },
            { outcome: 'rejected', statusCode: 404, errorCode: 'NOT_FOUND', clientId: null, transactionId: null, amount: null, responseBody: null, completedAt: 2 },
          )
          .then(() => null, (e: Error) => e);
        expect(error?.message).to.match(/^GERBANG_AUDIT_KEYS: no audit key is configured/);
      } finally {
        await store.close();
      }
    });
  });
});
