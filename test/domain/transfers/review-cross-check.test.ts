import { expect } from 'chai';
import type { StatementEntry, StatementQuery } from '../../../src/banks/types.js';
import { crossCheckReview } from '../../../src/domain/transfers/review-cross-check.js';
import type { StatementLines } from '../../../src/domain/transfers/statement-proof.js';
import type { PaymentRecord } from '../../../src/store/types.js';
import { paymentRecord } from '../../support/payment-records.js';

/**
 * What the paying account's statement says of an admin's resolution, from the lines each test
 * gives: the cases the CLI, component and browser tests (a real gateway, its simulator or a bank
 * answering BCA's statement) do not reach one by one.
 */
describe('crossCheckReview()', () => {
  const DAY = '2026-11-20';
  /** 10:00 WIB on the day after: the bank's day (06:00 WIB) closed for DAY. */
  const CLOSED = Date.parse('2026-11-21T03:00:00Z');
  /** 23:00 WIB on DAY: not closed yet. */
  const OPEN = Date.parse(`${DAY}T16:00:00Z`);
  const debit = (description: string, extra: Partial<StatementEntry> = {}): StatementEntry => ({ date: DAY, type: 'DEBIT', amount: '150000.00', description, ...extra });
  const inDoubt = (): PaymentRecord => paymentRecord(1, 'INV-REVIEW-1', '150000.00', 'UNKNOWN', DAY, '00004321');
  /** A reservation: never given a transaction date, received 10:00 WIB on DAY. */
  const reservation = (): PaymentRecord => ({ ...paymentRecord(2, 'INV-REVIEW-2', '150000.00', 'RECEIVED', DAY), bankTransactionDate: null, bankTransactionId: null });
  let asked: StatementQuery[];
  const reads = (answer: readonly StatementEntry[] | { unreadable: string }): StatementLines => async (query) => {
    asked.push(query);
    return answer;
  };
  const statements = (answer: readonly StatementEntry[] | { unreadable: string }) => ({ lines: reads(answer), dayCloseWib: '06:00' });

  beforeEach(() => {
    asked = [];
  });

  it('contradicts FAILED with the line of a booked debit carrying the reference, and confirms SUCCESS with it', async () => {
    const lines = [debit('TRF INV-REVIEW-1')];
    expect(await crossCheckReview(statements(lines), inDoubt(), 'FAILED', CLOSED)).to.deep.equal({ result: 'contradicted', found: `the statement books it: ${DAY} | DEBIT | 150000.00 | TRF INV-REVIEW-1` });
    expect(await crossCheckReview(statements(lines), inDoubt(), 'SUCCESS', CLOSED)).to.deep.equal({ result: 'confirmed', found: `${DAY} | DEBIT | 150000.00 | TRF INV-REVIEW-1` });
  });

  it('contradicts FAILED with a pending debit, or several, carrying the reference; SUCCESS is then not cross-checked', async () => {
    const pending = [debit('TRF INV-REVIEW-1', { pending: true })];
    const pendingCheck = await crossCheckReview(statements(pending), inDoubt(), 'FAILED', CLOSED);
    expect(pendingCheck).to.deep.equal({ result: 'contradicted', found: `a pending debit of 150000.00 carries this transfer's reference (not booked yet): ${DAY} | DEBIT | 150000.00 | TRF INV-REVIEW-1` });
    const twice = await crossCheckReview(statements([debit('TRF INV-REVIEW-1'), debit('RETRY INV-REVIEW-1')]), inDoubt(), 'FAILED', CLOSED);
    expect(twice).to.include({ result: 'contradicted' });
    expect((twice as { found: string }).found).to.match(/^2 debits of 150000.00 carry this transfer's reference: /);
    expect(await crossCheckReview(statements(pending), inDoubt(), 'SUCCESS', CLOSED)).to.deep.equal({
      result: 'unchecked',
      reason: "the statement proves nothing either way: a pending debit of 150000.00 carries this transfer's reference (not booked yet)",
    });
  });

  it('contradicts SUCCESS only with no debit of the amount read after the day closed; before, neither outcome is cross-checked', async () => {
    const closed = await crossCheckReview(statements([debit('PAYROLL', { amount: '99.00' })]), inDoubt(), 'SUCCESS', CLOSED);
    expect(closed).to.deep.equal({ result: 'contradicted', found: `No debit of 150000.00 on the statement of the paying account for ${DAY} and 2026-11-21, read 2026-11-21T03:00:00.000Z (after the bank's day closed).` });
    expect((await crossCheckReview(statements([]), inDoubt(), 'FAILED', CLOSED)).result).to.equal('confirmed');
    for (const outcome of ['SUCCESS', 'FAILED'] as const) {
      expect(await crossCheckReview(statements([]), inDoubt(), outcome, OPEN)).to.deep.equal({
        result: 'unchecked',
        reason: "no debit of 150000.00 on the statement yet, but it proves nothing before 2026-11-20T23:00:00.000Z (the bank's day close)",
      });
    }
  });

  it('lets either outcome go ahead, saying why, when equal debits lack the reference or no statement can be read', async () => {
    const ambiguous = [debit('TRF E-BANKING DB'), debit('TRF E-BANKING DB')];
    expect(await crossCheckReview(statements(ambiguous), inDoubt(), 'FAILED', CLOSED)).to.deep.equal({ result: 'unchecked', reason: "the statement proves nothing either way: 2 debit(s) of 150000.00 without this transfer's reference" });
    expect(await crossCheckReview(statements({ unreadable: 'bank-unavailable: 503 BANK_UNAVAILABLE' }), inDoubt(), 'SUCCESS', CLOSED)).to.deep.equal({
      result: 'unchecked',
      reason: 'the statement proves nothing either way: no statement could be read (bank-unavailable: 503 BANK_UNAVAILABLE)',
    });
    const old = await crossCheckReview(statements([]), inDoubt(), 'FAILED', Date.parse('2027-01-15T00:00:00Z'));
    expect(old).to.deep.equal({ result: 'unchecked', reason: 'the statement proves nothing either way: the bank keeps statements 31 days only' });
    expect(asked, 'no bank asked beyond its 31 days').to.have.length(2);
  });

  it('reads a reservation\'s statement for the day it was received and the next, judged by its transactionId', async () => {
    const check = await crossCheckReview(statements([debit('TRF INV-REVIEW-2', { date: '2026-11-21' })]), reservation(), 'FAILED', CLOSED);
    expect(asked).to.deep.equal([{ accountNumber: '0201245680', from: DAY, to: '2026-11-21' }]);
    expect(check).to.deep.equal({ result: 'contradicted', found: 'the statement books it: 2026-11-21 | DEBIT | 150000.00 | TRF INV-REVIEW-2' });
  });
});
