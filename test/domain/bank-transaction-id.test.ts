import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { nextBankTransactionId } from '../../src/domain/transfers/bank-transaction-id.js';
import { forEachBackend } from '../support/databases.js';

/** 2026-03-10 09:00:00 in Jakarta (UTC+7), as epoch ms. */
const NINE_AM = Date.parse('2026-03-10T02:00:00Z');

forEachBackend('nextBankTransactionId', (ctx) => {
  const corporate = () => `CENAIDJA:CORP${randomBytes(4).toString('hex')}`;

  it("issues BCA legacy's 8 digits and SNAP's 16 (the Jakarta date first), from the clock's floor", async () => {
    const { sequences } = ctx.store();
    expect(await nextBankTransactionId(sequences, { idNamespace: corporate(), idFormat: 'legacy' }, NINE_AM)).to.equal('32400000');
    expect(await nextBankTransactionId(sequences, { idNamespace: corporate(), idFormat: 'snap' }, NINE_AM)).to.equal('2026031032400000');
  });

  it('shares one counter between every partner block of a corporate, whatever their names', async () => {
    const { sequences } = ctx.store();
    const source = { idNamespace: corporate(), idFormat: 'legacy' as const };
    const ids = await Promise.all(Array.from({ length: 20 }, () => nextBankTransactionId(sequences, source, NINE_AM)));
    expect(new Set(ids).size).to.equal(20);
  });

  describe('when the store is restored from a backup taken earlier (its counters set back)', () => {
    it('never issues again an id it issued before the restore', async () => {
      const { sequences, db } = ctx.store();
      const source = { idNamespace: corporate(), idFormat: 'legacy' as const };
      const before: string[] = [];
      // 500 ids over 50 seconds, then a restore that sets the counter back to 1.
      for (let i = 0; i < 500; i += 1) before.push(await nextBankTransactionId(sequences, source, NINE_AM + i * 100));
      await db.execute("UPDATE sequences SET value = 1 WHERE name LIKE 'ids:%'");
      const after = await nextBankTransactionId(sequences, source, NINE_AM + 60_000);
      expect(before).to.not.include(after);
      expect(Number(after)).to.be.greaterThan(Math.max(...before.map(Number)));
    });
  });
});
