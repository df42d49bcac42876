import { expect } from 'chai';
import { createMariaDbDatabase } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startTestBank, type TestBank } from '../support/test-bank.js';

/**
 * A rolling upgrade: a node still on a version before migration 026 writes payments without
 * search trigrams (search_key_id NULL, no payment_search_grams rows). A gateway on this version
 * indexes them in the background (at start and every minute), so the console's text search finds
 * them without an operator running `gerbang keys reindex-search`.
 */
describe('Payments written without search trigrams during a rolling upgrade', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof createMariaDbDatabase>>;
  let bank: TestBank;
  const nodes: TestGateway[] = [];

  before(async function () {
    database = await createMariaDbDatabase(this);
    bank = await startTestBank();
  });
  after(async () => {
    for (const node of nodes) await node.close();
    await bank?.simulator.close();
    await database?.drop();
  });

  it('are indexed by a gateway in the background, and a search then finds them', async () => {
    const env = bank.env({ GERBANG_RESOLVER_INTERVAL_MS: '0' });
    const first = await TestGateway.start(database.url, env);
    nodes.push(first);
    const client = await first.createClient();
    const token = await first.token(client);
    const body = sampleTransfer({ beneficiaryName: 'CV Sumber Upgrade' });
    const paid = await first.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    expect(paid.status, paid.text).to.equal(201);
    const db = first.store.db;
    const [{ id }] = await db.query<{ id: number | string }>('SELECT id FROM payments WHERE transaction_id = ?', [body.transactionId as string]);
    // As a node before 026 wrote it: no trigrams, no search key.
    await db.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [id]);
    await db.execute('UPDATE payments SET search_key_id = NULL WHERE id = ?', [id]);
    const search = () => first.store.paymentSearch.page({ text: 'sumber upgrade' }, 'newest', null, 10);
    expect((await search()).rows, 'not found while unindexed').to.deep.equal([]);

    // A gateway of this version starting (or any running one, within a minute) indexes it.
    nodes.push(await TestGateway.start(database.url, env));
    await eventually(async () => (await db.query<{ k: string | null }>('SELECT search_key_id AS k FROM payments WHERE id = ?', [id]))[0].k !== null, 10_000);
    expect((await search()).rows.map((row) => row.transactionId)).to.deep.equal([body.transactionId]);
  });
});
