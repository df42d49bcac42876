import Joi from 'joi';
import type { EgressError } from '../../egress/index.js';
import { parseBankJson } from '../common/bank-text.js';
import type { AttemptVerdict } from '../common/with-reauth.js';
import type { StatusOutcome, TransferOutcome } from '../types.js';

/**
 * SNAP answers → Gerbang's outcomes (bank-apis.md §2 and §3). Every body is validated with Joi
 * before it is read; an answer to a transfer that cannot be understood is UNKNOWN, never SUCCESS
 * or FAILED.
 *
 * responseCode is `HHHSSCC`: HTTP status, service code, case code.
 */

export interface BankAnswer {
  statusCode: number;
  body: string;
}

export interface SnapCode {
  code: string;
  message: string;
}

/**
 * What a response code means for the call that got it:
 * - `success`: `200` + the call's service code + `00`.
 * - `in-doubt`: 202xx00 (in progress), any 5xx (500xx00 general, 500xx01 internal — check before
 *   retry, 504xx00 timeout), or a code about another service: the bank may have executed it.
 * - `reauth`: 401xx01 invalid token — refused before processing: new token, re-sign, resend once.
 * - `unavailable`: refused before processing for another reason (401xx00 signature, unknown
 *   client, connection not allowed; 429 too many requests; 409xx00 duplicate X-EXTERNAL-ID on a
 *   call that moves no money). Nothing moved.
 * - `refused`: a business refusal (other 4xx): final for a transfer, BANK_REFUSED for an inquiry.
 * A 409 on a transfer is in doubt: its X-EXTERNAL-ID / partnerReferenceNo is never reused, so a
 * duplicate means an earlier send of this very transfer reached the bank.
 */
export type SnapClass = 'success' | 'in-doubt' | 'reauth' | 'unavailable' | 'refused';

export function classifySnapCode(code: string, serviceCode: string, movesMoney: boolean): SnapClass {
  const http = code.slice(0, 3);
  const kase = code.slice(5, 7);
  if (code === `200${serviceCode}00`) return 'success';
  if (http === '401') return kase === '01' ? 'reauth' : 'unavailable';
  if (http === '429') return 'unavailable';
  if (http === '409') return movesMoney ? 'in-doubt' : 'unavailable';
  if (http.startsWith('4')) return 'refused';
  // 2xx that is not this service's success (202 in progress, another service's code), 5xx, or anything else.
  return 'in-doubt';
}

const codeSchema = Joi.object({
  responseCode: Joi.string().pattern(/^\d{7}$/).required(),
  responseMessage: Joi.string().allow('').max(1024).default(''),
})
  .unknown(true)
  .required();

/** The answer's responseCode and responseMessage, with the whole body; null when it is not a SNAP answer. */
export function readSnapAnswer(body: string): (SnapCode & { value: Record<string, unknown> }) | null {
  const { value, error } = codeSchema.validate(parseBankJson(body));
  if (error) return null;
  return { code: value.responseCode, message: value.responseMessage, value };
}

/** The code the audit records for an answer: the responseCode unless it is a plain success. */
export function snapErrorCode(body: string): string | null {
  const answer = readSnapAnswer(body);
  return answer && !/^200\d{2}00$/.test(answer.code) ? answer.code : null;
}

/** What the adapter does next with an answer. */
export type Verdict<T> = AttemptVerdict<T, SnapCode>;

const IN_DOUBT = 'The bank has not confirmed the outcome; it will be resolved by status inquiry. Do not pay again under a new transactionId.';

const transferAnswerSchema = Joi.object({
  referenceNo: Joi.string().allow('').max(64),
  partnerReferenceNo: Joi.string().max(64),
  transactionStatus: Joi.string().max(2),
  additionalInfo: Joi.object().unknown(true),
})
  .unknown(true)
  .required();

