import { createHash } from 'node:crypto';
import type { TransferRequest } from './transfer-schema.js';

/**
 * Fingerprint of what the ERP asked for, independent of key order and whitespace, so a resend
 * of the same payment matches and a changed one (amount, account…) does not.
 */
export function requestHash(request: TransferRequest): string {
  const canonical = JSON.stringify(Object.keys(request).sort().map((key) => [key, request[key as keyof TransferRequest] ?? null]));
  return createHash('sha256').update(canonical).digest('hex');
}
