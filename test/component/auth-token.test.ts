import { expect } from 'chai';
import { forEachBackend } from '../support/databases.js';
import { eventually, TestGateway, type TestClient } from '../support/gateway-harness.js';

forEachBackend('POST /v1/auth/token', (db) => {
  let gw: TestGateway;
  let client: TestClient;

  before(async () => {
    gw = await TestGateway.start(db.url(), { GERBANG_LOGIN_MAX_FAILURES: '3', GERBANG_CLIENT_MAX_FAILURES: '7' });
    client = await gw.createClient();
  });
  after(async () => gw?.close());

  const auditOf = async (requestId: string) =>
    eventually(async () => {
      const rows = await gw.store.audit.list({ requestId });
      return rows[0]?.completedAt ? rows[0] : null;
    });

  describe('with valid credentials', () => {
    it('issues a Bearer JWT from a JSON body', async () => {
      const res = await gw.request('/v1/auth/token', { json: { client_id: client.clientId, client_secret: client.clientSecret } });
      expect(res.status).to.equal(200);
      expect(res.body.token_type).to.equal('Bearer');
      expect(res.body.expires_in).to.equal(900);
      expect(res.headers['cache-control']).to.equal('no-store');
      const [header, payload] = (res.body.access_token as string).split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
      expect(header.alg).to.equal('HS256');
      expect(payload).to.include({ iss: 'gerbang', aud: 'gerbang-api', sub: client.clientId });
      expect(payload.jti).to.be.a('string');
      expect(payload.exp - payload.iat).to.equal(900);
    });

    it('issues a token for an OAuth2 client_credentials form', async () => {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
      const res = await gw.request('/v1/auth/token', { body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status, res.text).to.equal(200);
      expect(res.body.access_token).to.be.a('string');
    });

    it('issues a token for HTTP Basic credentials', async () => {
      const basic = Buffer.from(`${client.clientId}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
      const form = 'grant_type=client_credentials';
      const res = await gw.request('/v1/auth/token', {
        body: form,
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status, res.text).to.equal(200);
    });
  });

  describe('with a wrong secret', () => {
    it('answers 401 invalid_client and audits the failed login without the secret', async () => {
      const res = await gw.request('/v1/auth/token', { json: { client_id: client.clientId, client_secret: 'wrong-secret-value' }, localAddress: '127.0.0.4' });
      expect(res.status).to.equal(401);
      expect(res.body).to.include({ code: 'INVALID_CLIENT', error: 'invalid_client' });
      const row = await auditOf(res.headers['x-request-id']);
      expect(row.outcome).to.equal('rejected');
      expect(row.errorCode).to.equal('INVALID_CLIENT');
      expect(row.clientId).to.equal(client.clientId);
      expect(row.requestBody).to.not.contain('wrong-secret-value');
      expect(JSON.parse(row.requestBody!).client_secret).to.equal('[REDACTED]');
    });
  });

  describe('with an unknown client id', () => {
    it('answers the same 401 as a wrong secret', async () => {
      const res = await gw.request('/v1/auth/token', { json: { client_id: 'gbc_doesnotexist00', client_secret: 'x' }, localAddress: '127.0.0.4' });
      expect(res.status).to.equal(401);
      expect(res.body.code).to.equal('INVALID_CLIENT');
    });
  });

  describe('with missing or extra fields', () => {
    it('answers 400 naming client_secret', async () => {
      const res = await gw.request('/v1/auth/token', { json: { client_id: client.clientId } });
      expect(res.status).to.equal(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(['client_secret']);
    });

    it('answers 400 naming an unsupported grant_type and an unknown field', async () => {
      const res = await gw.request('/v1/auth/token', { json: { grant_type: 'password', client_id: 'a', client_secret: 'b', admin: true } });
      expect(res.status).to.equal(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).to.have.members(['grant_type', 'admin']);
    });
  });

  describe('after repeated failures for one client id', () => {
    const attempt = (who: TestClient, secret: string, localAddress: string) => gw.request('/v1/auth/token', { json: { client_id: who.clientId, client_secret: secret }, localAddress });

    it('locks the address that failed out of the client (429 with Retry-After, even with the right secret), and the ERP at another address of its range still gets its token', async () => {
      // Another tenant of a shared range the client allows (127.0.0.0/8 here) guesses on and on.
      const erp = await gw.createClient();
      const statuses: number[] = [];
      for (let i = 0; i < 8; i += 1) statuses.push((await attempt(erp, `guess-${i}`, '127.0.0.3')).status);
      expect(statuses).to.deep.equal([401, 401, 429, 429, 429, 429, 429, 429]);
      const mine = await attempt(erp, erp.clientSecret, '127.0.0.3');
      expect(mine.status, 'the attacker\'s own address stays locked').to.equal(429);
      expect(mine.body.code).to.equal('CLIENT_LOCKED');
      expect(Number(mine.headers['retry-after'])).to.be.greaterThan(0);
      expect((await auditOf(mine.headers['x-request-id'])).errorCode).to.equal('CLIENT_LOCKED');

      const res = await attempt(erp, erp.clientSecret, '127.0.0.33');
      expect(res.status, res.text).to.equal(200);
    });

    it('locks the client for every address once many addresses together fail GERBANG_CLIENT_MAX_FAILURES times: guessing across addresses stays bounded', async () => {
      const victim = await gw.createClient();
      const statuses: number[] = [];
      for (const address of ['127.0.0.34', '127.0.0.35', '127.0.0.36']) {
        for (let i = 0; i < 3; i += 1) statuses.push((await attempt(victim, `guess-${i}`, address)).status);
      }
      // Each address is locked at its own third failure; the seventh failure in all (the third
      // address's first) locks the client.
      expect(statuses).to.deep.equal([401, 401, 429, 401, 401, 429, 429, 429, 429]);
      const res = await attempt(victim, victim.clientSecret, '127.0.0.37');
      expect(res.status).to.equal(429);
      expect(res.body.code).to.equal('CLIENT_LOCKED');
    });
  });

  describe('from an address outside the client CIDRs', () => {
    /** What an outsider can compare: status, headers that matter, and the problem without its per-request members. */
    const visible = (res: { status: number; headers: Record<string, string>; body: Record<string, unknown> }) => {
      const { requestId: _r, instance: _i, ...problem } = res.body;
      return { status: res.status, authenticate: res.headers['www-authenticate'], type: res.headers['content-type'], problem };
    };

    it('answers exactly as for an unknown client id (no 403/401 oracle), without checking the secret', async () => {
      const narrow = await gw.createClient({ cidrs: ['10.20.0.0/16'] });
      const existing = await gw.request('/v1/auth/token', { json: { client_id: narrow.clientId, client_secret: narrow.clientSecret }, localAddress: '127.0.0.5' });
      const unknown = await gw.request('/v1/auth/token', { json: { client_id: 'gbc_0000000000000000', client_secret: narrow.clientSecret }, localAddress: '127.0.0.5' });
      expect(existing.status).to.equal(401);
      expect(visible(existing)).to.deep.equal(visible(unknown));
      const row = await auditOf(existing.headers['x-request-id']);
      expect(row.errorCode).to.equal('INVALID_CLIENT');
      expect(row.clientId).to.equal(narrow.clientId);
    });

    it('answers the same for an Origin the client does not allow (it belongs to another client)', async () => {
      await gw.createClient({ origins: ['https://other-erp.example.com'] });
      const own = await gw.createClient({ origins: ['https://erp.example.com'] });
      const existing = await gw.request('/v1/auth/token', { json: { client_id: own.clientId, client_secret: own.clientSecret }, headers: { origin: 'https://other-erp.example.com' }, localAddress: '127.0.0.6' });
      const unknown = await gw.request('/v1/auth/token', { json: { client_id: 'gbc_1111111111111111', client_secret: 'x' }, headers: { origin: 'https://other-erp.example.com' }, localAddress: '127.0.0.6' });
      expect(visible(existing)).to.deep.equal(visible(unknown));
    });

    it('cannot lock the client out for its own addresses', async () => {
      const erp = await gw.createClient({ cidrs: ['127.0.0.1/32'] });
      for (let i = 0; i < 5; i += 1) {
        const res = await gw.request('/v1/auth/token', { json: { client_id: erp.clientId, client_secret: `guess-${i}` }, localAddress: '127.0.0.7' });
        expect(res.status).to.be.oneOf([401, 429]);
      }
      const res = await gw.request('/v1/auth/token', { json: { client_id: erp.clientId, client_secret: erp.clientSecret }, localAddress: '127.0.0.1' });
      expect(res.status, res.text).to.equal(200);
    });
  });

  describe('for a client with no CIDR at all', () => {
    it('refuses it from everywhere (fail closed), as an unknown client', async () => {
      const closed = await gw.createClient({ cidrs: [] });
      const res = await gw.request('/v1/auth/token', { json: { client_id: closed.clientId, client_secret: closed.clientSecret } });
      expect(res.status).to.equal(401);
      expect(res.body.code).to.equal('INVALID_CLIENT');
    });
  });

  describe('with a client id padded with spaces (MariaDB compares with PAD SPACE)', () => {
    it('is an unknown client even with the right secret, and does not reset the real id\'s lockout counter', async () => {
      const victim = await gw.createClient();
      // Six failures from six addresses (none locked on its own), one short of GERBANG_CLIENT_MAX_FAILURES.
      for (let i = 0; i < 6; i += 1) {
        const res = await gw.request('/v1/auth/token', { json: { client_id: victim.clientId, client_secret: 'guess' }, localAddress: `127.0.0.${40 + i}` });
        expect(res.status).to.equal(401);
      }
      const padded = await gw.request('/v1/auth/token', { json: { client_id: `${victim.clientId}  `, client_secret: victim.clientSecret }, localAddress: '127.0.0.10' });
      expect(padded.status, 'a padded id is not the client').to.equal(401);
      const seventh = await gw.request('/v1/auth/token', { json: { client_id: victim.clientId, client_secret: 'guess' }, localAddress: '127.0.0.11' });
      expect(seventh.status, 'the seventh failure still locks: the padded request reset nothing').to.equal(429);
    });
  });

  describe('for a disabled client', () => {
    it('answers 401', async () => {
      const gone = await gw.createClient();
      await gw.store.clients.setStatus(gone.clientId, 'disabled', Date.now());
      const res = await gw.request('/v1/auth/token', { json: { client_id: gone.clientId, client_secret: gone.clientSecret } });
      expect(res.status).to.equal(401);
    });
  });
});
