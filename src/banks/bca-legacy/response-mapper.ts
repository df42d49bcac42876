import Joi from 'joi';
import type { EgressError } from '../../egress/index.js';
import { bankText, parseBankJson } from '../common/bank-text.js';
import type { StatusOutcome, TransferOutcome } from '../types.js';
import { BCA_ERROR_CODES, classifyBcaError, statusFitsCode } from './error-codes.js';

/**
 * BCA's answers → Gerbang's uniform outcome (bank-apis.md §3). Every body is validated with Joi
 * before it is read: a broken or hostile answer never throws here, and an answer to a transfer
 * that cannot be understood is UNKNOWN (in doubt), never SUCCESS or FAILED.
 */

/** `{"ErrorCode":"ESB-xx-yyy","ErrorMessage":{"Indonesian":"…","English":"…"}}`. */
const errorSchema = Joi.object({
  ErrorCode: Joi.string().pattern(/^[A-Z0-9-]{1,32}$/).required(),
  ErrorMessage: Joi.object({
    Indonesian: Joi.string().allow('').max(1024),
    English: Joi.string().allow('').max(1024),
  }).unknown(true),
})
  .unknown(true)
  .required();

/** The intrabank answer: `{TransactionID, TransactionDate, ReferenceID, Status}`. */
const transferSchema = Joi.object({
  TransactionID: Joi.string().max(64).required(),
  TransactionDate: Joi.string().max(32),
  ReferenceID: Joi.string().allow('').max(128),
  Status: Joi.string().max(64).required(),
})
  .unknown(true)
  .required();

/** The token answer; `expires_in` is a string of seconds ("3600"), a number tolerated. */
const tokenSchema = Joi.object({
  // Printable ASCII only: it goes into an Authorization header.
  access_token: Joi.string().pattern(/^[\x21-\x7e]{1,4096}$/).required(),
  token_type: Joi.string().pattern(/^bearer$/i).required(),
  expires_in: Joi.alternatives(Joi.string().pattern(/^\d{1,9}$/), Joi.number().integer().min(0).max(999_999_999)).required(),
})
  .unknown(true)
  .required();

export interface BcaError {
  code: string;
  /** The bank's English message, else its Indonesian one, else the meaning from the code table. */
  message: string;
}

export interface BankAnswer {
  statusCode: number;
  body: string;
}

/** What the adapter does next with a transfer answer. */
export type TransferVerdict =
  | { kind: 'outcome'; outcome: TransferOutcome }
  /** ESB-14-009: the token was refused before processing. */
  | { kind: 'reauth'; error: BcaError }
  /** Refused before processing for another reason: nothing moved. */
  | { kind: 'unavailable'; error: BcaError };

const IN_DOUBT = 'The bank has not confirmed the outcome; it will be resolved by status inquiry. Do not pay again under a new transactionId.';

/** Reads a BCA error body; null when the body is not one. */
export function readBcaError(body: string): BcaError | null {
  return bcaErrorOf(parseBankJson(body));
}

/**
 * Reads a parsed BCA answer as an error; null when it is not one. An answer without `ErrorCode`
 * (every successful one) is not, which is what the schema would say after building its error.
 */
function bcaErrorOf(parsed: unknown): BcaError | null {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || (parsed as { ErrorCode?: unknown }).ErrorCode === undefined) return null;
  const { value, error } = errorSchema.validate(parsed);
  if (error) return null;
  const message = value.ErrorMessage?.English || value.ErrorMessage?.Indonesian || BCA_ERROR_CODES[value.ErrorCode]?.meaning || value.ErrorCode;
  return { code: value.ErrorCode, message };
}

/** How a successful transfer answer is read: the TransactionID it echoes, its status, its reference. */
interface TransferAnswerReader {
  schema: Joi.ObjectSchema;
  read(value: Record<string, string>): { transactionId: string; status: string; reference: string };
}

/** The intrabank answer: `{TransactionID, TransactionDate, ReferenceID, Status}`. */
export const INTRABANK_ANSWER: TransferAnswerReader = {
  schema: transferSchema,
  read: (value) => ({ transactionId: value.TransactionID, status: value.Status, reference: value.TransactionID }),
};

/**
 * The domestic v2 answer. Its spelling differs between BCA's saved pages (bank-apis.md §6,
 * unconfirmed which one production sends): the id as `transaction_id` or `TransactionID`, the date
 * as `transaction_date` or `TransactionDate`, the PPU number as `ppu_number`, `PPUNumber` or
 * `filler_ppu_no`. Each is read; the PPU number is the bank's reference. It carries no status: a
 * 2xx echoing the id means BCA took the transfer.
 */
