import { expect } from 'chai';
import { STATEMENT_MAX_LINES, type StatementEntry } from '../../../src/banks/types.js';
import { bankStatementLines, judgeStatement, proofReadableAt, readStatementProof } from '../../../src/domain/transfers/statement-proof.js';
import type { PaymentRecord } from '../../../src/store/types.js';
import { recorder } from '../../support/bank-adapters.js';
import { paymentRecord } from '../../support/payment-records.js';
import { ScriptedBank } from '../../support/scripted-bank.js';

/**
 * What the paying account's statement proves of a transfer in doubt, read from a scripted bank:
 * the cases the resolver's test (in-doubt-resolver.test.ts) cannot reach through a stored payment.
 */
describe('statement proof', () => {
  const DAY = '2026-11-20';
  const payment = (over: Partial<PaymentRecord> = {}): PaymentRecord => ({ ...paymentRecord(1, 'INV-PROOF-1', '150000.00', 'UNKNOWN', DAY, '00004321'), ...over });
  const debit = (description: string, extra: Partial<StatementEntry> = {}): StatementEntry => ({ date: DAY, type: 'DEBIT', amount: '150000.00', description, ...extra });

  describe('proofReadableAt()', () => {
    it('is the day close (WIB) on the day after the transaction date', () => {
      expect(new Date(proofReadableAt(DAY, '06:00')).toISOString()).to.equal('2026-11-20T23:00:00.000Z');
      expect(new Date(proofReadableAt(DAY, '23:59')).toISOString()).to.equal('2026-11-21T16:59:00.000Z');
      expect(new Date(proofReadableAt('2026-12-31', '00:30')).toISOString()).to.equal('2026-12-31T17:30:00.000Z');
    });
  });

  describe('readStatementProof()', () => {
    it('proves nothing, and asks no bank, without the transaction date', async () => {
      const bank = new ScriptedBank('bca');
      const verdict = await readStatementProof(bankStatementLines(bank, recorder().ctx), payment({ bankTransactionDate: null }), { now: Date.parse('2026-11-25T00:00:00Z'), dayCloseWib: '06:00' });
      expect(verdict).to.deep.equal({ kind: 'inconclusive', reason: 'the paying account is not recorded for this transfer, so its statement cannot be read' });
      expect(bank.calls).to.deep.equal([]);
    });

    it('never calls a statement of the transaction date alone proof of a failure, even with a day close set before midnight', async () => {
      const bank = new ScriptedBank('bca').answerStatement([]);
      // 23:30 WIB on the transaction date, after a (mis)configured day close of -01:00.
      const now = Date.parse(`${DAY}T16:30:00Z`);
      const verdict = await readStatementProof(bankStatementLines(bank, recorder().ctx), payment(), { now, dayCloseWib: '-01:00' });
      expect(bank.callsOf('statement').map((c) => c.query)).to.deep.equal([{ accountNumber: '0201245680', from: DAY, to: DAY }]);
      expect(verdict).to.deep.equal({ kind: 'too-early', readableAt: Date.parse(`${DAY}T16:00:00Z`) });
    });

    it('keeps a line without the bank\'s remarks as the date, type, amount and description', async () => {
      const bank = new ScriptedBank('bca').answerStatement([debit('TRF INV-PROOF-1')]);
      const verdict = await readStatementProof(bankStatementLines(bank, recorder().ctx), payment(), { now: Date.parse('2026-11-22T00:00:00Z'), dayCloseWib: '06:00' });
      expect(verdict).to.deep.equal({ kind: 'debited', line: `${DAY} | DEBIT | 150000.00 | TRF INV-PROOF-1` });
    });

    it('proves no single execution from a statement cut at the bank\'s row cap, yet keeps the debit it shows under the reference', async () => {
      // A second debit under the reference may be past the cut: the line found is evidence for a person, not proof.
      const others = Array.from({ length: STATEMENT_MAX_LINES - 1 }, (_, i) => debit('PAYROLL', { amount: `${(i % 9) + 1}.00` }));
      const bank = new ScriptedBank('bca').answerStatement([debit('TRF INV-PROOF-1'), ...others]);
      const verdict = await readStatementProof(bankStatementLines(bank, recorder().ctx), payment(), { now: Date.parse('2026-11-22T00:00:00Z'), dayCloseWib: '06:00' });
      expect(verdict).to.deep.include({ kind: 'inconclusive', referenced: [`${DAY} | DEBIT | 150000.00 | TRF INV-PROOF-1`] });
    });
  });

  describe('judgeStatement()', () => {
    const transfer = { amount: '150000.00', references: ['INV-PROOF-1', '00004321'], dates: [DAY, '2026-11-21'] };

    it('finds the debit by either reference, in the description or the remarks, on either day', () => {
      expect(judgeStatement([debit('X', { reference: '00004321', date: '2026-11-21' })], transfer)).to.deep.equal({ kind: 'debited', line: '2026-11-21 | DEBIT | 150000.00 | X | 00004321' });
      expect(judgeStatement([debit('TRF INV-PROOF-1/00')], transfer).kind).to.equal('debited');
    });

    it('sees no debit in credits, other amounts or other days, and no proof in equal debits without the reference', () => {
      expect(judgeStatement([{ ...debit('INV-PROOF-1'), type: 'CREDIT' }, debit('INV-PROOF-1', { amount: '15000.00' }), debit('INV-PROOF-1', { date: '2026-11-19' })], transfer)).to.deep.equal({ kind: 'no-debit' });
      expect(judgeStatement([debit('TRF INV-PROOF-12'), debit('PAYROLL')], transfer)).to.deep.equal({ kind: 'inconclusive', reason: "2 debit(s) of 150000.00 without this transfer's reference" });
    });
  });
});
