import { AppError } from '../../errors/index.js';
import type { InterbankTransferOrder } from '../types.js';

/** The order's fields Bank Indonesia is told about for RTGS and SKN, by the API's names. */
const REPORTED = {
  beneficiaryAddress: (order: InterbankTransferOrder) => order.beneficiaryAddress,
  beneficiaryCustomerType: (order: InterbankTransferOrder) => order.beneficiaryCustomerType,
  beneficiaryResident: (order: InterbankTransferOrder) => order.beneficiaryCustomerResidence,
} as const;

export type ReportedField = keyof typeof REPORTED;

/**
 * RTGS and SKN transfers are reported to Bank Indonesia with the beneficiary's details, so
 * Gerbang never fills them in: when one the partner's protocol carries is missing, nothing is
 * sent and the ERP gets 400 naming each missing field of the public API.
 */
export function requireReportedFields(order: InterbankTransferOrder, partner: string, fields: readonly ReportedField[]): void {
  const missing = fields.filter((field) => !REPORTED[field](order));
  if (missing.length === 0) return;
  throw new AppError('VALIDATION_FAILED', `An ${order.method} transfer through ${partner} is reported to Bank Indonesia and needs ${missing.join(', ')}.`, {
    fields: missing.map((field) => ({ field, message: `is required for ${order.method}` })),
  });
}
