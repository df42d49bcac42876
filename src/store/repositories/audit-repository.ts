import { IntegrityError } from '../../errors/index.js';
import { probeKeyRing, type KeyRing } from '../../security/index.js';
import type {
  AuditReads,
  AnonymousPurge,
  AnonymousPurgeReport,
  AuditChainBreak,
  AuditExchangeRow,
  AuditQuery,
  AuditRepository,
  AuditVerifyOptions,
  AuditVerifyReport,
  ChainPiece,
  ChainRemains,
  RemainsPage,
  ChainPosition,
  BankCallAudit,
  ChainDependency,
  ChainReader,
  Db,
  InboundCompletion,
  InboundExchange,
  Queryable,
  SnapshotOptions,
  SqlValue,
} from '../types.js';
import { ChainLanes, newWriterId } from './audit-chain.js';
import { chainReader } from './chain-reader.js';
import {
  BANK_CALL_SELECT,
  bankCallDigest,
  completionPlace,
  EXCHANGE_FROM,
  EXCHANGE_SELECT,
  exchangeColumn,
  exchangePlace,
  bankCallPlace,
  finalDigest,
  maskAccount,
  maskPath,
  openBankCall,
  openedDigest,
  openExchange,
  storedDigest,
  type BankCallRow,
  type ExchangeRow,
  type StoredBankCall,
} from './audit-records.js';
import { purgeAnonymous } from './audit-purge.js';
import { chainPlaceProblems } from './audit-chain-place.js';
import { recordLinkProblems } from './audit-record-links.js';
import { chainGaps, chainRemains, chainsToWalk, lastPaymentEventId, lostPayments, remainsPage, resumeAfterBreakNow, verifyAudit, type ExcludedLinks, type LostPayment } from './audit-verify.js';
import { EXCHANGES_PAGE, lostPaymentFacts, type LostPaymentFacts } from './lost-payment-facts.js';
import { linkCounts, lostPaymentIn, lostPaymentNow, paymentKeysOfEvents, type RememberedPayment } from './remembered-payments.js';
import { fit, wellFormed } from './row-values.js';
import { ValueSealer, type ValueOpener } from './sealed-values.js';
import { whereOf } from './sql-dialect.js';

const DEFAULT_LIMIT = 100;
/** Well under the pool's connections, so audit appends never starve the other queries. */
const CHAINS_PER_MYSQL_PROCESS = 4;
/** Open exchanges kept in memory for their completion (far above any in-flight count). */
const MAX_OPEN_REQUESTS = 10_000;

const MAX_LIMIT = 1_000;

/** Column sizes of sql/mysql/001_initial.sql that a caller-controlled value could exceed. */
const SIZE = { requestId: 64, remoteIp: 64, origin: 512, method: 16, path: 1024, clientId: 191, transactionId: 191, amount: 64, errorCode: 64 };

const EXCHANGE_COLUMNS =
  'request_id, received_at, remote_ip, origin, method, path, client_id, transaction_id, amount, source_account, beneficiary_account, ' +
  'request_headers, request_body, key_id';

/** An inbound exchange as the row holds it: its accounts masked (or null), never absent. */
type StoredExchange = InboundExchange & { sourceAccount: string | null; beneficiaryAccount: string | null };

export interface AuditRepositoryOptions {
  /** Seals bodies and headers; null for a store that never touches the audit (any use then names the setting). */
  keys: KeyRing | null;
  /** Base id of this process's hash chains (default: a new id per store instance). */
  writerId?: string;
}