/**
 * Maps the answer to a transfer (intrabank, interbank, RTGS, SKN). SUCCESS needs this service's
 * success code on a matching HTTP status and, when the bank echoes it, our partnerReferenceNo.
 * An HTTP status that contradicts the responseCode (HTTP 500 carrying 2001700, HTTP 200 carrying
 * a refusal) is in doubt: which of the two is true cannot be told.
 *
 * RTGS and SKN (`settlesLater`): acceptance is not settlement. Their answer's transactionStatus
 * 06 is FAILED; 00, 01-03 or none at all is PENDING until the bank reports the final outcome (a
 * later status inquiry or its signed notification, bank-apis.md §3 and §6).
 */
export function mapTransferAnswer(answer: BankAnswer, sent: { serviceCode: string; partnerReferenceNo: string; settlesLater?: boolean }): Verdict<TransferOutcome> {
  const snap = readSnapAnswer(answer.body);
  if (!snap) return unknown(`HTTP-${answer.statusCode}`, `The bank's answer could not be read. ${IN_DOUBT}`);
  if (String(answer.statusCode) !== snap.code.slice(0, 3)) {
    return unknown(snap.code, `The bank answered HTTP ${answer.statusCode} with responseCode ${snap.code}; the two contradict each other. ${IN_DOUBT}`);
  }
  const kind = classifySnapCode(snap.code, sent.serviceCode, true);
  if (kind === 'reauth' || kind === 'unavailable') return { kind, error: snap };
  if (kind === 'refused') return done({ status: 'FAILED', bankReference: null, bankResponseCode: snap.code, bankMessage: snap.message });
  if (kind === 'in-doubt') return unknown(snap.code, `${snap.message || 'In doubt'}. ${IN_DOUBT}`);
  const { value, error } = transferAnswerSchema.validate(snap.value);
  if (error) return unknown(snap.code, `The bank's answer could not be read (${error.message}). ${IN_DOUBT}`);
  if (value.partnerReferenceNo !== undefined && value.partnerReferenceNo !== sent.partnerReferenceNo) {
    return unknown(snap.code, `The bank answered for partnerReferenceNo ${value.partnerReferenceNo}, not ${sent.partnerReferenceNo}. ${IN_DOUBT}`);
  }
  const reference = value.referenceNo || null;
  const status: string | undefined = value.transactionStatus;
  if (sent.settlesLater) {
    if (status === '06') return done({ status: 'FAILED', bankReference: reference, bankResponseCode: snap.code, bankMessage: snap.message || 'transactionStatus 06 (failed)' });
    if (status === undefined || ['00', '01', '02', '03'].includes(status)) {
      return done({ status: 'PENDING', bankReference: reference, bankResponseCode: snap.code, bankMessage: `Accepted by the bank (transactionStatus ${status ?? 'not given'}); not final until the bank reports it settled. ${IN_DOUBT}` });
    }
    return unknown(snap.code, `Unexpected transactionStatus ${status}. ${IN_DOUBT}`);
  }
  switch (status ?? '00') {
    case '00':
      return done({ status: 'SUCCESS', bankReference: reference, bankResponseCode: snap.code, bankMessage: null });
    case '01':
    case '02':
    case '03':
      return done({ status: 'PENDING', bankReference: reference, bankResponseCode: snap.code, bankMessage: `transactionStatus ${status}` });
    case '06':
      return done({ status: 'FAILED', bankReference: reference, bankResponseCode: snap.code, bankMessage: snap.message || 'transactionStatus 06 (failed)' });
    default:
      return unknown(snap.code, `Unexpected transactionStatus ${status}. ${IN_DOUBT}`);
  }
}

const statusAnswerSchema = Joi.object({
  originalPartnerReferenceNo: Joi.string().max(64),
  originalReferenceNo: Joi.string().allow('').max(64),
  latestTransactionStatus: Joi.string().pattern(/^\d{2}$/),
  transactionStatusDesc: Joi.string().allow('').max(256),
})
  .unknown(true)
  .required();

/**
 * Maps the status inquiry's answer: latestTransactionStatus 00 → SUCCESS, 01/02/03 → PENDING,
 * 04/05/06 (refunded, cancelled, failed) → FAILED, 07 or 404xx01 → NOT_FOUND. A success answer
 * without latestTransactionStatus is PENDING, never SUCCESS. An inquiry that itself failed
 * tells nothing about the transfer: UNKNOWN.
 */
