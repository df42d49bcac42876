import type {
  AuditExchangeRow,
  AuditOutcome,
  AuditQuery,
  AuditRepository,
  BankCallAudit,
  Db,
  InboundCompletion,
  InboundExchange,
  SqlValue,
} from '../types.js';
import { fit, parseJson, toNumber, toNumberOrNull, toStringOrNull } from './row-values.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;

/** Column sizes of sql/mysql/001_initial.sql that a caller-controlled value could exceed. */
const SIZE = { requestId: 64, remoteIp: 64, origin: 512, method: 16, path: 1024, clientId: 191, transactionId: 191, amount: 64, errorCode: 64 };

interface ExchangeRow {
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
  outcome: AuditOutcome;
  status_code: number | string | null;
  error_code: string | null;
  request_headers: string;
  request_body: string | null;
  response_body: string | null;
}

interface BankCallRow {
  id: number | string;
  exchange_id: number | string | null;
  request_id: string;
  partner: string;
  operation: string;
  method: string;
  url: string;
  request_headers: string;
  request_body: string | null;
  status_code: number | string | null;
  response_body: string | null;
  error_code: string | null;
  started_at: number | string;
  duration_ms: number | string;
}

const EXCHANGE_COLUMNS =
  'request_id, received_at, remote_ip, origin, method, path, client_id, transaction_id, amount, request_headers, request_body';

function exchangeValues(e: InboundExchange): SqlValue[] {
  return [
    fit(e.requestId, SIZE.requestId),
    e.receivedAt,
    fit(e.remoteIp, SIZE.remoteIp),
    fit(e.origin, SIZE.origin),
    fit(e.method, SIZE.method),
    fit(e.path, SIZE.path),
    fit(e.clientId, SIZE.clientId),
    fit(e.transactionId, SIZE.transactionId),
    fit(e.amount, SIZE.amount),
    JSON.stringify(e.requestHeaders),
    e.requestBody,
  ];
}

function toExchange(row: ExchangeRow): AuditExchangeRow {
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
    outcome: row.outcome,
    statusCode: toNumberOrNull(row.status_code),
    errorCode: toStringOrNull(row.error_code),
    requestHeaders: parseJson<Record<string, string>>(row.request_headers, {}),
    requestBody: toStringOrNull(row.request_body),
    responseBody: toStringOrNull(row.response_body),
    bankCalls: [],
  };
}

function toBankCall(row: BankCallRow): BankCallAudit & { id: number } {
  return {
    id: toNumber(row.id),
    exchangeId: toNumberOrNull(row.exchange_id),
    requestId: row.request_id,
    partner: row.partner,
    operation: row.operation,
    method: row.method,
    url: row.url,
    requestHeaders: parseJson<Record<string, string>>(row.request_headers, {}),
    requestBody: toStringOrNull(row.request_body),
    statusCode: toNumberOrNull(row.status_code),
    responseBody: toStringOrNull(row.response_body),
    errorCode: toStringOrNull(row.error_code),
    startedAt: toNumber(row.started_at),
    durationMs: toNumber(row.duration_ms),
  };
}

/**
 * The audit trail: one row per inbound exchange, one per bank call. Headers and bodies arrive
 * already redacted; headers are stored as JSON text. Over-long caller-controlled values are
 * cut to their column size rather than lose the row.
 */
export class SqlAuditRepository implements AuditRepository {
  constructor(private readonly db: Db) {}

