import { expect } from 'chai';
import { createStore, openDb, openStore, type CallbackDelivery } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { countingSessions, writeAfterRead } from '../support/counting-db.js';
import { forEachBackend, storedClient } from '../support/databases.js';

/**
 * `keys rotate` over the outbox of queued callbacks (callback_deliveries, each MACed and recorded
 * at every change) while a dispatcher keeps attempting deliveries: the outbox is re-MACed a page
 * a transaction, not a transaction a delivery, and an attempt written between the rotation's read
 * of a page and its UPDATEs is kept as the dispatcher wrote it, never re-MACed from the row as read.
 */
forEachBackend('keys rotate over an outbox a dispatcher attempts meanwhile', (ctx) => {
  const NEW = testKeySpec('k-outbox');
  const QUEUED = 12;
  const BATCH = 5;
  /** Past every lease the dispatcher took. */
  const LEASES_OVER = 10 * 60_000;
  const now = Date.now();
  let clientId = '';
  let attempted = 0;
  let transactions = 0;

  before(async function () {
    this.timeout(120_000);
    const store = ctx.store();
    clientId = await storedClient(store, now);
    await store.callbacks.setEndpoint(clientId, 'https://erp.example/callbacks', now);
    for (let i = 0; i < QUEUED; i += 1) await store.callbacks.enqueue({ clientId, transactionId: `INV-ROT-${i}`, url: 'https://erp.example/callbacks', body: `{"n":${i}}` }, now);
    // A gateway reloaded with the new key (last of its ring) attempts a delivery the rotation has just read.
    const ring = ringOf(TEST_AUDIT_KEY, NEW);
    const meanwhile = async () => {
      const dispatcher = await openStore(ctx.url(), { auditKeys: ring });
      try {
        const owner = 'dispatcher-during-rotation';
        const [delivery] = await dispatcher.callbacks.claimDue({ owner, now: now + 1, leaseMs: 60_000, limit: 1 });
        expect(delivery, delivery && 'refused' in delivery ? delivery.refused : 'claimed').to.include({ clientId }).and.not.to.have.property('refused');
        await dispatcher.callbacks.recordAttempt(delivery, owner, { state: 'PENDING', status: 503, error: 'HTTP 503', nextAttemptAt: now + 2 }, now + 1);
        attempted = delivery.id;
      } finally {
        await dispatcher.close();
      }
    };
    const counted = countingSessions(writeAfterRead(openDb(ctx.url()), /FROM callback_deliveries WHERE mac_key_id <> \?/, meanwhile));
    const rotating = createStore(counted.db, { auditKeys: ring });
    try {
      await rotating.keyRotation.rotate({ batchSize: BATCH });
    } finally {
      await rotating.close();
    }
    transactions = counted.transactions();
  });

  it('re-MACs the outbox a page of deliveries a transaction, not a transaction a delivery', () => {
    // The client and its endpoint (a transaction each), then the deliveries BATCH at a time.
    expect(transactions).to.equal(2 + Math.ceil(QUEUED / BATCH));
  });

  it('keeps the attempt written during the rotation as the dispatcher wrote it, every delivery under the new key, read with it alone', async () => {
    expect(attempted).to.be.above(0);
    const keys = await ctx.store().db.query<{ mac_key_id: string }>('SELECT mac_key_id FROM callback_deliveries WHERE client_id = ?', [clientId]);
    expect(keys.map((r) => r.mac_key_id)).to.deep.equal(Array(QUEUED).fill('k-outbox'));
    // A dispatcher with the new key alone sends each (its MAC and latest change record hold), the one attempted meanwhile with its attempt.
    const dispatcher = await openStore(ctx.url(), { auditKeys: ringOf(NEW) });
    try {
      const claimed = await dispatcher.callbacks.claimDue({ owner: 'after-rotation', now: now + LEASES_OVER, leaseMs: 60_000, limit: 100 });
      expect(claimed.filter((c) => 'refused' in c)).to.deep.equal([]);
      const attempts = new Map((claimed as CallbackDelivery[]).map((c) => [c.id, c.attempts]));
      expect(attempts.size).to.equal(QUEUED);
      expect(attempts.get(attempted)).to.equal(1);
      expect([...attempts.values()].filter((n) => n === 0)).to.have.length(QUEUED - 1);
    } finally {
      await dispatcher.close();
    }
  });
});
