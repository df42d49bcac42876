import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { enableSigning, rotateSigningKey, disableSigning } from '../../src/domain/clients/index.js';
import { EXPIRED_PURGE_MARGIN_MS } from '../../src/domain/expired-purge.js';
import { signingKeyPlace } from '../../src/security/index.js';
import { apiRoutes, DEFAULT_API_LIMITS, routeList } from '../../src/http/api/index.js';
import { requestSignature, SIGNATURE_WINDOW_MS } from '../../src/pipeline/request-signature/index.js';
import { openStore } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY, TEST_AUDIT_KEYS, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type HttpAnswer, type TestClient } from '../support/gateway-harness.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestBank } from '../support/test-bank.js';

/** What a signing ERP sends: the request, its timestamp and its signature over the exact bytes. */
interface Signed {
  method?: 'GET' | 'POST';
  body?: string;
  /** X-Gerbang-Timestamp (default: now, ISO-8601 UTC with milliseconds). */
  timestamp?: string;
  /** Sign these parts instead of the ones sent (to alter the request after signing). */
  signAs?: { path?: string; body?: string; method?: string };
  headers?: Record<string, string>;
}

function signedHeaders(key: string, path: string, options: Signed): Record<string, string> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  const timestamp = options.timestamp ?? new Date().toISOString();
  const { signature } = requestSignature(key, {
    method: options.signAs?.method ?? method,
    pathWithQuery: options.signAs?.path ?? path,
    timestamp,
    body: options.signAs?.body ?? options.body ?? '',
  });
  return { 'x-gerbang-timestamp': timestamp, 'x-gerbang-signature': signature };
}

/** `2026-11-26T09:15:00.123+07:00`: the same instant written with Jakarta's offset. */
function jakartaTimestamp(at: number): string {
  return `${new Date(at + 7 * 3_600_000).toISOString().slice(0, -1)}+07:00`;
}

/** A gateway, a client that must sign, its token and key, and a signed-request helper. */
class SigningClient {
  key = '';
  token = '';
  constructor(
    readonly gw: TestGateway,
    readonly client: TestClient,
  ) {}

  static async create(gw: TestGateway): Promise<SigningClient> {
    const signing = new SigningClient(gw, await gw.createClient());
    const enabled = await enableSigning(gw.store.clients, TEST_AUDIT_KEYS, signing.client.clientId, Date.now());
    if (!enabled.ok) throw new Error(enabled.reason);
    signing.key = enabled.signingKey;
    signing.token = await gw.token(signing.client);
    return signing;
  }

