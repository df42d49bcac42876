import { createHash } from 'node:crypto';
import type { AuditExchangeRow, AuditOutcome, BankCallAudit } from '../types.js';
import { parseJson, toNumber, toNumberOrNull, toStringOrNull, wellFormed } from './row-values.js';
import { place, type SealPlace, type ValueOpener } from './sealed-values.js';

/**
 * How an audit record looks in the database and back: how a row is opened into clear text (its
 * sealed columns are listed in sealed-values.ts), and the content digest the hash chain covers.
 */

/**
 * An exchange as every reader takes it: its row joined on the primary key with its completion
 * (migration 023), if any. Completing an exchange appends a row to audit_completions; it never
 * changes the exchange's own row. The completion's outcome, status, error, answer and time are
 * the exchange's when it has one, else the row's own (an exchange recorded whole, or completed
 * before 023); what the completion learnt of the client, transaction, amount and accounts
 * replaces the opening's, a NULL keeping it.
 */
export const EXCHANGE_FROM = 'audit_exchanges e LEFT JOIN audit_completions c ON c.exchange_id = e.id';

const completionOr = (column: string) => `CASE WHEN c.exchange_id IS NULL THEN e.${column} ELSE c.${column} END AS ${column}`;
const learnt = (column: string) => `COALESCE(c.${column}, e.${column}) AS ${column}`;

/** Columns of an exchange (from EXCHANGE_FROM), in the order every SELECT uses. */
export const EXCHANGE_SELECT = [
  'e.id AS id', 'e.request_id AS request_id', 'e.received_at AS received_at', completionOr('completed_at'), 'e.remote_ip AS remote_ip',
  'e.origin AS origin', 'e.method AS method', 'e.path AS path', learnt('client_id'), learnt('transaction_id'), learnt('amount'),
  learnt('source_account'), learnt('beneficiary_account'), completionOr('outcome'), completionOr('status_code'), completionOr('error_code'),
  'e.request_headers AS request_headers', 'e.request_body AS request_body', completionOr('response_body'), 'e.key_id AS key_id',
  'c.exchange_id AS completion_id',
].join(', ');

/** The value an exchange's `column` (client_id, transaction_id, …) is searched by: what its completion learnt, else its own. */
export function exchangeColumn(column: 'client_id' | 'transaction_id'): string {
  return `COALESCE(c.${column}, e.${column})`;
}

export const BANK_CALL_SELECT =
  'id, exchange_id, request_id, partner, operation, method, url, request_headers, request_body, status_code, response_body, ' +
  'error_code, started_at, duration_ms, key_id';

export interface ExchangeRow {
  id: number | string;
  request_id: string;
  received_at: number | string;
  completed_at: number | string | null;
  remote_ip: string;
  origin: string | null;
  method: string;
  path: string;
  client_id: string | null;
  transaction_id: string | null;
  amount: string | null;
  source_account: string | null;
  beneficiary_account: string | null;
  outcome: AuditOutcome;
  status_code: number | string | null;
  error_code: string | null;
  request_headers: string | null;
  request_body: string | null;
  response_body: string | null;
  key_id: string | null;
  /** The exchange's completion row (audit_completions), null when it has none. */
  completion_id: number | string | null;
}

export interface BankCallRow {
  id: number | string;
  exchange_id: number | string | null;
  request_id: string;
  partner: string;
  operation: string;
  method: string;
  url: string | null;
  request_headers: string | null;
  request_body: string | null;
  status_code: number | string | null;
  response_body: string | null;
  error_code: string | null;
  started_at: number | string;
  duration_ms: number | string;
  key_id: string | null;
}

export type StoredBankCall = BankCallAudit & { id: number };

