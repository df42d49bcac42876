import { expect } from 'chai';
import { ProvedRows } from '../../src/store/repositories/proved-rows.js';
import { LINES_PER_PIECE, sealedDay } from '../../src/store/repositories/reconciliation-seals.js';

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

  it('keeps a day proved whole by the exact text of its rows and the account it was proved for; read otherwise, each row still as kept at its place', () => {
    const proved = new ProvedRows<string>(10);
    const lines = ['#1;7:1000.00', '#2;7:2000.00', '#3;7:3000.00'];
    proved.keepDay('tag 20400', '0201245680', sealedDay(lines), lines);
    expect(proved.dayProof('tag 20400', '0201245680', lines)).to.equal(true);
    // Another account (a tag shared by chance) is given nothing of the day.
    expect(proved.dayProof('tag 20400', '0201245681', lines)).to.equal(undefined);
    expect(proved.dayProof('tag 20401', '0201245680', lines)).to.equal(undefined);
    // One row changed: the others are still as kept.
    const changed = ['#1;7:1000.00', '#2;7:2000.01', '#3;7:3000.00'];
    expect(proved.dayProof('tag 20400', '0201245680', changed)).to.deep.equal([true, false, true]);
    // A row changed to hold the next row's bytes (or a row removed): nothing shifted is taken for kept.
    const merged = ['#1;7:1000.00', '#2;7:2000.00\n#3;7:3000.00'];
    expect(proved.dayProof('tag 20400', '0201245680', merged)).to.deep.equal([true, false]);
    const shorter = ['#1;7:1000.00', '#3;7:3000.00'];
    expect(proved.dayProof('tag 20400', '0201245680', shorter)).to.deep.equal([true, false]);
    const longer = [...lines, '#4;7:4000.00'];
    expect(proved.dayProof('tag 20400', '0201245680', longer)).to.deep.equal([true, true, true, false]);
  });

  it('keeps at most its limit of rows in days, dropping the days kept longest', () => {
    const proved = new ProvedRows<string>(5);
    for (let n = 1; n <= 3; n += 1) proved.keepDay(`tag ${n}`, 'a', sealedDay([`day ${n}`, `day ${n}`]), [`day ${n}`, `day ${n}`]);
    expect(proved.dayRows).to.equal(4);
    expect([1, 2, 3].map((n) => proved.dayProof(`tag ${n}`, 'a', [`day ${n}`, `day ${n}`]))).to.deep.equal([undefined, true, true]);
  });

  it('compares a day of several pieces line by line, each at its place in its piece', () => {
    const proved = new ProvedRows<string>(1_000);
    const lines = Array.from({ length: 2 * LINES_PER_PIECE + 5 }, (_, i) => `#${i};${'x'.repeat(i % 7)}`);
    const sealed = sealedDay(lines);
    expect(sealed.pieces.length).to.equal(3);
    expect(sealed.pieces.join('')).to.equal(`\n${lines.join('\n')}`);
    proved.keepDay('tag 1', 'a', sealed, lines);
    expect(proved.dayProof('tag 1', 'a', lines)).to.equal(true);
    const changed = [...lines];
    changed[LINES_PER_PIECE + 3] = `${changed[LINES_PER_PIECE + 3]}y`;
    const each = proved.dayProof('tag 1', 'a', changed) as boolean[];
    expect(each.map((same, i) => (same ? -1 : i)).filter((i) => i >= 0)).to.deep.equal([LINES_PER_PIECE + 3]);
    // A line moved one place on (one removed): nothing after it is taken for kept.
    const shifted = lines.filter((_, i) => i !== 10);
    expect((proved.dayProof('tag 1', 'a', shifted) as boolean[]).filter(Boolean).length).to.be.below(12);
  });

  it('gives what was made of a day kept whole, line for line, only to the account it was kept for, and takes a day read with no line for kept only when it was kept with none', () => {
    const proved = new ProvedRows<string>(1_000);
    const lines = Array.from({ length: 2 * LINES_PER_PIECE + 5 }, (_, i) => `#${i};${'x'.repeat(i % 7)}`);
    const made = lines.map((line) => `made of ${line}`);
    proved.keepDay('tag 1', 'a', sealedDay(lines), lines, made);
    expect(proved.keepsWhole('tag 1', 'a')).to.equal(true);
    expect(proved.dayProof('tag 1', 'a', lines)).to.equal(true);
    expect(proved.dayMade('tag 1', 'a')).to.equal(made);
    // Another account; kept without what was made, or with fewer made than lines: nothing given.
    expect([proved.keepsWhole('tag 1', 'b'), proved.dayMade('tag 1', 'b')]).to.deep.equal([false, undefined]);
    proved.keepDay('tag 2', 'a', sealedDay(lines), lines);
    proved.keepDay('tag 3', 'a', sealedDay(lines), lines, made.slice(1));
    expect([proved.dayMade('tag 2', 'a'), proved.dayMade('tag 3', 'a')]).to.deep.equal([undefined, undefined]);
    // A day its rows are all gone from (read with no line) is kept only if it was kept with none.
    expect(proved.dayProof('tag 1', 'a', [])).to.deep.equal([]);
    proved.keepDay('tag 4', 'a', sealedDay([]), [], []);
    expect(proved.dayProof('tag 4', 'a', [])).to.equal(true);
  });
});
