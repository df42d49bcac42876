import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { runCli, type CliResult } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';
import { watchChainWalks } from '../support/chain-walks.js';
import { bankTransfers, leaveBehind } from '../support/left-behind.js';

/**
 * The takeover of a reservation left behind (#14) while the operator rotates the audit key as the
 * operator guide says: the new key added last, every gateway reloaded with it, then `gerbang keys
 * rotate`, which re-links every chain under the new key (each link's prev_hash, MAC and key id,
 * and the chain's head, in one transaction per chain). The proof walks the chains from the
 * reservation's event to their heads as read before the walk: a chain re-linked between that read
 * and the walk (or between two pages of its links) must be walked again, not called cut.
 *
 * The rotation is the real CLI in its own process; it runs at the one moment that made the false
 * refusal, found by a poll during a rotation: after the proof read the chain heads, before it read
 * the first chain's links (the gateway's database handle waits for the CLI there).
 */
const UNTHROTTLED = { GERBANG_RATE_LIMIT_PER_CLIENT: '100000', GERBANG_RATE_LIMIT_PER_IP: '100000' };
forEachBackend('A reservation left behind taken over while keys rotate re-links the chains (#14)', (ctx) => {
  const NEW = testKeySpec(`k${randomBytes(3).toString('hex')}`);
  const BOTH = `${TEST_AUDIT_KEY},${NEW}`;
  let gw: TestGateway;
  let client: TestClient;
  let auth: Record<string, string>;
  const body = sampleTransfer();

  before(async function () {
    this.timeout(60_000);
    // A gateway with the old key only writes the history: the reservation left behind, then payments.
    const old = await TestGateway.start(ctx.url(), UNTHROTTLED);
    client = await old.createClient();
    await leaveBehind(old, client.clientId, body);
    const oldAuth = { authorization: `Bearer ${await old.token(client)}` };
    for (let i = 0; i < 3; i += 1) expect((await old.request('/v1/transfers', { json: sampleTransfer(), headers: oldAuth })).status).to.equal(201);
    await old.close();
    // Reloaded with the new key last (steps 1 and 2 of the operator guide).
    gw = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_KEYS: BOTH, ...UNTHROTTLED });
    auth = { authorization: `Bearer ${await gw.token(client)}` };
  });
  after(() => gw?.close());

  it('takes the honest reservation over and pays it once, keys rotate having re-linked every chain between the read of their heads and their walk', async function () {
    this.timeout(120_000);
    let rotation: CliResult | undefined;
    watchChainWalks(gw.store.db, async () => {
      rotation ??= await runCli(['keys', 'rotate'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: BOTH });
    });
    const transactionId = body.transactionId as string;
    const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(rotation?.code, rotation?.stderr).to.equal(0);
    expect(paid.status, paid.text).to.equal(201);
    expect(paid.body.status).to.equal('SUCCESS');
    expect(await bankTransfers(gw, transactionId)).to.equal(1);
    // Every chain was re-linked under the new key meanwhile.
    const [{ n }] = await gw.store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain WHERE key_id <> ?', [NEW.split(':')[0]]);
    expect(Number(n)).to.equal(0);
    const again = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect([again.status, again.body.status]).to.deep.equal([201, 'SUCCESS']);
    expect(await bankTransfers(gw, transactionId)).to.equal(1);
  });

  it('still refuses a reservation whose later history holds a link the key did not make: 500 AUDIT_INTEGRITY, nothing sent', async function () {
    this.timeout(60_000);
    const forged = sampleTransfer();
    const transactionId = forged.transactionId as string;
    await leaveBehind(gw, client.clientId, forged);
    for (let i = 0; i < 3; i += 1) expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    // The attack, in SQL (no key): a link after the reservation's event given another MAC, the next link made to follow it.
    const db = gw.store.db;
    const [link] = await db.query<{ writer_id: string; seq: number | string }>(
      "SELECT c.writer_id, c.seq FROM audit_chain c WHERE c.kind = 'payment_event' AND c.record_id > (SELECT MAX(e.id) FROM payment_events e JOIN payments p ON p.id = e.payment_id WHERE p.transaction_id = ?) " +
        'AND EXISTS (SELECT 1 FROM audit_chain n WHERE n.writer_id = c.writer_id AND n.seq = c.seq + 1) ORDER BY c.record_id LIMIT 1',
      [transactionId],
    );
    const mac = randomBytes(32).toString('hex');
    await db.execute('UPDATE audit_chain SET hash = ? WHERE writer_id = ? AND seq = ?', [mac, link.writer_id, Number(link.seq)]);
    await db.execute('UPDATE audit_chain SET prev_hash = ? WHERE writer_id = ? AND seq = ?', [mac, link.writer_id, Number(link.seq) + 1]);

    const again = await gw.request('/v1/transfers', { json: forged, headers: auth });
    expect([again.status, again.body.code], again.text).to.deep.equal([500, 'AUDIT_INTEGRITY']);
    expect(await bankTransfers(gw, transactionId)).to.equal(0);
  });
});

forEachBackend('A reservation left behind resent to a gateway not yet reloaded with the new audit key (#14)', (ctx) => {
  it('is answered 503 STORE_UNAVAILABLE (Retry-After), nothing sent nor released; a gateway with the key takes it over and pays it once', async function () {
    this.timeout(60_000);
    const NEW = testKeySpec(`k${randomBytes(3).toString('hex')}`);
    // A rolling reload half done: `behind` still has the old key only, `reloaded` seals with the new one.
    const behind = await TestGateway.start(ctx.url());
    const reloaded = await TestGateway.start(ctx.url(), { GERBANG_AUDIT_KEYS: `${TEST_AUDIT_KEY},${NEW}` });
    try {
      const client = await behind.createClient();
      const body = sampleTransfer();
      const transactionId = body.transactionId as string;
      const { id } = await leaveBehind(behind, client.clientId, body);
      const reloadedAuth = { authorization: `Bearer ${await reloaded.token(client)}` };
      for (let i = 0; i < 2; i += 1) expect((await reloaded.request('/v1/transfers', { json: sampleTransfer(), headers: reloadedAuth })).status).to.equal(201);

      const refused = await behind.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await behind.token(client)}` } });
      expect([refused.status, refused.body.code, refused.headers['retry-after']], refused.text).to.deep.equal([503, 'STORE_UNAVAILABLE', '5']);
      expect(await bankTransfers(behind, transactionId)).to.equal(0);
      const [row] = await behind.store.db.query<{ id: number | string; state: string }>('SELECT id, state FROM payments WHERE client_id = ? AND transaction_id = ?', [client.clientId, transactionId]);
      expect([Number(row.id), row.state]).to.deep.equal([id, 'RECEIVED']);

      const paid = await reloaded.request('/v1/transfers', { json: body, headers: reloadedAuth });
      expect([paid.status, paid.body.status], paid.text).to.deep.equal([201, 'SUCCESS']);
      expect(await bankTransfers(reloaded, transactionId)).to.equal(1);
    } finally {
      await behind.close();
      await reloaded.close();
    }
  });
});
