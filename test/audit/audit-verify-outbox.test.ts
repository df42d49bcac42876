import { expect } from 'chai';
import { createStore, openDb } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { largestReads } from '../support/counting-db.js';
import { forEachBackend, storedClient } from '../support/databases.js';

/**
 * `audit verify` over a large outbox of queued callbacks (callback_deliveries, each MACed and
 * recorded at every change; the outbox keeps them once delivered, so it grows with the
 * transfers): read a page at a time, never whole, and still naming a delivery deleted or altered
 * in SQL past the first page.
 */
forEachBackend('audit verify over an outbox larger than its page', (ctx) => {
  const QUEUED = 1_200;
  let clientId = '';

  before(async function () {
    this.timeout(300_000);
    const store = ctx.store();
    const now = Date.now();
    clientId = await storedClient(store, now);
    for (let at = 0; at < QUEUED; at += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => at + i).map((i) => store.callbacks.enqueue({ clientId, transactionId: `INV-PAGE-${String(i).padStart(4, '0')}`, url: 'https://erp.example/callbacks', body: `{"n":${i}}` }, now)),
      );
    }
    // An attacker without keys deletes one delivery and holds another back, both past the first page of 500.
    await store.db.execute('DELETE FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?', [clientId, 'INV-PAGE-1100']);
    await store.db.execute("UPDATE callback_deliveries SET state = 'DELIVERED' WHERE client_id = ? AND transaction_id = ?", [clientId, 'INV-PAGE-0900']);
  });

  it('reads the deliveries and their change records a page at a time, and names the one deleted and the one altered', async function () {
    this.timeout(120_000);
    const reads = largestReads(openDb(ctx.url()), /FROM (callback_deliveries|record_changes)\b/);
    const store = createStore(reads.db, { auditKeys: TEST_AUDIT_KEYS });
    try {
      const report = await store.audit.verify();
      const details = report.breaks.filter((b) => b.table === 'callback_deliveries').map((b) => `${b.problem}: ${b.detail}`);
      expect(details).to.have.length(2);
      expect(details.find((d) => d.startsWith('deleted'))).to.contain(`callback_deliveries ["${clientId}","INV-PAGE-1100"] was deleted`);
      expect(details.find((d) => d.startsWith('altered'))).to.contain('transactionId INV-PAGE-0900) was altered');
      expect(reads.largest(), 'the most rows of the outbox or its records one statement read').to.be.at.most(500);
    } finally {
      await store.close();
    }
  });
});