async function selectExchange(q: Queryable, id: number, sealer: ValueOpener): Promise<AuditExchangeRow> {
  const [row] = await q.query<ExchangeRow>(`SELECT ${EXCHANGE_SELECT} FROM ${EXCHANGE_FROM} WHERE e.id = ?`, [id]);
  if (!row) throw new Error(`audit exchange ${id} does not exist`);
  return openExchange(row, sealer);
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
  private readonly sealer: ValueSealer;
  /** This process's chains: the audit's, and every other record appended to them (payment events). */
  readonly chain: ChainLanes;
  /** The chains' heads, links and walks, read through the pool. */
  private readonly reader: ChainReader;
  /**
   * Each exchange this process opened and has not completed yet, as written. complete() hashes
   * the final row from it instead of reading and decrypting the row again.
   */
  private readonly openExchanges = new Map<number, AuditExchangeRow>();

  constructor(
    private readonly db: Db,
    options: AuditRepositoryOptions,
  ) {
    this.sealer = new ValueSealer(options.keys);
    this.chain = new ChainLanes(db, options.writerId ?? newWriterId(), db.dialect === 'mysql' ? CHAINS_PER_MYSQL_PROCESS : 1, () => this.sealer.keyRing);
    this.reader = chainReader(db, this.sealer);
  }

  /** Inserts the exchange as in_progress (committed before the bank is called) and returns its id. */
  async open(exchange: InboundExchange): Promise<number> {
    const stored = this.storedExchange(exchange);
    // Deferred: its INSERT travels with the group's other records (a payment's).
    const id = await this.chain.append('open', async () => ({
      statements: [{ sql: `INSERT INTO audit_exchanges (${EXCHANGE_COLUMNS}, outcome) VALUES (${marks(15)})`, params: [...this.exchangeValues(stored), 'in_progress'] }],
      finish: async ([{ insertId }]) => {
        const opened = openedRow(stored, insertId);
        this.openExchanges.set(insertId, opened);
        return { recordId: insertId, contentDigest: openedDigest(opened) };
      },
    }));
    // Exchanges that never complete (their process lost the store meanwhile) must not pile up.
    if (this.openExchanges.size > MAX_OPEN_REQUESTS) this.openExchanges.delete(this.openExchanges.keys().next().value!);
    return id;
  }

  /**
   * Appends the exchange's completion (audit_completions, migration 023): its outcome and answer,
   * and what it learnt of the client, transaction, amount and accounts (null keeps what `open`
   * recorded). The exchange's own row is never changed. A second completion of one exchange is
   * refused by the database (UniqueViolationError).
   */
  async complete(id: number, c: InboundCompletion, after?: ChainDependency): Promise<void> {
    const done = storedCompletion(c);
    const responseBody = this.sealer.seal(done.responseBody, completionPlace(id));
    const keyId = this.sealer.keyRing.currentKeyId;
    await this.chain.append('complete', async (tx) => {
      // The exchange as it stands: from what `open` wrote when this process opened it (no read
      // back, and no key needed: `keys rotate` may have re-sealed it with a key this process
      // does not have yet); read back when it was opened elsewhere.
      const opened = this.openExchanges.get(id) ?? (await selectExchange(tx, id, this.sealer));
      // Its record id is the exchange's, known before the INSERT: the INSERT goes with the
      // group's links and COMMIT (one round trip on MySQL). A second completion refused there by
      // its unique key fails the group, and then this append alone, as it did run here.
      const insert = {
        sql:
          'INSERT INTO audit_completions (exchange_id, outcome, status_code, error_code, client_id, transaction_id, amount, source_account, ' +
          `beneficiary_account, response_body, completed_at, key_id) VALUES (${marks(12)})`,
        params: [id, done.outcome, done.statusCode, done.errorCode, done.clientId, done.transactionId, done.amount, done.sourceAccount, done.beneficiaryAccount, responseBody, done.completedAt, keyId],
      };
      return { recordId: id, contentDigest: finalDigest(completed(opened, done)), alongside: [insert] };
    }, { after });
    this.openExchanges.delete(id);
  }

  /** Inserts a whole exchange at once (rejected requests, the token endpoint) and returns its id. */
  async record(exchange: InboundExchange, c: InboundCompletion, spoolEntry?: string): Promise<number> {
    const stored = this.storedExchange(exchange);
    const done = storedCompletion(c);
    const whole = completed(openedRow(stored, 0), done);
    const completion = [done.outcome, done.statusCode, done.errorCode, this.sealer.seal(done.responseBody, exchangePlace('response_body', whole.requestId, whole.receivedAt)), done.completedAt];
    return this.chain.append('record', async (tx) => {
      const { insertId } = await tx.execute(
        `INSERT INTO audit_exchanges (${EXCHANGE_COLUMNS}, outcome, status_code, error_code, response_body, completed_at, spool_entry) VALUES (${marks(20)})`,
        [...this.exchangeValues(whole), ...completion, spoolEntry ?? null],
      );
      return { recordId: insertId, contentDigest: finalDigest({ ...whole, id: insertId }) };
    });
  }

  async recordBankCall(call: BankCallAudit, spoolEntry?: string, as?: ChainDependency): Promise<number> {
    // Each value exactly as the row will hold it; the digest is taken from these.
    const stored: Omit<StoredBankCall, 'id'> = {
      exchangeId: call.exchangeId,
      requestId: clear(call.requestId, SIZE.requestId),
      partner: clear(call.partner, 32),
      operation: clear(call.operation, 64),
      method: clear(call.method, SIZE.method),
      url: call.url,
      requestHeaders: asStoredJson(call.requestHeaders),
      requestBody: call.requestBody,
      statusCode: call.statusCode,
      responseBody: call.responseBody,
      errorCode: clear(call.errorCode, SIZE.errorCode),
      startedAt: Math.round(call.startedAt),
      durationMs: Math.round(call.durationMs),
    };
    const at = (column: string) => bankCallPlace(column, stored.requestId, stored.operation, stored.startedAt);
    const values = [
      stored.exchangeId,
      stored.requestId,
      stored.partner,
      stored.operation,
      stored.method,
      this.sealer.seal(stored.url, at('url')),
      this.sealer.seal(JSON.stringify(stored.requestHeaders), at('request_headers')),
      this.sealer.seal(stored.requestBody, at('request_body')),
      stored.statusCode,
      this.sealer.seal(stored.responseBody, at('response_body')),
      stored.errorCode,
      stored.startedAt,
      stored.durationMs,
      this.sealer.keyRing.currentKeyId,
      spoolEntry ?? null,
    ];
    // Deferred: its INSERT travels with the group's other records (the payment's outcome).
    const insert = {
      sql:
        'INSERT INTO audit_bank_calls (exchange_id, request_id, partner, operation, method, url, request_headers, request_body, ' +
        `status_code, response_body, error_code, started_at, duration_ms, key_id, spool_entry) VALUES (${marks(15)})`,
      params: values,
    };
    return this.chain.append(
      'bank_call',
      async () => ({ statements: [insert], finish: async ([{ insertId }]) => ({ recordId: insertId, contentDigest: bankCallDigest({ ...stored, id: insertId }) }) }),
      { as },
    );
  }

  /**
   * Exchanges matching every given filter, ordered by id, each with its bank calls (by id), in
   * clear text. `from` is inclusive and `to` exclusive (on received_at); `afterId` pages on from
   * a previous page's last id; `limit` defaults to 100 and is capped at 1000.
   * Throws KeyRingError (naming the setting) when a value's key is not configured.
   */
  list(query: AuditQuery): Promise<AuditExchangeRow[]> {
    // The page's records and their chain links read in one snapshot. Read one after the other, an
    // exchange completed in between (its completion and its link commit together) would be read
    // opened, with a completion link and no completion, and marked deleted: a genuine record
    // passed off as altered, which the dispatcher refuses to send over (attemptNotOnItsRow).
    return this.db.withSnapshot((q) => this.listOn(q, query));
  }

  /** list, every read made on `q`: one snapshot the caller holds. */
  private async listOn(q: Queryable, query: AuditQuery): Promise<AuditExchangeRow[]> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const { sql, params } = whereOf([
      ['e.received_at >= ?', query.from],
      ['e.received_at < ?', query.to],
      ['e.request_id = ?', query.requestId],
      [`${exchangeColumn('transaction_id')} = ?`, query.transactionId],
      [`${exchangeColumn('client_id')} = ?`, query.clientId],
      ['e.id > ?', query.afterId],
    ]);
    // A transaction or client id is the exchange's own or what its completion learnt: each is
    // found through its own table's index (one branch each), never by a scan of the audit.
    const column = query.transactionId !== undefined ? 'transaction_id' : query.clientId !== undefined ? 'client_id' : null;
    const value = column === 'transaction_id' ? query.transactionId : query.clientId;
    const select = `SELECT ${EXCHANGE_SELECT} FROM ${EXCHANGE_FROM}`;
    const rows =
      column === null || query.requestId !== undefined
        ? await q.query<ExchangeRow>(`${select}${sql} ORDER BY e.id LIMIT ?`, [...params, limit])
        : await q.query<ExchangeRow>(
            `SELECT * FROM (SELECT * FROM (${select}${sql} AND e.${column} = ? ORDER BY e.id LIMIT ?) own ` +
              `UNION SELECT * FROM (${select}${sql} AND c.${column} = ? ORDER BY e.id LIMIT ?) learnt) found ORDER BY id LIMIT ?`,
            [...params, value!, limit, ...params, value!, limit, limit],
          );
    if (rows.length === 0) return [];
    const calls = await q.query<BankCallRow>(
      `SELECT ${BANK_CALL_SELECT} FROM audit_bank_calls WHERE exchange_id IN (${marks(rows.length)}) ORDER BY id`,
      rows.map((row) => row.id),
    );
    // Each record held to its chain links: one changed or inserted in the database is marked, never passed off as the gateway's.
    const reader = new PageReader(this.sealer);
    const opened = rows.map((row) => reader.open(row, openExchange));
    const openedCalls = calls.map((call) => reader.open(call, openBankCall));
    reader.keyProven();
    const whole = <T extends { id: number }>(records: T[]) => new Map(records.filter((record) => reader.opened(record)).map((record) => [record.id, record]));
    const problems = await recordLinkProblems(q, this.sealer.keyRing, this.sealer, rows, calls, { exchanges: whole(opened), bankCalls: whole(openedCalls) });
    if (query.inChain) {
      for (const [id, problem] of await chainPlaceProblems(q, this.sealer.keyRing, rows, calls, problems.links)) {
        const own = problems.exchanges.get(id);
        problems.exchanges.set(id, own === undefined ? problem : `${own}; ${problem}`);
      }
    }
    // One that does not hold carries a digest of its row as read: a requeue names it so (overrides), and one altered again since is told apart.
    const exchanges = opened.map((exchange, i) => {
      const found = marked(exchange, problems.exchanges);
      return found.integrityProblem === undefined ? found : { ...found, asFound: storedDigest(rows[i]) };
    });
    const byId = new Map(exchanges.map((exchange) => [exchange.id, exchange]));
    for (const call of openedCalls) byId.get(call.exchangeId ?? -1)?.bankCalls.push(marked(call, problems.bankCalls));
    return exchanges;
  }

  verify(options?: AuditVerifyOptions): Promise<AuditVerifyReport> {
    return this.inSnapshot((audit) => audit.verify(options));
  }

  purgeAnonymous(purge: AnonymousPurge): Promise<AnonymousPurgeReport> {
    return purgeAnonymous(this.db, this.chain, this.sealer, purge);
  }

  linksAt(wanted: { writerId: string; seq: number }[]): Promise<{ writerId: string; seq: number; hash: string; keyId: string | null }[]> {
    return this.reader.linksAt(wanted);
  }

  chainRemains(writerId: string): Promise<ChainRemains> {
    return chainRemains(this.db, writerId);
  }

  remainsPage(writerId: string, fromSeq: number, maxLinks: number): Promise<RemainsPage> {
    return remainsPage(this.db, writerId, fromSeq, maxLinks);
  }

  chains(): Promise<string[]> {
    return chainsToWalk(this.db);
  }

  walkChain(writerId: string, from: ChainPosition, maxLinks: number): Promise<ChainPiece> {
    return this.reader.walkChain(writerId, from, maxLinks);
  }

  resumeAfterBreak(writerId: string, seq: number): Promise<number | null> {
    return resumeAfterBreakNow(this.db, writerId, seq);
  }

  lostPayments(range: { fromId: number; toId: number }, limit: number): Promise<LostPayment[]> {
    return lostPayments(this.db, this.sealer.keyRing, range, limit);
  }

  linkCounts(ranges: { writerId: string; fromSeq: number; toSeq: number }[]): Promise<Map<string, number>> {
    return linkCounts(this.db, ranges);
  }

  paymentKeys(eventIds: number[]): Promise<RememberedPayment[]> {
    return paymentKeysOfEvents(this.db, this.sealer, eventIds);
  }

  lostPayment(id: number, key: { clientId: string; transactionId: string; stamp: number }): Promise<LostPayment | null> {
    return lostPaymentNow(this.db, this.sealer, id, key);
  }

  lostPaymentFacts(lost: Pick<LostPayment, 'paymentId' | 'kind'>[]): Promise<LostPaymentFacts[]> {
    return lostPaymentFacts(this.db, this.sealer, (transactionId, afterId) => this.list({ transactionId, afterId, limit: EXCHANGES_PAGE }), lost);
  }

  lastPaymentEventId(): Promise<number> {
    return lastPaymentEventId(this.db);
  }

  ownHeads(): { writerId: string; seq: number; hash: string }[] {
    return this.chain.heads();
  }

  chainHeads(): Promise<{ writerId: string; seq: number; hash: string }[]> {
    return this.reader.chainHeads();
  }

  chainGaps(options?: { since?: number; excluded?: ReadonlyMap<string, readonly ExcludedLinks[]>; gone?: ReadonlySet<string>; maxLinks?: number }): Promise<AuditChainBreak[]> {
    return chainGaps(this.db, this.sealer, options);
  }

  checkKeys(): string {
    return probeKeyRing(this.sealer.keyRing);
  }

  /** This repository with `q` for its database: every read above is made on `db` alone (none on the chains' writers). */
  readingOn(q: Queryable): AuditReads {
    const reads = Object.create(this) as this;
    Object.defineProperty(reads, 'db', { value: q });
    // The chain reads too (heads, links, one-link walks): those of the checkpoints' comparison.
    Object.defineProperty(reads, 'reader', { value: chainReader(q, this.sealer) });
    // list, verify and lostPayment open a snapshot or transaction of their own on the pool: here, the caller's.
    Object.defineProperty(reads, 'list', { value: (query: AuditQuery) => this.listOn(q, query) });
    Object.defineProperty(reads, 'verify', { value: (options?: AuditVerifyOptions) => verifyAudit(q, this.sealer, options) });
    Object.defineProperty(reads, 'lostPayment', { value: (id: number, key: { clientId: string; transactionId: string; stamp: number }) => lostPaymentIn(q, this.sealer, id, key) });
    return reads;
  }

  inSnapshot<T>(fn: (audit: AuditReads, q: Queryable) => Promise<T>, options?: SnapshotOptions): Promise<T> {
    return this.db.withSnapshot((q) => fn(this.readingOn(q), q), options);
  }

  /** An inbound exchange with each value exactly as the row will hold it (cut to size, masked). */
  private storedExchange(e: InboundExchange): StoredExchange {
    return {
      requestId: clear(e.requestId, SIZE.requestId),
      receivedAt: Math.round(e.receivedAt),
      remoteIp: clear(e.remoteIp, SIZE.remoteIp),
      origin: clear(e.origin, SIZE.origin),
      method: clear(e.method, SIZE.method),
      path: clear(maskPath(e.path), SIZE.path),
      clientId: clear(e.clientId, SIZE.clientId),
      transactionId: clear(e.transactionId, SIZE.transactionId),
      amount: clear(e.amount, SIZE.amount),
      sourceAccount: clear(maskAccount(e.sourceAccount), 32),
      beneficiaryAccount: clear(maskAccount(e.beneficiaryAccount), 32),
      requestHeaders: asStoredJson(e.requestHeaders),
      requestBody: e.requestBody,
    };
  }

  private exchangeValues(e: InboundExchange): SqlValue[] {
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
      e.sourceAccount ?? null,
      e.beneficiaryAccount ?? null,
      this.sealer.seal(JSON.stringify(e.requestHeaders), exchangePlace('request_headers', e.requestId, e.receivedAt)),
      this.sealer.seal(e.requestBody, exchangePlace('request_body', e.requestId, e.receivedAt)),
      this.sealer.keyRing.currentKeyId,
    ];
  }
}

