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
import { num, numOrNull, strOrNull } from './sql-helpers.js';

const EXCHANGE_COLUMNS =
  'id, request_id, received_at, completed_at, remote_ip, origin, method, path, client_id, transaction_id, amount, outcome, status_code, error_code, request_headers, request_body, response_body';
const CALL_COLUMNS =
  'id, exchange_id, request_id, partner, operation, method, url, request_headers, request_body, status_code, response_body, error_code, started_at, duration_ms';

function exchangeValues(e: InboundExchange): SqlValue[] {
  return [
    e.requestId,
    e.receivedAt,
    e.remoteIp,
    e.origin,
    e.method,
    e.path,
    e.clientId,
    e.transactionId,
    e.amount,
    JSON.stringify(e.requestHeaders),
    e.requestBody,
  ];
}

const INSERT_EXCHANGE = `INSERT INTO audit_exchanges
  (request_id, received_at, remote_ip, origin, method, path, client_id, transaction_id, amount, request_headers, request_body,
   outcome, status_code, error_code, response_body, completed_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

function toCall(row: Record<string, unknown>): BankCallAudit & { id: number } {
  return {
    id: num(row.id),
    exchangeId: numOrNull(row.exchange_id),
    requestId: String(row.request_id),
    partner: String(row.partner),
    operation: String(row.operation),
    method: String(row.method),
    url: String(row.url),
    requestHeaders: JSON.parse(String(row.request_headers)) as Record<string, string>,
    requestBody: strOrNull(row.request_body),
    statusCode: numOrNull(row.status_code),
    responseBody: strOrNull(row.response_body),
    errorCode: strOrNull(row.error_code),
    startedAt: num(row.started_at),
    durationMs: num(row.duration_ms),
  };
}

function toExchange(row: Record<string, unknown>, calls: (BankCallAudit & { id: number })[]): AuditExchangeRow {
  return {
    id: num(row.id),
    requestId: String(row.request_id),
    receivedAt: num(row.received_at),
    completedAt: numOrNull(row.completed_at),
    remoteIp: String(row.remote_ip),
    origin: strOrNull(row.origin),
    method: String(row.method),
    path: String(row.path),
    clientId: strOrNull(row.client_id),
    transactionId: strOrNull(row.transaction_id),
    amount: strOrNull(row.amount),
    outcome: row.outcome as AuditOutcome,
    statusCode: numOrNull(row.status_code),
    errorCode: strOrNull(row.error_code),
    requestHeaders: JSON.parse(String(row.request_headers)) as Record<string, string>,
    requestBody: strOrNull(row.request_body),
    responseBody: strOrNull(row.response_body),
    bankCalls: calls,
  };
}

export function auditRepository(db: Db): AuditRepository {
  return {
    async open(exchange) {
      const { insertId } = await db.execute(INSERT_EXCHANGE, [...exchangeValues(exchange), 'in_progress', null, null, null, null]);
      return insertId;
    },
    async complete(id: number, c: InboundCompletion) {
      // COALESCE keeps what open() knew when the completion does not know better.
      await db.execute(
        `UPDATE audit_exchanges SET outcome = ?, status_code = ?, error_code = ?, client_id = COALESCE(?, client_id),
           transaction_id = COALESCE(?, transaction_id), amount = COALESCE(?, amount), response_body = ?, completed_at = ? WHERE id = ?`,
        [c.outcome, c.statusCode, c.errorCode, c.clientId, c.transactionId, c.amount, c.responseBody, c.completedAt, id],
      );
    },
    async record(exchange, c) {
      const values = exchangeValues({ ...exchange, clientId: c.clientId ?? exchange.clientId, transactionId: c.transactionId ?? exchange.transactionId, amount: c.amount ?? exchange.amount });
      const { insertId } = await db.execute(INSERT_EXCHANGE, [...values, c.outcome, c.statusCode, c.errorCode, c.responseBody, c.completedAt]);
      return insertId;
    },
    async recordBankCall(call) {
      const { insertId } = await db.execute(
        `INSERT INTO audit_bank_calls (exchange_id, request_id, partner, operation, method, url, request_headers, request_body,
           status_code, response_body, error_code, started_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          call.exchangeId,
          call.requestId,
          call.partner,
          call.operation,
          call.method,
          call.url,
          JSON.stringify(call.requestHeaders),
          call.requestBody,
          call.statusCode,
          call.responseBody,
          call.errorCode,
          call.startedAt,
          Math.round(call.durationMs),
        ],
      );
      return insertId;
    },
    async list(query: AuditQuery) {
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
      const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 10_000);
      const rows = await db.query(
        `SELECT ${EXCHANGE_COLUMNS} FROM audit_exchanges ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${limit}`,
        params,
      );
      if (rows.length === 0) return [];
      const ids = rows.map((row) => num(row.id));
      // Calls made outside any exchange (exchange_id NULL) are not listed here.
      const calls = await db.query(`SELECT ${CALL_COLUMNS} FROM audit_bank_calls WHERE exchange_id IN (${ids.map(() => '?').join(', ')}) ORDER BY id`, ids);
      const byExchange = new Map<number, (BankCallAudit & { id: number })[]>();
      for (const call of calls.map(toCall)) {
        const list = byExchange.get(call.exchangeId!) ?? [];
        list.push(call);
        byExchange.set(call.exchangeId!, list);
      }
      return rows.map((row) => toExchange(row, byExchange.get(num(row.id)) ?? []));
    },
  };
}
