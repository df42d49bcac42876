import { expect } from 'chai';
import { parsedSealedIds, sealedIdsAre, sealedPaymentIds } from '../../src/store/repositories/reconciliation-seals.js';

/** The payment ids a day seal keeps (migration 041, #16): written, read back and walked in place. */
describe('reconciliation-seals: a seal\'s payment ids', () => {
  const days = [[], [1], [5, 7, 6, 1_000_000], [9_007_199_254_740_991], [40, 41, 35, 36, 2]];

  it('reads back each list of ids as written, in its order, and walks it in place as the very ids', () => {
    for (const ids of days) {
      const text = sealedPaymentIds(ids);
      expect(parsedSealedIds(text)).to.deep.equal(ids);
      expect(sealedIdsAre(text, ids)).to.equal(true);
    }
    expect(sealedPaymentIds([5, 7, 6, 1_000_000])).to.equal('5,2,-1,lflm');
  });

  it('walks as other ids a list with one missing, one more, another id or another order', () => {
    const text = sealedPaymentIds([5, 7, 6, 1_000_000]);
    for (const other of [[5, 7, 6], [5, 7, 6, 1_000_000, 1_000_001], [5, 7, 8, 1_000_000], [5, 6, 7, 1_000_000], []]) expect(sealedIdsAre(text, other)).to.equal(false);
    expect(sealedIdsAre('', [1])).to.equal(false);
  });

  it('reads no list from a text that is not one (null), and walks none as ids', () => {
    for (const text of ['5,,2', '5,2,', 'A', '5;2', '-5', '0', '5,-5', `${'z'.repeat(12)}`]) {
      expect(parsedSealedIds(text)).to.equal(null);
      expect(sealedIdsAre(text, [5, 7])).to.equal(false);
    }
  });
});