/**
 * Opens the records of one page. One whose sealed values do not open where they lie (altered in
 * the database) is kept with them left out, so it is still listed, and marked by its link check.
 * But when nothing of the page opens, it is the key that is wrong, not every record: keyProven()
 * then throws the first IntegrityError, which names the setting.
 */
class PageReader {
  /** The records opened whole (the others have their sealed values left out). */
  private readonly whole = new Set<object>();
  private failure: IntegrityError | undefined;

  constructor(private readonly sealer: ValueOpener) {}

  open<R extends { request_headers: string | null; request_body: string | null; response_body: string | null }, T extends object>(row: R, open: (row: R, sealer: ValueOpener) => T): T {
    try {
      const value = open(row, this.sealer);
      this.whole.add(value);
      return value;
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      this.failure ??= error;
      return open({ ...row, request_headers: null, request_body: null, response_body: null, ...('url' in row ? { url: null } : {}) }, this.sealer);
    }
  }

  opened(record: object): boolean {
    return this.whole.has(record);
  }

  keyProven(): void {
    if (this.failure !== undefined && this.whole.size === 0) throw this.failure;
  }
}

/** `record` with the problem found of it, if any. */
function marked<T extends { id: number }>(record: T, problems: Map<number, string>): T & { integrityProblem?: string } {
  const problem = problems.get(record.id);
  return problem === undefined ? record : { ...record, integrityProblem: problem };
}