export function openExchange(row: ExchangeRow, sealer: ValueOpener): AuditExchangeRow {
  const at = (column: string) => exchangePlace(column, row.request_id, toNumber(row.received_at));
  return {
    id: toNumber(row.id),
    requestId: row.request_id,
    receivedAt: toNumber(row.received_at),
    completedAt: toNumberOrNull(row.completed_at),
    remoteIp: row.remote_ip,
    origin: toStringOrNull(row.origin),
    method: row.method,
    path: row.path,
    clientId: toStringOrNull(row.client_id),
    transactionId: toStringOrNull(row.transaction_id),
    amount: toStringOrNull(row.amount),
    sourceAccount: toStringOrNull(row.source_account),
    beneficiaryAccount: toStringOrNull(row.beneficiary_account),
    outcome: row.outcome,
    statusCode: toNumberOrNull(row.status_code),
    errorCode: toStringOrNull(row.error_code),
    requestHeaders: parseJson<Record<string, string>>(sealer.open(row.request_headers, at('request_headers')), {}),
    requestBody: sealer.open(row.request_body, at('request_body')),
    responseBody: sealer.open(row.response_body, row.completion_id === null ? at('response_body') : completionPlace(toNumber(row.completion_id))),
    bankCalls: [],
  };
}

export function openBankCall(row: BankCallRow, sealer: ValueOpener): StoredBankCall {
  const at = (column: string) => bankCallPlace(column, row.request_id, row.operation, toNumber(row.started_at));
  return {
    id: toNumber(row.id),
    exchangeId: toNumberOrNull(row.exchange_id),
    requestId: row.request_id,
    partner: row.partner,
    operation: row.operation,
    method: row.method,
    url: sealer.open(row.url, at('url')) ?? '',
    requestHeaders: parseJson<Record<string, string>>(sealer.open(row.request_headers, at('request_headers')), {}),
    requestBody: sealer.open(row.request_body, at('request_body')),
    statusCode: toNumberOrNull(row.status_code),
    responseBody: sealer.open(row.response_body, at('response_body')),
    errorCode: toStringOrNull(row.error_code),
    startedAt: toNumber(row.started_at),
    durationMs: toNumber(row.duration_ms),
  };
}

/** Where a sealed value of an exchange lives (SEALED_TABLES: a request id and its time identify it). */
export function exchangePlace(column: string, requestId: string, receivedAt: number): SealPlace {
  return place('audit_exchanges', column, [requestId, receivedAt]);
}

/** Where a completion's answer lives (audit_completions.response_body, the row of its exchange id). */
export function completionPlace(exchangeId: number): SealPlace {
  return place('audit_completions', 'response_body', [exchangeId]);
}

/** Where a sealed value of a bank call lives. */
export function bankCallPlace(column: string, requestId: string, operation: string, startedAt: number): SealPlace {
  return place('audit_bank_calls', column, [requestId, operation, startedAt]);
}

/**
 * `******5680`: only the last four digits of an account number are kept, so the column can be
 * shown and searched by the finance team without holding the number itself.
 */
export function maskAccount(account: string | null | undefined): string | null {
  if (account === null || account === undefined || account === '') return null;
  const visible = account.length > 4 ? account.slice(-4) : '';
  return `${'*'.repeat(Math.min(Math.max(account.length - visible.length, 1), 28))}${visible}`;
}

/**
 * The request path as stored in clear: an account number in it (`/v1/accounts/0201245680/balance`)
 * is masked like the account columns; the full number stays only in the sealed bodies and URL.
 */
