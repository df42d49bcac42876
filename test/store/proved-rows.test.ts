import { expect } from 'chai';
import { ProvedRows } from '../../src/store/repositories/proved-rows.js';

describe('ProvedRows (rows a reconciliation proved, by their exact sealed lines)', () => {
  it('gives back what was made of a row only while it is read with the very same line', () => {
    const proved = new ProvedRows<string>(10);
    proved.set(1, '#1;7:1000.00', 'made of 1');
    expect(proved.get(1, '#1;7:1000.00')).to.equal('made of 1');
    expect(proved.get(2, '#1;7:1000.00')).to.equal(undefined);
    // One byte of one value changed: not that proof, and forgotten.
    expect(proved.get(1, '#1;6:1000.0')).to.equal(undefined);
    expect(proved.get(1, '#1;7:1000.00')).to.equal(undefined);
    proved.set(1, '#1;7:1000.00', 'made of 1');
    expect(proved.get(1, '#1;7:1000.00~')).to.equal(undefined);
  });

  it('keeps at most its limit, dropping the rows kept longest', () => {
    const proved = new ProvedRows<number>(3);
    for (let id = 1; id <= 5; id += 1) proved.set(id, `#${id};`, id);
    expect(proved.size).to.equal(3);
    expect([1, 2, 3, 4, 5].map((id) => proved.get(id, `#${id};`))).to.deep.equal([undefined, undefined, 3, 4, 5]);
  });

  it('keeps a day proved whole by the exact text of its rows and the account it was proved for, and forgets it once read otherwise', () => {
    const proved = new ProvedRows<string>(10);
    proved.keepDay('tag 20400', '0201245680', '\n#1;7:1000.00\n#2;7:2000.00', 2);
    expect(proved.hasDay('tag 20400', '0201245680', '\n#1;7:1000.00\n#2;7:2000.00')).to.equal(true);
    // Another account (a tag shared by chance) is not given the day.
    expect(proved.hasDay('tag 20400', '0201245681', '\n#1;7:1000.00\n#2;7:2000.00')).to.equal(false);
    proved.keepDay('tag 20400', '0201245680', '\n#1;7:1000.00\n#2;7:2000.00', 2);
    // One row changed (or one added, or removed): not that day, and forgotten.
    expect(proved.hasDay('tag 20400', '0201245680', '\n#1;7:1000.00\n#2;7:2000.01')).to.equal(false);
    expect(proved.hasDay('tag 20400', '0201245680', '\n#1;7:1000.00\n#2;7:2000.00')).to.equal(false);
    expect(proved.dayRows).to.equal(0);
  });

  it('keeps at most its limit of rows in days, dropping the days kept longest', () => {
    const proved = new ProvedRows<string>(5);
    for (let day = 1; day <= 3; day += 1) proved.keepDay(`tag ${day}`, 'a', `day ${day}`, 2);
    expect(proved.dayRows).to.equal(4);
    expect([1, 2, 3].map((day) => proved.hasDay(`tag ${day}`, 'a', `day ${day}`))).to.deep.equal([false, true, true]);
  });
});
