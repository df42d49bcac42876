import { expect } from 'chai';
import { forEachBackend } from '../support/databases.js';
import { eventually, TestGateway } from '../support/gateway-harness.js';

forEachBackend('Rate limits', (db) => {
  let a: TestGateway;
  let b: TestGateway;

  before(async () => {
    // Two gateway processes' worth of app on one store: the counters must be shared.
    const env = { GERBANG_RATE_LIMIT_PER_IP: '100', GERBANG_RATE_LIMIT_TOKEN_PER_IP: '4', GERBANG_LOGIN_MAX_FAILURES: '1000', GERBANG_CLIENT_MAX_FAILURES: '2001' };
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

  it('holds a per-IP limit across two gateways: one idle for longer than the interval reads the other\'s hits before it admits', async () => {
    // Counted in each process and synchronised every 100 ms (the default). a admits one request and
    // goes quiet; b admits the rest of the limit; b's hits reach the store within its interval.
    const limit = 12;
    const env = { GERBANG_RATE_LIMIT_PER_IP: String(limit), GERBANG_RATE_LIMIT_SYNC_MS: '100' };
    const [c, d] = [await TestGateway.start(db.url(), env), await TestGateway.start(db.url(), env)];
    const from = { localAddress: '127.0.0.9' };
    try {
      expect((await c.request('/v1/transfers/none', from)).status, 'c admits the first').to.equal(401);
      for (let i = 1; i < limit; i += 1) expect((await d.request('/v1/transfers/none', from)).status, `d admits request ${i + 1}`).to.equal(401);
      const stored = async () => Number((await a.store.db.query<{ hits: number | string }>("SELECT hits FROM rate_limits WHERE rl_key = 'ip:127.0.0.9'"))[0]?.hits ?? 0);
      await eventually(async () => (await stored()) === limit);
      // c last read the window when it held 1 hit; it must not admit on that view.
      const burst = await Promise.all(Array.from({ length: limit }, () => c.request('/v1/transfers/none', from)));
      const admitted = burst.filter((res) => res.status !== 429);
      expect(admitted, 'c admitted past the limit the store held').to.have.length(0);
      expect(Number(burst[0].headers['retry-after'])).to.be.greaterThan(0);
    } finally {
      await c.close();
      await d.close();
    }
  });

  it('keeps two gateways taking one address\'s requests at once within the documented bound: the limit plus what the other admitted in 3 × (interval + one statement)', async () => {
    const limit = 30;
    const syncMs = 100;
    /** One statement's time, generous for a loaded machine (the bound's d). */
    const statementMs = 100;
    const env = { GERBANG_RATE_LIMIT_PER_IP: String(limit), GERBANG_RATE_LIMIT_SYNC_MS: String(syncMs) };
    const nodes = [await TestGateway.start(db.url(), env), await TestGateway.start(db.url(), env)];
    const from = { localAddress: '127.0.0.10' };
    const answers: { node: number; sent: number; answered: number; status: number }[] = [];
    try {
      // Each node takes the address's requests four at a time, until both have sent 2 × the limit.
      await Promise.all(
        nodes.flatMap((node, i) =>
          Array.from({ length: 4 }, async () => {
            while (answers.filter((x) => x.node === i).length < limit) {
              const sent = Date.now();
              const res = await node.request('/v1/transfers/none', from);
              answers.push({ node: i, sent, answered: Date.now(), status: res.status });
            }
          }),
        ),
      );
    } finally {
      for (const node of nodes) await node.close();
    }
    const admitted = answers.filter((x) => x.status !== 429);
    expect(answers.filter((x) => x.status === 429), 'the limit was reached').to.not.have.length(0);
    // For each admitted request, what the other node admitted that it may not have seen: the other
    // node's admitted requests whose time overlaps the 3(S + d) before it (counted generously).
    const span = 3 * (syncMs + statementMs);
    const unseen = Math.max(...admitted.map((x) => admitted.filter((y) => y.node !== x.node && y.answered >= x.sent - span && y.sent <= x.answered).length));
    expect(admitted.length, `admitted ${admitted.length}; the bound ${limit} + ${unseen}`).to.be.at.most(limit + unseen);
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

  it('counts 200 addresses behind a trusted proxy each exactly to its limit while keeping at most GERBANG_RATE_LIMIT_LOCAL_WINDOWS windows (gauge)', async () => {
    const limit = 2;
    const bound = 50;
    const c = await TestGateway.start(db.url(), { GERBANG_TRUST_PROXY: '127.0.0.1', GERBANG_RATE_LIMIT_PER_IP: String(limit), GERBANG_RATE_LIMIT_LOCAL_WINDOWS: String(bound) });
    const addresses = Array.from({ length: 200 }, (_, i) => `10.77.${i >> 8}.${i & 255}`);
    const windows = async () => {
      const text = await (await fetch(c.gateway.metricsUrl!)).text();
      return Number(/^gerbang_rate_limit_local_windows\{limiter="ip"\} (\d+)$/m.exec(text)?.[1]);
    };
    const seen: number[] = [];
    let flooding = true;
    const watch = (async () => {
      while (flooding) seen.push(await windows());
    })();
    const statuses = new Map<string, number[]>(addresses.map((a) => [a, []]));
    try {
      for (let round = 0; round <= limit; round += 1) {
        let next = 0;
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            while (next < addresses.length) {
              const address = addresses[next++];
              statuses.get(address)!.push((await c.request('/v1/transfers/none', { headers: { 'x-forwarded-for': address } })).status);
            }
          }),
        );
      }
      flooding = false;
      await watch;
      seen.push(await windows());
    } finally {
      flooding = false;
      await c.close();
    }
    const wrong = [...statuses].filter(([, s]) => s.join() !== '401,401,429');
    expect(wrong, 'addresses not refused exactly at their limit').to.deep.equal([]);
    expect(Math.max(...seen), `windows kept, sampled ${seen.length} times`).to.equal(bound);
  });
});