export function maskPath(path: string): string {
  return path.replace(/(\/accounts\/)([^/?#]+)/g, (_, prefix: string, account: string) => `${prefix}${maskAccount(account)}`);
}

// ------------------------------------------------------------------ content digests

/**
 * What the hash chain covers of a record: its content as stored, with sealed values in CLEAR
 * text. Why clear text and not the ciphertexts: `keys rotate` re-encrypts records, and the
 * chain must survive that without being rewritten (a chain that may be re-hashed proves
 * nothing). Because a changed ciphertext no longer decrypts (GCM tag) or decrypts to other
 * text, the ciphertexts are covered all the same. The digest itself is never stored: `verify`
 * recomputes it, so no digest of a body sits in the database for anyone to test guesses against.
 */
export function digest(values: (string | number | null)[]): string {
  // Well-formed UTF-8 both ways: a lone surrogate is stored as U+FFFD, so hash it as that.
  const normal = values.map((value) => (typeof value === 'string' ? wellFormed(value) : value));
  return createHash('sha256').update(JSON.stringify(normal), 'utf8').digest('hex');
}

/**
 * An exchange's row as it was read, every column (its sealed values as stored, opened or not): of
 * a record that does not hold, what tells it altered again since it was named as found
 * (AuditExchangeRow.asFound). Numbers as text, as either backend's driver may give them.
 */
export function storedDigest(row: ExchangeRow): string {
  const columns: (keyof ExchangeRow)[] = [
    'id', 'request_id', 'received_at', 'completed_at', 'remote_ip', 'origin', 'method', 'path', 'client_id', 'transaction_id', 'amount', 'source_account',
    'beneficiary_account', 'outcome', 'status_code', 'error_code', 'request_headers', 'request_body', 'response_body', 'key_id', 'completion_id',
  ];
  return createHash('sha256').update(JSON.stringify(['exchange-as-stored', ...columns.map((column) => (row[column] === null || row[column] === undefined ? null : String(row[column])))]), 'utf8').digest('base64');
}

/** The fields an exchange has from the moment it is opened and never changes afterwards. */
export function openedDigest(e: AuditExchangeRow): string {
  return digest(['exchange-opened', e.requestId, e.receivedAt, e.remoteIp, e.origin, e.method, e.path, JSON.stringify(e.requestHeaders), e.requestBody]);
}

/** Every field of an exchange in its final state (completed, or recorded whole). */
export function finalDigest(e: AuditExchangeRow): string {
  return digest([
    'exchange-final', e.requestId, e.receivedAt, e.remoteIp, e.origin, e.method, e.path, JSON.stringify(e.requestHeaders), e.requestBody,
    e.clientId, e.transactionId, e.amount, e.sourceAccount, e.beneficiaryAccount, e.outcome, e.statusCode, e.errorCode, e.responseBody,
    e.completedAt,
  ]);
}

export function bankCallDigest(c: StoredBankCall): string {
  return digest([
    'bank-call', c.exchangeId, c.requestId, c.partner, c.operation, c.method, c.url, JSON.stringify(c.requestHeaders), c.requestBody,
    c.statusCode, c.responseBody, c.errorCode, c.startedAt, c.durationMs,
  ]);
}

/** One exchange a purge deleted, with the chain link that covered it (audit_purged_exchanges). */
export interface PurgedExchange {
  exchangeId: number;
  receivedAt: number;
  writerId: string;
  seq: number;
  linkHash: string;
}

/** A purge of anonymous rejected exchanges (audit_purges), as its chain link covers it. */
export interface PurgeRecord {
  id: number;
  purgedAt: number;
  receivedBefore: number;
  retentionDays: number;
  purgedBy: string;
  records: number;
}

/**
 * What a purge's link covers: the purge and every exchange it deleted with that exchange's link,
 * in exchange id order. An entry added to, removed from or changed in audit_purged_exchanges
 * breaks it, so no one without the chain key can pass off a deletion as a purge.
 */
export function purgeDigest(p: PurgeRecord, entries: PurgedExchange[]): string {
  const sorted = [...entries].sort((a, b) => a.exchangeId - b.exchangeId);
  return digest([
    'audit-purge', p.id, p.purgedAt, p.receivedBefore, p.retentionDays, p.purgedBy, p.records,
    JSON.stringify(sorted.map((e) => [e.exchangeId, e.receivedAt, e.writerId, e.seq, e.linkHash])),
  ]);
}

/** A console audit entry (console_audit) as its chain link covers it (migration 024). */
export function consoleAuditDigest(e: { id: number; at: number; username: string; action: string; target: string | null; detail: string | null; remoteIp: string }): string {
  return digest(['console-audit', e.id, e.at, e.username, e.action, e.target, e.detail, e.remoteIp]);
}
