import { expect } from 'chai';
import { TRANSFER_PATH } from '../../src/banks/bca-legacy/index.js';
import { createTokenProvider, TOKEN_REFRESH_MARGIN_MS } from '../../src/banks/common/token-provider.js';
import { storeTokenCache } from '../../src/gateway/bank-partners.js';
import type { Store } from '../../src/store/index.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { sampleTransfer, TestGateway, type HttpAnswer, type TestClient } from '../support/gateway-harness.js';
import { startTestBank, type TestBank } from '../support/test-bank.js';

const BOUND_MS = 1_000;
/** Time for the change to reach a request, beyond the bound: one request's round trip on a busy machine. */
const SLACK_MS = 750;

/**
 * Two gateway nodes on one MariaDB with the default GERBANG_CACHE_STALENESS_MS (1 s): each keeps
 * the client rows, the callback endpoints and the bank token it read, and a change made in the
 * database (by the CLI, the console or another node) is honoured by both within the bound.
 */
describe('Client rows, callback endpoints and bank tokens across two nodes, reused for at most 1 s', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof createMariaDbDatabase>>;
  let bank: TestBank;
  const nodes: TestGateway[] = [];
  /** A third node whose wall clock is the system's plus `stepMs` (a clock stepped by NTP, a VM resume, `date -s`). */
  let stepped: TestGateway;
  let stepMs = 0;

  before(async function () {
    database = await createMariaDbDatabase(this);
    bank = await startTestBank();
    const env = bank.env({ GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_CACHE_STALENESS_MS: String(BOUND_MS) });
    nodes.push(await TestGateway.start(database.url, env));
    nodes.push(await TestGateway.start(database.url, env));
    stepped = await TestGateway.start(database.url, env, { clock: () => Date.now() + stepMs });
  });
  after(async () => {
    for (const node of nodes) await node.close();
    await stepped?.close();
    await bank?.simulator.close();
    await database?.drop();
  });

  /** Both nodes pay once with the client (so each has its row), returning each node's token. */
  async function warm(client: TestClient): Promise<string[]> {
    const tokens = await Promise.all(nodes.map((node) => node.token(client)));
    for (const [i, node] of nodes.entries()) {
      const paid = await node.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${tokens[i]}` } });
      expect(paid.status, paid.text).to.equal(201);
    }
    return tokens;
  }

  /**
   * Milliseconds until `node` answers `ask` with `refused` (401 by default), asking every 50 ms;
   * every answer before it must be `accepted` (the old state still served, as it may be within the bound).
   */
  async function untilRefused(node: TestGateway, token: string, since: number, refused = 401): Promise<number> {
    return untilAnswered(() => node.request('/v1/transfers/INV-none', { headers: { authorization: `Bearer ${token}` } }), since, refused, 404);
  }

  async function untilAnswered(ask: () => Promise<HttpAnswer>, since: number, refused: number, accepted: number): Promise<number> {
    for (;;) {
      const answer = await ask();
      if (answer.status === refused) return Date.now() - since;
      expect(answer.status, answer.text).to.equal(accepted);
      if (Date.now() - since > 10 * BOUND_MS) throw new Error('still accepted after ten times the bound');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  // Written as the CLI or the console of another process writes them: through the store, the row's
  // MAC kept current (a row changed in SQL alone is refused as forged: database-attacks.test.ts).
  const changes = [
    { what: 'a client disabled', change: (store: Store, id: string) => store.clients.setStatus(id, 'disabled', Date.now()) },
    { what: 'the tokens of a rotated secret', change: (store: Store, id: string) => store.clients.rotateSecret(id, 'scrypt$rotated', Date.now()) },
    {
      what: 'a caller its address list no longer holds',
      change: (store: Store, id: string) => store.clients.setAllowlists(id, { allowedOrigins: [], allowedCidrs: ['203.0.113.0/24'] }, Date.now()),
      refused: 403,
    },
  ];
  for (const change of changes) {
    it(`refuses ${change.what} in the database on both nodes within the bound`, async () => {
      const client = await nodes[0].createClient();
      const tokens = await warm(client);
      const changed = Date.now();
      await change.change(nodes[0].store, client.clientId);
      const took = await Promise.all(nodes.map((node, i) => untilRefused(node, tokens[i], changed, change.refused)));
      for (const ms of took) expect(ms).to.be.at.most(BOUND_MS + SLACK_MS);
    });
  }

  it('refuses, before authentication, an origin removed from its client on both nodes within the bound (CORS preflight 403)', async () => {
    const origin = `https://erp-${Date.now().toString(36)}.example`;
    const client = await nodes[0].createClient({ origins: [origin] });
    const preflight = (node: TestGateway) => () => node.request('/v1/transfers', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    for (const node of nodes) expect((await preflight(node)()).status, 'the origin is allowed while its client lists it').to.equal(204);
    const removed = Date.now();
    await nodes[0].store.clients.setAllowlists(client.clientId, { allowedOrigins: [], allowedCidrs: ['127.0.0.0/8', '::1/128'] }, removed);
    const took = await Promise.all(nodes.map((node) => untilAnswered(preflight(node), removed, 403, 204)));
    for (const ms of took) expect(ms).to.be.at.most(BOUND_MS + SLACK_MS);
  });

  it('never serves a client row an attacker re-enabled in SQL: its tokens stay refused (401), then 500 AUDIT_INTEGRITY on both nodes once the row is read again', async () => {
    const client = await nodes[0].createClient();
    const tokens = await warm(client);
    const disabled = Date.now();
    await nodes[0].store.clients.setStatus(client.clientId, 'disabled', disabled);
    await Promise.all(nodes.map((node, i) => untilRefused(node, tokens[i], disabled)));
    // Written as an attacker with SQL access and no key writes it: the row's MAC is left as it was.
    const forged = Date.now();
    await nodes[0].store.db.execute("UPDATE clients SET status = 'active' WHERE id = ?", [client.clientId]);
    const read = (node: TestGateway, token: string) => () => node.request('/v1/transfers/INV-none', { headers: { authorization: `Bearer ${token}` } });
    // Until the row is read again the disabled one is served (401); after, the forged one is refused.
    await Promise.all(nodes.map((node, i) => untilAnswered(read(node, tokens[i]), forged, 500, 401)));
    for (const [i, node] of nodes.entries()) {
      // Refused again and again: a row that fails its check is never kept in place of a read.
      for (let n = 0; n < 3; n += 1) {
        const answer = await read(node, tokens[i])();
        expect(answer.status, answer.text).to.equal(500);
        expect(answer.body.code).to.equal('AUDIT_INTEGRITY');
      }
    }
  });

  it('refuses an account grant revoked in the database on both nodes within the bound (404, nothing sent)', async () => {
    const client = await nodes[0].createClient();
    const tokens = await warm(client);
    const revoked = Date.now();
    expect(await nodes[0].store.accountGrants.revoke(client.clientId, '0201245680')).to.equal(true);
    const took = await Promise.all(
      nodes.map(async (node, i) => {
        for (;;) {
          const answer = await node.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${tokens[i]}` } });
          if (answer.status === 404) return Date.now() - revoked;
          expect(answer.status, answer.text).to.equal(201);
          if (Date.now() - revoked > 10 * BOUND_MS) throw new Error('still paying from a revoked account after ten times the bound');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }),
    );
    for (const ms of took) expect(ms).to.be.at.most(BOUND_MS + SLACK_MS);
    // Once refused, refused for good (no cached grant comes back), and nothing reaches the bank.
    const transfersSent = () => bank.simulator.calls.filter((call) => call.path === TRANSFER_PATH).length;
    const sentBefore = transfersSent();
    for (const [i, node] of nodes.entries()) {
      const answer = await node.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${tokens[i]}` } });
      expect(answer.status, answer.text).to.equal(404);
    }
    expect(transfersSent()).to.equal(sentBefore);
  });

  it('on a node whose wall clock steps back an hour, refuses a client disabled and its account revoked within the bound (ages on the monotonic clock)', async () => {
    const client = await nodes[0].createClient();
    const token = await stepped.token(client);
    const pay = () => stepped.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
    const paid = await pay();
    expect(paid.status, paid.text).to.equal(201);
    stepMs = -3_600_000;
    try {
      const changed = Date.now();
      expect(await nodes[0].store.clients.setStatus(client.clientId, 'disabled', changed)).to.equal(true);
      expect(await nodes[0].store.accountGrants.revoke(client.clientId, '0201245680')).to.equal(true);
      for (;;) {
        const answer = await pay();
        if (answer.status === 401 || answer.status === 404) break;
        // Let through to the bank: paid, or refused by it when the stepped clock's Jakarta date is
        // not the bank's (within an hour of midnight, WIB).
        expect(answer.status, answer.text).to.be.oneOf([201, 422]);
        // Measured on the wall clock, the stepped node kept its reads "fresh" for the hour of the step.
        if (Date.now() - changed > 10 * BOUND_MS) throw new Error('still paying for a disabled client after ten times the bound');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(Date.now() - changed).to.be.at.most(BOUND_MS + SLACK_MS);
    } finally {
      stepMs = 0;
    }
  });

  it('stops queueing callbacks for an endpoint removed in the database on both nodes within the bound', async () => {
    const client = await nodes[0].createClient();
    // Set as the CLI sets it, from another process; nothing is posted to it (the port is closed).
    await nodes[0].store.callbacks.setEndpoint(client.clientId, 'http://127.0.0.1:9/callbacks', Date.now());
    const tokens = await Promise.all(nodes.map((node) => node.token(client)));
    /** Pays once on `node`; whether the final transfer's callback was queued. */
    const queued = async (i: number): Promise<boolean> => {
      const transfer = sampleTransfer();
      const paid = await nodes[i].request('/v1/transfers', { json: transfer, headers: { authorization: `Bearer ${tokens[i]}` } });
      expect(paid.status, paid.text).to.equal(201);
      const rows = await nodes[0].store.db.query('SELECT id FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [client.clientId, transfer.transactionId as string]);
      return rows.length === 1;
    };
    for (const i of nodes.keys()) expect(await queued(i), 'queued while the endpoint is registered').to.equal(true);
    const removed = Date.now();
    await nodes[0].store.callbacks.setEndpoint(client.clientId, null, removed);
    const took = await Promise.all(
      nodes.map(async (_, i) => {
        while (await queued(i)) {
          if (Date.now() - removed > 10 * BOUND_MS) throw new Error('still queueing callbacks after ten times the bound');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return Date.now() - removed;
      }),
    );
    for (const ms of took) expect(ms).to.be.at.most(BOUND_MS + SLACK_MS);
    for (const i of nodes.keys()) expect(await queued(i), 'once stopped, stopped for good').to.equal(false);
  });

  it('stops using a bank token dropped from the shared cache within the bound: one new token for both nodes', async () => {
    const client = await nodes[0].createClient();
    const tokens = await warm(client);
    const tokenRequests = () => bank.simulator.calls.filter((call) => call.path === '/api/oauth/token').length;
    const before = tokenRequests();
    await nodes[0].store.db.execute('DELETE FROM bank_tokens');
    await new Promise((resolve) => setTimeout(resolve, BOUND_MS + 50));
    for (const [i, node] of nodes.entries()) {
      const paid = await node.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${tokens[i]}` } });
      expect(paid.status, paid.text).to.equal(201);
    }
    expect(tokenRequests() - before, 'neither node kept the dropped token; the second took the first one\'s new token').to.equal(1);
  });

  it('fetches one new token for two nodes whose kept copies expire together: the waiting node reads the store, not its kept copy', async () => {
    let now = 7_000_000;
    const partner = `recent-rows-${Date.now().toString(36)}`;
    const requests: string[] = [];
    const node = (name: string, ms: number) =>
      createTokenProvider({
        partner,
        tokens: storeTokenCache(nodes[0].store.bankTokens, () => now, '', BOUND_MS, () => now),
        now: () => new Date(now),
        request: async () => {
          requests.push(name);
          await new Promise((resolve) => setTimeout(resolve, ms));
          return { accessToken: `new-from-${name}`, expiresInSeconds: 3600 };
        },
      });
    const [a, b] = [node('a', 300), node('b', 0)];
    const ctx = { onCall: async () => undefined };
    await nodes[0].store.bankTokens.put({ partner, token: 'old', expiresAt: now + TOKEN_REFRESH_MARGIN_MS + 500, fetchedAt: now });
    expect([await a.current(ctx), await b.current(ctx)], 'both keep the shared token').to.deep.equal(['old', 'old']);
    // Within the bound of their reads the kept token comes within the refresh margin of its expiry.
    now += 600;
    const first = a.current(ctx);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = b.current(ctx);
    expect(await Promise.all([first, second])).to.deep.equal(['new-from-a', 'new-from-a']);
    expect(requests, 'one token request to the bank for both nodes').to.deep.equal(['a']);
  });

  it('reads the shared token once per interval on a node, and sees its own new token at once', async () => {
    let reads = 0;
    const shared = nodes[0].store.bankTokens;
    const counted: typeof shared = {
      get: (partner) => {
        reads += 1;
        return shared.get(partner);
      },
      put: (record) => shared.put(record),
      invalidate: (partner, token) => shared.invalidate(partner, token),
      claimRefresh: (partner, owner, now, leaseMs) => shared.claimRefresh(partner, owner, now, leaseMs),
      releaseRefresh: (partner, owner) => shared.releaseRefresh(partner, owner),
    };
    let now = 5_000_000;
    const tokens = storeTokenCache(counted, () => now, 'recent-rows:', BOUND_MS, () => now);
    await tokens.put('bca', 'first', now + 3_600_000);
    for (let i = 0; i < 10; i += 1) expect((await tokens.get('bca'))?.token).to.equal('first');
    expect(reads).to.equal(1);
    await tokens.put('bca', 'second', now + 3_600_000);
    expect((await tokens.get('bca'))?.token, 'a token this process stored replaces its own copy').to.equal('second');
    await nodes[0].store.db.execute("DELETE FROM bank_tokens WHERE partner = 'recent-rows:bca'");
    now += BOUND_MS - 1;
    expect((await tokens.get('bca'))?.token).to.equal('second');
    now += 1;
    expect(await tokens.get('bca'), 'read again once as old as the bound').to.equal(null);
    expect(reads).to.equal(3);
    // The requests in flight when the kept copy ages out share one read.
    await tokens.put('bca', 'third', now + 3_600_000);
    expect((await Promise.all(Array.from({ length: 10 }, () => tokens.get('bca')))).map((t) => t?.token)).to.deep.equal(Array(10).fill('third'));
    expect(reads).to.equal(4);
  });
});
