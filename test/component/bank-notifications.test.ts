import { expect } from 'chai';
import { createHash, createSign, generateKeyPairSync, randomInt } from 'node:crypto';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { jakartaTimestamp } from '../../src/time/index.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { registered, snapCredentials, snapPartnerBlock, startSnapBank } from '../support/snap-bank.js';
import { writePartnersFile } from '../support/test-bank.js';

const pem = () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
};

/**
 * RTGS and SKN are PENDING after acceptance until the bank says final; the bank says it by a
 * notification it signs with its private key (BCA SNAP transfer-rtgs/notify, transfer-skn/notify).
 * The simulated bank sends them itself; the forged, stale and replayed ones are written here from
 * the same documents, signed SHA256withRSA over `POST:<path>:<sha256 hex of the body>:<X-TIMESTAMP>`.
 */
forEachBackend('Bank notifications of RTGS and SKN outcomes', (db) => {
  const credentials = snapCredentials();
  const bankKey = pem();
  const partner = registered(credentials);
  let bank: BankSimulator;
  let gw: TestGateway;
  let auth: Record<string, string>;

  before(async () => {
    const started = await startSnapBank(credentials, { snapPartners: [partner], snapNotificationKeyPem: bankKey.privateKeyPem, snapSettleAfterMs: 200 });
    bank = started.simulator;
    const file = writePartnersFile([snapPartnerBlock('bca-snap', '014', 1, started.url, credentials, { bankPublicKeyPem: bankKey.publicKeyPem, accounts: ['0201245680'] })]);
    gw = await TestGateway.start(db.url(), { GERBANG_BANK_PARTNERS_FILE: file, GERBANG_RESOLVER_INTERVAL_MS: '0' });
    partner.notifyUrl = gw.url;
    auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
  });
  after(async () => {
    await gw?.close();
    await bank?.close();
  });

  const clearing = (method: 'RTGS' | 'SKN', amount = '150000000.00') =>
    sampleTransfer({ beneficiaryBankCode: 'BRINIDJA', beneficiaryAccountNumber: '002000000009999', beneficiaryName: 'CV BRI VENDOR', beneficiaryAddress: 'Jl. Gatot Subroto 10, Jakarta', beneficiaryCustomerType: 'COMPANY', beneficiaryResident: true, amount, transferMethod: method });
  const pay = (body: Record<string, unknown>) => gw.request('/v1/transfers', { json: body, headers: auth });
  const read = (transactionId: unknown) => gw.request(`/v1/transfers/${transactionId as string}`, { headers: auth });
  const stored = async (transactionId: unknown) => (await gw.store.db.query<{ id: number; bank_transaction_id: string; state: string }>('SELECT id, bank_transaction_id, state FROM payments WHERE transaction_id = ?', [transactionId as string]))[0];

  /** A notification as the bank sends it, signed with `privateKeyPem`. */
  function notification(service: 'transfer-rtgs' | 'transfer-skn', body: Record<string, unknown>, privateKeyPem: string, options: { at?: number; externalId?: string } = {}) {
    const path = `/openapi/v1.0/${service}/notify`;
    const text = JSON.stringify(body);
    const timestamp = jakartaTimestamp(options.at ?? Date.now(), false);
    const digest = createHash('sha256').update(text).digest('hex');
    const signature = createSign('RSA-SHA256').update(`POST:${path}:${digest}:${timestamp}`).sign(privateKeyPem, 'base64');
    const headers = { 'content-type': 'application/json', 'x-timestamp': timestamp, 'x-signature': signature, 'x-external-id': options.externalId ?? String(randomInt(1e11, 1e12 - 1)), 'x-partner-id': credentials.partnerId };
    return () => gw.request(path, { method: 'POST', body: text, headers });
  }

  for (const method of ['RTGS', 'SKN'] as const) {
    it(`keeps ${method} PENDING after acceptance, then settles it SUCCESS on the bank's signed notification`, async () => {
      const body = clearing(method, method === 'RTGS' ? '150000000.00' : '60000000.00');
      const res = await pay(body);
      expect(res.status, res.text).to.equal(202);
      expect(res.body).to.include({ status: 'PENDING', transferMethod: method });
      expect(res.body.guidance).to.match(/Do NOT pay again/);
      // Nothing but the notification can settle it here: the resolver does not run and nobody reads it.
      await eventually(async () => (await stored(body.transactionId)).state === 'SUCCESS', 8_000);
      const settled = (await read(body.transactionId)).body;
      expect(settled).to.include({ status: 'SUCCESS', bankResponseCode: '00' });
      expect(settled.evidence).to.include({ kind: 'BANK_NOTIFICATION', recordedBy: null });
      const sent = await eventually(async () => bank.snap.notifications.find((n) => n.url.endsWith(`/openapi/v1.0/transfer-${method.toLowerCase()}/notify`) && n.status !== null));
      expect(sent.status).to.equal(200);
      const audit = (await gw.store.audit.list({ transactionId: body.transactionId as string })).find((r) => r.path.endsWith('/notify'));
      expect(audit).to.deep.include({ method: 'POST', statusCode: 200 });
    });
  }

  describe('refused notifications', () => {
    let transactionId: string;
    let reference: string;
    const failed = () => ({ originalPartnerReferenceNo: reference, originalReferenceNo: '998877', latestTransactionStatus: '06', transactionStatusDesc: 'Failed', amount: { value: '150000000.00', currency: 'IDR' } });

    before(async () => {
      // Accepted, then held by the bank: no notification of its own comes.
      // The simulator settles it and notifies: send its notification where nobody listens, so only
      // the notifications written below reach the gateway.
      partner.notifyUrl = 'http://127.0.0.1:9';
      const body = clearing('RTGS');
      transactionId = body.transactionId as string;
      expect((await pay(body)).body.status).to.equal('PENDING');
      reference = (await stored(transactionId)).bank_transaction_id;
    });
    after(() => {
      partner.notifyUrl = gw.url;
    });

    it('refuses one signed with another key (forged): 401, the transfer unchanged', async () => {
      const forged = await notification('transfer-rtgs', failed(), pem().privateKeyPem)();
      expect(forged.status).to.equal(401);
      expect(forged.body.code).to.equal('NOTIFICATION_REFUSED');
      expect((await stored(transactionId)).state).to.equal('PENDING');
    });

    it('refuses a stale one (replayed later) and one whose X-EXTERNAL-ID came before with another body', async () => {
      const stale = await notification('transfer-rtgs', failed(), bankKey.privateKeyPem, { at: Date.now() - 20 * 60_000 })();
      expect(stale.status).to.equal(401);
      const externalId = String(randomInt(1e11, 1e12 - 1));
      const first = await notification('transfer-rtgs', { ...failed(), latestTransactionStatus: '03' }, bankKey.privateKeyPem, { externalId })();
      expect(first.status, first.text).to.equal(200);
      const replay = await notification('transfer-rtgs', failed(), bankKey.privateKeyPem, { externalId })();
      expect(replay.status).to.equal(401);
      expect((await stored(transactionId)).state).to.equal('PENDING');
    });

    it('acts once on the same notification delivered twice (idempotent): FAILED confirmed by the bank', async () => {
      const send = notification('transfer-rtgs', failed(), bankKey.privateKeyPem);
      expect((await send()).status).to.equal(200);
      expect((await send()).status).to.equal(200);
      const answer = await read(transactionId);
      expect(answer.body).to.include({ status: 'FAILED', failureConfirmedBy: 'BANK', bankResponseCode: '06' });
      const exchanges = (await gw.store.audit.list({ transactionId })).filter((r) => r.path.endsWith('/notify'));
      expect(exchanges.length).to.be.at.least(2);
    });
  });

  describe('a signed notification carrying control and bidirectional characters', () => {
    before(() => {
      partner.notifyUrl = 'http://127.0.0.1:9';
    });
    after(() => {
      partner.notifyUrl = gw.url;
    });

    it('stores and answers its reference and message without them, as the bank\'s answers are', async () => {
      const body = clearing('RTGS');
      expect((await pay(body)).body.status).to.equal('PENDING');
      const { bank_transaction_id: sent } = await stored(body.transactionId);
      // RLO and PDF would show "REF-9876" reversed; BEL and ESC would reach a terminal or a log.
      const hostile = { originalPartnerReferenceNo: sent, originalReferenceNo: 'REF-\u202e9876\u202c\u0007X', latestTransactionStatus: '00', transactionStatusDesc: 'ok\u2066\u200fdone\u001b[31m', amount: { value: '150000000.00', currency: 'IDR' } };
      const res = await notification('transfer-rtgs', hostile, bankKey.privateKeyPem)();
      expect(res.status, res.text).to.equal(200);
      const [row] = await gw.store.db.query<{ state: string; bank_reference: string }>('SELECT state, bank_reference FROM payments WHERE transaction_id = ?', [body.transactionId as string]);
      expect(row).to.deep.equal({ state: 'SUCCESS', bank_reference: 'REF-9876 X' });
      const answer = (await read(body.transactionId)).body;
      expect(answer).to.include({ status: 'SUCCESS', bankReference: 'REF-9876 X', bankMessage: 'okdone [31m' });
    });
  });
});
