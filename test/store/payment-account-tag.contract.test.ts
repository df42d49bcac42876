import { expect } from 'chai';
import { openStore } from '../../src/store/index.js';
import { forEachBackend } from '../support/databases.js';
import { ringOf, TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';

const DAY = 86_400_000;

forEachBackend('Payments by paying account after a key rotation', (ctx) => {
  it('finds them by the tag of the newest key once the old key is retired', async () => {
    const start = Date.UTC(2032, 2, 1, 2, 0, 0);
    for (const [tx, account] of [['TAG-1', '0201245680'], ['TAG-2', '0201245699'], ['TAG-3', '0201245680']] as const) {
      await ctx.store().payments.reserve({ clientId: 'tagger', transactionId: tx, requestHash: 'b'.repeat(64), amount: '10.00', currency: 'IDR', sourceAccount: account }, start + tx.length);
    }
    const [before] = await ctx.store().db.query<{ source_account_tag: string }>("SELECT source_account_tag FROM payments WHERE transaction_id = 'TAG-1'");

    const newKey = testKeySpec('tag-new');
    const both = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY, newKey) });
    try {
      await both.keyRotation.rotate({ batchSize: 100 });
    } finally {
      await both.close();
    }
    const newOnly = await openStore(ctx.url(), { auditKeys: ringOf(newKey) });
    try {
      const [after] = await newOnly.db.query<{ source_account_tag: string }>("SELECT source_account_tag FROM payments WHERE transaction_id = 'TAG-1'");
      expect(after.source_account_tag).to.match(/^[0-9a-f]{32}$/).and.not.to.equal(before.source_account_tag);
      const found = await newOnly.paymentSearch.fromAccount('0201245680', start, start + DAY);
      expect(found.rows.map((p) => p.transactionId)).to.deep.equal(['TAG-1', 'TAG-3']);
    } finally {
      await newOnly.close();
    }
  });
});
