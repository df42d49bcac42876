import { expect } from 'chai';
import { TOKEN_REFRESH_MARGIN_MS } from '../../src/banks/bca-legacy/index.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startTestBank, type TestBank } from '../support/test-bank.js';

/**
 * Two API workers (two gateway processes' worth of state: each its own memory, one MariaDB)
 * starting at once must not each fetch a bank token: the store lets one fetch it per lifetime.
 */
describe('One bank token per token lifetime across workers', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof createMariaDbDatabase>>;
  let bank: TestBank;
  const workers: TestGateway[] = [];

  before(async function () {
    database = await createMariaDbDatabase(this);
    // A token that stays usable for 5 s past the refresh margin, so the test sees it age.
    bank = await startTestBank({ tokenTtlSeconds: TOKEN_REFRESH_MARGIN_MS / 1000 + 5 });
    const env = bank.env({ GERBANG_RESOLVER_INTERVAL_MS: '0' });
    workers.push(await TestGateway.start(database.url, env));
    workers.push(await TestGateway.start(database.url, env));
  });
  after(async () => {
    for (const worker of workers) await worker.close();
    await bank?.simulator.close();
    await database?.drop();
  });

  const tokenRequests = () => bank.simulator.calls.filter((call) => call.path === '/api/oauth/token').length;

  async function burst(): Promise<void> {
    const client = await workers[0].createClient();
    const tokens = await Promise.all(workers.map((worker) => worker.token(client)));
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        workers[i % 2].request('/v1/transfers', { json: sampleTransfer({ amount: '1000.00' }), headers: { authorization: `Bearer ${tokens[i % 2]}` } }),
      ),
    );
    for (const answer of answers) expect(answer.status, answer.text).to.equal(201);
  }

  it('fetches one token when both workers need one at the same moment', async () => {
    await burst();
    expect(tokenRequests()).to.equal(1);
  });

  it('fetches one new token when it nears expiry, however many calls need it', async () => {
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    await burst();
    expect(tokenRequests()).to.equal(2);
  });

  it('fetches one new token when the bank refuses the current one on both workers', async () => {
    bank.simulator.expireTokens();
    await burst();
    expect(tokenRequests()).to.equal(3);
  });
});
