import { expect } from 'chai';
import { createHash, createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';

forEachBackend('Bearer authentication on /v1/transfers', (db) => {
  let gw: TestGateway;
  let client: TestClient;

  before(async () => {
    gw = await TestGateway.start(db.url());
    client = await gw.createClient();
  });
  after(async () => gw?.close());

  const claims = (overrides: Record<string, unknown> = {}) => ({ sv: 1, sub: client.clientId, iss: 'gerbang', aud: 'gerbang-api', jti: randomUUID(), ...overrides });
  /** The key id Gerbang puts in its tokens for a secret. */
  const kidOf = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 16);
  const sign = (payload: object, secret = gw.jwtSecret, options: jwt.SignOptions = {}) =>
    jwt.sign(payload, createSecretKey(Buffer.from(secret)), { algorithm: 'HS256', expiresIn: 300, keyid: kidOf(gw.jwtSecret), ...options });

  async function expectRefused(token: string) {
    const count = gw.simulator.calls.length;
    const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
    expect(res.status, res.text).to.equal(401);
    expect(res.body.code).to.equal('INVALID_TOKEN');
    expect(res.headers['www-authenticate']).to.match(/^Bearer error="invalid_token"/);
    expect(gw.simulator.calls.length, 'no bank call').to.equal(count);
    const row = await eventually(async () => (await gw.store.audit.list({ requestId: res.headers['x-request-id'] }))[0]);
    expect(row.errorCode).to.equal('INVALID_TOKEN');
    return res;
  }

  it('accepts a token it issued (control case)', async () => {
    const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${sign(claims())}` } });
    expect(res.status, res.text).to.equal(201);
  });

  it('refuses a request without a token', async () => {
    const res = await gw.request('/v1/transfers', { json: sampleTransfer() });
    expect(res.status).to.equal(401);
    expect(res.body.code).to.equal('INVALID_TOKEN');
  });

  it('refuses an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = jwt.sign({ ...claims(), iat: past, exp: past + 60 }, createSecretKey(Buffer.from(gw.jwtSecret)), { algorithm: 'HS256', keyid: kidOf(gw.jwtSecret) });
    await expectRefused(expired);
  });

  it('refuses a token signed with another key (forged signature)', async () => {
    await expectRefused(sign(claims(), 'an-attacker-chosen-secret-of-enough-length'));
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const [header, , signature] = sign(claims()).split('.');
    const payload = Buffer.from(JSON.stringify(claims({ sub: 'gbc_someoneelse000' }))).toString('base64url');
    await expectRefused(`${header}.${payload}.${signature}`);
  });

  it('refuses alg: none', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ ...claims(), exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url');
    await expectRefused(`${header}.${payload}.`);
  });

  it('refuses a token for another audience', async () => {
    await expectRefused(sign(claims({ aud: 'another-api' })));
  });

  it('refuses a token from another issuer', async () => {
    await expectRefused(sign(claims({ iss: 'someone-else' })));
  });

  it('refuses the token of a client disabled after issuing it', async () => {
    const other = await gw.createClient();
    const token = await gw.token(other);
    await gw.store.clients.setStatus(other.clientId, 'disabled', Date.now());
    const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(401);
  });
});

forEachBackend('Rotating the token-signing secret', (db) => {
  const oldSecret = randomBytes(32).toString('hex');
  const newSecret = randomBytes(32).toString('hex');
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.close();
  });

  it('keeps tokens signed with the previous secret valid, signs new ones with the new secret, and drops the old ones once it is removed', async () => {
    const before = await TestGateway.start(db.url(), { GERBANG_JWT_SECRET: oldSecret });
    gateways.push(before);
    const client = await before.createClient();
    const oldToken = await before.token(client);

    const rotated = await TestGateway.start(db.url(), { GERBANG_JWT_SECRET: newSecret, GERBANG_JWT_PREVIOUS_SECRETS: oldSecret });
    gateways.push(rotated);
    const pay = (gw: TestGateway, token: string) => gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
    expect((await pay(rotated, oldToken)).status).to.equal(201);
    const newToken = await rotated.token(client);
    const kid = (token: string) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid;
    expect(kid(newToken)).to.not.equal(kid(oldToken));
    expect(kid(newToken)).to.not.contain(newSecret.slice(0, 8));

    const after = await TestGateway.start(db.url(), { GERBANG_JWT_SECRET: newSecret });
    gateways.push(after);
    expect((await pay(after, oldToken)).status).to.equal(401);
    expect((await pay(after, newToken)).status).to.equal(201);
  });
});

