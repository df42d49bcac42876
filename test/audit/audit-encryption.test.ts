import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY, TEST_AUDIT_KEYS, testKeySpec } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/** Every audit row of both tables, as the database holds it, as one searchable text. */
async function rawAudit(gw: TestGateway): Promise<string> {
  const rows = [...(await gw.store.db.query('SELECT * FROM audit_exchanges')), ...(await gw.store.db.query('SELECT * FROM audit_bank_calls'))];
  return JSON.stringify(rows);
}

forEachBackend('Audit encryption at rest', (db) => {
  let gw: TestGateway;
  /** Values only this suite's transfer carries, so finding them anywhere means a leak. */
  const remark = `Inv ${randomBytes(4).toString('hex')}`;
  const beneficiary = '0201245681'; // a simulator account; stored only masked
  let transactionId = '';

  before(async () => {
    gw = await TestGateway.start(db.url());
    const client = await gw.createClient();
    const token = await gw.token(client);
    const transfer = sampleTransfer({ remark, beneficiaryAccountNumber: beneficiary });
    transactionId = transfer.transactionId as string;
    const answer = await gw.request('/v1/transfers', { headers: { authorization: `Bearer ${token}` }, json: transfer });
    expect(answer.status, answer.text).to.equal(201);
    await eventually(async () => (await gw.store.audit.list({ transactionId }))[0]?.completedAt);
    const balance = await gw.request('/v1/accounts/0201245680/balance', { headers: { authorization: `Bearer ${token}` } });
    expect(balance.status, balance.text).to.equal(200);
  });

  after(async () => gw?.close());

  it('stores no request or response body, header or bank URL in clear', async () => {
    const raw = await rawAudit(gw);
    expect(raw).to.contain(transactionId, 'the transaction id stays searchable');
    for (const secret of [remark, beneficiary, '0201245680', 'Bearer ', 'application/json', 'SUCCESS', '/banking/']) {
      expect(raw.includes(secret), `${secret} readable in the database`).to.equal(false);
    }
    const [row] = await gw.store.db.query<Record<string, string>>('SELECT * FROM audit_exchanges WHERE transaction_id = ?', [transactionId]);
    for (const column of ['request_headers', 'request_body', 'response_body']) expect(row[column]).to.match(/^gcm1\.test-run\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(row.key_id).to.equal('test-run');
  });

  it('keeps the searchable columns clear, with the accounts masked', async () => {
    const [row] = await gw.store.db.query<Record<string, unknown>>(
      'SELECT client_id, amount, outcome, status_code, source_account, beneficiary_account FROM audit_exchanges WHERE transaction_id = ?',
      [transactionId],
    );
    expect(row).to.include({ amount: '100000.00', outcome: 'completed', source_account: '******5680', beneficiary_account: `******${beneficiary.slice(-4)}` });
    expect(Number(row.status_code)).to.equal(201);
    expect(row.client_id).to.match(/^gbc_/);
    const [balance] = await gw.store.db.query<Record<string, unknown>>("SELECT path, source_account FROM audit_exchanges WHERE method = 'GET'");
    expect(balance).to.deep.equal({ path: '/v1/accounts/******5680/balance', source_account: '******5680' });
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
        const error = await store.audit.list({ transactionId }).then(() => null, (e: Error) => e);
        expect(error?.message).to.match(/^GERBANG_AUDIT_KEYS: a value sealed with key test-run does not decrypt/);
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
