import { expect } from 'chai';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startTestBank } from '../support/test-bank.js';

/**
 * Two gateway nodes, each with its own egress address (127.0.0.1 and 127.0.0.2, both whitelisted
 * by the bank), sharing one MariaDB: the store, not memory, decides idempotency, and bank tokens
 * are shared.
 */
describe('Two gateway nodes sharing one MariaDB', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof createMariaDbDatabase>>;
  let simulator: BankSimulator;
  let nodes: TestGateway[] = [];

  before(async function () {
    database = await createMariaDbDatabase(this);
    const bank = await startTestBank(['127.0.0.1', '127.0.0.2']);
    simulator = bank.simulator;
    const env = (egress: string) => bank.env({ GERBANG_EGRESS_LOCAL_ADDRESS: egress, GERBANG_RESOLVER_INTERVAL_MS: '0' });
    // The first node migrates; the second starts on the migrated database.
    nodes = [await TestGateway.start(database.url, env('127.0.0.1'))];
    nodes.push(await TestGateway.start(database.url, env('127.0.0.2')));
  });

  after(async () => {
    for (const node of nodes) await node.close();
    await simulator?.close();
    await database?.drop();
  });

  const transferPosts = () => simulator.calls.filter((c) => c.method === 'POST' && c.path === '/banking/corporates/transfers');

  it('sends each node’s bank calls from its own address', async () => {
    const client = await nodes[0].createClient();
    for (const node of nodes) {
      const token = await node.token(client);
      const res = await node.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
      expect(res.status, res.text).to.equal(201);
    }
    expect(transferPosts().slice(-2).map((c) => c.sourceAddress)).to.deep.equal(['127.0.0.1', '127.0.0.2']);
  });

  it('turns concurrent duplicates of one transactionId, spread over both nodes, into exactly one bank call', async () => {
    const client = await nodes[0].createClient();
    const tokens = await Promise.all(nodes.map((node) => node.token(client)));
    const body = sampleTransfer({ remark: 'SIM DELAY' });
    const before = transferPosts().length;
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        nodes[i % 2].request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${tokens[i % 2]}` } }),
      ),
    );
    expect(transferPosts().length - before, 'bank calls').to.equal(1);
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201), 'one payment').to.have.length(1);
    for (const answer of answers.filter((a) => a.status !== 201)) {
      expect(answer.status, answer.text).to.equal(409);
      expect(answer.body.code).to.equal('IDEMPOTENCY_IN_FLIGHT');
    }
    // Once it is done, every node replays the stored answer.
    for (const [i, node] of nodes.entries()) {
      const replay = await node.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${tokens[i]}` } });
      expect(replay.status).to.equal(201);
      expect(replay.headers['idempotent-replayed']).to.equal('true');
    }
    expect(transferPosts().length - before).to.equal(1);
  });

  it('shares one bank token between the nodes', () => {
    expect(simulator.calls.filter((c) => c.path === '/api/oauth/token')).to.have.length(1);
  });

  it('shares rate-limit counters between the nodes', async () => {
    const rows = await nodes[1].store.db.query<{ rl_key: string; hits: number }>("SELECT rl_key, hits FROM rate_limits WHERE rl_key LIKE 'client:%'");
    expect(rows.length).to.be.greaterThan(0);
    // Both nodes counted into the same rows: the busiest client has more hits than either node alone served it.
    expect(Math.max(...rows.map((r) => Number(r.hits)))).to.be.greaterThan(7);
  });
});
