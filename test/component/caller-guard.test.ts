import { expect } from 'chai';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

forEachBackend('Caller guard (origins and addresses)', (db) => {
  let gw: TestGateway;

  before(async () => {
    gw = await TestGateway.start(db.url());
  });
  after(async () => gw?.close());

  const tokenRequest = (creds: { clientId: string; clientSecret: string }, headers: Record<string, string> = {}, localAddress?: string) =>
    gw.request('/v1/auth/token', { json: { client_id: creds.clientId, client_secret: creds.clientSecret }, headers, localAddress });

  describe('when the Origin is allowed by no list', () => {
    it('answers 403 ORIGIN_NOT_ALLOWED and audits the refusal', async () => {
      const client = await gw.createClient({ origins: ['https://erp.example.com'] });
      const res = await tokenRequest(client, { origin: 'https://evil.example.net' });
      expect(res.status).to.equal(403);
      expect(res.body.code).to.equal('ORIGIN_NOT_ALLOWED');
      expect(res.headers['access-control-allow-origin']).to.equal(undefined);
      const row = await eventually(async () => (await gw.store.audit.list({ requestId: res.headers['x-request-id'] }))[0]);
      expect(row.origin).to.equal('https://evil.example.net');
      expect(row.errorCode).to.equal('ORIGIN_NOT_ALLOWED');
    });
  });

  describe('when the Origin is one of the client origins', () => {
    it('serves the request with CORS headers for that origin', async () => {
      const client = await gw.createClient({ origins: ['https://erp.example.com'] });
      const res = await tokenRequest(client, { origin: 'https://erp.example.com' });
      expect(res.status, res.text).to.equal(200);
      expect(res.headers['access-control-allow-origin']).to.equal('https://erp.example.com');
      expect(res.headers.vary).to.match(/Origin/);
    });

    it('answers a CORS preflight', async () => {
      await gw.createClient({ origins: ['https://preflight.example.com'] });
      const res = await gw.request('/v1/transfers', {
        method: 'OPTIONS',
        headers: { origin: 'https://preflight.example.com', 'access-control-request-method': 'POST' },
      });
      expect(res.status).to.equal(204);
      expect(res.headers['access-control-allow-origin']).to.equal('https://preflight.example.com');
      expect(res.headers['access-control-allow-headers']).to.match(/Authorization/);
    });
  });

  describe('with a *.dynamics.com wildcard', () => {
    it('allows a subdomain and refuses a look-alike host', async () => {
      const client = await gw.createClient({ origins: ['*.dynamics.com'] });
      expect((await tokenRequest(client, { origin: 'https://contoso.operations.dynamics.com' })).status).to.equal(200);
      expect((await tokenRequest(client, { origin: 'https://dynamics.com.evil.io' })).status).to.equal(403);
      expect((await tokenRequest(client, { origin: 'http://contoso.dynamics.com' })).status).to.equal(403);
    });
  });

  describe('when an allowed origin belongs to another client', () => {
    it('refuses it for this client, as an unknown client (no oracle on client ids)', async () => {
      await gw.createClient({ origins: ['https://other-erp.example.com'] });
      const client = await gw.createClient({ origins: ['https://erp.example.com'] });
      const res = await tokenRequest(client, { origin: 'https://other-erp.example.com' });
      expect(res.status).to.equal(401);
      expect(res.body.code).to.equal('INVALID_CLIENT');
    });
  });

  describe('when the caller IP is not in the client CIDRs', () => {
    it('answers 403 on the transfer route and writes an audit row, with no bank call', async () => {
      const client = await gw.createClient({ cidrs: ['127.0.0.1/32'] });
      const token = await gw.token(client);
      const count = gw.simulator.calls.length;
      const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` }, localAddress: '127.0.0.2' });
      expect(res.status).to.equal(403);
      expect(res.body.code).to.equal('IP_NOT_ALLOWED');
      expect(gw.simulator.calls.length).to.equal(count);
      const row = await eventually(async () => (await gw.store.audit.list({ requestId: res.headers['x-request-id'] }))[0]);
      expect(row.remoteIp).to.equal('127.0.0.2');
      expect(row.errorCode).to.equal('IP_NOT_ALLOWED');
    });
  });

  describe('when X-Forwarded-For is sent and no proxy is trusted', () => {
    it('judges the socket address, so a forged header does not help', async () => {
      const client = await gw.createClient({ cidrs: ['10.20.0.0/16'] });
      const res = await tokenRequest(client, { 'x-forwarded-for': '10.20.30.40' });
      expect(res.status).to.equal(401);
    });
  });
});

forEachBackend('Caller guard with global lists and a trusted proxy', (db) => {
  let gw: TestGateway;

  before(async () => {
    gw = await TestGateway.start(db.url(), { GERBANG_ALLOWED_CIDRS: '127.0.0.1/32,10.20.0.0/16', GERBANG_TRUST_PROXY: '127.0.0.1' });
  });
  after(async () => gw?.close());

  it('refuses an address outside the global CIDR list before authentication', async () => {
    const res = await gw.request('/v1/auth/token', { json: { client_id: 'x', client_secret: 'y' }, localAddress: '127.0.0.2' });
    expect(res.status).to.equal(403);
    expect(res.body.code).to.equal('IP_NOT_ALLOWED');
  });

  it('believes X-Forwarded-For from the configured proxy', async () => {
    const client = await gw.createClient({ cidrs: ['10.20.0.0/16'] });
    const res = await gw.request('/v1/auth/token', {
      json: { client_id: client.clientId, client_secret: client.clientSecret },
      headers: { 'x-forwarded-for': '10.20.30.40' },
    });
    expect(res.status, res.text).to.equal(200);
  });
});
