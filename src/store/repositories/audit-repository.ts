import type { KeyRing } from '../../security/index.js';
import type {
  AuditExchangeRow,
  AuditQuery,
  AuditRepository,
  AuditRotationReport,
  AuditVerifyReport,
  BankCallAudit,
  Db,
  InboundCompletion,
  InboundExchange,
  Queryable,
  SqlValue,
} from '../types.js';
import { ChainLanes, newWriterId } from './audit-chain.js';
import {
  AuditSealer,
  BANK_CALL_SELECT,
  bankCallDigest,
  CLEAR_COLUMNS_ONLY,
  EXCHANGE_SELECT,
  finalDigest,
  maskAccount,
  maskPath,
  openBankCall,
  openedDigest,
  openExchange,
  type BankCallRow,
  type ExchangeRow,
  type StoredBankCall,
  type ValueOpener,
} from './audit-records.js';
import { rotateAudit } from './audit-rotation.js';
import { verifyAudit } from './audit-verify.js';
import { fit } from './row-values.js';

const DEFAULT_LIMIT = 100;
/** Well under the pool's connections, so audit appends never starve the other queries. */
const CHAINS_PER_MYSQL_PROCESS = 4;
/** Open exchanges whose clear request is kept for their completion (far above any in-flight count). */
const MAX_OPEN_REQUESTS = 10_000;

const MAX_LIMIT = 1_000;

/** Column sizes of sql/mysql/001_initial.sql that a caller-controlled value could exceed. */
const SIZE = { requestId: 64, remoteIp: 64, origin: 512, method: 16, path: 1024, clientId: 191, transactionId: 191, amount: 64, errorCode: 64 };

const EXCHANGE_COLUMNS =
  'request_id, received_at, remote_ip, origin, method, path, client_id, transaction_id, amount, source_account, beneficiary_account, ' +
  'request_headers, request_body, key_id';

export interface AuditRepositoryOptions {
  /** Seals bodies and headers; null for a store that never touches the audit (any use then names the setting). */
  keys: KeyRing | null;
  /** Base id of this process's hash chains (default: a new id per store instance). */
  writerId?: string;
}

async function selectExchange(q: Queryable, id: number, sealer: ValueOpener): Promise<AuditExchangeRow> {
  const [row] = await q.query<ExchangeRow>(`SELECT ${EXCHANGE_SELECT} FROM audit_exchanges WHERE id = ?`, [id]);
  if (!row) throw new Error(`audit exchange ${id} does not exist`);
  return openExchange(row, sealer);
}

async function selectBankCall(q: Queryable, id: number, sealer: AuditSealer): Promise<StoredBankCall> {
  const [row] = await q.query<BankCallRow>(`SELECT ${BANK_CALL_SELECT} FROM audit_bank_calls WHERE id = ?`, [id]);
  if (!row) throw new Error(`audit bank call ${id} does not exist`);
  return openBankCall(row, sealer);
}

/**
 * The audit trail: one row per inbound exchange, one per bank call. Headers and bodies arrive
 * already redacted; here they are sealed with the key ring (AES-256-GCM) on the way in and
 * opened on the way out, so every reader of the store gets clear text and the database never
 * holds it. Account numbers are stored masked. Every write is appended to this writer's hash
 * chain in the same transaction (audit-chain.ts). Over-long caller-controlled values are cut
 * to their column size rather than lose the row.
 */
export class SqlAuditRepository implements AuditRepository {
  private readonly sealer: AuditSealer;
  private readonly chain: ChainLanes;
  /**
   * The clear request of each exchange this process opened and has not completed yet. complete()
   * hashes it from here instead of decrypting it again, so a completion never depends on a key:
   * `keys rotate` may re-seal an open exchange with a key this process does not have yet.
   */
  private readonly openRequests = new Map<number, Pick<AuditExchangeRow, 'requestHeaders' | 'requestBody'>>();

  constructor(
    private readonly db: Db,
    options: AuditRepositoryOptions,
  ) {
    this.sealer = new AuditSealer(options.keys);
    this.chain = new ChainLanes(db, options.writerId ?? newWriterId(), db.dialect === 'mysql' ? CHAINS_PER_MYSQL_PROCESS : 1);
  }

  /** Inserts the exchange as in_progress (committed before the bank is called) and returns its id. */
  async open(exchange: InboundExchange): Promise<number> {
    const values = this.exchangeValues(exchange);
    const id = await this.chain.append('open', async (tx) => {
      const { insertId } = await tx.execute(`INSERT INTO audit_exchanges (${EXCHANGE_COLUMNS}, outcome) VALUES (${marks(15)})`, [...values, 'in_progress']);
      const opened = await selectExchange(tx, insertId, this.sealer);
      this.openRequests.set(insertId, { requestHeaders: opened.requestHeaders, requestBody: opened.requestBody });
      return { recordId: insertId, contentDigest: openedDigest(opened) };
    });
    // Exchanges that never complete (their process lost the store meanwhile) must not pile up.
    if (this.openRequests.size > MAX_OPEN_REQUESTS) this.openRequests.delete(this.openRequests.keys().next().value!);
    return id;
  }

