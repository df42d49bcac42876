import { expect } from 'chai';
import type { StatementEntry } from '../../../src/banks/types.js';
import { mentions } from '../../../src/domain/transfers/statement-proof.js';
import { reconcileStatement } from '../../../src/domain/transfers/statement-reconciliation.js';
import type { PaymentRecord, PaymentState } from '../../../src/store/types.js';
import { paymentRecord } from '../../support/payment-records.js';

let nextId = 1;
function payment(transactionId: string, amount: string, state: PaymentState, day: string, bankTransactionId: string | null = null): PaymentRecord {
  return paymentRecord(nextId++, transactionId, amount, state, day, bankTransactionId);
}

function debit(date: string, amount: string, description: string, extra: Partial<StatementEntry> = {}): StatementEntry {
  return { date, type: 'DEBIT', amount, description, ...extra };
}

describe('reconcileStatement()', () => {
  it('matches a debit to the payment whose reference it carries, on its day or the next, one debit per payment', () => {
    const a = payment('INV-AAAA', '100000.00', 'SUCCESS', '2026-11-20');
    const b = payment('INV-BBBB', '100000.00', 'SUCCESS', '2026-11-20', '00001234');
    const { lines, counts } = reconcileStatement(
      [debit('2026-11-20', '100000.00', 'TRF INV-AAAA'), debit('2026-11-21', '-100000.00', 'TRSF E-BANKING', { reference: '00001234' }), debit('2026-11-21', '100000.00', 'TRF INV-AAAA')],
      [a, b],
    );
    expect(lines.map((l) => [l.kind, 'payment' in l ? l.payment.transactionId : null])).to.deep.equal([
      ['matched', 'INV-AAAA'],
      ['matched', 'INV-BBBB'],
      ['statement-only', null],
    ]);
    expect(counts).to.deep.equal({ matched: 2, 'not-proved': 0, 'not-provable': 0, 'statement-only': 1, 'not-read': 0, 'gerbang-only': 0, credit: 0, forged: 0 });
  });

  it('lists by day and books the earlier payment first whatever order the statement and the payments come in', () => {
    const later = payment('INV-7002', '310000.00', 'SUCCESS', '2026-11-21');
    const earlier = payment('INV-7001', '310000.00', 'SUCCESS', '2026-11-20');
    const unbooked = payment('INV-7000', '90000.00', 'SUCCESS', '2026-11-19');
    // One debit the two may both be (its day is the later's, the next of the earlier's): the earlier day books it.
    const { lines } = reconcileStatement(
      [debit('2026-11-22', '5000.00', 'BIAYA ADM'), debit('2026-11-21', '310000.00', 'TRF INV-7001 INV-7002'), debit('2026-11-20', '1000.00', 'BIAYA')],
      [later, earlier, unbooked],
    );
    expect(lines.map((l) => [l.kind, 'entry' in l ? l.entry.date : null, 'payment' in l ? l.payment.transactionId : null])).to.deep.equal([
      ['gerbang-only', null, 'INV-7000'],
      ['statement-only', '2026-11-20', null],
      ['matched', '2026-11-21', 'INV-7001'],
      ['gerbang-only', null, 'INV-7002'],
      ['statement-only', '2026-11-22', null],
    ]);
  });

  it('books the first debit in statement order of those it may be (its day, the next, or pending), whichever group it is in', () => {
    const p = payment('INV-ORDER-1', '75000.00', 'SUCCESS', '2026-11-20');
    const q = payment('INV-ORDER-2', '75000.00', 'SUCCESS', '2026-11-20');
    const r = payment('INV-ORDER-3', '75000.00', 'SUCCESS', '2026-11-20');
    const { lines } = reconcileStatement(
      [
        debit('2026-11-21', '75000.00', 'TRF INV-ORDER-1 SECOND'),
        debit('2026-11-25', '75000.00', 'TRF INV-ORDER-2 PENDING', { pending: true }),
        debit('2026-11-20', '75000.00', 'TRF INV-ORDER-1 THIRD'),
        debit('2026-11-20', '75000.00', 'TRF INV-ORDER-2 FOURTH'),
        debit('2026-11-20', '75000.00', 'TRF INV-ORDER-3'),
      ],
      [p, q, r],
    );
    const booked = lines.flatMap((l) => (l.kind === 'matched' ? [`${l.payment.transactionId} ${l.entry.description}`] : []));
    expect(booked).to.have.members(['INV-ORDER-1 TRF INV-ORDER-1 SECOND', 'INV-ORDER-2 TRF INV-ORDER-2 PENDING', 'INV-ORDER-3 TRF INV-ORDER-3']);
    expect(lines.filter((l) => l.kind === 'statement-only').length).to.equal(2);
  });

  it('matches each of a day\'s many payments of one amount (salaries) to its own debit', () => {
    const many = Array.from({ length: 300 }, (_, i) => payment(`SAL-2026-11-${String(i).padStart(4, '0')}`, '4500000.00', 'SUCCESS', '2026-11-25'));
    const entries = [...many].reverse().map((p) => debit('2026-11-25', '-4500000.00', `GAJI ${p.transactionId}`));
    const { lines, counts } = reconcileStatement(entries, many);
    expect(counts).to.deep.equal({ matched: 300, 'not-proved': 0, 'not-provable': 0, 'statement-only': 0, 'not-read': 0, 'gerbang-only': 0, credit: 0, forged: 0 });
    expect(lines.every((l) => l.kind === 'matched' && l.entry.description === `GAJI ${l.payment.transactionId}`)).to.equal(true);
  });

  it('does not match on the amount alone, a reference inside a longer word, another amount or a day too late', () => {
    const p = payment('INV-1234', '500000.00', 'UNKNOWN', '2026-11-20');
    const { counts } = reconcileStatement(
      [
        debit('2026-11-20', '500000.00', 'TRF VENDOR'),
        debit('2026-11-20', '500000.00', 'TRF XINV-12345'),
        debit('2026-11-20', '500000.01', 'TRF INV-1234'),
        debit('2026-11-22', '500000.00', 'TRF INV-1234'),
      ],
      [p],
    );
    expect(counts).to.deep.equal({ matched: 0, 'not-proved': 0, 'not-provable': 0, 'statement-only': 4, 'not-read': 0, 'gerbang-only': 1, credit: 0, forged: 0 });
  });

  it('keeps a refused payment out unless a debit books it, and never lists a payment never sent', () => {
    const refused = payment('INV-FAIL', '250000.00', 'FAILED', '2026-11-20');
    const debited = payment('INV-FAIL-BUT-PAID', '260000.00', 'FAILED', '2026-11-20');
    const received = payment('INV-NEW', '270000.00', 'RECEIVED', '2026-11-20');
    const { lines } = reconcileStatement([debit('2026-11-20', '260000.00', 'INV-FAIL-BUT-PAID'), { date: '2026-11-20', type: 'CREDIT', amount: '270000.00', description: 'INV-NEW' }], [refused, debited, received]);
    expect(lines.map((l) => l.kind)).to.deep.equal(['matched', 'credit']);
    expect(lines[0].kind === 'matched' && lines[0].payment.state).to.equal('FAILED');
  });

  it('makes a debit booking a payment of a day not proved a not-proved line, of a day whose chains do not hold a not-provable line, by the payment\'s day, never matched nor counted so, a failed one keeping its state, other days matched', () => {
    const broken = payment('INV-BROKEN', '400000.00', 'SUCCESS', '2026-11-19');
    const brokenFailed = payment('INV-BROKEN-FAILED', '405000.00', 'FAILED', '2026-11-19');
    const proved = payment('INV-PROVED', '410000.00', 'SUCCESS', '2026-11-20');
    const waiting = payment('INV-WAITING', '420000.00', 'SUCCESS', '2026-11-21');
    const failed = payment('INV-WAITING-FAILED', '430000.00', 'FAILED', '2026-11-21');
    const unbooked = payment('INV-UNBOOKED', '440000.00', 'SUCCESS', '2026-11-21');
    const { lines, counts } = reconcileStatement(
      [
        debit('2026-11-19', '400000.00', 'TRF INV-BROKEN'),
        debit('2026-11-20', '410000.00', 'TRF INV-PROVED'),
        // Booked the next day, a proved one: the line still takes its payment's day's kind.
        debit('2026-11-20', '405000.00', 'TRF INV-BROKEN-FAILED'),
        debit('2026-11-21', '420000.00', 'TRF INV-WAITING'),
        debit('2026-11-22', '430000.00', 'TRF INV-WAITING-FAILED'),
      ],
      [broken, brokenFailed, proved, waiting, failed, unbooked],
      new Map([
        ['2026-11-19', 'not-provable'],
        ['2026-11-21', 'not-proved'],
      ]),
    );
    expect(lines.map((l) => [l.kind, 'payment' in l ? l.payment.transactionId : null])).to.deep.equal([
      ['not-provable', 'INV-BROKEN'],
      ['matched', 'INV-PROVED'],
      ['not-provable', 'INV-BROKEN-FAILED'],
      ['not-proved', 'INV-WAITING'],
      ['gerbang-only', 'INV-UNBOOKED'],
      ['not-proved', 'INV-WAITING-FAILED'],
    ]);
    expect(lines[2].kind === 'not-provable' && lines[2].payment.state).to.equal('FAILED');
    expect(lines[5].kind === 'not-proved' && lines[5].payment.state).to.equal('FAILED');
    expect(counts).to.deep.equal({ matched: 1, 'not-proved': 2, 'not-provable': 2, 'statement-only': 0, 'not-read': 0, 'gerbang-only': 1, credit: 0, forged: 0 });
  });

  it('finds a reference as a whole word, without case, exactly as the regular expression it replaces does', () => {
    const regex = (text: string, reference: string) =>
      reference.length >= 4 && new RegExp(`(^|[^A-Za-z0-9])${reference.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9])`, 'i').test(text);
    // The Kelvin sign (U+212A) and the ohm sign (U+2126) lower-case to ASCII k and Greek omega, which
    // the regular expression's case folding does not: text that is not ASCII must take the regular expression.
    const references = ['INV-1234', 'inv-1234', 'PERF-42', '00001234', 'A.B*C', 'abc', 'x(1)+y', 'İNV-1', 'ÄBCD', 'İNV.1', 'INV-K234', '\u03A9\u03A9\u03A9\u03A9'];
    const texts = [
      'TRF INV-1234', 'TRF INV-12345', 'TRF XINV-1234', 'inv-1234', 'INV-1234/INV-1234', 'XINV-1234 INV-1234', 'TRSF E-BANKING DB PERF-42', 'PERF-420 PERF-4',
      '00001234', '100001234 00001234.', 'A.B*C', 'zA.B*C', 'x(1)+y!', '', 'İNV-1 ok', 'äbcd', 'ÄBCD-1', 'inv-1234_1', 'INV-1234\n',
      // The edges of [0-9A-Za-z] on either side of a reference: '/', ':', '@', '[', '`', '{' are not word characters.
      'INV-12349', '9INV-1234', 'INV-1234Z', 'ZINV-1234', 'INV-1234z', '0INV-1234', 'INV-1234{', '~INV-1234', '/INV-1234:', '@INV-1234[', '`INV-1234`',
      'TRF INV-\u212A234', '\u2126\u2126\u2126\u2126', 'Ä İNV1 X', 'Ä İNV.1',
    ];
    for (const text of texts) for (const reference of references) expect(mentions(text, reference), `${JSON.stringify(reference)} in ${JSON.stringify(text)}`).to.equal(regex(text, reference));
  });
});