export const DOMESTIC_ANSWER: TransferAnswerReader = {
  schema: Joi.object({
    transaction_id: Joi.string().max(64),
    TransactionID: Joi.string().max(64),
    transaction_date: Joi.string().max(32),
    TransactionDate: Joi.string().max(32),
    ppu_number: Joi.string().allow('').max(64),
    PPUNumber: Joi.string().allow('').max(64),
    filler_ppu_no: Joi.string().allow('').max(64),
  })
    .or('transaction_id', 'TransactionID')
    .unknown(true)
    .required(),
  read: (value) => {
    const transactionId = value.transaction_id ?? value.TransactionID;
    const ppu = value.ppu_number || value.PPUNumber || value.filler_ppu_no;
    return { transactionId, status: 'Success', reference: ppu || transactionId };
  },
};

/** The transfer an answer is to. */
export interface SentTransfer {
  transactionId: string;
  /** LLG (SKN) or RTG (RTGS): taken is not settled. */
  settlesLater?: boolean;
  /** The resend after the bank refused the token (ESB-14-009): the same TransactionID, freshly signed. */
  resend?: boolean;
}

/** "TransactionID must be unique": BCA already holds a transfer under this TransactionID. */
const DUPLICATE_TRANSACTION_ID = 'ESB-82-003';

/**
 * Maps BCA's answer to a transfer. SUCCESS needs a 2xx, a valid body echoing the TransactionID
 * that was sent and `Status: "Success"`; for LLG/RTG (`settlesLater`) that is only PENDING. An
 * ESB error decides by its class (even on a 2xx: "in progress" may come as 202) when it comes
 * with a status BCA answers it with (statusFitsCode); "TransactionID must be unique" on the resend
 * after a token refusal is UNKNOWN. Anything else (no valid body, an unexpected status or
 * TransactionID, a 5xx without a code) is UNKNOWN.
 */
export function mapTransferResponse(answer: BankAnswer, sent: SentTransfer, reader: TransferAnswerReader = INTRABANK_ANSWER): TransferVerdict {
  const parsed = parseBankJson(answer.body);
  const bankError = bcaErrorOf(parsed);
  if (bankError) {
    const outcome = classifyBcaError(bankError.code, answer.statusCode);
    // A refusal on a status BCA never sends it with (a 2xx saying "refused before processing")
    // contradicts itself: in doubt, never FAILED, and never "unavailable", which frees the
    // transactionId for a resend.
    if (!statusFitsCode(bankError.code, outcome, answer.statusCode)) {
      return unknown(bankError.code, `The bank answered HTTP ${answer.statusCode} with refusal ${bankError.code}; the two contradict each other. ${IN_DOUBT}`);
    }
    if (outcome === 'reauth' || outcome === 'unavailable') return { kind: outcome, error: bankError };
    // The resend carries the TransactionID the token refusal was answered for; "must be unique"
    // then says the bank took the first send after all: in doubt, never FAILED.
    if (sent.resend && bankError.code === DUPLICATE_TRANSACTION_ID) {
      return unknown(bankError.code, `The resend after the bank refused the token was answered ${bankError.code} (${bankError.message}): the bank holds the first send. ${IN_DOUBT}`);
    }
    const status = outcome === 'failed' ? 'FAILED' : 'UNKNOWN';
    return { kind: 'outcome', outcome: { status, bankReference: null, bankResponseCode: bankError.code, bankMessage: bankError.message } };
  }
  if (answer.statusCode < 200 || answer.statusCode > 299) return unknown(`HTTP-${answer.statusCode}`, IN_DOUBT);
  const { value, error } = reader.schema.validate(parsed);
  if (error) return unknown(null, `The bank's answer could not be read (${error.message}). ${IN_DOUBT}`);
  const read = reader.read(value);
  if (read.transactionId !== sent.transactionId) {
    return unknown(null, `The bank answered for TransactionID ${read.transactionId}, not ${sent.transactionId}. ${IN_DOUBT}`);
  }
  if (read.status.toLowerCase() !== 'success') return unknown(null, `Bank status "${read.status}". ${IN_DOUBT}`);
  if (sent.settlesLater) {
    // LLG (SKN) and RTG (RTGS): taken by BCA is not settled; final only when the status inquiry says so.
    return { kind: 'outcome', outcome: { status: 'PENDING', bankReference: read.reference, bankResponseCode: null, bankMessage: `Accepted by the bank; not final until the bank reports it settled. ${IN_DOUBT}` } };
  }
  return { kind: 'outcome', outcome: { status: 'SUCCESS', bankReference: read.reference, bankResponseCode: null, bankMessage: null } };
}

/** A read-only call's answer: its validated body, or why not. */
export type ServiceVerdict<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'reauth' | 'unavailable' | 'refused'; error: BcaError };

/**
 * Maps BCA's answer to a call that moves no money (inquiry, balance, statement): a valid 2xx
 * body, or the bank's error by its class — a business code is a refusal the caller shows, a
 * token refusal asks for a new token, anything else (unreadable, 5xx, in doubt) is the bank
 * being unavailable, since nothing but a re-ask can help.
 */
