import type { PaymentRecord, PaymentState } from '../../src/store/types.js';

/** A settled-looking payment record held in memory (for the reconciliation's matching and page), received on `day` at 10:00 WIB. */
export function paymentRecord(id: number, transactionId: string, amount: string, state: PaymentState, day: string, bankTransactionId: string | null = null): PaymentRecord {
  const at = Date.parse(`${day}T03:00:00Z`);
  return {
    id,
    clientId: 'erp',
    transactionId,
    requestHash: 'h'.repeat(64),
    state,
    bank: 'bca',
    operation: 'transfer-intrabank',
    bankTransactionId,
    bankTransactionDate: day,
    bankReference: null,
    amount,
    currency: 'IDR',
    resultJson: null,
    httpStatus: null,
    createdAt: at,
    updatedAt: at,
    checkAttempts: 0,
    notFoundCount: 0,
    nextCheckAt: null,
    details: null,
    beneficiaryAccountMasked: null,
    beneficiaryBank: null,
    sourceAccount: '0201245680',
    bankExternalId: null,
    reviewSince: null,
  };
}