  send(path: string, options: Signed = {}, key = this.key, gw = this.gw, token = this.token): Promise<HttpAnswer> {
    const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
    return gw.request(path, {
      method,
      body: options.body,
      headers: {
        authorization: `Bearer ${token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...signedHeaders(key, path, options),
        ...options.headers,
      },
    });
  }
}

const transferCalls = (gw: TestGateway) => gw.simulator.calls.filter((call) => call.path === '/banking/corporates/transfers');

const auditOf = (gw: TestGateway, res: HttpAnswer) =>
  eventually(async () => {
    const [row] = await gw.store.audit.list({ requestId: res.headers['x-request-id'] });
    return row?.completedAt ? row : null;
  });

forEachBackend('Request signing', (db) => {
  let gw: TestGateway;
  let signer: SigningClient;
  let logs: ReturnType<typeof captureLogs>;

  before(async () => {
    logs = captureLogs('trace');
    gw = await TestGateway.start(db.url(), { GERBANG_RESOLVER_INTERVAL_MS: '0' });
    signer = await SigningClient.create(gw);
  });
  after(async () => {
    logs?.stop();
    await gw?.close();
  });

  /** A refusal: 401, its code, the header at fault named, nothing sent to the bank, audited with the client. */
  async function expectRefused(res: HttpAnswer, code: string, header: string, callsBefore: number): Promise<void> {
    expect(res.status, res.text).to.equal(401);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(res.body).to.include({ code, header });
    expect(res.body.detail).to.contain(header);
    expect(res.headers['www-authenticate']).to.match(/^Gerbang-HMAC-SHA256 error="/);
    expect(transferCalls(gw).length, 'nothing sent to the bank').to.equal(callsBefore);
    const row = await auditOf(gw, res);
    expect(row).to.deep.include({ statusCode: 401, errorCode: code, clientId: signer.client.clientId, outcome: 'rejected' });
    if (row.requestHeaders['x-gerbang-signature'] !== undefined) expect(row.requestHeaders['x-gerbang-signature']).to.equal('[REDACTED]');
  }

  describe('when the signature is valid', () => {
    it('pays: the transfer reaches the bank once and the answer is 201', async () => {
      const before = transferCalls(gw).length;
      const body = JSON.stringify(sampleTransfer());
      const res = await signer.send('/v1/transfers', { body });
      expect(res.status, res.text).to.equal(201);
      expect(res.body.status).to.equal('SUCCESS');
      expect(transferCalls(gw).length).to.equal(before + 1);
      const row = await auditOf(gw, res);
      expect(row.requestHeaders['x-gerbang-signature']).to.equal('[REDACTED]');
      expect(row.requestHeaders['x-gerbang-timestamp']).to.be.a('string');
    });

    it('accepts a timestamp with a +07:00 offset, 7 fractional digits, or 4 minutes old', async () => {
      const now = Date.now();
      for (const timestamp of [jakartaTimestamp(now), new Date(now).toISOString().replace(/\.(\d{3})Z$/, '.$11234Z'), new Date(now - 4 * 60_000).toISOString()]) {
        const res = await signer.send('/v1/transfers', { body: JSON.stringify(sampleTransfer()), timestamp });
        expect(res.status, `${timestamp}: ${res.text}`).to.equal(201);
      }
    });

    it('covers every kind of route: status, payment run (with a query), account inquiry, balance, callback key', async () => {
      const transfer = sampleTransfer();
      expect((await signer.send('/v1/transfers', { body: JSON.stringify(transfer) })).status).to.equal(201);
      expect((await signer.send(`/v1/transfers/${transfer.transactionId}`)).body.status).to.equal('SUCCESS');
      const batchId = `RUN-${randomBytes(4).toString('hex')}`;
      const batch = await signer.send('/v1/transfer-batches', { body: JSON.stringify({ batchId, transfers: [sampleTransfer()] }) });
      expect(batch.status, batch.text).to.equal(202);
      const page = await signer.send(`/v1/transfer-batches/${batchId}?afterLine=0&limit=10`);
      expect(page.status, page.text).to.equal(200);
      const inquiry = await signer.send('/v1/account-inquiries', { body: JSON.stringify({ beneficiaryBankCode: '014', beneficiaryAccountNumber: '0201245681' }) });
      expect(inquiry.status, inquiry.text).to.equal(200);
      expect((await signer.send('/v1/accounts/0201245680/balance')).status).to.equal(200);
      expect((await signer.send('/v1/callbacks/public-key')).status).to.equal(200);
    });

    it('still issues the token without any signature (the token endpoint is not signed)', async () => {
      expect(await gw.token(signer.client)).to.be.a('string');
    });

    it('remembers the signature in the shared store until just past the window', async () => {
      const timestamp = new Date().toISOString();
      const headers = signedHeaders(signer.key, '/v1/callbacks/public-key', { timestamp });
      const res = await gw.request('/v1/callbacks/public-key', { headers: { authorization: `Bearer ${signer.token}`, ...headers } });
      expect(res.status).to.equal(200);
      const digest = createHash('sha256').update(Buffer.from(headers['x-gerbang-signature'], 'base64')).digest('hex');
      const rows = await gw.store.db.query<{ expires_at: number | string }>('SELECT expires_at FROM request_signatures WHERE client_id = ? AND signature_hash = ?', [signer.client.clientId, digest]);
      expect(rows).to.have.length(1);
      expect(Number(rows[0].expires_at) - Date.parse(timestamp)).to.equal(SIGNATURE_WINDOW_MS + 60_000);
    });
  });

  describe('the replay cache', () => {
    // Expired past the purge's margin (a node whose clock is behind never finds a live entry gone).
    it('is purged of expired entries by the gateway (at start, then every minute), live ones kept', async () => {
      const { db: raw } = gw.store;
      await raw.execute('INSERT INTO request_signatures (client_id, signature_hash, expires_at) VALUES (?, ?, ?), (?, ?, ?)', [
        'gbc_purge', 'a'.repeat(64), Date.now() - EXPIRED_PURGE_MARGIN_MS - 1000, 'gbc_purge', 'b'.repeat(64), Date.now() + 3_600_000,
      ]);
      const other = await TestGateway.start(db.url());
      try {
        await eventually(async () => (await raw.query("SELECT signature_hash FROM request_signatures WHERE client_id = 'gbc_purge'")).length === 1);
        const [left] = await raw.query<{ signature_hash: string }>("SELECT signature_hash FROM request_signatures WHERE client_id = 'gbc_purge'");
        expect(left.signature_hash).to.equal('b'.repeat(64));
      } finally {
        await other.close();
      }
    });
  });

  describe('when the signature is missing', () => {
    it('refuses every authenticated route of that client with SIGNATURE_MISSING (401), audited', async () => {
      const bearerRoutes = routeList(apiRoutes(DEFAULT_API_LIMITS)).filter((route) => route.security === 'bearer');
      expect(bearerRoutes.length).to.be.at.least(8);
      for (const route of bearerRoutes) {
        const path = route.path.replace(/\{\w+\}/g, '0201245680');
        const before = transferCalls(gw).length;
        const res = await gw.request(path, {
          method: route.method.toUpperCase() as 'GET' | 'POST',
          headers: { authorization: `Bearer ${signer.token}`, 'x-gerbang-timestamp': new Date().toISOString() },
          ...(route.method === 'post' ? { json: {} } : {}),
        });
        await expectRefused(res, 'SIGNATURE_MISSING', 'X-Gerbang-Signature', before);
      }
    });

    it('names X-Gerbang-Timestamp when only the timestamp is missing', async () => {
      const before = transferCalls(gw).length;
      const body = JSON.stringify(sampleTransfer());
      const { 'x-gerbang-signature': signature } = signedHeaders(signer.key, '/v1/transfers', { body });
      const res = await gw.request('/v1/transfers', { body, headers: { authorization: `Bearer ${signer.token}`, 'content-type': 'application/json', 'x-gerbang-signature': signature } });
      await expectRefused(res, 'SIGNATURE_MISSING', 'X-Gerbang-Timestamp', before);
    });
  });

  describe('when a header is malformed', () => {
    it('refuses an epoch, a date without offset and an impossible date in X-Gerbang-Timestamp with SIGNATURE_MALFORMED', async () => {
      for (const timestamp of [String(Math.floor(Date.now() / 1000)), new Date().toISOString().slice(0, 19), '2026-02-30T10:00:00Z', 'now']) {
        const before = transferCalls(gw).length;
        const res = await signer.send('/v1/transfers', { body: JSON.stringify(sampleTransfer()), timestamp });
        await expectRefused(res, 'SIGNATURE_MALFORMED', 'X-Gerbang-Timestamp', before);
      }
    });

    it('refuses a hex, a short and a non-canonical base64 X-Gerbang-Signature with SIGNATURE_MALFORMED', async () => {
      const body = JSON.stringify(sampleTransfer());
      const good = signedHeaders(signer.key, '/v1/transfers', { body });
      const bytes = Buffer.from(good['x-gerbang-signature'], 'base64');
      // The last base64 digit carries two spare bits: set one and the text differs, the bytes do not.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const canonical = good['x-gerbang-signature'];
      const last = alphabet.indexOf(canonical[42]);
      const nonCanonical = `${canonical.slice(0, 42)}${alphabet[last | 1]}=`;
      expect(Buffer.from(nonCanonical, 'base64').equals(bytes), 'decodes to the same bytes').to.equal(true);
      for (const signature of [bytes.toString('hex'), canonical.slice(0, 20), nonCanonical]) {
        const before = transferCalls(gw).length;
        const res = await gw.request('/v1/transfers', {
          body,
          headers: { authorization: `Bearer ${signer.token}`, 'content-type': 'application/json', 'x-gerbang-timestamp': good['x-gerbang-timestamp'], 'x-gerbang-signature': signature },
        });
        await expectRefused(res, 'SIGNATURE_MALFORMED', 'X-Gerbang-Signature', before);
      }
    });
  });

  describe('when the signature does not match the request', () => {
    it('refuses a signature made with another key: SIGNATURE_INVALID', async () => {
      const before = transferCalls(gw).length;
      const res = await signer.send('/v1/transfers', { body: JSON.stringify(sampleTransfer()) }, `gbsk_${randomBytes(32).toString('base64url')}`);
      await expectRefused(res, 'SIGNATURE_INVALID', 'X-Gerbang-Signature', before);
    });

    it('refuses a body altered after signing (a higher amount), even one that only re-spaces the JSON', async () => {
      const transfer = sampleTransfer();
      const signedBody = JSON.stringify(transfer);
      for (const sent of [JSON.stringify({ ...transfer, amount: '900000000.00' }), JSON.stringify(transfer, null, 1)]) {
        const before = transferCalls(gw).length;
        const res = await signer.send('/v1/transfers', { body: sent, signAs: { body: signedBody } });
        await expectRefused(res, 'SIGNATURE_INVALID', 'X-Gerbang-Signature', before);
      }
      expect(await gw.store.payments.find(signer.client.clientId, transfer.transactionId as string)).to.equal(null);
    });

    it('refuses a path or query altered after signing, and another method', async () => {
      const transfer = sampleTransfer();
      expect((await signer.send('/v1/transfers', { body: JSON.stringify(transfer) })).status).to.equal(201);
      const before = transferCalls(gw).length;
      await expectRefused(await signer.send(`/v1/transfers/${transfer.transactionId}`, { signAs: { path: '/v1/transfers/INV-other' } }), 'SIGNATURE_INVALID', 'X-Gerbang-Signature', before);
      await expectRefused(await signer.send('/v1/accounts/0201245680/balance?bankCode=014', { signAs: { path: '/v1/accounts/0201245680/balance' } }), 'SIGNATURE_INVALID', 'X-Gerbang-Signature', before);
      await expectRefused(await signer.send(`/v1/transfers/${transfer.transactionId}`, { signAs: { method: 'POST' } }), 'SIGNATURE_INVALID', 'X-Gerbang-Signature', before);
    });

    it('refuses a timestamp altered after signing', async () => {
      const before = transferCalls(gw).length;
      const body = JSON.stringify(sampleTransfer());
      const good = signedHeaders(signer.key, '/v1/transfers', { body, timestamp: new Date(Date.now() - 1000).toISOString() });
      const res = await gw.request('/v1/transfers', {
        body,
        headers: { authorization: `Bearer ${signer.token}`, 'content-type': 'application/json', 'x-gerbang-timestamp': new Date().toISOString(), 'x-gerbang-signature': good['x-gerbang-signature'] },
      });
      await expectRefused(res, 'SIGNATURE_INVALID', 'X-Gerbang-Signature', before);
    });
  });

  describe('when the timestamp is outside ±5 minutes', () => {
    it('refuses a correctly signed request from 6 minutes ago or 6 minutes ahead: SIGNATURE_STALE', async () => {
      for (const offset of [-6 * 60_000, 6 * 60_000]) {
        const before = transferCalls(gw).length;
        const res = await signer.send('/v1/transfers', { body: JSON.stringify(sampleTransfer()), timestamp: jakartaTimestamp(Date.now() + offset) });
        await expectRefused(res, 'SIGNATURE_STALE', 'X-Gerbang-Timestamp', before);
      }
    });
  });

  describe('when a signed request is sent twice', () => {
    it('pays the first, refuses the second with SIGNATURE_REPLAYED: the bank sees the transfer once', async () => {
      const body = JSON.stringify(sampleTransfer());
      const headers = { authorization: `Bearer ${signer.token}`, 'content-type': 'application/json', ...signedHeaders(signer.key, '/v1/transfers', { body }) };
      const before = transferCalls(gw).length;
      const first = await gw.request('/v1/transfers', { body, headers });
      expect(first.status, first.text).to.equal(201);
      const second = await gw.request('/v1/transfers', { body, headers });
      await expectRefused(second, 'SIGNATURE_REPLAYED', 'X-Gerbang-Signature', before + 1);
      expect(transferCalls(gw).length).to.equal(before + 1);
    });

    it('accepts a retry of the same payment signed anew (idempotent replay of the stored result)', async () => {
      const body = JSON.stringify(sampleTransfer());
      expect((await signer.send('/v1/transfers', { body })).status).to.equal(201);
      const retry = await signer.send('/v1/transfers', { body });
      expect(retry.status, retry.text).to.equal(201);
      expect(retry.headers['idempotent-replayed']).to.equal('true');
    });
  });

  describe('when the client does not sign', () => {
    it('works without the headers, and ignores them when sent', async () => {
      const plain = await gw.createClient();
      const token = await gw.token(plain);
      const bare = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
      expect(bare.status, bare.text).to.equal(201);
      const junk = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}`, 'x-gerbang-timestamp': 'x', 'x-gerbang-signature': 'y' } });
      expect(junk.status, junk.text).to.equal(201);
    });
  });

  describe('when the signing key is rotated, then signing disabled', () => {
    it('refuses the old key at once, accepts the new one; after disabling, unsigned calls work again', async () => {
      const own = await SigningClient.create(gw);
      expect((await own.send('/v1/callbacks/public-key')).status).to.equal(200);
      const rotated = await rotateSigningKey(gw.store.clients, TEST_AUDIT_KEYS, own.client.clientId, Date.now());
      expect(rotated.ok).to.equal(true);
      const newKey = (rotated as { signingKey: string }).signingKey;
      const before = transferCalls(gw).length;
      const withOld = await own.send('/v1/transfers', { body: JSON.stringify(sampleTransfer()) });
      expect(withOld.status).to.equal(401);
      expect(withOld.body.code).to.equal('SIGNATURE_INVALID');
      expect(transferCalls(gw).length).to.equal(before);
      const withNew = await own.send('/v1/transfers', { body: JSON.stringify(sampleTransfer()) }, newKey);
      expect(withNew.status, withNew.text).to.equal(201);

      expect(await disableSigning(gw.store.clients, own.client.clientId, Date.now())).to.equal(true);
      const unsigned = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${own.token}` } });
      expect(unsigned.status, unsigned.text).to.equal(201);
      expect((await gw.store.clients.findById(own.client.clientId))!.signing).to.deep.equal({ required: false, sealedKey: null });
    });
  });

  describe('when the signing key is sealed with an audit key the gateway does not have', () => {
    it('fails closed: 500 INTERNAL_ERROR, nothing sent to the bank, the log names the key-ring setting', async () => {
      const own = await SigningClient.create(gw);
      // Written by a process whose newest audit key this gateway does not have: the key is sealed,
      // and the client's MAC made, with it.
      const newer = ringOf(TEST_AUDIT_KEY, testKeySpec('k-unknown'));
      const other = await openStore(db.url(), { auditKeys: newer });
      try {
        await other.clients.setSigning(own.client.clientId, { required: true, sealedKey: newer.encrypt(own.key, signingKeyPlace(own.client.clientId)) }, Date.now());
      } finally {
        await other.close();
      }
      const before = transferCalls(gw).length;
      const res = await own.send('/v1/transfers', { body: JSON.stringify(sampleTransfer()) });
      expect(res.status, res.text).to.equal(500);
      expect(res.body.code).to.equal('INTERNAL_ERROR');
      expect(res.text).to.not.contain('k-unknown');
      expect(transferCalls(gw).length).to.equal(before);
      await eventually(async () => logs.text().includes('key \\"k-unknown\\", which is not configured'));
    });
  });

  describe('the signing key at rest and in the logs', () => {
    it('is sealed with the audit key ring in the database, and appears in no log line, audit row or answer', async () => {
      const [row] = await gw.store.db.query<{ signing_key: string; key_id: string }>('SELECT signing_key, key_id FROM clients WHERE id = ?', [signer.client.clientId]);
      expect(row.signing_key).to.match(/^gcm2\.test-run\./);
      expect(row.signing_key).to.not.contain(signer.key);
      expect(row.key_id).to.equal('test-run');
      const audit = JSON.stringify([
        ...(await gw.store.db.query('SELECT * FROM audit_exchanges')),
        ...(await gw.store.db.query('SELECT * FROM audit_completions')),
        ...(await gw.store.audit.list({ limit: 1000 })),
      ]);
      expect(audit.includes(signer.key), 'signing key in audit').to.equal(false);
      expect(logs.text().includes(signer.key), 'signing key in logs').to.equal(false);
      expect(logs.text()).to.contain('SIGNATURE_INVALID');
    });
  });
});

/**
 * Two gateway nodes on one MariaDB: a signature accepted by one is a replay for the other,
 * because the replay cache is the store's, not either node's memory.
 */
describe('Request signing across two gateways sharing one MariaDB', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof createMariaDbDatabase>>;
  let bank: Awaited<ReturnType<typeof startTestBank>>;
  let nodes: TestGateway[] = [];

  before(async function () {
    database = await createMariaDbDatabase(this);
    bank = await startTestBank(['127.0.0.1']);
    nodes = [await TestGateway.start(database.url, bank.env({ GERBANG_RESOLVER_INTERVAL_MS: '0' }))];
    nodes.push(await TestGateway.start(database.url, bank.env({ GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_JWT_SECRET: nodes[0].jwtSecret })));
  });
  after(async () => {
    for (const node of nodes) await node.close();
    await bank?.simulator.close();
    await database?.drop();
  });

  it('refuses on node B a signed transfer node A accepted; the bank sees it once', async () => {
    const signer = await SigningClient.create(nodes[0]);
    const body = JSON.stringify(sampleTransfer());
    const headers = { authorization: `Bearer ${signer.token}`, 'content-type': 'application/json', ...signedHeaders(signer.key, '/v1/transfers', { body }) };
    const posts = () => bank.simulator.calls.filter((c) => c.method === 'POST' && c.path === '/banking/corporates/transfers').length;
    const before = posts();
    const first = await nodes[0].request('/v1/transfers', { body, headers });
    expect(first.status, first.text).to.equal(201);
    const replay = await nodes[1].request('/v1/transfers', { body, headers });
    expect(replay.status, replay.text).to.equal(401);
    expect(replay.body).to.include({ code: 'SIGNATURE_REPLAYED', header: 'X-Gerbang-Signature' });
    expect(posts() - before).to.equal(1);
  });

  it('lets exactly one of the nodes accept a signed request sent to both at once', async () => {
    const signer = await SigningClient.create(nodes[0]);
    for (let round = 0; round < 5; round += 1) {
      const path = '/v1/callbacks/public-key';
      const headers = { authorization: `Bearer ${signer.token}`, ...signedHeaders(signer.key, path, {}) };
      const answers = await Promise.all(nodes.map((node) => node.request(path, { headers })));
      expect(answers.map((a) => a.status).sort(), `round ${round}`).to.deep.equal([200, 401]);
      expect(answers.find((a) => a.status === 401)!.body.code).to.equal('SIGNATURE_REPLAYED');
    }
  });
});