export function mapServiceResponse<T>(answer: BankAnswer, schema: Joi.ObjectSchema<T>): ServiceVerdict<T> {
  const bankError = readBcaError(answer.body);
  if (bankError) {
    const outcome = classifyBcaError(bankError.code, answer.statusCode);
    return { kind: outcome === 'failed' ? 'refused' : outcome === 'reauth' ? 'reauth' : 'unavailable', error: bankError };
  }
  if (answer.statusCode < 200 || answer.statusCode > 299) return { kind: 'unavailable', error: { code: `HTTP-${answer.statusCode}`, message: `The bank answered HTTP ${answer.statusCode}.` } };
  const { value, error } = schema.validate(parseBankJson(answer.body));
  if (error) return { kind: 'unavailable', error: { code: 'BANK_ANSWER_UNREADABLE', message: `The bank's answer could not be read (${error.message}).` } };
  return { kind: 'ok', value };
}

/**
 * The status inquiry's answer. BCA's saved pages disagree on the status field (bank-apis.md §6):
 * `Status`, or `StatusCode` with a `Reason`; either is read, `Status` first. Beyond these, field
 * names are unconfirmed.
 */
const statusSchema = Joi.object({
  TransactionID: Joi.string().max(64).required(),
  TransactionDate: Joi.string().max(32),
  Status: Joi.string().max(64),
  StatusCode: Joi.string().max(64),
  Reason: Joi.string().allow('').max(512),
})
  .or('Status', 'StatusCode')
  .unknown(true)
  .required();

export type StatusVerdict = { kind: 'outcome'; outcome: StatusOutcome } | { kind: 'reauth' | 'unavailable'; error: BcaError };

/**
 * Maps BCA's answer to a transfer status inquiry: Success → SUCCESS, Failed/Rejected → FAILED,
 * any other status → PENDING, ESB-99-127 → NOT_FOUND. An inquiry that itself failed (an error
 * about the inquiry, an unreadable answer, another TransactionID) tells nothing: UNKNOWN.
 */
export function mapStatusResponse(answer: BankAnswer, sent: { transactionId: string }): StatusVerdict {
  const bankError = readBcaError(answer.body);
  if (bankError) {
    if (bankError.code === 'ESB-99-127') {
      return { kind: 'outcome', outcome: { status: 'NOT_FOUND', bankReference: null, bankResponseCode: bankError.code, bankMessage: bankError.message } };
    }
    const outcome = classifyBcaError(bankError.code, answer.statusCode);
    if (outcome === 'reauth' || outcome === 'unavailable') return { kind: outcome, error: bankError };
    return unknown(bankError.code, `The status inquiry failed (${bankError.message}); the transfer stays in doubt.`);
  }
  if (answer.statusCode < 200 || answer.statusCode > 299) return unknown(`HTTP-${answer.statusCode}`, 'The status inquiry failed; the transfer stays in doubt.');
  const { value, error } = statusSchema.validate(parseBankJson(answer.body));
  if (error || value.TransactionID !== sent.transactionId) return unknown(null, "The bank's status answer could not be read; the transfer stays in doubt.");
  const said: string = value.Status ?? value.StatusCode;
  const status = said.toLowerCase();
  const message = bankText(`bank status: ${said}${value.Reason ? ` (${value.Reason})` : ''}`);
  if (status === 'success') return { kind: 'outcome', outcome: { status: 'SUCCESS', bankReference: value.TransactionID, bankResponseCode: null, bankMessage: null } };
  if (status === 'failed' || status.startsWith('reject')) {
    return { kind: 'outcome', outcome: { status: 'FAILED', bankReference: value.TransactionID, bankResponseCode: null, bankMessage: message } };
  }
  // Anything else, a code whose meaning is not documented included, is not final.
  return { kind: 'outcome', outcome: { status: 'PENDING', bankReference: value.TransactionID, bankResponseCode: null, bankMessage: message } };
}

/** A transfer whose request may have reached the bank but got no usable answer (timeout, reset, oversized). */
export function mapSentFailure(error: EgressError): TransferOutcome {
  return { status: 'UNKNOWN', bankReference: null, bankResponseCode: error.code, bankMessage: `${error.message}. ${IN_DOUBT}` };
}

function unknown(code: string | null, message: string): TransferVerdict & StatusVerdict {
  return { kind: 'outcome', outcome: { status: 'UNKNOWN', bankReference: null, bankResponseCode: code, bankMessage: bankText(message) } };
}

/** Reads a token answer (200 only); null when it is not a usable token. */
export function readTokenAnswer(answer: BankAnswer): { accessToken: string; expiresInSeconds: number } | null {
  if (answer.statusCode !== 200) return null;
  const { value, error } = tokenSchema.validate(parseBankJson(answer.body));
  if (error) return null;
  const expiresInSeconds = Number(value.expires_in);
  return expiresInSeconds > 0 ? { accessToken: value.access_token, expiresInSeconds } : null;
}
