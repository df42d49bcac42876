import { expect } from 'chai';
import { createMariaDbDatabase } from '../support/databases.js';
import { sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';

/**
 * Turning GERBANG_SEAL_PAYMENTS_AT_INSERT on node by node: a node with it on writes a payment's
 * account and details sealed in its INSERT (gcm3), a node of the same release with it off still
 * writes them by an UPDATE (gcm2), and each answers the status of the other's payments.
 */
describe('GERBANG_SEAL_PAYMENTS_AT_INSERT, one node on and one off', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof createMariaDbDatabase>>;
  let on: TestGateway;
  let off: TestGateway;
  let client: TestClient;

  before(async function () {
    database = await createMariaDbDatabase(this);
    on = await TestGateway.start(database.url, { GERBANG_SEAL_PAYMENTS_AT_INSERT: 'true', GERBANG_RESOLVER_INTERVAL_MS: '0' });
    off = await TestGateway.start(database.url, { GERBANG_RESOLVER_INTERVAL_MS: '0' });
    client = await on.createClient();
  });
  after(async () => {
    await on?.close();
    await off?.close();
    await database?.drop();
  });

  const sealedAccount = async (transactionId: unknown) =>
    (await on.store.db.query<{ source_account: string }>('SELECT source_account FROM payments WHERE transaction_id = ?', [transactionId as string]))[0].source_account;

  for (const [writer, reader, format] of [['on', 'off', 'gcm3'], ['off', 'on', 'gcm2']] as const) {
    it(`answers on the node with it ${reader} the status of a transfer paid on the node with it ${writer} (account sealed ${format})`, async () => {
      const nodes = { on, off };
      const body = sampleTransfer();
      const paid = await nodes[writer].request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await nodes[writer].token(client)}` } });
      expect(paid.status, paid.text).to.equal(201);
      expect(await sealedAccount(body.transactionId)).to.match(new RegExp(`^${format}\\.`));
      const status = await nodes[reader].request(`/v1/transfers/${body.transactionId}`, { headers: { authorization: `Bearer ${await nodes[reader].token(client)}` } });
      expect(status.status, status.text).to.equal(200);
      expect(status.body).to.deep.equal(paid.body);
    });
  }
});
