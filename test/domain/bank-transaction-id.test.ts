import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { BankIdBlocks, nextBankTransactionId } from '../../src/domain/transfers/bank-transaction-id.js';
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

  describe('taken in blocks by a gateway process (BankIdBlocks)', () => {
    /** The store's counters, with the blocks taken from them counted. */
    const counted = () => {
      const { sequences } = ctx.store();
      const taken: number[] = [];
      return {
        taken,
        nextBlock: async (name: string, size: number, floor?: number) => {
          const first = await sequences.nextBlock(name, size, floor);
          taken.push(first);
          return first;
        },
      };
    };

    it('takes one block from the store per 16 ids, and two processes never hand out the same id', async () => {
      const store = counted();
      const [a, b] = [new BankIdBlocks(store), new BankIdBlocks(store)];
      const source = { idNamespace: corporate(), idFormat: 'legacy' as const };
      const ids = await Promise.all(Array.from({ length: 64 }, (_, i) => nextBankTransactionId(i % 2 === 0 ? a : b, source, NINE_AM)));
      expect(new Set(ids).size).to.equal(64);
      expect(ids.every((id) => /^\d{8}$/.test(id) && Number(id) >= 32_400_000)).to.equal(true);
      expect(store.taken).to.have.length(4);
    });

    it('hands out the rest of a block however much later, and takes the next block from the floor of its time', async () => {
      const store = counted();
      const ids = new BankIdBlocks(store);
      const source = { idNamespace: corporate(), idFormat: 'legacy' as const };
      expect(await nextBankTransactionId(ids, source, NINE_AM)).to.equal('32400000');
      expect(await nextBankTransactionId(ids, source, NINE_AM + 1_000)).to.equal('32400001');
      // An hour later: the block's rest was taken from the counter then, so it is still this process's alone.
      for (let i = 2; i < 16; i += 1) expect(await nextBankTransactionId(ids, source, NINE_AM + 3_600_000)).to.equal(String(32_400_000 + i));
      expect(store.taken).to.have.length(1);
      expect(await nextBankTransactionId(ids, source, NINE_AM + 3_600_000)).to.equal('36000000');
      expect(store.taken).to.have.length(2);
    });

    it('continues above every id issued before a restore that set the counter back', async () => {
      const { db } = ctx.store();
      const ids = new BankIdBlocks(ctx.store().sequences);
      const source = { idNamespace: corporate(), idFormat: 'legacy' as const };
      const before: string[] = [];
      for (let i = 0; i < 100; i += 1) before.push(await nextBankTransactionId(ids, source, NINE_AM + i * 100));
      await db.execute("UPDATE sequences SET value = 1 WHERE name LIKE 'ids:%'");
      const other = new BankIdBlocks(ctx.store().sequences);
      const after = [await nextBankTransactionId(ids, source, NINE_AM + 60_000), await nextBankTransactionId(other, source, NINE_AM + 60_000)];
      for (const id of after) expect(Number(id)).to.be.greaterThan(Math.max(...before.map(Number)));
      expect(new Set([...before, ...after]).size).to.equal(102);
    });
  });
});
