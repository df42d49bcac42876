import Joi from 'joi';
import type { TransferOutcome } from '../types.js';
import { BCA_LEGACY_ERRORS, classifyLegacyError } from './error-codes.js';

/** BCA's error body: `{"ErrorCode":"ESB-xx-yyy","ErrorMessage":{"Indonesian":"…","English":"…"}}`. */
const errorSchema = Joi.object({
  ErrorCode: Joi.string().max(32).required(),
  ErrorMessage: Joi.object({ Indonesian: Joi.string().allow('').max(512), English: Joi.string().allow('').max(512) }).unknown(true),
}).unknown(true);

/** BCA's intrabank answer: `{TransactionID, TransactionDate, ReferenceID, Status}`. */
const transferSchema = Joi.object({
  TransactionID: Joi.string().max(32).required(),
  TransactionDate: Joi.string().max(32),
  ReferenceID: Joi.string().allow('').max(64),
  Status: Joi.string().max(32).required(),
}).unknown(true);

export interface LegacyError {
  code: string | null;
  message: string | null;
}

/** Parses a body as JSON; anything else is null (a hostile or broken answer never throws here). */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

/** Reads a BCA error body, validated; null when the body is not one. */
export function readLegacyError(body: string): LegacyError | null {
  const { value, error } = errorSchema.validate(parseJson(body));
  if (error) return null;
  const known = BCA_LEGACY_ERRORS[value.ErrorCode];
  return { code: value.ErrorCode, message: value.ErrorMessage?.English || value.ErrorMessage?.Indonesian || known?.meaning || null };
}

const IN_DOUBT_MESSAGE = 'The bank has not confirmed the outcome; it will be resolved by status inquiry. Do not resend with a new transactionId.';

/**
 * Maps BCA's answer to a transfer onto the uniform outcome (bank-apis.md §3). Anything the bank
 * may have executed but did not confirm is UNKNOWN, never FAILED: a malformed success body, an
 * in-doubt error code, a 5xx without a known code.
 */
export function mapTransferAnswer(statusCode: number, body: string): TransferOutcome {
  // An ESB error body decides even on a 2xx (ESB-82-025 "in progress" may come as 202).
  const bankError = readLegacyError(body);
  if (statusCode >= 200 && statusCode < 300 && !bankError) {
    const { value, error } = transferSchema.validate(parseJson(body));
    if (error) return { status: 'UNKNOWN', bankReference: null, bankResponseCode: null, bankMessage: IN_DOUBT_MESSAGE };
    const status = String(value.Status).toLowerCase();
    if (status === 'success') return { status: 'SUCCESS', bankReference: value.TransactionID, bankResponseCode: null, bankMessage: null };
    return { status: 'PENDING', bankReference: value.TransactionID, bankResponseCode: null, bankMessage: `bank status: ${value.Status}` };
  }
  const outcome = classifyLegacyError(bankError?.code ?? null, statusCode);
  if (outcome === 'failed') {
    return { status: 'FAILED', bankReference: null, bankResponseCode: bankError?.code ?? `HTTP-${statusCode}`, bankMessage: bankError?.message ?? null };
  }
  return { status: 'UNKNOWN', bankReference: null, bankResponseCode: bankError?.code ?? `HTTP-${statusCode}`, bankMessage: bankError?.message ?? IN_DOUBT_MESSAGE };
}
