import { expect } from 'chai';
import { ProvedRows } from '../../src/store/repositories/proved-rows.js';
import { KeptLine, LINES_PER_PIECE, sealedDay } from '../../src/store/repositories/reconciliation-seals.js';

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

  it('gives a day kept whole to a reading without its lines only when each line it is asked of is the very line at its place, in every piece', () => {
    const proved = new ProvedRows<string>(1_000);
    const lines = Array.from({ length: 2 * LINES_PER_PIECE + 5 }, (_, i) => `#${i};${'x'.repeat(i % 7)}`);
    proved.keepDay('tag 1', 'a', sealedDay(lines), lines);
    const asked: number[] = [];
    const same = (text: string, at: number, length: number, i: number) => (asked.push(i), text.slice(at, at + length) === lines[i]);
    expect(proved.keepsWhole('tag 1', 'a')).to.equal(true);
    expect(proved.keptWholeAs('tag 1', 'a', lines.length, same)).to.equal(true);
    expect(asked).to.deep.equal(lines.map((_, i) => i));
    // Another account, another count of rows, a line not as kept: not given.
    expect([proved.keepsWhole('tag 1', 'b'), proved.keptWholeAs('tag 1', 'b', lines.length, same)]).to.deep.equal([false, false]);
    expect(proved.keptWholeAs('tag 1', 'a', lines.length - 1, same)).to.equal(false);
    expect(proved.keptWholeAs('tag 1', 'a', lines.length, (text, at, length, i) => i !== LINES_PER_PIECE + 1 && same(text, at, length, i))).to.equal(false);
    expect(proved.keptWholeAs('tag 2', 'a', 0, same)).to.equal(false);
    // A day whose text is not all ASCII is never read in place (KeptLine needs it): its lines are read.
    const other = ['#1;2:ok', '#2;4:ÄÖ'];
    proved.keepDay('tag 3', 'a', sealedDay(other), other);
    expect(proved.keptWholeAs('tag 3', 'a', other.length, () => true)).to.equal(false);
    expect(proved.dayProof('tag 3', 'a', other)).to.equal(true);
  });

  it('reads a kept line against values read without it (KeptLine): true only for the line the database writes of them, of ASCII texts and safe integers', () => {
    const line = '#12;#1700000000000;7:SUCCESS~0:#4;~';
    const reads = (id: unknown, at: unknown, state: unknown, btid: unknown, empty: unknown, seq: unknown, last: unknown, text = line) => {
      const kept = new KeptLine().start(`\n${text}\n`, 1, text.length);
      return kept.integer(id) && kept.integer(at) && kept.text(state) && kept.text(btid) && kept.text(empty) && kept.integer(seq) && kept.integer(last) && kept.ended;
    };
    expect(reads(12, 1_700_000_000_000, 'SUCCESS', null, '', 4, null)).to.equal(true);
    // Each value changed, or of another kind, or null for empty (and the other way round).
    expect(reads(13, 1_700_000_000_000, 'SUCCESS', null, '', 4, null)).to.equal(false);
    expect(reads(12, 1_700_000_000_001, 'SUCCESS', null, '', 4, null)).to.equal(false);
    expect(reads(12, 1_700_000_000_000, 'SUCCESs', null, '', 4, null)).to.equal(false);
    expect(reads(12, 1_700_000_000_000, 'SUCCESS ', null, '', 4, null)).to.equal(false);
    expect(reads(12, 1_700_000_000_000, 'SUCCESS', '', '', 4, null)).to.equal(false);
    expect(reads(12, 1_700_000_000_000, 'SUCCESS', null, null, 4, null)).to.equal(false);
    expect(reads(12, 1_700_000_000_000, 'SUCCESS', null, '', null, null)).to.equal(false);
    expect(reads(12, 1_700_000_000_000, 'SUCCESS', null, '', 4, 0)).to.equal(false);
    expect(reads('12', 1_700_000_000_000, 'SUCCESS', null, '', 4, null)).to.equal(false);
    expect(reads(12, 1_700_000_000_000, 7, null, '', 4, null, '#12;#1700000000000;1:7~0:#4;~')).to.equal(false);
    // Digits not as the database writes them (a leading zero) are not the integer.
    expect(reads(12, 1_700_000_000_000, 'SUCCESS', null, '', 4, null, '#012;#1700000000000;7:SUCCESS~0:#4;~')).to.equal(false);
    expect(reads(12, 1_700_000_000_000, 'SUCCESS', null, '', 4, null, '#12;#1700000000000;07:SUCCESS~0:#4;~')).to.equal(false);
    // A text outside ASCII (its length in UTF-8 bytes; ProvedRows never hands such a line), an integer past 2^53 or below 0: not read in place.
    expect(reads(12, 1_700_000_000_000, 'ÄÖ', null, '', 4, null, '#12;#1700000000000;4:ÄÖ~0:#4;~')).to.equal(false);
    expect(reads(2 ** 53, 1_700_000_000_000, 'SUCCESS', null, '', 4, null, `#${2 ** 53};#1700000000000;7:SUCCESS~0:#4;~`)).to.equal(false);
    expect(reads(-1, 1_700_000_000_000, 'SUCCESS', null, '', 4, null, '#-1;#1700000000000;7:SUCCESS~0:#4;~')).to.equal(false);
    // -0 is no integer the database writes (its line says 0): not read as 0.
    expect(reads(12, 1_700_000_000_000, 'SUCCESS', null, '', -0, null, '#12;#1700000000000;7:SUCCESS~0:#0;~')).to.equal(false);
    // Nothing past the line, nothing left of it.
    expect(reads(12, 1_700_000_000_000, 'SUCCESS', null, '', 4, null, `${line}~`)).to.equal(false);
    const kept = new KeptLine().start(line, 0, line.length);
    expect(kept.integer(12) && kept.integer(1_700_000_000_000) && kept.ended).to.equal(false);
  });
});
