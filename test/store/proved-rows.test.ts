import { expect } from 'chai';
import { ProvedRows } from '../../src/store/repositories/proved-rows.js';

type Row = { id: number; amount: string; mac: string | null };

describe('ProvedRows (rows a reconciliation proved, by their exact values)', () => {
  it('gives back what was made of a row only while every compared value is the same', () => {
    const proved = new ProvedRows<Row, string>(['id', 'amount', 'mac'], 10);
    proved.set(1, { id: 1, amount: '1000.00', mac: 'ab' }, 'made of 1');
    expect(proved.get(1, { id: 1, amount: '1000.00', mac: 'ab' })).to.equal('made of 1');
    expect(proved.get(2, { id: 2, amount: '1000.00', mac: 'ab' })).to.equal(undefined);
    // One byte of one column changed: not that proof, and forgotten.
    expect(proved.get(1, { id: 1, amount: '1000.0', mac: 'ab' })).to.equal(undefined);
    expect(proved.get(1, { id: 1, amount: '1000.00', mac: 'ab' })).to.equal(undefined);
    proved.set(1, { id: 1, amount: '1000.00', mac: 'ab' }, 'made of 1');
    expect(proved.get(1, { id: 1, amount: '1000.00', mac: null })).to.equal(undefined);
  });

  it('keeps at most its limit, dropping the rows kept longest', () => {
    const proved = new ProvedRows<Row, number>(['id', 'amount', 'mac'], 3);
    for (let id = 1; id <= 5; id += 1) proved.set(id, { id, amount: '1.00', mac: 'ab' }, id);
    expect(proved.size).to.equal(3);
    expect([1, 2, 3, 4, 5].map((id) => proved.get(id, { id, amount: '1.00', mac: 'ab' }))).to.deep.equal([undefined, undefined, 3, 4, 5]);
  });
});
