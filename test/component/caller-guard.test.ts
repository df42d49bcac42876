import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { ClientRepository } from '../../src/store/index.js';
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

forEachBackend('Caller guard refusals, counted against the per-IP limit', (db) => {
  const LIMIT = 5;
  let gw: TestGateway;
  /** Reads of the whole clients table (the origins allowed before authentication) since the gateway started. */
  let reads = 0;
  /**
   * The gateway's monotonic clock, on which its reads of the clients are aged: it moves only when
   * a request is sent, by the least gap between two re-reads (100 ms), so however slow the machine
   * the last read is as old as the requests sent since say, and a read in the requests just after
   * a forced one (well inside the 1 s bound) is one they force, never one the bound asks for.
   */
  let elapsed = 0;
  const STEP_MS = 100;
  const request = (path: string, options: Parameters<TestGateway['request']>[1]) => {
    elapsed += STEP_MS;
    return gw.request(path, options);
  };

  before(async () => {
    // The last read of the clients kept for the longest allowed, 1 s (the harness reads on every
    // request): each refused request below renews it by the re-read it forces.
    // 127.0.0.0/24 may call; 127.0.1.0/24 may not.
    gw = await TestGateway.start(db.url(), { GERBANG_RATE_LIMIT_PER_IP: String(LIMIT), GERBANG_CACHE_STALENESS_MS: '1000', GERBANG_ALLOWED_CIDRS: '127.0.0.0/24' }, { elapsed: () => elapsed });
    const clients = gw.store.clients as { list: ClientRepository['list'] };
    const list = clients.list.bind(clients);
    clients.list = async () => {
      reads += 1;
      return list();
    };
  });
  after(async () => gw?.close());

  const madeUp = (i: number) => `https://made-up-${i}-${randomBytes(3).toString('hex')}.example`;

  it('answers made-up origins 403 up to the limit, then 429 with Retry-After and no read of the clients, each audited; another address with an allowed origin is served', async () => {
    const client = await gw.createClient({ origins: ['https://erp.example.com'] });
    const answers = [];
    const readsAtStart = reads;
    let readsBeforeLimit = 0;
    for (let i = 0; i < LIMIT + 3; i += 1) {
      if (i === LIMIT) readsBeforeLimit = reads;
      answers.push(await request('/v1/transfers/none', { headers: { origin: madeUp(i) }, localAddress: '127.0.0.21' }));
    }
    const readsPastLimit = reads - readsBeforeLimit;
    expect(answers.map((res) => res.status)).to.deep.equal([...Array<number>(LIMIT).fill(403), 429, 429, 429]);
    expect(readsBeforeLimit - readsAtStart, 'reads forced by made-up origins up to the limit, one each').to.be.at.least(LIMIT);
    expect(readsPastLimit, 'reads of the clients for made-up origins past the limit').to.equal(0);
    for (const res of answers.slice(LIMIT)) {
      expect(res.body.code).to.equal('RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
      const row = await eventually(async () => (await gw.store.audit.list({ requestId: res.headers['x-request-id'] }))[0]);
      expect(row, 'the refusal has its audit row').to.deep.include({ statusCode: 429, errorCode: 'RATE_LIMITED', outcome: 'rejected', remoteIp: '127.0.0.21' });
    }

    const res = await request('/v1/auth/token', { json: { client_id: client.clientId, client_secret: client.clientSecret }, headers: { origin: 'https://erp.example.com' }, localAddress: '127.0.0.22' });
    expect(res.status, res.text).to.equal(200);
    expect(res.headers['access-control-allow-origin']).to.equal('https://erp.example.com');
  });

  it('counts a request whose origin needed a new read once: a new client\'s caller gets its whole limit', async () => {
    // A read of the clients now (the re-read a made-up origin forces, from another address), then
    // the client: its origin is allowed only on a read sent after its first request came.
    expect((await request('/v1/transfers/none', { headers: { origin: madeUp(0) }, localAddress: '127.0.0.24' })).status).to.equal(403);
    const origin = `https://new-erp-${randomBytes(3).toString('hex')}.example`;
    await gw.createClient({ origins: [origin] });
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i += 1) statuses.push((await request('/v1/transfers/none', { headers: { origin }, localAddress: '127.0.0.23' })).status);
    expect(statuses).to.deep.equal([...Array<number>(LIMIT).fill(401), 429]);
  });

  it('counts allowed CORS preflights: past the limit they get 429 with the CORS headers of their origin', async () => {
    const origin = `https://preflight-${randomBytes(3).toString('hex')}.example`;
    await gw.createClient({ origins: [origin] });
    const answers = [];
    for (let i = 0; i < LIMIT + 2; i += 1) {
      answers.push(await request('/v1/transfers', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' }, localAddress: '127.0.0.25' }));
    }
    expect(answers.map((res) => res.status)).to.deep.equal([...Array<number>(LIMIT).fill(204), 429, 429]);
    for (const res of answers.slice(LIMIT)) {
      expect(res.body.code).to.equal('RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
      expect(res.headers['access-control-allow-origin'], 'the browser can read the 429').to.equal(origin);
    }
    // The address's limit is spent for its other requests too.
    expect((await request('/v1/transfers/none', { headers: { origin }, localAddress: '127.0.0.25' })).status).to.equal(429);
  });

  it('answers an address outside the global list 403 up to the limit, then 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i += 1) {
      const res = await request('/v1/transfers/none', { localAddress: '127.0.1.5' });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
      else expect(res.body.code).to.equal('IP_NOT_ALLOWED');
    }
    expect(statuses).to.deep.equal([...Array<number>(LIMIT).fill(403), 429, 429]);
  });
});
