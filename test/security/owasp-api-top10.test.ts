import { expect } from 'chai';
import { createHash, createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import jwt from 'jsonwebtoken';
import { enableSigning, rotateClientSecret } from '../../src/domain/clients/index.js';
import { requestSignature } from '../../src/pipeline/request-signature/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type HttpAnswer, type TestClient } from '../support/gateway-harness.js';
import { unsafeConsumptionSuite } from './owasp-api10-hostile-bank.js';

/**
 * The OWASP API Security Top 10 (2023), one `describe` per item, each with concrete attacks
 * against a running gateway (real store, real simulator bank, real JWTs). Every refusal is
 * checked for its audit row: an attack that leaves no trace is a finding too.
 */
forEachBackend('OWASP API Security Top 10 (2023)', (db) => {
  let gw: TestGateway;
  let alice: TestClient;
  let bob: TestClient;
  let aliceToken: string;
  let bobToken: string;

  before(async () => {
    gw = await TestGateway.start(db.url(), { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_ALLOWED_ORIGINS: 'https://erp.example.com' });
    alice = await gw.createClient();
    bob = await gw.createClient();
    aliceToken = await gw.token(alice);
    bobToken = await gw.token(bob);
  });
  after(async () => gw?.close());

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const auditOf = (res: HttpAnswer) =>
    eventually(async () => {
      const [row] = await gw.store.audit.list({ requestId: res.headers['x-request-id'] });
      return row?.completedAt ? row : null;
    });
  /** A problem document that says what is wrong and nothing about the inside. */
  const expectProblem = (res: HttpAnswer, status: number, code: string) => {
    expect(res.status, res.text).to.equal(status);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(res.body).to.include({ status, code });
    expect(res.body.requestId).to.equal(res.headers['x-request-id']);
    expect(res.text).to.not.match(/\bat [\w.<>]+ \(|node:internal|node_modules|\.js:\d+|SELECT |INSERT |sqlite|mysql|mariadb/i);
  };

  describe('API1:2023 Broken object level authorization', () => {
    it("reading another client's transfer by its transactionId: 404 exactly like an unknown id, audited", async () => {
      const transfer = sampleTransfer();
      expect((await gw.request('/v1/transfers', { json: transfer, headers: bearer(aliceToken) })).status).to.equal(201);
      const stolen = await gw.request(`/v1/transfers/${transfer.transactionId}`, { headers: bearer(bobToken) });
      const unknown = await gw.request(`/v1/transfers/NOPE-${randomBytes(4).toString('hex')}`, { headers: bearer(bobToken) });
      expectProblem(stolen, 404, 'NOT_FOUND');
      expect(stolen.text).to.not.contain(alice.clientId).and.not.contain('0201245681');
      // Same shape as an id that does not exist: ids cannot be probed.
      expect(Object.keys(stolen.body).sort()).to.deep.equal(Object.keys(unknown.body).sort());
      expect(stolen.body.title).to.equal(unknown.body.title);
      const row = await auditOf(stolen);
      expect(row).to.deep.include({ clientId: bob.clientId, statusCode: 404, errorCode: 'NOT_FOUND', transactionId: transfer.transactionId });
      expect((await gw.request(`/v1/transfers/${transfer.transactionId}`, { headers: bearer(aliceToken) })).status, 'the owner still reads it').to.equal(200);
    });

    it("posting another client's transactionId creates the caller's own transfer and never replays the other's result", async () => {
      const transfer = sampleTransfer();
      const first = await gw.request('/v1/transfers', { json: transfer, headers: bearer(aliceToken) });
      const second = await gw.request('/v1/transfers', { json: transfer, headers: bearer(bobToken) });
      expect(second.status, second.text).to.equal(201);
      expect(second.headers['idempotent-replayed']).to.equal(undefined);
      expect(second.body.bankReference).to.not.equal(first.body.bankReference);
      expect(await gw.store.payments.find(bob.clientId, transfer.transactionId as string)).to.not.equal(null);
    });

    it("reading another client's payment run: 404 like an unknown run, audited", async () => {
      const batchId = `RUN-${randomBytes(4).toString('hex')}`;
      const submitted = await gw.request('/v1/transfer-batches', { json: { batchId, transfers: [sampleTransfer()] }, headers: bearer(aliceToken) });
      expect(submitted.status, submitted.text).to.equal(202);
      const stolen = await gw.request(`/v1/transfer-batches/${batchId}`, { headers: bearer(bobToken) });
      expectProblem(stolen, 404, 'NOT_FOUND');
      expect(stolen.text).to.not.contain('transfers').and.not.contain(alice.clientId);
      expect((await auditOf(stolen)).clientId).to.equal(bob.clientId);
      expect((await gw.request(`/v1/transfer-batches/${batchId}`, { headers: bearer(aliceToken) })).status, 'the owner still reads it').to.equal(200);
    });

    it('encoded and traversal variants of the id reach nobody else\'s transfer', async () => {
      const transfer = sampleTransfer();
      await gw.request('/v1/transfers', { json: transfer, headers: bearer(aliceToken) });
      for (const path of [`/v1/transfers/${transfer.transactionId}%00`, `/v1/transfers/..%2F${transfer.transactionId}`, `/v1/transfers/${transfer.transactionId}%20OR%201=1`, `/v1/transfers/*`]) {
        const res = await gw.request(path, { headers: bearer(bobToken) });
        expect(res.status, `${path}: ${res.text}`).to.be.oneOf([400, 404]);
        expect(res.text).to.not.contain('bankReference');
      }
    });
  });

  describe('API2:2023 Broken authentication', () => {
    const kidOf = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 16);
    const claims = (overrides: Record<string, unknown> = {}) => ({ sv: 1, sub: alice.clientId, iss: 'gerbang', aud: 'gerbang-api', jti: randomUUID(), ...overrides });
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = () => Math.floor(Date.now() / 1000);

    async function expectRefused(token: string, attack: string) {
      const calls = gw.simulator.calls.length;
      const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
      expectProblem(res, 401, 'INVALID_TOKEN');
      expect(res.headers['www-authenticate'], attack).to.match(/^Bearer /);
      expect(gw.simulator.calls.length, `${attack}: nothing sent to the bank`).to.equal(calls);
      expect((await auditOf(res)).errorCode, `${attack}: audited`).to.equal('INVALID_TOKEN');
    }

    it('forged, broken, expired and alg-confused tokens: 401, nothing sent, audited', async () => {
      const key = createSecretKey(Buffer.from(gw.jwtSecret));
      const [header, payload, signature] = aliceToken.split('.');
      const attacks: Record<string, string> = {
        'garbage': 'not-a-jwt',
        'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims(), exp: now() + 300 })}.`,
        'alg None (case variant)': `${b64({ alg: 'None', typ: 'JWT' })}.${b64({ ...claims(), exp: now() + 300 })}.`,
        'signed with an attacker key': jwt.sign(claims(), 'attacker-chosen-secret-attacker-chosen', { algorithm: 'HS256', expiresIn: 300 }),
        'HS512 with the right key (algorithm not pinned?)': jwt.sign(claims(), key, { algorithm: 'HS512', expiresIn: 300, keyid: kidOf(gw.jwtSecret) }),
        'expired an hour ago': jwt.sign({ ...claims(), iat: now() - 3600, exp: now() - 3000 }, key, { algorithm: 'HS256', keyid: kidOf(gw.jwtSecret) }),
        'not yet valid (nbf in an hour)': jwt.sign({ ...claims(), nbf: now() + 3600 }, key, { algorithm: 'HS256', expiresIn: 7200, keyid: kidOf(gw.jwtSecret) }),
        'no expiry at all': jwt.sign(claims(), key, { algorithm: 'HS256', keyid: kidOf(gw.jwtSecret) }),
        'payload swapped to another client': `${header}.${b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: bob.clientId })}.${signature}`,
        'signature stripped': `${header}.${payload}.`,
        'kid pointing at a file (kid injection)': jwt.sign(claims(), '', { algorithm: 'none', header: { alg: 'none', kid: '../../../../dev/null' } } as jwt.SignOptions),
        'jku pointing at an attacker key set': `${b64({ alg: 'RS256', typ: 'JWT', jku: 'http://127.0.0.1:1/jwks.json' })}.${b64({ ...claims(), exp: now() + 300 })}.${signature}`,
        'another audience': jwt.sign(claims({ aud: 'another-api' }), key, { algorithm: 'HS256', expiresIn: 300, keyid: kidOf(gw.jwtSecret) }),
        'unknown client': jwt.sign(claims({ sub: 'gbc_doesnotexist' }), key, { algorithm: 'HS256', expiresIn: 300, keyid: kidOf(gw.jwtSecret) }),
      };
      for (const [attack, token] of Object.entries(attacks)) await expectRefused(token, attack);
    });

    it('a token replayed after its client secret was rotated: 401', async () => {
      const client = await gw.createClient();
      const token = await gw.token(client);
      expect((await gw.request(`/v1/transfers/x`, { headers: bearer(token) })).status).to.equal(404);
      expect(await rotateClientSecret(gw.store.clients, client.clientId, Date.now())).to.be.a('string');
      await expectRefused(token, 'replay after rotate-secret');
    });

    it('a stolen token replayed from an address outside the client allowlist: 403, audited', async () => {
      const client = await gw.createClient({ cidrs: ['127.0.0.1/32'] });
      const token = await gw.token(client);
      const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: bearer(token), localAddress: '127.0.0.77' });
      expectProblem(res, 403, 'IP_NOT_ALLOWED');
      expect((await auditOf(res)).errorCode).to.equal('IP_NOT_ALLOWED');
    });

    it('a token in the query string or a cookie is not accepted', async () => {
      for (const res of [
        await gw.request(`/v1/transfers?access_token=${aliceToken}`, { json: sampleTransfer() }),
        await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { cookie: `access_token=${aliceToken}` } }),
      ]) expectProblem(res, 401, 'INVALID_TOKEN');
    });

    it('a signing client: a stolen token alone, a captured signed request replayed, re-aimed, re-timed or with a raised amount: 401, nothing sent, audited', async () => {
      const client = await gw.createClient();
      const enabled = await enableSigning(gw.store.clients, TEST_AUDIT_KEYS, client.clientId, Date.now());
      if (!enabled.ok) throw new Error(enabled.reason);
      const token = await gw.token(client);
      const transfer = sampleTransfer();
      const body = JSON.stringify(transfer);
      const timestamp = new Date().toISOString();
      const { signature } = requestSignature(enabled.signingKey, { method: 'POST', pathWithQuery: '/v1/transfers', timestamp, body });
      const captured = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-gerbang-timestamp': timestamp, 'x-gerbang-signature': signature };
      expect((await gw.request('/v1/transfers', { body, headers: captured })).status, 'the genuine request pays').to.equal(201);
      const calls = gw.simulator.calls.length;
      const attacks: [string, Promise<HttpAnswer>, string][] = [
        ['stolen token, no signature', gw.request('/v1/transfers', { json: sampleTransfer(), headers: bearer(token) }), 'SIGNATURE_MISSING'],
        ['captured request replayed', gw.request('/v1/transfers', { body, headers: captured }), 'SIGNATURE_REPLAYED'],
        ['amount raised', gw.request('/v1/transfers', { body: JSON.stringify({ ...transfer, transactionId: 'INV-raised', amount: '999999999.00' }), headers: captured }), 'SIGNATURE_INVALID'],
        ['re-aimed at a payment run', gw.request('/v1/transfer-batches', { body: JSON.stringify({ batchId: 'RUN-x', transfers: [transfer] }), headers: captured }), 'SIGNATURE_INVALID'],
        ['re-timed to look fresh', gw.request('/v1/transfers', { body, headers: { ...captured, 'x-gerbang-timestamp': new Date(Date.now() + 1000).toISOString() } }), 'SIGNATURE_INVALID'],
        ['signed with a guessed key', gw.request('/v1/transfers', { body, headers: { ...captured, 'x-gerbang-signature': requestSignature('gbsk_guess', { method: 'POST', pathWithQuery: '/v1/transfers', timestamp, body }).signature } }), 'SIGNATURE_INVALID'],
      ];
      for (const [attack, answer, code] of attacks) {
        const res = await answer;
        expectProblem(res, 401, code);
        expect((await auditOf(res)).errorCode, `${attack}: audited`).to.equal(code);
      }
      expect(gw.simulator.calls.length, 'nothing sent to the bank').to.equal(calls);
    });

    it('guessing a client secret: locked out after the configured failures, even with the right secret, audited', async () => {
      const client = await gw.createClient();
      const guess = (secret: string) => gw.request('/v1/auth/token', { json: { client_id: client.clientId, client_secret: secret }, localAddress: '127.0.0.21' });
      // GERBANG_LOGIN_MAX_FAILURES is 5: four refusals, then the fifth failure locks.
      for (let i = 0; i < 4; i += 1) expectProblem(await guess(`guess-${i}`), 401, 'INVALID_CLIENT');
      expectProblem(await guess('guess-4'), 429, 'CLIENT_LOCKED');
      const locked = await guess(client.clientSecret);
      expectProblem(locked, 429, 'CLIENT_LOCKED');
      expect(locked.text).to.not.contain('access_token');
      expect((await auditOf(locked)).errorCode).to.equal('CLIENT_LOCKED');
    });
  });

  describe('API3:2023 Broken object property level authorization', () => {
    it('mass assignment of fields the ERP does not own: 400 naming each field, nothing sent, audited', async () => {
      const calls = gw.simulator.calls.length;
      const smuggled = { status: 'SUCCESS', bankReference: 'FAKE', clientId: bob.clientId, state: 'SUCCESS', httpStatus: 200, id: 1, __proto__: { admin: true }, constructor: { prototype: { admin: true } } };
      const res = await gw.request('/v1/transfers', { body: JSON.stringify({ ...sampleTransfer(), ...smuggled }).replace('}', ',"__proto__":{"admin":true}}'), headers: { ...bearer(aliceToken), 'content-type': 'application/json' } });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
      for (const name of ['status', 'bankReference', 'clientId', 'state', 'httpStatus', 'id']) expect(fields, name).to.include(name);
      expect(gw.simulator.calls.length).to.equal(calls);
      expect(({} as Record<string, unknown>).admin, 'Object.prototype untouched').to.equal(undefined);
      expect((await auditOf(res)).errorCode).to.equal('VALIDATION_FAILED');
    });

    it('answers expose no internal property of the payment record', async () => {
      const transfer = sampleTransfer();
      const created = await gw.request('/v1/transfers', { json: transfer, headers: bearer(aliceToken) });
      const read = await gw.request(`/v1/transfers/${transfer.transactionId}`, { headers: bearer(aliceToken) });
      for (const res of [created, read]) {
        for (const internal of ['clientId', 'requestHash', 'leaseOwner', 'leaseUntil', 'resultJson', 'httpStatus', 'checkAttempts', 'notFoundCount', 'id', 'secretHash']) {
          expect(res.body, internal).to.not.have.property(internal);
        }
        expect(res.text).to.not.contain(alice.clientId);
      }
    });
  });

  describe('API4:2023 Unrestricted resource consumption', () => {
    let small: TestGateway;
    let token: string;
    before(async () => {
      small = await TestGateway.start(db.url(), {
        GERBANG_RESOLVER_INTERVAL_MS: '0',
        GERBANG_BODY_LIMIT_BYTES: '2048',
        GERBANG_RATE_LIMIT_PER_IP: '40',
        GERBANG_RATE_LIMIT_PER_CLIENT: '10',
        GERBANG_RATE_LIMIT_TOKEN_PER_IP: '3',
      });
      // Counters live in the shared store: this suite's addresses are its own (127.0.0.3x).
      token = await small.token(await small.createClient(), { localAddress: '127.0.0.30' });
    });
    after(async () => small?.close());

    it('an oversized body: 413 without reading it, audited', async () => {
      const res = await small.request('/v1/transfers', { json: { ...sampleTransfer(), remark: 'x'.repeat(10_000) }, headers: bearer(token), localAddress: '127.0.0.31' });
      expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
      expect((await small.store.audit.list({ requestId: res.headers['x-request-id'] }))[0]?.errorCode).to.equal('PAYLOAD_TOO_LARGE');
    });

    it('a deeply nested body (1000 levels) and a body of 300 keys: 400, the gateway stays up', async () => {
      const nested = `{"transactionId":"A1","x":${'['.repeat(1000)}${']'.repeat(1000)}}`;
      const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 1])));
      for (const body of [nested, wide.slice(0, 2000).replace(/,[^,]*$/, '}')]) {
        const res = await small.request('/v1/transfers', { body, headers: { ...bearer(token), 'content-type': 'application/json' }, localAddress: '127.0.0.32' });
        expectProblem(res, 400, 'VALIDATION_FAILED');
      }
      expect((await small.request('/healthz')).status).to.equal(200);
    });

    it('32 KB of request headers: refused by the HTTP server (431), the gateway stays up', async () => {
      const headers: Record<string, string> = { ...bearer(token) };
      for (let i = 0; i < 32; i += 1) headers[`x-pad-${i}`] = 'p'.repeat(1024);
      // A raw socket, so that only the server's own status line counts (a client-side error is no 431).
      const status = await rawStatusLine(small.url, '/v1/transfers/x', headers, '127.0.0.33');
      expect(status).to.equal('HTTP/1.1 431 Request Header Fields Too Large');
      expect((await small.request('/healthz')).status).to.equal(200);
    });

    it('a flood of transfers from one client: 429 with Retry-After once its limit is reached, each refusal audited', async () => {
      const flooder = await small.token(await small.createClient(), { localAddress: '127.0.0.34' });
      const statuses: number[] = [];
      let refused: HttpAnswer | undefined;
      for (let i = 0; i < 12; i += 1) {
        const res = await small.request('/v1/transfers/flood', { headers: bearer(flooder), localAddress: '127.0.0.34' });
        statuses.push(res.status);
        if (res.status === 429) refused = res;
      }
      // GERBANG_RATE_LIMIT_PER_CLIENT is 10.
      expect(statuses.slice(0, 10).every((s) => s === 404), statuses.join(',')).to.equal(true);
      expect(statuses.at(-1)).to.equal(429);
      expectProblem(refused!, 429, 'RATE_LIMITED');
      expect(Number(refused!.headers['retry-after'])).to.be.greaterThan(0);
      expect((await small.store.audit.list({ requestId: refused!.headers['x-request-id'] }))[0]?.errorCode).to.equal('RATE_LIMITED');
    });

    it('a flood of token requests from one address: 429 after the token limit', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await small.request('/v1/auth/token', { json: { client_id: 'x', client_secret: 'y' }, localAddress: '127.0.0.35' })).status);
      expect(statuses).to.deep.equal([401, 401, 401, 429, 429]);
    });

    it('an unauthenticated flood from one address hits the per-IP limit on any route', async () => {
      let last: HttpAnswer | undefined;
      for (let i = 0; i < 41; i += 1) last = await small.request('/v1/transfers/anything', { localAddress: '127.0.0.36' });
      expectProblem(last!, 429, 'RATE_LIMITED');
    });
  });

  describe('API5:2023 Broken function level authorization', () => {
    const adminPaths = ['/console', '/console/login', '/admin', '/admin/clients', '/_simulator/calls', '/_simulator/accounts', '/_simulator/fail-next', '/_simulator/reset', '/v1/clients', '/v1/admin/clients', '/v1/audit', '/v1/keys/rotate', '/metrics/../console'];

    it('console, admin and simulator routes do not exist on the API port, with or without a token', async () => {
      const calls = gw.simulator.calls.length;
      for (const path of adminPaths) {
        for (const method of ['GET', 'POST'] as const) {
          const res = await gw.request(path, { method, headers: bearer(aliceToken), ...(method === 'POST' ? { json: { scenario: 'timeout' } } : {}) });
          expect(res.status, `${method} ${path}`).to.equal(404);
          expect(res.body.code).to.equal('NOT_FOUND');
        }
      }
      expect(gw.simulator.calls.length, 'no simulator control reached').to.equal(calls);
    });

    it('other methods on the payment routes (DELETE, PUT, PATCH, method override) change nothing', async () => {
      const transfer = sampleTransfer();
      await gw.request('/v1/transfers', { json: transfer, headers: bearer(aliceToken) });
      const path = `/v1/transfers/${transfer.transactionId}`;
      for (const method of ['DELETE', 'PUT', 'PATCH'] as const) {
        const res = await gw.request(path, { method, json: { status: 'FAILED' }, headers: bearer(aliceToken) });
        expect(res.status, method).to.be.oneOf([404, 405]);
      }
      await gw.request(path, { method: 'POST', json: { status: 'FAILED' }, headers: { ...bearer(aliceToken), 'x-http-method-override': 'DELETE' } });
      expect((await gw.store.payments.find(alice.clientId, transfer.transactionId as string))!.state).to.equal('SUCCESS');
    });
  });

  describe('API6:2023 Unrestricted access to sensitive business flows', () => {
    it('the same payment sent ten times at once moves money once', async () => {
      const transfer = sampleTransfer();
      const balance = () => Number(gw.simulator.balanceOf('0201245681'));
      const before = balance();
      const answers = await Promise.all(Array.from({ length: 10 }, () => gw.request('/v1/transfers', { json: transfer, headers: bearer(aliceToken) })));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 201).length, statuses.join(',')).to.be.at.least(1);
      expect(statuses.every((s) => s === 201 || s === 409), statuses.join(',')).to.equal(true);
      expect(balance() - before).to.equal(100_000);
    });

    it('a transactionId reused with another amount is refused (422), not paid again', async () => {
      const transfer = sampleTransfer();
      const balance = () => Number(gw.simulator.balanceOf(transfer.beneficiaryAccountNumber as string));
      const first = await gw.request('/v1/transfers', { json: transfer, headers: bearer(aliceToken) });
      expect(first.status, first.text).to.equal(201);
      const before = balance();
      const transfersSeen = () => gw.simulator.calls.filter((call) => call.path === '/banking/corporates/transfers').length;
      const bankCalls = transfersSeen();
      const res = await gw.request('/v1/transfers', { json: { ...transfer, amount: '999999.00' }, headers: bearer(aliceToken) });
      expectProblem(res, 422, 'IDEMPOTENCY_MISMATCH');
      expect(balance(), 'the beneficiary was not credited again').to.equal(before);
      expect(transfersSeen(), 'no transfer reached the bank').to.equal(bankCalls);
      const payment = await gw.store.payments.find(alice.clientId, transfer.transactionId as string);
      expect(payment!.amount, 'the stored payment keeps its amount').to.equal(transfer.amount);
      expect(payment!.state).to.equal('SUCCESS');
    });
  });

  describe('API7:2023 Server side request forgery', () => {
    let canary: Server;
    let canaryUrl = '';
    let connections = 0;
    before(async () => {
      canary = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
      canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => canary.close(() => resolve())));

    it('URLs in every field and in callback-style fields are refused and never fetched', async () => {
      const urls = [canaryUrl, `${canaryUrl}/latest/meta-data/`, 'http://169.254.169.254/latest/meta-data/', 'file:///etc/passwd', 'gopher://127.0.0.1:6379/_INFO'];
      for (const url of urls) {
        for (const field of ['beneficiaryBankCode', 'beneficiaryAccountNumber', 'beneficiaryEmail', 'remark', 'callbackUrl', 'webhookUrl', 'bankUrl']) {
          const res = await gw.request('/v1/transfers', { json: { ...sampleTransfer(), [field]: url }, headers: bearer(aliceToken) });
          expectProblem(res, 400, 'VALIDATION_FAILED');
          expect(res.body.errors.map((e: { field: string }) => e.field)).to.include(field);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(connections, 'the gateway never connected to the canary').to.equal(0);
    });

    it('a forged Host, X-Forwarded-Host or absolute request target does not make the gateway a proxy', async () => {
      const { port } = new URL(gw.url);
      const canaryHost = new URL(canaryUrl).host;
      const raw = [
        `GET ${canaryUrl}/healthz HTTP/1.1\r\nHost: ${canaryHost}\r\nConnection: close\r\n\r\n`,
        `GET /v1/transfers/x HTTP/1.1\r\nHost: ${canaryHost}\r\nX-Forwarded-Host: ${canaryHost}\r\nAuthorization: Bearer ${aliceToken}\r\nConnection: close\r\n\r\n`,
        `CONNECT ${canaryHost} HTTP/1.1\r\nHost: ${canaryHost}\r\n\r\n`,
      ];
      const answers = [];
      for (const request of raw) answers.push(await rawExchange(Number(port), request));
      // The absolute target is served as the gateway's own /healthz, never fetched from the canary.
      expect(answers[0]).to.match(/^HTTP\/1\.1 200/).and.to.contain('{"status":"ok"}');
      expect(answers[1]).to.match(/^HTTP\/1\.1 404/);
      expect(answers[2]).to.not.match(/^HTTP\/1\.1 2/);
      expect(connections, 'the gateway never connected to the canary').to.equal(0);
    });
  });

  describe('API8:2023 Security misconfiguration', () => {
    it('every kind of answer carries the security headers and no server fingerprint', async () => {
      const answers = [
        await gw.request('/v1/transfers', { json: sampleTransfer(), headers: bearer(aliceToken) }),
        await gw.request('/v1/transfers', { json: sampleTransfer() }),
        await gw.request('/nothing-here'),
        await gw.request('/v1/transfers', { body: '{bad json', headers: { ...bearer(aliceToken), 'content-type': 'application/json' } }),
        await gw.request('/v1/auth/token', { json: { client_id: alice.clientId, client_secret: alice.clientSecret }, localAddress: '127.0.0.41' }),
      ];
      for (const res of answers) {
        const what = `${res.status} ${res.text.slice(0, 80)}`;
        expect(res.headers['x-content-type-options'], what).to.equal('nosniff');
        expect(res.headers['x-frame-options'], what).to.equal('SAMEORIGIN');
        expect(res.headers['content-security-policy'], what).to.contain("default-src 'none'");
        expect(res.headers['strict-transport-security'], what).to.match(/max-age=\d+/);
        expect(res.headers['referrer-policy'], what).to.equal('no-referrer');
        expect(res.headers, what).to.not.have.property('x-powered-by');
        expect(res.headers, what).to.not.have.property('server');
        expect(res.headers['x-request-id'], what).to.be.a('string');
      }
      expect(answers[4].headers['cache-control']).to.equal('no-store');
    });

    it('CORS: an unknown Origin is refused with no CORS grant; an allowed one gets its own origin, never * or credentials', async () => {
      const evil = await gw.request('/v1/transfers', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expectProblem(evil, 403, 'ORIGIN_NOT_ALLOWED');
      expect(evil.headers).to.not.have.property('access-control-allow-origin');
      const lookalike = await gw.request('/v1/transfers', { method: 'OPTIONS', headers: { origin: 'https://erp.example.com.evil.example', 'access-control-request-method': 'POST' } });
      expect(lookalike.status).to.equal(403);
      const nullOrigin = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { ...bearer(aliceToken), origin: 'null' } });
      expect(nullOrigin.status).to.equal(403);
      const good = await gw.request('/v1/transfers', { method: 'OPTIONS', headers: { origin: 'https://erp.example.com', 'access-control-request-method': 'POST' } });
      expect(good.status).to.equal(204);
      expect(good.headers['access-control-allow-origin']).to.equal('https://erp.example.com');
      expect(good.headers).to.not.have.property('access-control-allow-credentials');
      expect(good.headers.vary).to.match(/origin/i);
    });

    it('errors leak no stack trace, SQL, file path or dependency: malformed input of every kind', async () => {
      const probes: [string, Parameters<TestGateway['request']>[1]][] = [
        ['/v1/transfers', { body: '{"a":', headers: { ...bearer(aliceToken), 'content-type': 'application/json' } }],
        ['/v1/transfers', { body: '"just a string"', headers: { ...bearer(aliceToken), 'content-type': 'application/json' } }],
        ['/v1/transfers', { body: 'a=1', headers: { ...bearer(aliceToken), 'content-type': 'application/x-www-form-urlencoded' } }],
        ['/v1/transfers', { body: '{}', headers: { ...bearer(aliceToken), 'content-type': 'application/json; charset=latin1' } }],
        ['/v1/transfers', { body: '\u0000\uffff', headers: { ...bearer(aliceToken), 'content-type': 'application/json' } }],
        ['/v1/transfers/%E0%A4%A', { headers: bearer(aliceToken) }],
        ['/v1/transfers/%', { headers: bearer(aliceToken) }],
        ["/v1/transfers/1'%20OR%20'1'='1", { headers: bearer(aliceToken) }],
        ['/v1/auth/token', { body: 'client_id[]=a&client_id[]=b', headers: { 'content-type': 'application/x-www-form-urlencoded' }, localAddress: '127.0.0.42' }],
        ['/v1/auth/token', { json: { client_id: { $ne: null }, client_secret: { $gt: '' } }, localAddress: '127.0.0.42' }],
      ];
      for (const [path, options] of probes) {
        const res = await gw.request(path, options);
        expect(res.status, `${path}: ${res.text}`).to.be.within(400, 499);
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(res.text, path).to.not.match(/\bat [\w.<>]+ \(|node:internal|node_modules|\/src\/|\.js:\d+|SELECT |sqlite|mysql|express|body-parser|Joi/i);
      }
    });
  });

  describe('API9:2023 Improper inventory management', () => {
    const documented: [string, string, number[]][] = [
      ['GET', '/healthz', [200]],
      ['GET', '/readyz', [200]],
      ['POST', '/v1/auth/token', [400, 401]],
      ['POST', '/v1/transfers', [401]],
      ['GET', '/v1/transfers/X1', [401]],
      ['POST', '/v1/account-inquiries', [401]],
      ['GET', '/v1/accounts/0201245680/balance', [401]],
      ['GET', '/v1/accounts/0201245680/statements', [401]],
      ['POST', '/v1/transfer-batches', [401]],
      ['GET', '/v1/transfer-batches/B1', [401]],
      ['GET', '/v1/openapi.json', [200]],
      ['GET', '/v1/swagger.json', [200]],
    ];

    it('the documented routes answer', async () => {
      for (const [method, path, statuses] of documented) {
        const res = await gw.request(path, { method, localAddress: '127.0.0.51', ...(method === 'POST' ? { json: {} } : {}) });
        expect(res.status, `${method} ${path}`).to.be.oneOf(statuses);
      }
    });

    it('every operation of the served OpenAPI document is routed, and every routed API path is in it', async () => {
      const doc = (await gw.request('/v1/openapi.json', { localAddress: '127.0.0.52' })).body as { paths: Record<string, Record<string, unknown>> };
      const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map((m) => [m.toUpperCase(), path] as const));
      expect(operations.length).to.be.greaterThan(3);
      for (const [method, template] of operations) {
        const path = template.replace(/\{[^}]+\}/g, '0201245680');
        const res = await gw.request(path, { method: method as 'GET', headers: bearer(aliceToken), ...(method === 'POST' ? { json: {} } : {}) });
        expect(String(res.body?.detail ?? ''), `${method} ${template} is documented but not routed`).to.not.match(/^No route for/);
      }
      const documentedPaths = new Set(Object.keys(doc.paths).map((p) => p.replace(/\{[^}]+\}/g, '{}')));
      for (const [, path] of documented.filter(([, p]) => p.startsWith('/v1/') && !p.endsWith('.json'))) {
        const template = path.replace(/\/(0201245680|X1|B1)(?=\/|$)/, '/{}');
        expect(documentedPaths.has(template), `${path} answers but is not in the OpenAPI document`).to.equal(true);
      }
    });

    it('old, future, debug and leftover routes do not exist (404 problem, nothing about what does exist)', async () => {
      const shadow = ['/v0/transfers', '/v2/transfers', '/api/v1/transfers', '/v1/transfers/X1/cancel', '/v1/transfers/X1/refund', '/v1/internal/transfers', '/debug', '/debug/vars', '/status', '/server-status', '/.env', '/.git/config', '/package.json', '/dist/src/gateway/gateway.js', '/var/gerbang.sqlite', '/actuator/env', '/swagger-ui.html', '/graphql', '/test', '/sandbox'];
      for (const path of shadow) {
        for (const method of ['GET', 'POST'] as const) {
          const res = await gw.request(path, { method, headers: bearer(aliceToken), ...(method === 'POST' ? { json: {} } : {}) });
          expect(res.status, `${method} ${path}`).to.equal(404);
          expect(res.body.code).to.equal('NOT_FOUND');
          expect(res.body.detail, 'names only what was asked, never what exists').to.equal(`No route for ${method} ${path}.`);
        }
      }
    });

    it('the simulator bank is not reachable through the API port, and listens on loopback only', async () => {
      const simulatorUrl = new URL(gw.gateway.banks.simulator!.url);
      expect(simulatorUrl.hostname).to.equal('127.0.0.1');
      expect(simulatorUrl.port).to.not.equal(new URL(gw.url).port);
    });
  });

  unsafeConsumptionSuite(db);
});

/** Writes a raw HTTP request (for request lines undici would never send) and returns what came back. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(3000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (Buffer.concat(chunks).includes('\r\n\r\n')) socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(request);
  });
}

/** The status line the server answers a raw HTTP/1.1 request with; rejects when it answers none. */
function rawStatusLine(base: string, path: string, headers: Record<string, string>, localAddress: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), localAddress });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', (error) => (received ? undefined : reject(error)));
    socket.on('close', () => {
      const line = received.split('\r\n')[0];
      if (line) resolve(line);
      else reject(new Error('the server closed the connection without an answer'));
    });
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), 'Connection: close', '', ''];
    socket.end(lines.join('\r\n'));
  });
}
