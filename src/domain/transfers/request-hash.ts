import { createHash } from 'node:crypto';
import type { TransferRequest } from './transfer-schema.js';

/**
 * Fingerprint of what the ERP asked for, independent of key order and whitespace, so a resend
 * of the same payment matches and a changed one (amount, account…) does not.
 *
 * The customer type and residence had defaults (COMPANY, resident) until RTGS and SKN came to
 * need them from the ERP; payments stored before were fingerprinted with those values filled
 * in, so an absent one is fingerprinted as its old default and the resend of such a payment
 * still matches it.
 */
export function requestHash(request: TransferRequest): string {
  const fingerprinted: TransferRequest = { ...request, beneficiaryCustomerType: request.beneficiaryCustomerType ?? 'COMPANY', beneficiaryResident: request.beneficiaryResident ?? true };
  const canonical = JSON.stringify(Object.keys(fingerprinted).sort().map((key) => [key, fingerprinted[key as keyof TransferRequest] ?? null]));
  return createHash('sha256').update(canonical).digest('hex');
}