/** A completion with each value exactly as the row will hold it. */
function storedCompletion(c: InboundCompletion): InboundCompletion & { sourceAccount: string | null; beneficiaryAccount: string | null } {
  return {
    outcome: c.outcome,
    statusCode: c.statusCode,
    errorCode: clear(c.errorCode, SIZE.errorCode),
    clientId: clear(c.clientId, SIZE.clientId),
    transactionId: clear(c.transactionId, SIZE.transactionId),
    amount: clear(c.amount, SIZE.amount),
    sourceAccount: clear(maskAccount(c.sourceAccount), 32),
    beneficiaryAccount: clear(maskAccount(c.beneficiaryAccount), 32),
    responseBody: c.responseBody,
    completedAt: Math.round(c.completedAt),
  };
}

/** The row `open` writes for an exchange: in progress, nothing of its outcome yet. */
function openedRow(stored: StoredExchange, id: number): AuditExchangeRow {
  return { ...stored, id, completedAt: null, outcome: 'in_progress', statusCode: null, errorCode: null, responseBody: null, bankCalls: [] };
}

/** An opened exchange after the completion's UPDATE (a null value keeps what was there: COALESCE). */
function completed(opened: AuditExchangeRow, c: ReturnType<typeof storedCompletion>): AuditExchangeRow {
  return {
    ...opened,
    outcome: c.outcome,
    statusCode: c.statusCode,
    errorCode: c.errorCode,
    clientId: c.clientId ?? opened.clientId,
    transactionId: c.transactionId ?? opened.transactionId,
    amount: c.amount ?? opened.amount,
    sourceAccount: c.sourceAccount ?? opened.sourceAccount,
    beneficiaryAccount: c.beneficiaryAccount ?? opened.beneficiaryAccount,
    responseBody: c.responseBody,
    completedAt: c.completedAt,
  };
}

/**
 * A clear column's value as the row will hold it: well-formed UTF-8 (a lone surrogate becomes
 * U+FFFD, as MySQL would store it; SQLite would keep bytes that read back otherwise), cut to size.
 */
function clear(value: string, max: number): string;
function clear(value: string | null, max: number): string | null;
function clear(value: string | null, max: number): string | null {
  return value === null ? null : fit(wellFormed(value), max);
}

/** Headers as they come back from the store: through JSON (an undefined value is dropped). */
function asStoredJson(headers: Record<string, string>): Record<string, string> {
  return JSON.parse(JSON.stringify(headers)) as Record<string, string>;
}

/** `count` placeholders, `?, ?, …` (three INSERTs a transfer build theirs here: no array of them first). */
function marks(count: number): string {
  return count === 0 ? '' : `?${', ?'.repeat(count - 1)}`;
}