  /** Writes the outcome; a null clientId/transactionId/amount/account keeps what `open` recorded. */
  async complete(id: number, c: InboundCompletion): Promise<void> {
    const { keyRing } = this.sealer;
    await this.chain.append('complete', async (tx) => {
      await tx.execute(
        'UPDATE audit_exchanges SET outcome = ?, status_code = ?, error_code = ?, client_id = COALESCE(?, client_id), ' +
          'transaction_id = COALESCE(?, transaction_id), amount = COALESCE(?, amount), source_account = COALESCE(?, source_account), ' +
          'beneficiary_account = COALESCE(?, beneficiary_account), response_body = ?, completed_at = ?, key_id = ? WHERE id = ?',
        [
          c.outcome,
          c.statusCode,
          fit(c.errorCode, SIZE.errorCode),
          fit(c.clientId, SIZE.clientId),
          fit(c.transactionId, SIZE.transactionId),
          fit(c.amount, SIZE.amount),
          maskAccount(c.sourceAccount),
          maskAccount(c.beneficiaryAccount),
          this.sealer.seal(c.responseBody),
          c.completedAt,
          keyRing.currentKeyId,
          id,
        ],
      );
      const request = this.openRequests.get(id);
      const final = request ? { ...(await selectExchange(tx, id, CLEAR_COLUMNS_ONLY)), ...request, responseBody: c.responseBody } : await selectExchange(tx, id, this.sealer);
      return { recordId: id, contentDigest: finalDigest(final) };
    });
    this.openRequests.delete(id);
  }

  /** Inserts a whole exchange at once (rejected requests, the token endpoint) and returns its id. */
  async record(exchange: InboundExchange, c: InboundCompletion): Promise<number> {
    const values = this.exchangeValues({
      ...exchange,
      clientId: c.clientId ?? exchange.clientId,
      transactionId: c.transactionId ?? exchange.transactionId,
      amount: c.amount ?? exchange.amount,
      sourceAccount: c.sourceAccount ?? exchange.sourceAccount,
      beneficiaryAccount: c.beneficiaryAccount ?? exchange.beneficiaryAccount,
    });
    const completion = [c.outcome, c.statusCode, fit(c.errorCode, SIZE.errorCode), this.sealer.seal(c.responseBody), c.completedAt];
    return this.chain.append('record', async (tx) => {
      const { insertId } = await tx.execute(
        `INSERT INTO audit_exchanges (${EXCHANGE_COLUMNS}, outcome, status_code, error_code, response_body, completed_at) VALUES (${marks(19)})`,
        [...values, ...completion],
      );
      return { recordId: insertId, contentDigest: finalDigest(await selectExchange(tx, insertId, this.sealer)) };
    });
  }

  async recordBankCall(call: BankCallAudit): Promise<number> {
    const values = [
      call.exchangeId,
      fit(call.requestId, SIZE.requestId),
      fit(call.partner, 32),
      fit(call.operation, 64),
      fit(call.method, SIZE.method),
      this.sealer.seal(call.url),
      this.sealer.seal(JSON.stringify(call.requestHeaders)),
      this.sealer.seal(call.requestBody),
      call.statusCode,
      this.sealer.seal(call.responseBody),
      fit(call.errorCode, SIZE.errorCode),
      call.startedAt,
      Math.round(call.durationMs),
      this.sealer.keyRing.currentKeyId,
    ];
    return this.chain.append('bank_call', async (tx) => {
      const { insertId } = await tx.execute(
        'INSERT INTO audit_bank_calls (exchange_id, request_id, partner, operation, method, url, request_headers, request_body, ' +
          `status_code, response_body, error_code, started_at, duration_ms, key_id) VALUES (${marks(14)})`,
        values,
      );
      return { recordId: insertId, contentDigest: bankCallDigest(await selectBankCall(tx, insertId, this.sealer)) };
    });
  }

  /**
   * Exchanges matching every given filter, ordered by id, each with its bank calls (by id), in
   * clear text. `from` is inclusive and `to` exclusive (on received_at); `afterId` pages on from
   * a previous page's last id; `limit` defaults to 100 and is capped at 1000.
   * Throws KeyRingError (naming the setting) when a value's key is not configured.
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
      `SELECT ${EXCHANGE_SELECT} FROM audit_exchanges${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
      [...params, limit],
    );
    const exchanges = rows.map((row) => openExchange(row, this.sealer));
    if (exchanges.length === 0) return exchanges;
    const byId = new Map(exchanges.map((exchange) => [exchange.id, exchange]));
    const calls = await this.db.query<BankCallRow>(
      `SELECT ${BANK_CALL_SELECT} FROM audit_bank_calls WHERE exchange_id IN (${marks(exchanges.length)}) ORDER BY id`,
      exchanges.map((exchange) => exchange.id),
    );
    for (const call of calls) byId.get(Number(call.exchange_id))?.bankCalls.push(openBankCall(call, this.sealer));
    return exchanges;
  }

  verify(): Promise<AuditVerifyReport> {
    return verifyAudit(this.db, this.sealer);
  }

  rotate(options: { batchSize: number; onBatch?: (done: { exchanges: number; bankCalls: number }) => void }): Promise<AuditRotationReport> {
    return rotateAudit(this.db, this.sealer.keyRing, options);
  }

  private exchangeValues(e: InboundExchange): SqlValue[] {
    return [
      fit(e.requestId, SIZE.requestId),
      e.receivedAt,
      fit(e.remoteIp, SIZE.remoteIp),
      fit(e.origin, SIZE.origin),
      fit(e.method, SIZE.method),
      fit(maskPath(e.path), SIZE.path),
      fit(e.clientId, SIZE.clientId),
      fit(e.transactionId, SIZE.transactionId),
      fit(e.amount, SIZE.amount),
      maskAccount(e.sourceAccount),
      maskAccount(e.beneficiaryAccount),
      this.sealer.seal(JSON.stringify(e.requestHeaders)),
      this.sealer.seal(e.requestBody),
      this.sealer.keyRing.currentKeyId,
    ];
  }
}

function marks(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}
