import { expect } from 'chai';
import { paymentStory } from '../../src/console/payment-story.js';
import type { AuditExchangeRow, PaymentRecord } from '../../src/store/types.js';

/** The finance console's story of one payment, from rows the test makes (no store). */
describe('paymentStory', () => {
  const AT = Date.UTC(2026, 11, 6, 9, 0, 0);
  const payment: PaymentRecord = {
    id: 1,
    clientId: 'gbc_story',
    transactionId: 'INV-STORY-1',
    requestHash: '0'.repeat(64),
    state: 'FAILED',
    bank: 'bca',
    operation: 'transfer-intrabank',
    bankTransactionId: '00000001',
    bankTransactionDate: '2026-12-06',
    bankReference: null,
    amount: '150000.00',
    currency: 'IDR',
    resultJson: JSON.stringify({ transactionId: 'INV-STORY-1', status: 'FAILED', bankResponseCode: 'ESB-82-008', bankMessage: 'Saldo tidak cukup' }),
    httpStatus: 422,
    createdAt: AT,
    updatedAt: AT + 1_000,
    checkAttempts: 0,
    notFoundCount: 0,
    nextCheckAt: null,
    details: null,
    beneficiaryAccountMasked: '******5681',
    beneficiaryBank: '014',
    sourceAccount: '0201245680',
    bankExternalId: null,
    reviewSince: null,
  };

  /** The paying request, whose bank call was answered with BCA's error body saying `indonesian`. */
  function exchangeAnswered(indonesian: string): AuditExchangeRow {
    const answer = { ErrorCode: 'ESB-82-008', ErrorMessage: { Indonesian: indonesian, English: 'Insufficient funds' } };
    return {
      id: 10,
      requestId: 'req-story-1',
      receivedAt: AT,
      remoteIp: '192.0.2.1',
      origin: null,
      method: 'POST',
      path: '/v1/transfers',
      clientId: payment.clientId,
      transactionId: payment.transactionId,
      amount: payment.amount,
      sourceAccount: '******5680',
      beneficiaryAccount: '******5681',
      requestHeaders: {},
      requestBody: null,
      outcome: 'completed',
      statusCode: 422,
      errorCode: 'BANK_REJECTED',
      responseBody: null,
      completedAt: AT + 1_000,
      bankCalls: [
        {
          id: 20,
          exchangeId: 10,
          requestId: 'req-story-1',
          partner: 'bca',
          operation: 'transfer-intrabank',
          method: 'POST',
          url: 'https://bank.example/banking/corporates/transfers',
          requestHeaders: {},
          requestBody: null,
          statusCode: 400,
          responseBody: JSON.stringify(answer),
          errorCode: 'ESB-82-008',
          startedAt: AT + 100,
          durationMs: 200,
        },
      ],
    };
  }

  describe("the bank's Indonesian text", () => {
    it('is shown without control characters, line and paragraph separators, or direction marks', () => {
      // U+2028/U+2029 break a line where the page and an export take it as one; U+061C, U+202E…U+202C and U+200F reorder what is shown.
      const said = '\u2028Saldo tidak\u2029cukup\u061C untuk \u202Etransfer\u202C ini\u200F\u0007';
      const story = paymentStory(payment, [exchangeAnswered(said)], false);
      expect(story.bankIndonesian).to.equal('Saldo tidak cukup untuk transfer ini');
    });

    it('is shown as the bank sent it when it holds none of them', () => {
      expect(paymentStory(payment, [exchangeAnswered('Saldo tidak cukup')], false).bankIndonesian).to.equal('Saldo tidak cukup');
    });
  });
});