  /** Inserts the exchange as in_progress (committed before the bank is called) and returns its id. */
  async open(exchange: InboundExchange): Promise<number> {
    const result = await this.db.execute(
      `INSERT INTO audit_exchanges (${EXCHANGE_COLUMNS}, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [...exchangeValues(exchange), 'in_progress'],
    );
    return result.insertId;
  }

  /** Writes the outcome; a null clientId/transactionId/amount keeps what `open` recorded. */
  async complete(id: number, c: InboundCompletion): Promise<void> {
    await this.db.execute(
      'UPDATE audit_exchanges SET outcome = ?, status_code = ?, error_code = ?, client_id = COALESCE(?, client_id), ' +
        'transaction_id = COALESCE(?, transaction_id), amount = COALESCE(?, amount), response_body = ?, completed_at = ? WHERE id = ?',
      [
        c.outcome,
        c.statusCode,
        fit(c.errorCode, SIZE.errorCode),
        fit(c.clientId, SIZE.clientId),
        fit(c.transactionId, SIZE.transactionId),
        fit(c.amount, SIZE.amount),
        c.responseBody,
        c.completedAt,
        id,
      ],
    );
  }

  /** Inserts a whole exchange at once (rejected requests, the token endpoint) and returns its id. */
  async record(exchange: InboundExchange, c: InboundCompletion): Promise<number> {
    const result = await this.db.execute(
      `INSERT INTO audit_exchanges (${EXCHANGE_COLUMNS}, outcome, status_code, error_code, response_body, completed_at) ` +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        ...exchangeValues({
          ...exchange,
          clientId: c.clientId ?? exchange.clientId,
          transactionId: c.transactionId ?? exchange.transactionId,
          amount: c.amount ?? exchange.amount,
        }),
        c.outcome,
        c.statusCode,
        fit(c.errorCode, SIZE.errorCode),
        c.responseBody,
        c.completedAt,
      ],
    );
    return result.insertId;
  }

  async recordBankCall(call: BankCallAudit): Promise<number> {
    const result = await this.db.execute(
      'INSERT INTO audit_bank_calls (exchange_id, request_id, partner, operation, method, url, request_headers, request_body, ' +
        'status_code, response_body, error_code, started_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        call.exchangeId,
        fit(call.requestId, SIZE.requestId),
        fit(call.partner, 32),
        fit(call.operation, 64),
        fit(call.method, SIZE.method),
        call.url,
        JSON.stringify(call.requestHeaders),
        call.requestBody,
        call.statusCode,
        call.responseBody,
        fit(call.errorCode, SIZE.errorCode),
        call.startedAt,
        Math.round(call.durationMs),
      ],
    );
    return result.insertId;
  }

  /**
   * Exchanges matching every given filter, ordered by id, each with its bank calls (by id).
   * `from` is inclusive and `to` exclusive (on received_at); `afterId` pages on from a previous
   * page's last id; `limit` defaults to 100 and is capped at 1000.
   */
  async list(query: AuditQuery): Promise<AuditExchangeRow[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const filter = (condition: string, value: SqlValue | undefined) => {
      if (value === undefined) return;
      where.push(condition);
      params.push(value);
    };
    filter('received_at >= ?', query.from);
    filter('received_at < ?', query.to);
    filter('request_id = ?', query.requestId);
    filter('transaction_id = ?', query.transactionId);
    filter('client_id = ?', query.clientId);
    filter('id > ?', query.afterId);
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const rows = await this.db.query<ExchangeRow>(
      `SELECT id, ${EXCHANGE_COLUMNS}, outcome, status_code, error_code, response_body, completed_at FROM audit_exchanges` +
        `${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
      [...params, limit],
    );
    const exchanges = rows.map(toExchange);
    if (exchanges.length === 0) return exchanges;
    const byId = new Map(exchanges.map((exchange) => [exchange.id, exchange]));
    const calls = await this.db.query<BankCallRow>(
      'SELECT id, exchange_id, request_id, partner, operation, method, url, request_headers, request_body, status_code, ' +
        `response_body, error_code, started_at, duration_ms FROM audit_bank_calls WHERE exchange_id IN (${exchanges.map(() => '?').join(', ')}) ORDER BY id`,
      exchanges.map((exchange) => exchange.id),
    );
    for (const call of calls.map(toBankCall)) byId.get(call.exchangeId!)?.bankCalls.push(call);
    return exchanges;
  }
}