export function mapStatusAnswer(answer: BankAnswer, sent: { serviceCode: string; partnerReferenceNo: string }): Verdict<StatusOutcome> {
  const snap = readSnapAnswer(answer.body);
  if (!snap) return unknown(`HTTP-${answer.statusCode}`, 'The status inquiry got an unreadable answer; the transfer stays in doubt.');
  if (String(answer.statusCode) !== snap.code.slice(0, 3)) {
    return unknown(snap.code, `The status inquiry got HTTP ${answer.statusCode} with responseCode ${snap.code}, which contradict each other; the transfer stays in doubt.`);
  }
  if (/^404\d{2}01$/.test(snap.code)) return done({ status: 'NOT_FOUND', bankReference: null, bankResponseCode: snap.code, bankMessage: snap.message });
  const kind = classifySnapCode(snap.code, sent.serviceCode, false);
  if (kind === 'reauth' || kind === 'unavailable') return { kind, error: snap };
  if (kind !== 'success') return unknown(snap.code, `The status inquiry failed (${snap.message}); the transfer stays in doubt.`);
  const { value, error } = statusAnswerSchema.validate(snap.value);
  if (error || (value.originalPartnerReferenceNo !== undefined && value.originalPartnerReferenceNo !== sent.partnerReferenceNo)) {
    return unknown(snap.code, "The bank's status answer could not be read; the transfer stays in doubt.");
  }
  const status = value.latestTransactionStatus as string | undefined;
  const reference = value.originalReferenceNo || null;
  if (status === undefined) return done({ status: 'PENDING', bankReference: reference, bankResponseCode: snap.code, bankMessage: 'The bank gave no latestTransactionStatus; not final yet.' });
  const message = value.transactionStatusDesc || `latestTransactionStatus ${status}`;
  if (status === '00') return done({ status: 'SUCCESS', bankReference: reference, bankResponseCode: snap.code, bankMessage: null });
  if (['01', '02', '03'].includes(status)) return done({ status: 'PENDING', bankReference: reference, bankResponseCode: snap.code, bankMessage: message });
  if (['04', '05', '06'].includes(status)) return done({ status: 'FAILED', bankReference: reference, bankResponseCode: status, bankMessage: message });
  if (status === '07') return done({ status: 'NOT_FOUND', bankReference: null, bankResponseCode: status, bankMessage: message });
  return unknown(snap.code, `Unexpected latestTransactionStatus ${status}; the transfer stays in doubt.`);
}

/** A transfer whose request may have reached the bank but got no usable answer (timeout, reset, oversized). */
export function mapSentFailure(error: EgressError): TransferOutcome {
  return { status: 'UNKNOWN', bankReference: null, bankResponseCode: error.code, bankMessage: `${error.message}. ${IN_DOUBT}` };
}

/** The token answer: 2007300 with an accessToken and expiresIn (seconds, a string or a number). */
const tokenSchema = Joi.object({
  responseCode: Joi.string().valid('2007300').required(),
  accessToken: Joi.string().pattern(/^[\x21-\x7e]{1,4096}$/).required(),
  tokenType: Joi.string().pattern(/^bearer$/i).required(),
  expiresIn: Joi.alternatives(Joi.string().pattern(/^\d{1,9}$/), Joi.number().integer().min(1).max(999_999_999)).required(),
})
  .unknown(true)
  .required();

export function readTokenAnswer(answer: BankAnswer): { accessToken: string; expiresInSeconds: number } | null {
  if (answer.statusCode !== 200) return null;
  const { value, error } = tokenSchema.validate(parseBankJson(answer.body));
  if (error) return null;
  const expiresInSeconds = Number(value.expiresIn);
  return expiresInSeconds > 0 ? { accessToken: value.accessToken, expiresInSeconds } : null;
}

function done<T>(value: T): Verdict<T> {
  return { kind: 'outcome', outcome: value };
}

function unknown(code: string | null, message: string): Verdict<TransferOutcome & StatusOutcome> {
  return done({ status: 'UNKNOWN', bankReference: null, bankResponseCode: code, bankMessage: message });
}
