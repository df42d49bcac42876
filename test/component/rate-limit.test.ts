import { expect } from 'chai';
import { forEachBackend } from '../support/databases.js';
import { eventually, TestGateway } from '../support/gateway-harness.js';

forEachBackend('Rate limits', (db) => {
  let a: TestGateway;
  let b: TestGateway;

  before(async () => {
    // Two gateway processes' worth of app on one store: the counters must be shared.
    const env = { GERBANG_RATE_LIMIT_PER_IP: '100', GERBANG_RATE_LIMIT_TOKEN_PER_IP: '4', GERBANG_LOGIN_MAX_FAILURES: '1000' };
    a = await TestGateway.start(db.url(), env);
    b = await TestGateway.start(db.url(), env);
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it('sends standard RateLimit headers', async () => {
    const res = await a.request('/v1/auth/token', { json: { client_id: 'x', client_secret: 'y' }, localAddress: '127.0.0.5' });
    expect(res.headers.ratelimit).to.match(/"token-ip"; r=3; t=\d+/);
    expect(res.headers['ratelimit-policy']).to.match(/"token-ip"; q=4; w=60/);
  });

  it('limits token requests per IP across gateway processes sharing the store (429 with Retry-After)', async () => {
    const statuses: number[] = [];
    for (const gw of [a, b, a, b, a]) {
      const res = await gw.request('/v1/auth/token', { json: { client_id: 'x', client_secret: 'y' }, localAddress: '127.0.0.6' });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body.code).to.equal('RATE_LIMITED');
        expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
        const row = await eventually(async () => (await gw.store.audit.list({ requestId: res.headers['x-request-id'] }))[0]);
        expect(row, 'the refusal has its audit row').to.deep.include({ statusCode: 429, errorCode: 'RATE_LIMITED', outcome: 'rejected' });
      }
    }
    expect(statuses).to.deep.equal([401, 401, 401, 401, 429]);
  });

  it('adds the hits still counted in the process to the store when a gateway stops', async () => {
    // Synchronised at most once a second: the stop adds the later hits before the store closes.
    const c = await TestGateway.start(db.url(), { GERBANG_RATE_LIMIT_PER_IP: '100', GERBANG_RATE_LIMIT_SYNC_MS: '1000' });
    try {
      for (let i = 0; i < 5; i += 1) await c.request('/v1/transfers/none', { localAddress: '127.0.0.7' });
    } finally {
      await c.close();
    }
    const { hits } = await a.store.rateLimits.increment('ip:127.0.0.7', 60_000, Date.now());
    expect(hits - 1, 'hits counted in the store after the stop').to.equal(5);
  });
});
