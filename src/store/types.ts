/**
 * The store contract. Every backend (embedded SQLite, MySQL/MariaDB) implements `Db`;
 * the repositories are written once against `Db` with portable SQL and `?` placeholders.
 * All times are epoch milliseconds (BIGINT) so no backend's time zone handling matters.
 *
 * Errors: a backend that cannot reach its database throws AppError('STORE_UNAVAILABLE').
 * A unique-key violation is thrown as `UniqueViolationError` so callers can match it
 * without knowing the driver.
 */
import { AppError } from '../errors/app-error.js';
import type { BankCall } from '../banks/types.js';
import type { ChainWriter } from './repositories/audit-chain.js';
import type { LostPayment } from './repositories/audit-verify.js';
import type { LostPaymentFacts } from './repositories/lost-payment-facts.js';
import type { RememberedPayment } from './repositories/remembered-payments.js';

export type { LostPaymentFacts };

export type Dialect = 'mysql' | 'sqlite';

export type SqlValue = string | number | bigint | null | Buffer;

export interface ExecuteResult {
  affectedRows: number;
  /** Auto-increment id of an INSERT (0 when none). */
  insertId: number;
  /**
   * MySQL: how many warnings the statement raised (a value cut or converted where sql_mode lets
   * it, a row an INSERT IGNORE skipped). Absent on SQLite, which stores what it is given or fails.
   */
  warnings?: number;
}

/** How one read is run. */
export interface QueryOptions {
  /**
   * Planned for this run alone. A statement with values stays prepared on its connection, and
   * MariaDB 10.11, running it again after another statement read columns outside an index of the
   * same table (a whole payment row, say), costs every index as if it did not hold the columns read
   * (seen in the optimizer trace: the covering index at the cost of row lookups): a count and sum
   * over a covering index turns into a row lookup per match (the UNKNOWN filter's count: 10 ms
   * the first time, 1.5-2.6 s after).
   * With this, the statement is prepared, run and closed each time, so its plan is made afresh
   * (one more round trip). For reads that rely on an index holding every column they read.
   * SQLite plans each statement it prepares: nothing changes there.
   */
  freshPlan?: boolean;
}

export interface Queryable {
  readonly dialect: Dialect;
  /** Runs a SELECT; rows come back as plain objects keyed by column name. */
  query<T = Record<string, unknown>>(sql: string, params?: SqlValue[], options?: QueryOptions): Promise<T[]>;
  /** Runs INSERT/UPDATE/DELETE/DDL. */
  execute(sql: string, params?: SqlValue[]): Promise<ExecuteResult>;
  /**
   * Runs INSERT/UPDATE statements in order, as `execute` would one by one, stopping at the first
   * that fails; their results in the same order. A MySQL writer session's connection sends them in
   * one round trip, every value written in as a number, null or hex digits (inlineValues: nothing
   * that could be read as SQL); elsewhere, and for a fraction, each is sent on its own.
   */
  executeAll(statements: readonly SqlStatement[]): Promise<ExecuteResult[]>;
}

/** One statement with its values. */
export interface SqlStatement {
  sql: string;
  params: SqlValue[];
  /**
   * It must affect exactly one row (for an UPDATE, match one): else it fails with NotOneRowError
   * as a statement that errs does, so nothing after it runs and its transaction rolls back
   * (outside a transaction, what it changed stays). A guarded UPDATE sent with other statements
   * in one round trip is checked there too, by the server.
   */
  onlyOneRow?: boolean;
}

/** The queries of one transaction (withTransaction, TransactionSession.run). */
export interface Transaction extends Queryable {
  /**
   * The transaction's last statements and its COMMIT: runs `statements` as executeAll does, then
   * commits, all in one round trip where executeAll would send the statements in one (a MySQL
   * writer session). The transaction's last call: nothing more runs in it, and its end sends no
   * COMMIT of its own (an error `fn` throws after it undoes nothing).
   *
   * When it throws, nothing committed and the transaction is rolled back as `fn` throws
   * (NotOneRowError, UniqueViolationError, a conflict, which withTransaction and run try again
   * as they do any), except CommitUnknownError: the COMMIT was sent and it cannot be known
   * whether it took effect.
   */
  commitWith(statements: readonly SqlStatement[]): Promise<ExecuteResult[]>;
}

/** What PaymentRepository.laterHistory proved of a payment's history after its last event. */
export type LaterHistory = { links: number } | { problem: string } | { beyond: number } | { moved: true };

/** The audit chains' heads, links and walks as one reader reads them: the store's pool, or one snapshot (Db.withSnapshot). */
export type ChainReader = Pick<AuditRepository, 'chainHeads' | 'linksAt' | 'walkChain'>;

/**
 * The audit checkpoints outside the database as read at one moment (src/audit's
 * RollbackWatch.vouched): what the chains, as `chains` reads them, lack of what they vouched for
 * (each chain named), or null. Read before a snapshot begins, they vouch only for links committed
 * before it: that snapshot holds them all unless they were taken out of the database.
 */
export type VouchedChains = (chains: ChainReader) => Promise<string | null>;

/** How Db.withSnapshot opens its snapshot. */
export interface SnapshotOptions {
  /**
   * The snapshot holds every write the database had acknowledged anywhere when it was asked for,
   * not only those its own server had applied: for a read compared with something written outside
   * the database after another process's commit (the audit head files and checkpoint lines, read
   * before the snapshot begins). On a MariaDB Galera node (`@@wsrep_on`) the snapshot begins once
   * the node has applied every writeset the cluster had committed (a statement run with
   * `wsrep_sync_wait = 1` first, on the snapshot's connection; it waits up to the provider's
   * repl.causal_read_timeout, 30 s by default, then fails: STORE_UNAVAILABLE). One server (MySQL 8,
   * MariaDB without Galera, SQLite) applies a commit before acknowledging it: nothing to wait for.
   */
  causal?: boolean;
}

export interface Db extends Queryable {
  /**
   * Runs `fn` in one transaction on one connection; commits when it resolves, rolls back
   * when it throws, and always releases the connection.
   */
  withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * Runs `fn`'s reads on one connection in one read-only transaction, so every read sees the
   * database as one snapshot: a write another connection commits meanwhile is seen by none of them
   * (a row read and a proof over other tables then describe the same moment). MySQL/MariaDB: START
   * TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY under REPEATABLE READ, taken at once; SQLite: a
   * read transaction, its snapshot taken at its first read. Ended (rolled back: nothing to commit)
   * when `fn` settles, and the connection released. Keep `fn` short: on MySQL/MariaDB an open
   * snapshot holds back the purge of older row versions. `causal`: see SnapshotOptions.
   */
  withSnapshot<T>(fn: (q: Queryable) => Promise<T>, options?: SnapshotOptions): Promise<T>;
  /**
   * A writer of its own, for callers that run many short transactions one after another (the
   * audit's hash chains): `run(fn)` has withTransaction's contract, on a connection kept for
   * this session, so a transaction costs no BEGIN and no trip through the pool. Calls must not
   * overlap (the caller serialises them). Closed with the Db.
   */
  session(): TransactionSession;
  /** Cheap round trip used by /readyz and the fail-closed checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Human-readable description without credentials, e.g. `mysql://127.0.0.1:3306/gerbang`. */
  readonly description: string;
}

export interface TransactionSession {
  run<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

export class UniqueViolationError extends Error {
  readonly code = 'UNIQUE_VIOLATION';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UniqueViolationError';
  }
}

/** A statement marked `onlyOneRow` affected no row, or several. */
export class NotOneRowError extends Error {
  readonly code = 'NOT_ONE_ROW';
  constructor() {
    super('a statement that must affect exactly one row did not');
    this.name = 'NotOneRowError';
  }
}

/** `result` of `statement` when it holds its `onlyOneRow`; NotOneRowError when it does not. */
export function oneRowChecked(statement: SqlStatement, result: ExecuteResult): ExecuteResult {
  if (statement.onlyOneRow && result.affectedRows !== 1) throw new NotOneRowError();
  return result;
}

/**
 * The Transaction of `tx` (an open transaction's queries) whose commitWith is `commit` (its last
 * statements, then COMMIT, as the backend sends them): after commitWith nothing more runs in it,
 * and `committed` tells the transaction's runner to send no COMMIT of its own nor a ROLLBACK.
 */
export function committable(tx: Queryable, commit: (statements: readonly SqlStatement[]) => Promise<ExecuteResult[]>): Transaction & { readonly committed: boolean } {
  let committed = false;
  const open = (): void => {
    if (committed) throw new Error('store: this transaction is committed (commitWith); nothing more runs in it');
  };
  return {
    dialect: tx.dialect,
    query: async (sql, params, options) => {
      open();
      return tx.query(sql, params, options);
    },
    execute: async (sql, params) => {
      open();
      return tx.execute(sql, params);
    },
    executeAll: async (statements) => {
      open();
      return tx.executeAll(statements);
    },
    commitWith: async (statements) => {
      open();
      const results = await commit(statements);
      committed = true;
      return results;
    },
    get committed() {
      return committed;
    },
  };
}

/**
 * A transaction's COMMIT (Transaction.commitWith) was sent and it is not known whether it took
 * effect: the connection was lost before the answer came, or the COMMIT itself failed with an
 * error that does not say it rolled back (anything but a conflict). It may have committed.
 * Answered as the store being unavailable; `cause` is the store's error.
 */
export class CommitUnknownError extends AppError {
  constructor(cause: unknown) {
    super('STORE_UNAVAILABLE', 'The database is unavailable; try again shortly.', { cause });
    this.name = 'CommitUnknownError';
  }
}

/**
 * An append others may depend on (`AppendOptions.as`, then `after` on theirs): a dependent goes to
 * its dependency's chain, commits in the same transaction when both are in one group, and is
 * never written when its dependency was refused. Names one append.
 */
export class ChainDependency {
  /** The chain its append went to; undefined until appended. */
  lane: ChainWriter | undefined;
  /** Undefined while its append is pending or committed; the error when it was refused. */
  refusal: { error: unknown } | undefined;
}

/**
 * A dependent append not written because its dependency was refused (or never appended); its
 * `cause` is the dependency's error. Nothing of the dependent reached the database.
 */
export class DependencyRefusedError extends Error {
  readonly code = 'DEPENDENCY_REFUSED';
  constructor(cause: unknown) {
    super(`not written: the audit record it depends on was refused (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = 'DependencyRefusedError';
  }
}

// ---------------------------------------------------------------- clients

export type ClientStatus = 'active' | 'disabled';

export interface ClientRecord {
  id: string;
  name: string;
  /** scrypt hash in the self-describing format of src/security/password-hash.ts. */
  secretHash: string;
  /** Bumped on every secret rotation; tokens carry it and older ones are refused. */
  secretVersion: number;
  allowedOrigins: string[];
  allowedCidrs: string[];
  status: ClientStatus;
  /** Request signing (migration 008): whether this client's API calls must be signed, and with what key. */
  signing: ClientSigning;
  createdAt: number;
  updatedAt: number;
  /**
   * Set only by list(), on a row whose MAC does not hold (changed or inserted in SQL, migration
   * 025): shown as such, and never trusted (findById refuses it with IntegrityError).
   */
  integrityProblem?: string;
}

/**
 * A client's request-signing setting. The key is only ever stored and carried SEALED with the
 * audit key ring (src/domain/clients/request-signing.ts opens it for verification).
 */
export interface ClientSigning {
  /** Every API call but the token request must carry a valid X-Gerbang-Signature. */
  required: boolean;
  /** The HMAC key, sealed (`gcm1.<keyId>.…`); null when the client has none. */
  sealedKey: string | null;
}

export interface NewClient {
  id: string;
  name: string;
  secretHash: string;
  allowedOrigins: string[];
  allowedCidrs: string[];
}

export interface ClientRepository {
  /** Throws UniqueViolationError when the id exists. */
  create(client: NewClient, now: number): Promise<ClientRecord>;
  findById(id: string): Promise<ClientRecord | null>;
  list(): Promise<ClientRecord[]>;
  setStatus(id: string, status: ClientStatus, now: number): Promise<boolean>;
  /** Stores a new secret hash and bumps secretVersion (tokens issued before stop working). */
  rotateSecret(id: string, secretHash: string, now: number): Promise<boolean>;
  /** Replaces the client's Origin and CIDR allowlists. False when there is no such client. */
  setAllowlists(id: string, lists: { allowedOrigins: string[]; allowedCidrs: string[] }, now: number): Promise<boolean>;
  /**
   * Sets whether the client must sign its requests and its sealed key (null: none). The ring
   * key id is read from the sealed value. False when there is no such client.
   */
  setSigning(id: string, signing: ClientSigning, now: number): Promise<boolean>;
}

// ---------------------------------------------------------------- account grants

/**
 * Which company accounts a client may use (balance, statement, paying from). No grant, no
 * access: a client that was granted nothing can use no account.
 */
export interface AccountGrantRepository {
  /** Grants the account; false when it was granted already. */
  grant(clientId: string, accountNumber: string, now: number): Promise<boolean>;
  /** Withdraws the grant; false when there was none. */
  revoke(clientId: string, accountNumber: string): Promise<boolean>;
  isGranted(clientId: string, accountNumber: string): Promise<boolean>;
  /** The client's granted accounts, masked (`******5680`: no account number is stored in clear), oldest first. */
  list(clientId: string): Promise<string[]>;
}

// ---------------------------------------------------------------- client credentials

/**
 * How else a client proves who it is (migration 014): `entra-app`, a Microsoft Entra ID
 * application whose access tokens act as the client (lookup: its application id); `api-key`,
 * the client's API key (lookup: the key's public id, with the scrypt hash of its secret).
 */
export type ClientCredentialKind = 'entra-app' | 'api-key';

export interface ClientCredential {
  kind: ClientCredentialKind;
  lookup: string;
  clientId: string;
  /** scrypt hash of an API key's secret part; null for an Entra application. */
  secretHash: string | null;
  createdAt: number;
}

export interface ClientCredentialRepository {
  find(kind: ClientCredentialKind, lookup: string): Promise<ClientCredential | null>;
  listFor(clientId: string): Promise<ClientCredential[]>;
  /** Throws UniqueViolationError when the lookup already belongs to a client. */
  add(credential: ClientCredential): Promise<void>;
  /** Replaces the client's credentials of this kind by `credential` in one transaction (API key rotation). */
  replace(credential: ClientCredential): Promise<void>;
  /** Deletes the client's credentials of this kind (only the one with `lookup` when given); how many. */
  remove(clientId: string, kind: ClientCredentialKind, lookup?: string): Promise<number>;
}

// ---------------------------------------------------------------- request signatures

/**
 * The replay cache of request signatures, shared by every worker and node through the store:
 * a signature is accepted once.
 */
export interface RequestSignatureRepository {
  /**
   * Records the signature digest of `clientId` until `expiresAt`. True when it was not seen
   * before; false when it was (a replay), also when another process recorded it a moment ago.
   */
  remember(clientId: string, signatureHash: string, expiresAt: number): Promise<boolean>;
  /** Deletes the entries that expired at or before `now`; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

// ---------------------------------------------------------------- payments

export type PaymentState = 'RECEIVED' | 'SENDING' | 'SUCCESS' | 'FAILED' | 'PENDING' | 'UNKNOWN';
/** Every state, in the order the console lists them (settled first, then those still under way). */
export const PAYMENT_STATES: readonly PaymentState[] = ['SUCCESS', 'FAILED', 'PENDING', 'UNKNOWN', 'SENDING', 'RECEIVED'];
/**
 * The states of a payment the review queue holds (with review_since set): in doubt, or a
 * reservation a takeover could not prove left behind (RECEIVED: never proved sent or unsent).
 */
export const REVIEW_STATES: readonly PaymentState[] = ['RECEIVED', 'SENDING', 'UNKNOWN', 'PENDING'];

export interface PaymentRecord {
  id: number;
  clientId: string;
  transactionId: string;
  /** sha256 hex of the canonical request, for idempotent replays and 422 on a changed payload. */
  requestHash: string;
  state: PaymentState;
  bank: string | null;
  operation: string | null;
  /** The id Gerbang gave the transfer at the bank (BCA legacy: 8-digit TransactionID). */
  bankTransactionId: string | null;
  bankTransactionDate: string | null;
  bankReference: string | null;
  amount: string;
  currency: string;
  /** The uniform result answered to the ERP, as JSON text, once final or in doubt. */
  resultJson: string | null;
  httpStatus: number | null;
  createdAt: number;
  updatedAt: number;
  /** Status inquiries made by the resolver so far. */
  checkAttempts: number;
  /** How many of those answered "not found". */
  notFoundCount: number;
  /** When the resolver should ask again (null: as soon as it is due). */
  nextCheckAt: number | null;
  /** The payment's facts from the ERP's request (sealed at rest); null for rows from before migration 015. */
  details: PaymentDetails | null;
  /** The beneficiary's account, masked (`******5681`), and bank code as sent: clear, for lists. */
  beneficiaryAccountMasked: string | null;
  beneficiaryBank: string | null;
  /** The paying (company) account, whose statement proves or disproves the debit; null before migration 011. */
  sourceAccount: string | null;
  /** SNAP: the X-EXTERNAL-ID the transfer went out under when it is not bankTransactionId. */
  bankExternalId: string | null;
  /** When it entered the review queue (unresolved too long); null when not in review. */
  reviewSince: number | null;
  /**
   * The seq of the payment's event (payment_events) that recorded exactly this state, when the
   * reader or writer knows it: reserve() and the checked reads (find, findById). A write given
   * this record builds its event from it and the values it writes, without reading the row back.
   */
  eventSeq?: number;
  /**
   * Set only on the console's reads (PaymentSearchRepository): the payment's MAC, a sealed value or
   * its history does not hold (changed in SQL), so the API would refuse it (500 AUDIT_INTEGRITY)
   * and `audit verify` names it. The console marks it and offers no action on it.
   */
  integrityProblem?: string;
}

/**
 * A payment as a reconciliation reads it (PaymentSearchRepository.fromAccount): what it matches
 * and shows, and integrityProblem when its MAC does not hold (changed in the database).
 */
export type ReconciledPayment = Pick<
  PaymentRecord,
  'id' | 'transactionId' | 'state' | 'amount' | 'bankTransactionId' | 'bankTransactionDate' | 'bankExternalId' | 'createdAt' | 'sourceAccount' | 'integrityProblem'
>;

/** The first route's facts, written with the reservation itself: the payment is reserved straight into SENDING. */
export interface SendingFields {
  bank: string;
  operation: string;
  /** Issued before the reservation: a reservation that loses to an existing one leaves it unused, never sent. */
  bankTransactionId: string;
  bankTransactionDate: string;
}

/**
 * The bank id a payment held in the row a decision was made on (a status asked, an answer
 * received, an admin's evidence): a write of that decision is conditional on the row holding it
 * still, so a bank's word about one id never lands on a row moved to another (a fallback route's).
 * Null fields: a row never routed.
 */
export type HeldBankId = Pick<PaymentRecord, 'bank' | 'bankTransactionId'>;

/** The row as a sender last wrote it, for PaymentRepository.markSending: RECEIVED, or SENDING under its bank id. */
export type SenderLastWrote = Pick<PaymentRecord, 'state' | 'bank' | 'bankTransactionId'>;

export interface NewPayment {
  clientId: string;
  transactionId: string;
  requestHash: string;
  amount: string;
  currency: string;
  /** The paying account, sealed for its row (migration 011). */
  sourceAccount?: string | null;
  /** Stored sealed with the payment so the finance console can show and search it (migration 015). */
  details?: PaymentDetails;
  /** Reserve it in state SENDING for this route, in the same INSERT: never a SENDING payment without its bank id. */
  sending?: SendingFields;
}

/** What the ERP asked to pay, as the finance console shows it: full account numbers (sealed at rest). */
export interface PaymentDetails {
  /** Null when the ERP left the choice of paying account to Gerbang (routing by granted accounts). */
  sourceAccount: string | null;
  beneficiaryAccount: string;
  beneficiaryBankCode: string;
  beneficiaryName: string | null;
  remark: string | null;
  transferMethod: string | null;
}

export interface PaymentUpdate {
  state?: PaymentState;
  bank?: string | null;
  operation?: string | null;
  bankTransactionId?: string | null;
  bankTransactionDate?: string | null;
  bankReference?: string | null;
  resultJson?: string | null;
  httpStatus?: number | null;
  bankExternalId?: string | null;
}

export interface PaymentRepository {
  /**
   * Inserts in state RECEIVED, or SENDING with its route and bank id when `payment.sending` is
   * given (one INSERT: the state, the route and the bank id commit together or not at all, with
   * the payment's first event). Throws UniqueViolationError when (clientId, transactionId) exists.
   */
  reserve(payment: NewPayment, now: number): Promise<PaymentRecord>;
  find(clientId: string, transactionId: string): Promise<PaymentRecord | null>;
  /**
   * find() made on `q`, a snapshot of its database (Db.withSnapshot) that the caller holds: the row
   * and its last event as that snapshot has them (IntegrityError when they do not hold there), so
   * what the caller decides on the payment and what it reads of the audit there describe the same
   * moment (AuditRepository.inSnapshot).
   */
  readingOn(q: Queryable): Pick<PaymentRepository, 'find'>;
  /** False when the row is gone (a stale reservation released by another process): the caller must stop. */
  update(id: number, update: PaymentUpdate, now: number): Promise<boolean>;
  /**
   * Deletes a reservation still RECEIVED (never routed, so never sent) whose process stopped: untouched
   * since `staleBefore`. Lets the ERP's resend of that transactionId go through instead of 409 forever.
   */
  releaseStale(id: number, staleBefore: number): Promise<boolean>;
  /**
   * Proves that nothing of `payment`'s history after its last event was deleted with its chain
   * links, so that the state its row and last event agree on is its latest: no link of any audit
   * chain is missing, moved or altered from the link before that event (by the time it was linked,
   * less a margin for the clocks of other nodes) to each chain's head. All of it read in one
   * snapshot (Db.withSnapshot): the row read again there (its MAC and its last event checked, as
   * find() checks them) and the chains walked there. `moved`: the row there is gone or no longer the
   * one given (its state, updated_at or request hash), so nothing is proved of it; `problem` names
   * what does not hold; `beyond` is the number of links the proof would read when that is more than
   * `maxLinks` (nothing is proved then). The chains' heads are the checkpoints' to vouch for:
   * `vouched` is compared with the chains in that same snapshot (a chain cut at its tail with its
   * head set back walks whole, and a comparison read apart from the walk could see it whole while
   * the walk sees it cut), and what they lack of it is the `problem`; so is a break found before
   * any walk (a head set back, a headless chain), however many links the walk would read.
   */
  laterHistory(payment: PaymentRecord, maxLinks: number, vouched: VouchedChains): Promise<LaterHistory>;
  /**
   * Deletes a reservation that certainly never reached the bank, so the ERP may retry the same
   * transactionId: RECEIVED, or SENDING under the bank id of `lastWrote`, the row as the caller
   * last wrote it and knows was never executed (a row SENDING under any other id, or `lastWrote`
   * not SENDING under a bank id, is kept for the resolver). Returns false when the row is in another state.
   */
  release(id: number, lastWrote: SenderLastWrote | null): Promise<boolean>;
  /**
   * Leases the payments the resolver should check now — UNKNOWN or PENDING whose next check is
   * due, and SENDING ones last touched before `sendingStaleBefore` (a process died mid-send) —
   * to `owner` until now + leaseMs. A payment leased by another owner whose lease is still
   * running is skipped, so exactly one process checks it at a time. A payment that fails its
   * integrity check (changed in SQL) is returned refused instead, and held by `owner` for
   * REFUSED_PAYMENT_HOLD_MS, so it is named once a day rather than every lease.
   */
  claimDue(options: { owner: string; now: number; leaseMs: number; sendingStaleBefore: number; limit: number }): Promise<(PaymentRecord | RefusedPayment)[]>;
  /**
   * Records a check that did not settle the payment (and its state, e.g. SENDING → UNKNOWN), and
   * frees the lease; never over a final state, nor over a row that no longer holds `asked` (the
   * bank id the check asked about: a live sender moved it to a fallback route's meanwhile).
   */
  recordCheck(id: number, owner: string, check: { state: PaymentState; checkAttempts: number; notFoundCount: number; nextCheckAt: number }, now: number, asked: HeldBankId): Promise<void>;
  /** Frees a lease `owner` holds (after the payment was settled with update()). */
  releaseLease(id: number, owner: string): Promise<void>;
  /** Extends a lease `owner` still holds to now + leaseMs; false when it no longer holds it. */
  renewLease(id: number, owner: string, now: number, leaseMs: number): Promise<boolean>;
  /** The payments in doubt now (per state: how many, the oldest) and the review queue: the metrics gauges. */
  inDoubtSummary(): Promise<InDoubtSummary>;
  /**
   * Stores a final outcome (SUCCESS or FAILED) only while the payment is still in doubt
   * (SENDING, UNKNOWN, PENDING) or a reservation in the review queue (RECEIVED, an admin's
   * resolution), and takes it out of the review queue; only while it holds `about`, the bank id the
   * outcome is about (the row the decision was made on). False when another process (the
   * resolver, a notification, an admin) settled it first, or the row moved to another bank id (a
   * fallback route's): the caller must not announce its own outcome.
   */
  settle(id: number, update: PaymentUpdate & { state: 'SUCCESS' | 'FAILED' }, now: number, about: HeldBankId): Promise<boolean>;
  /**
   * Stores the bank's answer to the send (any state, with its result) only while the payment is
   * still in doubt (SENDING, UNKNOWN, PENDING) under the bank id it was sent with (`since`'s): safe
   * to run late, after a failover, since it never overwrites a final state another process stored
   * meanwhile nor lands on another bank id. False when there was none to write.
   * `since`: the payment as this process last wrote it (with its eventSeq), from which the event
   * is built; when another event was appended since, the row is read back as without it.
   * `after`: the audit record this write depends on (the bank leg that brought the answer): both
   * commit together, or this one is refused (DependencyRefusedError) and nothing is written.
   */
  storeSendOutcome(id: number, update: PaymentUpdate, now: number, since: PaymentRecord, after?: ChainDependency): Promise<boolean>;
  /**
   * Moves a payment to SENDING under a later route's bank id (`sending`) only while the row is still
   * what its sender last wrote (`from`: RECEIVED, or SENDING under the same bank id). False when it
   * moved on (settled, checked, released, another's): the sender must stop, never send nor release it.
   */
  markSending(id: number, sending: SendingFields, now: number, from: SenderLastWrote): Promise<boolean>;
  /**
   * Puts a payment still in doubt, or a reservation (RECEIVED) a takeover could not prove left
   * behind, into the review queue (once: the first time is kept).
   */
  enterReview(id: number, now: number): Promise<void>;
  /** The review queue: payments in review and still in doubt or reserved (RECEIVED), oldest first. */
  listInReview(limit: number): Promise<PaymentRecord[]>;
  findById(id: number): Promise<PaymentRecord | null>;
  /** The payment a bank knows by `bankTransactionId` (its partnerReferenceNo / TransactionID) at `bank`. */
  findByBankTransaction(bank: string, bankTransactionId: string): Promise<PaymentRecord | null>;
}

// ---------------------------------------------------------------- bank notifications

/**
 * The notifications banks sent (migration 011), one per (partner, X-EXTERNAL-ID): `new` the first
 * time, `repeat` when the same bytes come again (answered, not acted on twice), `conflict` when
 * the id comes back with another body (a replay or a forgery: refused).
 */
export interface BankNotificationRepository {
  record(notification: { partner: string; externalId: string; bodyHash: string }, now: number): Promise<'new' | 'repeat' | 'conflict'>;
}

/** States of a payment whose outcome at the bank is not known yet. */
export type InDoubtState = 'SENDING' | 'UNKNOWN' | 'PENDING';

/** What the in-doubt and review-queue gauges show, read from the store (times in epoch ms, null when there is none). */
export interface InDoubtSummary {
  /** Per state: how many payments are in it, and when the oldest of them was received. */
  states: Record<InDoubtState, { count: number; oldestCreatedAt: number | null }>;
  /** The review queue: payments in review and still in doubt, and since when the oldest waits. */
  review: { count: number; oldestSince: number | null };
}

// ---------------------------------------------------------------- audit

export type AuditOutcome = 'in_progress' | 'completed' | 'rejected' | 'failed';

/** The inbound exchange (ERP ↔ Gerbang). Bodies and headers arrive here already redacted. */
export interface InboundExchange {
  requestId: string;
  receivedAt: number;
  remoteIp: string;
  origin: string | null;
  method: string;
  path: string;
  clientId: string | null;
  transactionId: string | null;
  amount: string | null;
  /** Account numbers are stored masked (`******5680`); the repository masks them. */
  sourceAccount?: string | null;
  beneficiaryAccount?: string | null;
  requestHeaders: Record<string, string>;
  requestBody: string | null;
}

export interface InboundCompletion {
  outcome: AuditOutcome;
  statusCode: number;
  errorCode: string | null;
  clientId: string | null;
  transactionId: string | null;
  amount: string | null;
  sourceAccount?: string | null;
  beneficiaryAccount?: string | null;
  responseBody: string | null;
  completedAt: number;
}

/** A bank exchange as stored: the adapter's report (already redacted) tied to its inbound exchange. */
export interface BankCallAudit extends BankCall {
  exchangeId: number | null;
  requestId: string;
}

export interface AuditExchangeRow extends InboundExchange {
  id: number;
  sourceAccount: string | null;
  beneficiaryAccount: string | null;
  outcome: AuditOutcome;
  statusCode: number | null;
  errorCode: string | null;
  responseBody: string | null;
  completedAt: number | null;
  bankCalls: (BankCallAudit & { id: number; integrityProblem?: string })[];
  /**
   * What was found when the exchange (its opening or its completion) does not hold to its own
   * chain links: changed or inserted in the database. Its values are then as the row holds them
   * (those that did not open left out), none of them the gateway's.
   */
  integrityProblem?: string;
  /**
   * With integrityProblem: a digest (SHA-256, base64) of its row as read, every column (its sealed
   * values as stored): a requeue that sends over it names it so, and one altered again since differs.
   */
  asFound?: string;
}

export interface AuditQuery {
  from?: number;
  to?: number;
  requestId?: string;
  transactionId?: string;
  clientId?: string;
  limit?: number;
  afterId?: number;
  /**
   * Also hold the page to its place in its chains (audit-chain-place.ts): no link missing and each
   * following the one before between the page's records, no record they link deleted (a bank call
   * deleted in SQL is named on its exchange). For pages read in id order (the export): a page whose
   * records lie far apart in their chains reads every link between them.
   */
  inChain?: boolean;
}

/** One problem `verify` found; `table`/`recordId` name the first broken record of a chain. */
export interface AuditChainBreak {
  writerId: string | null;
  seq: number | null;
  table: 'audit_exchanges' | 'audit_completions' | 'audit_bank_calls' | 'audit_chain' | 'audit_writers' | 'audit_purges' | 'audit_purged_exchanges' | 'payments' | 'payment_events' | 'console_audit' | 'console_users' | 'transfer_batch_lines' | 'callback_deliveries' | 'clients' | 'client_credentials' | 'client_account_grants' | 'client_callbacks' | 'chain_coverage' | 'record_changes' | 'checkpoints' | 'reconciliation_seals' | 'audit_verifications';
  recordId: number | null;
  /** `unwalked`: no break, a walk not made (AuditRepository.chainGaps' `maxLinks`): nothing was proved either way. */
  problem: 'altered' | 'deleted' | 'reordered' | 'unchained' | 'truncated' | 'forged' | 'vanished' | 'rolled-back' | 'unwalked';
  detail: string;
}

/**
 * What a chain guard answers for the chains from a time on (PaymentSearchRepository.guardSeals):
 * null when they hold; a problem in words when they do not (or cannot be proved: a key the ring
 * lacks); `left` when proving them would walk more links than the reader may (its `maxLinks`):
 * nothing was proved either way, `left` says so in words, and the seal sweep, which walks them
 * whole, proves them.
 */
export type ChainsAnswer = string | null | { left: string };

/**
 * A seal's chain guard (PaymentSearchRepository.guardSeals), asked in two steps. Called before the
 * snapshot (Db.withSnapshot) in which the store reads again the rows the seal is made of begins,
 * it reads then what it holds outside the database (the checkpoints: read once that snapshot has
 * begun, they may vouch for a link another writer committed since, which the snapshot lacks, and
 * name its chain cut back). What it returns answers for the chains from `since` on, at most
 * `maxLinks` walked, read on `q`, that snapshot (H2: read one by one, the rows could be a state the
 * walk never saw).
 */
export type SealGuard = () => (since: number, maxLinks: number | undefined, q: Queryable) => Promise<ChainsAnswer>;

/** What the database holds of one chain: its head row (null: gone), how many links, the newest's seq (0: none), and a digest over every link row (seq, kind, record, prev_hash, MAC, key). */
export interface ChainRemains {
  head: { seq: number; hash: string } | null;
  links: number;
  maxSeq: number;
  digest: string;
}

/** A page of what remains of one chain (remainsPage): each link row as ChainRemains digests it, in seq order, the record ids of its payment events, the newest's seq (null: none) and the seq to read on from (null: none is left). */
export interface RemainsPage {
  links: number;
  rows: string[];
  paymentEvents: number[];
  maxSeq: number | null;
  next: number | null;
}

/** Where a piece of a chain walk starts: link `seq`, after the MAC `prevHash` (null: link `seq` taken as it says it follows). */
export interface ChainPosition {
  seq: number;
  prevHash: string | null;
}

/** What walking a piece of a chain found (AuditRepository.walkChain). */
export type ChainPiece =
  /**
   * `next`: where the walk goes on (the last link's MAC carried), or null when it reached the chain's
   * head; `after`: the link after the last one walked, with that one's MAC, either way (where a walk
   * of the links appended later begins). `paymentEvents`: the payment events whose links it proved.
   */
  | { links: number; next: ChainPosition | null; after: ChainPosition; paymentEvents: number[] }
  /** `resume`: the first link after the break (where a walk that goes on past it starts, taken as it says), or null when none follows. */
  | { links: number; break: AuditChainBreak; resume: number | null; paymentEvents?: number[] }
  /** The chain's head is behind `from` (cut back or re-read on another node): the rollback watch's to judge. */
  | { links: 0; behind: true };

export interface AuditVerifyOptions {
  /** Payments an operator accepted as lost (`lostPayments` of an acceptance line): their row deleted or altered is not a break, but listed in `acceptedPayments`. */
  acceptedPayments?: ReadonlyMap<number, { kind?: 'deleted' | 'altered'; digest?: string }>;
}

export interface AuditVerifyReport {
  chains: number;
  links: number;
  exchanges: number;
  bankCalls: number;
  /** Each chain's head as verified: kept outside the database, they anchor the chains. */
  heads: { writerId: string; seq: number; hash: string }[];
  /** Empty when every chain is intact. At most one per chain (its first break), then unchained records. */
  breaks: AuditChainBreak[];
  /** Payments found lost (row deleted without its release, or altered away from its MAC) that AuditVerifyOptions.acceptedPayments names. */
  acceptedPayments: { paymentId: number; problem: 'deleted' | 'altered'; detail: string; unproven?: true }[];
  /** Anonymous rejected exchanges deleted by `gerbang audit purge-anonymous` (their links remain and verify). */
  purged: { purges: number; records: number; latest: AuditPurgeSummary | null };
}

/** One purge of anonymous rejected exchanges, as audit_purges holds it. */
export interface AuditPurgeSummary {
  purgedAt: number;
  /** Every exchange it deleted was received before this time. */
  receivedBefore: number;
  retentionDays: number;
  purgedBy: string;
  records: number;
}

/** What `purgeAnonymous` is asked to do. */
export interface AnonymousPurge {
  /** Only exchanges received before this time (ms) are deleted. */
  receivedBefore: number;
  /** The retention the cut-off was computed from, kept with the purge. */
  retentionDays: number;
  /** The command, host and OS user, kept with the purge. */
  purgedBy: string;
  purgedAt: number;
  /** Exchanges per purge record and transaction (default 200). */
  batchSize?: number;
  /** Count what would be deleted, delete nothing. */
  dryRun?: boolean;
}

export interface AnonymousPurgeReport {
  receivedBefore: number;
  dryRun: boolean;
  /** Purge records written (one per batch). */
  purges: number;
  /** Exchanges deleted (or, in a dry run, that would be). */
  records: number;
  /** Anonymous rejected exchanges old enough but kept: their record does not verify against its link. */
  kept: number;
}

export interface AuditRepository {
  /** Inserts the inbound exchange as in_progress and returns its id. */
  open(exchange: InboundExchange): Promise<number>;
  /**
   * Appends the exchange's completion. `after` as for PaymentRepository.storeSendOutcome: refused
   * (DependencyRefusedError, nothing written, never spooled) when that record was.
   */
  complete(id: number, completion: InboundCompletion, after?: ChainDependency): Promise<void>;
  /**
   * Inserts a whole exchange at once (rejected requests, token endpoint). `spoolEntry`: the id of
   * the journal entry being replayed (audit-spool.ts); a second record with the same entry id
   * throws UniqueViolationError.
   */
  record(exchange: InboundExchange, completion: InboundCompletion, spoolEntry?: string): Promise<number>;
  /** Inserts one bank leg; `spoolEntry` as for record(); `as`: the dependency later writes name (`after`). */
  recordBankCall(call: BankCallAudit, spoolEntry?: string, as?: ChainDependency): Promise<number>;
  /** Exchanges ordered by id with their bank calls, for export and tests. */
  list(query: AuditQuery): Promise<AuditExchangeRow[]>;
  /**
   * Checks every writer's hash chain against the records, and the stored values against their MACs
   * and histories; decrypts with the key ring. Everything read in one snapshot: its own, or the
   * caller's on readingOn(q) (where `gerbang audit verify` compares the checkpoints too, H2).
   */
  verify(options?: AuditVerifyOptions): Promise<AuditVerifyReport>;
  /**
   * Deletes the anonymous rejected exchanges received before `receivedBefore` (never a client's,
   * never one tied to a payment or a bank call), each purge recorded in this writer's keyed chain
   * so `verify` tells it from a deletion. Throws KeyRingError naming the setting without the keys.
   */
  purgeAnonymous(purge: AnonymousPurge): Promise<AnonymousPurgeReport>;
  /**
   * The links of those asked for (chain `writerId`, link `seq`) that the database holds, with their
   * MACs, in any order; one not in the answer is not in the database.
   */
  linksAt(wanted: { writerId: string; seq: number }[]): Promise<{ writerId: string; seq: number; hash: string; keyId: string | null }[]>;
  /** The heads of this process's own chains as it appended them (from memory, not the database). */
  ownHeads(): { writerId: string; seq: number; hash: string }[];
  /** What the database holds of chain `writerId`: its head row (null: none) and its links (ChainRemains). What an acceptance of a chain as gone records, and later compares. */
  chainRemains(writerId: string): Promise<ChainRemains>;
  /**
   * The links of chain `writerId` from link `fromSeq` on, at most `maxLinks` of them in seq order,
   * as the rows stand (no MAC checked, RemainsPage): chainRemains digests these pages. The scrub
   * learns so the payments of what remains of a chain accepted as gone, the pages it read digested
   * as it reads them and compared with what the acceptance recorded, never walked.
   */
  remainsPage(writerId: string, fromSeq: number, maxLinks: number): Promise<RemainsPage>;
  /** The head of every chain as the database holds it (audit_writers). */
  chainHeads(): Promise<{ writerId: string; seq: number; hash: string }[]>;
  /**
   * Whether every chain holds as a whole from `since` on (absent: from link 1), as `audit verify`
   * walks it: each chain holding links has its head row, each chain idle since then is proved by
   * its head link's MAC, and every other chain's links from the last one linked before that time
   * to its head are walked, each there, each following the one before, each MAC over its record
   * (audit-verify.ts chainGaps). A link under a key the ring lacks is a break naming the key.
   * `excluded`: per chain, links an operator accepted as broken, not walked. `gone`: chains accepted
   * as gone (their head row deleted): the head's absence is accepted, what remains is walked up to
   * its newest link all the same, each MAC over its record. `maxLinks`: a walk longer than that is
   * not made: then one `unwalked` break says so, and nothing else is named. The breaks found.
   */
  chainGaps(options?: { since?: number; excluded?: ReadonlyMap<string, readonly { from: number; to: number }[]>; gone?: ReadonlySet<string>; maxLinks?: number }): Promise<AuditChainBreak[]>;
  /** Every chain: those with a head row (audit_writers) and those holding links whose head row is gone. */
  chains(): Promise<string[]>;
  /**
   * Walks at most `maxLinks` links of chain `writerId` from `from` as `verify` walks a chain, up to
   * its head as it stands (the background scrub walks every chain this way, piece by piece).
   * Throws KeyRingError when a link's key is not in the ring.
   */
  walkChain(writerId: string, from: ChainPosition, maxLinks: number): Promise<ChainPiece>;
  /** Where a walk of chain `writerId` that broke at link `seq` goes on, looked for again now: walkChain's `resume` (null: no link after it at or below the head). */
  resumeAfterBreak(writerId: string, seq: number): Promise<number | null>;
  /**
   * Payments whose row is gone while their history does not end in their release (deleted in
   * SQL), among those whose last event's id is in `range`, at most `limit` (the scrub checks the
   * newest events every pass and all of them in turn).
   */
  lostPayments(range: { fromId: number; toId: number }, limit: number): Promise<LostPayment[]>;
  /** The newest payment event's id (0 when there is none). */
  lastPaymentEventId(): Promise<number>;
  /** How many links each chain holds in `ranges` (seq from/to, both included), counted by the database: the scrub's check that links it proved are still there. */
  linkCounts(ranges: { writerId: string; fromSeq: number; toSeq: number }[]): Promise<Map<string, number>>;
  /** The key and creation time of the payments of events `eventIds` whose row stands under its MAC and agrees with its id's history (the scrub's memory of payments). */
  paymentKeys(eventIds: number[]): Promise<RememberedPayment[]>;
  /**
   * Payment `id`, once seen for `key` with its stamp (stampOf its creation time), checked exactly in
   * one transaction: null when it was released, or the row at its id carries that key and stamp
   * under its MAC and agrees with its history; how it was lost otherwise (row deleted without its
   * release, or with its history; row altered; another payment's row at its id).
   */
  lostPayment(id: number, key: { clientId: string; transactionId: string; stamp: number }): Promise<LostPayment | null>;
  /**
   * What can be read back of each lost payment for the operator who accepts it (LostPaymentFacts):
   * its answer from the newest event whose link holds, the clients whose audited requests for its
   * transactionId hold, its altered row as it stands; nothing that does not hold.
   */
  lostPaymentFacts(lost: Pick<LostPayment, 'paymentId' | 'kind'>[]): Promise<LostPaymentFacts[]>;
  /** Seals and opens a probe with the current key and returns its id; throws KeyRingError naming the setting otherwise. */
  checkKeys(): string;
  /**
   * This repository's reads (AuditReads) made on `q`, a snapshot of its database (Db.withSnapshot)
   * that the caller holds: a record read and a walk of the chains that prove it then describe the
   * same moment, wherever the caller reads its other rows in that snapshot too.
   */
  readingOn(q: Queryable): AuditReads;
  /**
   * Runs `fn` with this repository's reads made in one snapshot of its database (readingOn in
   * Db.withSnapshot): what `fn` reads of a notification's records and the walk of the chains that
   * proves none of them was deleted (#14, H2); `q` is that snapshot, for what `fn` reads of other
   * repositories there (PaymentRepository.readingOn). Keep `fn` to reads. `options`: Db.withSnapshot's
   * (`causal` for reads compared with the audit checkpoints outside the database).
   */
  inSnapshot<T>(fn: (audit: AuditReads, q: Queryable) => Promise<T>, options?: SnapshotOptions): Promise<T>;
}

/**
 * What a chain guard, a reader of audit records and `audit verify` (its walk, its stored values,
 * the scrub's walk on past each break and the checkpoints' comparison) ask of the audit, made in
 * one snapshot (AuditRepository.readingOn).
 */
export type AuditReads = Pick<
  AuditRepository,
  'list' | 'chainGaps' | 'chainHeads' | 'linksAt' | 'walkChain' | 'verify' | 'chains' | 'lostPayments' | 'lastPaymentEventId' | 'linkCounts' | 'paymentKeys' | 'lostPayment' | 'lostPaymentFacts' | 'chainRemains' | 'remainsPage' | 'resumeAfterBreak'
>;

// ---------------------------------------------------------------- sealed values: key rotation

/** A chain `keys rotate` could not re-link whole under the newest key: how far it stands and why, in words. */
export interface UnfinishedChain {
  writerId: string;
  problem: string;
}

export interface KeyRotationReport {
  /** The key every value is sealed with afterwards. */
  keyId: string;
  /** Audit chains, payment MACs and verification runs made again under the newest key (after checking them under their own). */
  relinkedChains?: number;
  /**
   * Audit chains left not re-linked whole, each with why in words and what to do (a key the ring
   * lacks, named; a break; a writer that kept appending): `keys rotate` exits 1 while there is one.
   */
  unfinishedChains?: UnfinishedChain[];
  resignedPayments?: number;
  resignedVerifications?: number;
  /** Payments whose search trigrams (migration 026) were made again under the newest key. */
  reindexedPayments?: number;
  /** Rows re-encrypted, per table (audit_exchanges, audit_bank_calls, payments, transfer_batch_lines, callback_deliveries). */
  records: Record<string, number>;
  batches: number;
  /** Rows still sealed with another key (written meanwhile by a process without the newest key). */
  remaining: number;
}

export interface KeyRotationRepository {
  /**
   * Re-encrypts every sealed value (audit, payment answers, payment-run lines, callbacks) not sealed
   * with the newest key, `batchSize` rows per short transaction, while other processes keep
   * writing. `onBatch` reports progress. Audit chains are re-linked `batchSize` links a
   * transaction; `onChainRelinked` is given each chain's new head once the chain is re-linked whole
   * (to be checkpointed: its head link's MAC changed). Throws KeyRingError naming the setting without a key ring.
   */
  rotate(options: { batchSize: number; onBatch?: (done: KeyRotationReport['records']) => void; onChainRelinked?: (head: { writerId: string; seq: number; hash: string }) => void }): Promise<KeyRotationReport>;
  /**
   * Indexes for the console's text search (migration 026) every payment not yet indexed under the
   * newest key, 500 per transaction; returns how many. Idempotent. `onBatch` reports progress.
   * `neverIndexedOnly`: only payments never indexed (written by a node on a version before 026).
   */
  reindexSearch(options?: { onBatch?: (done: number) => void; neverIndexedOnly?: boolean }): Promise<number>;
  /**
   * Re-seals for its id (gcm2) every payment value sealed in its INSERT (gcm3,
   * GERBANG_SEAL_PAYMENTS_AT_INSERT), so a release before that setting reads it: before rolling
   * back to one. `batchSize` payments per short transaction, each UPDATE guarded by the values read
   * (a write meanwhile wins and is left for the next run). Returns how many payments it re-sealed
   * and how many still hold a gcm3 value (a process with the setting on keeps writing them).
   * Throws IntegrityError naming a value that does not open (`audit verify` names it too).
   */
  sealPaymentsById(options: { batchSize: number }): Promise<{ resealed: number; remaining: number }>;
}

// ---------------------------------------------------------------- counters

export interface CounterResult {
  hits: number;
  resetAt: number;
}

export interface RateLimitRepository {
  /**
   * Adds `by` hits (default 1) to `key` in a fixed window of `windowMs`; starts a new window when
   * the old one ended. Returns the window's hits after this call's, from every process.
   */
  increment(key: string, windowMs: number, now: number, by?: number): Promise<CounterResult>;
  decrement(key: string): Promise<void>;
  reset(key: string): Promise<void>;
  /** Deletes expired windows; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

export interface LockoutState {
  failures: number;
  lockedUntil: number;
}

export interface LoginLockoutRepository {
  get(key: string, now: number): Promise<LockoutState>;
  /**
   * Counts one failure within `windowMs`; when failures reach `maxFailures` the key is locked
   * until now + lockMs. Returns the state after the failure.
   */
  recordFailure(key: string, opts: { maxFailures: number; windowMs: number; lockMs: number }, now: number): Promise<LockoutState>;
  /** Removes one key's counter and lock; returns how many rows went. */
  clear(key: string): Promise<number>;
  /** Removes every counter whose key starts with `prefix`; returns how many. */
  clearPrefix(prefix: string): Promise<number>;
  /** Deletes counters whose window and lock have both ended; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

export interface BankTokenRecord {
  partner: string;
  token: string;
  expiresAt: number;
  fetchedAt: number;
}

export interface BankTokenRepository {
  get(partner: string): Promise<BankTokenRecord | null>;
  /** Stores the token, unless the one stored expires later (a late fetch never replaces a newer token). */
  put(record: BankTokenRecord): Promise<void>;
  /** Removes the token only if it is still `token` (another worker may have refreshed it). */
  invalidate(partner: string, token: string): Promise<void>;
  /**
   * Claims the right to fetch the partner's next token for `leaseMs`, so that one worker of all
   * nodes fetches it and the others wait for it in the store. True when `owner` holds it now
   * (freshly, again after the previous holder's lease ran out, or renewed: `owner` held it already).
   */
  claimRefresh(partner: string, owner: string, now: number, leaseMs: number): Promise<boolean>;
  /** Gives the claim up (only if `owner` still holds it). */
  releaseRefresh(partner: string, owner: string): Promise<void>;
}

export interface SequenceRepository {
  /**
   * Atomically returns the next value of a named counter shared by all nodes: the greater of
   * the last value + 1 and `floor` (default 1; the first call returns `floor`).
   */
  next(name: string, floor?: number): Promise<number>;
  /**
   * Atomically takes `size` consecutive values of the counter at once and returns the first: the
   * block starts at the greater of the last value + 1 and `floor`, and no other caller, in any
   * process, gets any of them.
   */
  nextBlock(name: string, size: number, floor?: number): Promise<number>;
}

// ---------------------------------------------------------------- transfer batches

export type BatchState = 'QUEUED' | 'PROCESSING' | 'DONE';
export type BatchLineState = 'QUEUED' | 'SUBMITTED' | 'REJECTED';

export interface TransferBatchRecord {
  id: number;
  clientId: string;
  batchId: string;
  requestHash: string;
  lineCount: number;
  state: BatchState;
  createdAt: number;
  updatedAt: number;
}

export interface BatchLineRecord {
  lineNo: number;
  transactionId: string;
  requestJson: string;
  state: BatchLineState;
  httpStatus: number | null;
  resultJson: string | null;
}

export interface NewTransferBatch {
  clientId: string;
  batchId: string;
  requestHash: string;
  /** In order; line numbers start at 1. The accounts are stored masked (the request, whole, sealed). */
  lines: { transactionId: string; requestJson: string; sourceAccount: string; beneficiaryAccount: string }[];
}

export interface TransferBatchRepository {
  /** Stores the batch and all its lines QUEUED, in one transaction. UniqueViolationError when (clientId, batchId) exists. */
  create(batch: NewTransferBatch, now: number): Promise<TransferBatchRecord>;
  find(clientId: string, batchId: string): Promise<TransferBatchRecord | null>;
  /** Leases batches with work left (QUEUED, or PROCESSING whose lease ran out) to `owner`. */
  claimDue(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<TransferBatchRecord[]>;
  /** Extends `owner`'s lease; false when it lost it. */
  renewLease(id: number, owner: string, now: number, leaseMs: number): Promise<boolean>;
  /** QUEUED lines after `afterLineNo`, in order, at most `limit`. */
  queuedLines(batchPk: number, afterLineNo: number, limit: number): Promise<BatchLineRecord[]>;
  /** Every line after `afterLineNo`, in order, at most `limit`; IntegrityError for a line that fails its MAC or is missing. */
  lines(batchPk: number, afterLineNo: number, limit: number): Promise<BatchLineRecord[]>;
  /** Writes a line's outcome with its MAC (over its run, place, transaction id and outcome); nothing when the line is not `line.transactionId`'s. */
  recordLine(
    batch: Pick<TransferBatchRecord, 'id' | 'clientId' | 'batchId' | 'lineCount'>,
    line: Pick<BatchLineRecord, 'lineNo' | 'transactionId'>,
    outcome: { state: BatchLineState; httpStatus: number | null; resultJson: string | null },
    now: number,
  ): Promise<void>;
  /** Lines per state, each line proved by its MAC and none missing: IntegrityError else. */
  counts(batchPk: number): Promise<Record<BatchLineState, number>>;
  /**
   * Marks it DONE and frees the lease (only while `owner` holds it); QUEUED instead when a line was
   * queued again meanwhile (requeueReleased), so the run is claimed again and pays it.
   */
  finish(id: number, owner: string, now: number): Promise<void>;
  /**
   * Queues again the lines of `clientId`'s runs that met transfer `transactionId` as a reservation
   * in review (SUBMITTED with 202: it was neither sent nor refused), and their runs with them: for
   * when that reservation is released, so each run pays its line as a new transfer (the
   * transactionId is free again; its idempotency lets one payment through, whoever asks first).
   * Returns the lines queued.
   */
  requeueReleased(clientId: string, transactionId: string, now: number): Promise<number>;
}

// ---------------------------------------------------------------- callbacks to the ERP

export interface CallbackDelivery {
  id: number;
  clientId: string;
  transactionId: string;
  url: string;
  body: string;
  attempts: number;
}

/** A payment in doubt that failed its integrity check when claimed: never checked with the bank nor written. */
export interface RefusedPayment {
  id: number;
  clientId: string;
  transactionId: string;
  refused: string;
}

/**
 * A queued notification that must never be signed nor sent: its body or its client's endpoint
 * failed its integrity check (`refused` says which, in words). The dispatcher marks it FAILED and
 * audits the refusal; `leftAsIs`: its own row is not Gerbang's latest state of it (its MAC or
 * change record, migration 038), so it is audited and left as it is (writing it would record it
 * as Gerbang's), for `audit verify` to name, and refused again at each claim.
 */
export interface RefusedCallback {
  id: number;
  clientId: string;
  transactionId: string;
  refused: string;
  leftAsIs?: true;
  /**
   * With `leftAsIs`: the SHA-256 digest (base64) of the row as it was found (its id, what its MAC
   * covers, its MAC, and `refused`): refused again as it stands, it is the same forged state. A
   * digest, 44 characters whatever the writer put in the row.
   */
  asFound?: string;
}

/** The notifications past their next attempt time and not attempted yet (a lease held, the dispatcher off, refused rows). */
export interface OverdueCallbacks {
  count: number;
  /** The oldest next attempt time among them (epoch ms), or null when none is overdue. */
  oldestDueAt: number | null;
}

/** A due notification under a lease a claim honours (not claimable until it ends). */
export interface LeasedCallback {
  id: number;
  clientId: string;
  transactionId: string;
  attempts: number;
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseUntil: number;
}

export interface CallbackRepository {
  /** Registers (or, with null, removes) the client's endpoint. */
  setEndpoint(clientId: string, url: string | null, now: number): Promise<void>;
  /** Throws IntegrityError when the endpoint's row does not hold its MAC (its URL rewritten in SQL). */
  endpointOf(clientId: string): Promise<string | null>;
  /** Puts one notification in the outbox; a transfer already there is not added again. */
  enqueue(delivery: { clientId: string; transactionId: string; url: string; body: string }, now: number): Promise<void>;
  /** Leases due PENDING notifications to `owner`: each ready to send, or refused (never to be signed nor sent). */
  claimDue(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<(CallbackDelivery | RefusedCallback)[]>;
  /**
   * Gives up `owner`'s lease of delivery `id` (its lease end kept: claimed again after it; with
   * `until`, its lease end moved there), nothing sent: when it is not `owner`'s lease, nothing.
   */
  releaseLease(id: number, owner: string, until?: number): Promise<void>;
  /**
   * Records an attempt: DELIVERED, PENDING again at `nextAttemptAt`, or FAILED for good; frees the
   * lease. The row is read by the delivery's client and transaction id: throws IntegrityError when
   * it is no longer Gerbang's latest state of it, its id changed since the claim included (nothing written).
   * False (nothing written) when the row is no longer leased to `owner` (deleted, or leased to
   * another); a lease cleared (outside the MAC) is recorded over when the row is still, as its MAC
   * proves, what was claimed (`attempts`: as claimed; without it, never).
   */
  recordAttempt(delivery: { id: number; clientId: string; transactionId: string; attempts?: number }, owner: string, attempt: { state: 'DELIVERED' | 'PENDING' | 'FAILED'; status: number | null; error: string | null; nextAttemptAt: number }, now: number): Promise<boolean>;
  /**
   * Queues a delivery again, as enqueue does (PENDING, no attempts, due now, its MAC and change
   * record), over one whose row does not hold or that was deleted in SQL: `found` says what was
   * wrong with it (`queued`: true). Nothing is written when its row is Gerbang's latest state of
   * it, or when no delivery of that transfer was ever recorded (`notRequeued` says which), nor
   * with `judgeOnly`: the delivery judged alone, `found` then with `queued` false (with
   * `countAttempts` too, its attempts held to `attemptsAudited` as below, writing nothing). With
   * `attemptsAudited` (how many of its attempts the keyed audit holds records of), nothing is
   * written either when its change records (those whose link holds) record more attempts than
   * that (an attempt's audit record deleted: it may have been delivered): `queued` false and
   * `attemptsRecorded`, how many they record; with `queueUnaudited` it is queued all the same
   * (a second send asked for), `attemptsRecorded` then saying so. `id`: the row queued (its id,
   * which its MAC covers), when queued.
   */
  requeue(
    delivery: { clientId: string; transactionId: string; url: string; body: string },
    now: number,
    options?: { judgeOnly?: boolean; countAttempts?: boolean; attemptsAudited?: number; queueUnaudited?: boolean },
  ): Promise<{ found: string; queued: boolean; id?: number; attemptsRecorded?: number } | { notRequeued: string }>;
  /**
   * What is wrong with the delivery of that transfer, judged as requeue judges it (its row against
   * its latest change record whose link holds), nothing written: null when it holds or was never
   * recorded; else the problem in words (deleted, altered, written back).
   */
  deliveryProblemOf(clientId: string, transactionId: string): Promise<string | null>;
  /** PENDING notifications whose next attempt time is past at `now`: how many, and the oldest such time. */
  overdue(now: number): Promise<OverdueCallbacks>;
  /**
   * The due PENDING notifications under a lease claimDue honours at `now` for `leaseMs` (one
   * ending after `now`, and not further ahead than a claim grants), in next attempt order, up to `limit`.
   */
  leasedDue(options: { now: number; leaseMs: number; limit: number }): Promise<LeasedCallback[]>;
}

// ---------------------------------------------------------------- payment search (finance console)

/** Filters of the console's payment list; every field optional, all given ones must hold. */
export interface PaymentSearch {
  /** created_at >= from (inclusive), epoch ms. */
  from?: number;
  /** created_at < to (exclusive), epoch ms. */
  to?: number;
  clientId?: string;
  state?: PaymentState;
  bank?: string;
  /** Inclusive bounds in minor units (cents). */
  minAmountMinor?: bigint;
  maxAmountMinor?: bigint;
  /** Exact match on the ERP's transactionId. */
  transactionId?: string;
  /** Exact match on the bank's reference. */
  bankReference?: string;
  /**
   * Contains, case-insensitive, on the transaction id, either bank id, the beneficiary's name and
   * the remark. Names and remarks are sealed, so this is matched on opened rows: at most
   * SEARCH_SCAN_LIMIT of the newest rows the other filters select are read (the page says so when
   * the limit cut the search short).
   */
  text?: string;
}

/** A payment-run line as the console shows it: the line's own request (opened) and its payment. */
export interface RunLine {
  lineNo: number;
  transactionId: string;
  lineState: BatchLineState;
  /** From the line's sealed request: what was asked, even before the line was paid. */
  details: PaymentDetails | null;
  amount: string | null;
  payment: PaymentRecord | null;
  /** Set when the line's sealed request does not open where it lies (changed in SQL): its details are then left out. */
  integrityProblem?: string;
}

/** Count and sum of the rows a search selects. */
export interface PaymentTotals {
  count: number;
  totalMinor: bigint;
  /**
   * A text search only, why it stopped before the end (the figures then cover the newest rows
   * only): 'matches' at SEARCH_SCAN_LIMIT matches confirmed; 'walk' at its bound of trigram
   * postings walked, so older payments were not looked at and matches among them are missing.
   * false: it looked at every payment it could hold the term in.
   */
  truncated: false | 'matches' | 'walk';
  /**
   * A walk cut short only ('walk'): how far back it got, as when the oldest payment it reached was
   * made (epoch ms, created_at, proved by the row's MAC and its reserve event's chain link, never
   * read as stored; under several ring keys the latest of each walk's): every payment
   * made since was looked at, older ones not all. The page says from when matches may be missing.
   */
  reachedAt?: number;
  /**
   * A walk cut short only ('walk'), instead of reachedAt: the payment it reached does not prove
   * when it was made (its row or history changed outside Gerbang), so no time is given; what was
   * found, naming the payment. The page says from when could not be proved.
   */
  reachedUnproved?: string;
  /**
   * A text search only: how many payments its trigram index (migration 026) cannot find yet (not
   * indexed, or under a key the ring no longer holds), absent when none; the page names it and
   * `gerbang keys reindex-search`.
   */
  unindexed?: number;
  /**
   * True when more than TOTALS_LIMIT rows match: counting and summing them all would cost a scan
   * of the table on every page, so `count` is then TOTALS_LIMIT + 1 ("more than") and the sum is
   * not given (0). The page asks for a narrower filter to see the sum.
   */
  capped: boolean;
  /**
   * How count and sum were taken. 'proved': at most PROVED_LIMIT payments matched, each was checked
   * as the list checks it (its MAC, its sealed values, its state against its keyed history, its
   * amount_minor against its amount), and `totalMinor` sums only those that hold. 'stored': more
   * matched, the database counted and summed them as they are stored, which a row changed in SQL
   * would falsify: the page says so and points to `gerbang audit verify`.
   */
  proof: 'proved' | 'stored';
  /**
   * 'stored' only, a text search: how many matches it proves at most (SEARCH_PROVED_LIMIT), the
   * bound passed; absent: PROVED_LIMIT's. The page's rows are proved whatever the bound.
   */
  provedLimit?: number;
  /** 'proved' only: how many of `count` were changed outside Gerbang, left out of `totalMinor`. */
  changed: number;
}

export type PaymentSort = 'newest' | 'oldest' | 'largest' | 'smallest';

/** Where the previous page ended: the sort key and id of its last row. */
export interface PaymentCursor {
  key: number | string;
  id: number;
}

export interface PaymentPage {
  rows: PaymentRecord[];
  /** Set when there may be more rows after this page. */
  next: PaymentCursor | null;
  /** Set when there are rows before this page (a page read after or before a cursor). */
  previous: PaymentCursor | null;
  totals: PaymentTotals;
}

export interface DailyPaymentTotals {
  /** yyyy-MM-dd in UTC+7. */
  day: string;
  state: PaymentState;
  count: number;
  totalMinor: bigint;
}

export interface CountedDailyTotals {
  totals: DailyPaymentTotals[];
  /**
   * The kept totals of closed days that do not hold (altered, forged, written back or deleted in
   * SQL: migration 034), each named: their days were counted from the payments instead.
   */
  integrityProblems: KeptTotalsProblem[];
}

/**
 * Kept totals of a closed day that do not hold (migration 034): the day, what is wrong with them
 * (`altered`: changed, forged, copied, written back or inserted in SQL, or holding no totals;
 * `deleted`: gone, though their latest change record says they exist, or that record is not the
 * gateway's; `unverifiable`: under a key the ring no longer has; `events-gone`: counted up to a
 * payment event id past the highest there is, events deleted or their ids gone back; `reserves`:
 * the day has other than as many `reserve` events as when it was counted, a payment the count did
 * not find put back, or reserve events changed in SQL since), and what was found, naming the row
 * as `audit verify` does. Pages word it from `day` and `kind`.
 */
export interface KeptTotalsProblem {
  /** yyyy-MM-dd in UTC+7. */
  day: string;
  kind: KeptTotalsProblemKind;
  found: string;
}

export const KEPT_TOTALS_PROBLEM_KINDS = ['altered', 'deleted', 'unverifiable', 'events-gone', 'reserves'] as const;
export type KeptTotalsProblemKind = (typeof KEPT_TOTALS_PROBLEM_KINDS)[number];

export interface ProvedDailyTotals {
  totals: DailyPaymentTotals[];
  /** Payments changed outside Gerbang per UTC+7 day (days without any are absent), not in `totals`. */
  changed: { day: string; count: number }[];
}

export interface DailyBankLatency {
  day: string;
  calls: number;
  p50Ms: number;
  p95Ms: number;
}

/** A sealed day of a reconciliation with fewer payments than its trusted seal counted (PaymentSearchRepository.fromAccount). */
export interface MissingPayments {
  /** The Jakarta day, yyyy-MM-dd. */
  day: string;
  /** How many payments its seal counted (of the account's tag, as sealed). */
  sealed: number;
  /** How many were read, with those released through Gerbang since it was sealed. */
  found: number;
  /** The ids of the payments its seal covered that are neither read nor released through Gerbang since (a seal since migration 041); absent for an older seal, which holds a count only. */
  deleted?: number[];
  /**
   * The ids of payments its seal covered whose rows are still in the database but no longer read
   * on the day under the account (their account tag or their time changed in SQL): not deleted, an
   * integrity problem; a day naming one is never accepted (acceptDay) until the row is restored.
   */
  moved?: number[];
  /**
   * Set when the day's seal itself was deleted or changed outside Gerbang (its change records say
   * it existed, or its row no longer holds its MAC or its latest record): what the day held cannot
   * be told, so payments deleted with it cannot be named; `sealed` and `found` are then both the
   * payments read. The day is never sealed again, so every reading names it.
   */
  sealProblem?: string;
}

/** What an operator's acceptance of a day is asked to accept (PaymentSearchRepository.acceptDay). */
export interface DayToAccept {
  /** The day's alerts as the reconciliation names them (payments deleted, its seal changed outside Gerbang); empty: nothing to accept. */
  found: MissingPayments[];
  /** The account's tag under the current key (what the acceptance's digest and record name instead of the account). */
  tag: string;
  /** What an acceptance seals: each tag's day as it would be sealed anew (empty when `found` is). */
  sealing: DaySealing[];
}

/** A day's alerts as an operator's acceptance read them, and what came of it (PaymentSearchRepository.acceptDay). */
export interface DayAcceptance extends DayToAccept {
  /** Whether the day was sealed anew from its payments as proved now. */
  sealed: boolean;
  /** Whether a trusted seal held the day's payments when it was read (else the day is not checked for deleted payments). */
  checked: boolean;
  /** Why the day cannot be sealed (nothing written, the acceptance not asked). */
  unsealable?: string;
  /** Set when the day is not closed yet (a day of the future too): when it can be accepted (epoch ms); nothing read, nothing written. */
  closesAt?: number;
}

/** One tag's day as an acceptance would seal it anew: the ids of the rows read on it (in their order) and the new seal (its MAC, hex). */
export interface DaySealing {
  tag: string;
  day: string;
  paymentIds: number[];
  seal: string;
}

/** The payments of an account in a period, each proved, and what could not be read whole. */
export interface ReconciledPeriod {
  rows: ReconciledPayment[];
  truncated: boolean;
  missing: MissingPayments[];
  /**
   * The Jakarta days of the period (yyyy-MM-dd) not held to a trusted seal read whole, so not
   * checked for payments deleted in the database: a day not sealed yet (today, a day closed less
   * than an hour ago, one the sweep or a reading has not sealed, one with a payment that does not
   * hold, one with no payment at all), or one past RECONCILE_LIMIT.
   */
  unchecked: string[];
  /**
   * Days (yyyy-MM-dd) proved whole by this reading that are not sealed because the audit chains
   * do not hold as a whole (the chain guard: a record deleted with its link, a chain cut back or
   * deleted), with the problem in words: their payments each agree with the last event left of
   * their history, which proves nothing while a later one may have been deleted. Each is in
   * `unchecked` too. Absent when none.
   */
  unprovable?: { days: string[]; problem: string };
  /**
   * Days (yyyy-MM-dd) proved whole by this reading that are not sealed because proving the audit
   * chains since their start walks more links than a reading may (StoreReadLimits.readingChainLinks):
   * nothing was proved either way, so they are not sealed and not checked (each is in `unchecked`
   * too); the seal sweep proves them on its next run (those older than its window as this reading
   * asked it). `detail`: the chain guard's words. Absent when none.
   */
  leftToSweep?: { days: string[]; detail: string };
  /**
   * `truncated` only: the first Jakarta day (yyyy-MM-dd) whose payments were not all read (the
   * reading stopped at RECONCILE_LIMIT rows within it, or before it): from it on, a debit no
   * payment read books may book one left out (reconcileStatement: `not-read`).
   */
  notReadFrom?: string;
}

export interface PaymentSearchRepository {
  /**
   * One page of payments matching `search`, in `sort` order, after `cursor` (keyset pagination:
   * the cost of a page does not grow with how deep it is). `limit` is capped at 1000.
   */
  page(search: PaymentSearch, sort: PaymentSort, cursor: PaymentCursor | null, limit: number, direction?: 'after' | 'before'): Promise<PaymentPage>;
  /** One payment; marked (integrityProblem) rather than refused when it fails its integrity check, with what did not open left out. */
  findById(id: number): Promise<PaymentRecord | null>;
  /** The review queue as the console shows it: oldest first, each payment marked like a list's. */
  listInReview(limit: number): Promise<PaymentRecord[]>;
  /** The payment run (batch) each of these payments was a line of, by payment id. */
  runsOf(payments: PaymentRecord[]): Promise<Map<number, { batchPk: number; batchId: string }>>;
  /** The newest payment runs, newest first. */
  recentRuns(limit: number): Promise<TransferBatchRecord[]>;
  /** One run and every line, each with its payment once it has one; null when there is no such run. */
  run(batchPk: number): Promise<{ batch: TransferBatchRecord; lines: RunLine[] } | null>;
  /**
   * The payments paid from `sourceAccount` received in [from, to) (epoch ms), oldest first. The
   * paying account is sealed; its keyed tag (migration 022) finds the rows, and each row's sealed
   * account is opened and must be `sourceAccount`. At most RECONCILE_LIMIT are read, and
   * `truncated` says when the period held more. Only what a reconciliation matches and shows, and
   * what each payment's MAC is checked from, is read, from one index (migrations 029, 030); a
   * payment whose MAC does not hold, or whose state or bank ids are not what its last event says,
   * carries its integrityProblem. A row read with exactly the values an earlier read proved, or
   * of a closed day read exactly as an earlier read proved it whole, is not opened again
   * (ProvedRows), nor a row of a closed day whose trusted seal its rows hash to (migration 031,
   * reconciliation-seals.ts); a closed day proved whole is sealed when the store has an audit
   * chain. The payments handed out are frozen and may be the same objects as an earlier read's.
   * `missing` names each sealed day read whole without a payment its trusted seal covered that was
   * not released through Gerbang since (its chained release event): payments deleted in the
   * database, outside Gerbang, each by its id (a seal since migration 041; an older one is held to
   * its count); such a day is never sealed anew. `unchecked` names the days of the period no seal
   * held so (ReconciledPeriod).
   */
  fromAccount(sourceAccount: string, from: number, to: number): Promise<ReconciledPeriod>;
  /**
   * An operator's acceptance of a day the reconciliation names (`day`, yyyy-MM-dd, of
   * `sourceAccount`): the day is read as fromAccount reads it, nothing written. When it names the
   * day (`found`) and every payment of it holds, `accept` is asked with what was found; when it
   * answers true, the day is sealed anew (writeSeals, each seal with its change record) from the
   * payments as proved by that very reading, each tag's day the reading named: its payments
   * deleted are no longer named, and its seal holds the day to the payments it has now (one
   * deleted later is named). A tag none of whose payments is left on the day is sealed empty.
   * `accept` is asked with what would be sealed too (DayToAccept), so what is accepted names the
   * very payments sealed. Not asked (`unsealable`): a day that would leave out a row still in the
   * database (MissingPayments.moved; a row of the account read without its tag), a payment that
   * does not hold, a day past one reading; nothing read (`closesAt`): a day not closed yet.
   * Throws RangeError for a `day` that is not one, Error when the store has no audit chain.
   */
  acceptDay(sourceAccount: string, day: string, accept: (toAccept: DayToAccept) => Promise<boolean>): Promise<DayAcceptance>;
  /**
   * What a seal, a day's acceptance and the kept day totals ask before they are written (#16):
   * whether the audit chains hold as a whole from `since` on (epoch ms: the start of the first day
   * sealed, less other nodes' clocks' margin), walking at most `maxLinks` links when given (a
   * reading's bound; the sweep and an acceptance give none): ChainsAnswer. The console gives its
   * ChainGuard (src/audit: the database and the checkpoints outside it); without one the store
   * asks the database alone (databaseChains). Asked before the snapshot in which the rows the seal
   * is made of are read again begins, and answered in it (SealGuard).
   */
  guardSeals(guard: SealGuard): void;
  /**
   * The console's sweep: counts and keeps the overview's totals of the closed days of the last
   * month that have none that hold (`daysCounted`), seals the closed days of the last month of
   * accounts that have payments (reconciliation-seals.ts) and renews the seals a payment event appended since made stale, each
   * such day proved row by row first (one that does not prove is left unsealed, its rows marked);
   * at most `budgetRows` rows proved one by one per run, `stop` asked between accounts. First it
   * reads and seals the spans older than that month readings left to it (`requested`: fromAccount's
   * `leftToSweep`), its chain walks unbounded. What it did, for the log.
   */
  sealClosedDays(
    now: number,
    budgetRows?: number,
    stop?: () => boolean,
  ): Promise<{ accounts: number; rowsRead: number; rowsProved: number; sealed: number; stale: number; daysCounted: number; renewed: number; left: boolean; requested: number }>;
  /**
   * A closed day with a trusted seal, of the first account that has one, and that account: what the
   * console reads as it starts so a clerk's first reconciliation finds its code and connections
   * warm. Its day with the most rows up to `maxRows` (default 5,000), else its smallest. Null when
   * no day is sealed.
   */
  sealedDayToWarm(now: number, maxRows?: number): Promise<{ account: string; from: number; to: number } | null>;
  /** Rows the reconciliation proved one by one (opened and checked) since the store started: what day seals spare. */
  readonly rowsProvedOneByOne: number;
  /** Other clients' SUCCESS payments with the same transactionId: a possible double payment. */
  duplicatesOf(payment: PaymentRecord): Promise<PaymentRecord[]>;
  /**
   * For the list's bank filter: the latest payment of every connection that carried one, by its
   * connection (`bank`); its routing record names the connection's bank. Each marked as findById
   * marks it when changed outside Gerbang.
   */
  banks(): Promise<PaymentRecord[]>;
  /**
   * Counts and totals per UTC+7 day and state, payments created in [from, to), as stored: a closed
   * day from its kept totals when they hold (counted once after the day closed by the seal sweep,
   * kept with a MAC, and no payment event of the day since: reconciliation-seals.ts), every other
   * day summed over its own ranges of an index, never grouped row by row (a million payments: see
   * SqlPaymentSearchRepository.dailyTotals). Kept totals that do not hold are named.
   */
  dailyTotals(from: number, to: number): Promise<CountedDailyTotals>;
  /**
   * dailyTotals proved row by row (as PaymentTotals.proof 'proved'): payments changed outside
   * Gerbang are left out and counted per day in `changed`. Null when more than PROVED_LIMIT
   * payments were created in [from, to): the caller then shows dailyTotals as stored, saying so.
   */
  provedDailyTotals(from: number, to: number): Promise<ProvedDailyTotals | null>;
  /** p50/p95 of bank call durations per UTC+7 day (transfers and status inquiries), calls started in [from, to). */
  dailyBankLatency(from: number, to: number): Promise<DailyBankLatency[]>;
  /** Per UTC+7 day (as dailyBankLatency), how many of its bank calls were written back from the audit spool; days without any are absent. */
  spooledBankCallDays(): Promise<Map<string, number>>;
}

// ---------------------------------------------------------------- console users, sessions, audit

export type ConsoleRole = 'viewer' | 'auditor' | 'admin';
export const CONSOLE_ROLES: readonly ConsoleRole[] = ['viewer', 'auditor', 'admin'];

export interface ConsoleUser {
  id: number;
  username: string;
  /** scrypt hash in the format of src/security/password-hash.ts. */
  passwordHash: string;
  role: ConsoleRole;
  status: 'active' | 'disabled';
  createdAt: number;
  updatedAt: number;
  /** Set by list() only: its MAC does not hold, or it is not its latest state (forged, written back, inserted in SQL). */
  integrityProblem?: string;
}

export interface ConsoleUserRepository {
  /** Throws UniqueViolationError when the username exists. */
  create(user: { username: string; passwordHash: string; role: ConsoleRole }, now: number): Promise<ConsoleUser>;
  findByUsername(username: string): Promise<ConsoleUser | null>;
  findById(id: number): Promise<ConsoleUser | null>;
  list(): Promise<ConsoleUser[]>;
  update(id: number, change: { role?: ConsoleRole; status?: 'active' | 'disabled'; passwordHash?: string }, now: number): Promise<boolean>;
}

export interface ConsoleSession {
  idHash: string;
  userId: number;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface ConsoleSessionRepository {
  create(session: ConsoleSession): Promise<void>;
  find(idHash: string): Promise<ConsoleSession | null>;
  touch(idHash: string, now: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  /** Signs a user out everywhere (disabled, password changed). */
  deleteForUser(userId: number): Promise<void>;
  /** Removes sessions idle since before `idleBefore`; returns how many. */
  purgeIdle(idleBefore: number): Promise<number>;
  /**
   * Keeps a message for the session's next page of `purpose`, sealed (it may hold a new client
   * secret); replaces one of that purpose not shown yet, and leaves the other purposes' messages.
   */
  setFlash(idHash: string, purpose: FlashPurpose, message: string): Promise<void>;
  /**
   * The message of `purpose` kept for this session, cleared in the same step (the others kept): of
   * two requests racing for it, one gets it and the other null. Null too when there is none.
   */
  takeFlash(idHash: string, purpose: FlashPurpose): Promise<string | null>;
}

/** What a console page leaves a message for: the admin page (a new client secret among them), a requeue's outcome on its payment's page. */
export const FLASH_PURPOSES = ['admin', 'requeue'] as const;
export type FlashPurpose = (typeof FLASH_PURPOSES)[number];

/** How many characters a console audit entry's detail keeps (ConsoleAuditRepository.record cuts the rest). */
export const CONSOLE_AUDIT_DETAIL_MAX = 1024;

export interface ConsoleAuditEntry {
  at: number;
  username: string;
  action: string;
  target: string | null;
  /** At most CONSOLE_AUDIT_DETAIL_MAX characters kept. */
  detail: string | null;
  remoteIp: string;
}

export interface ConsoleAuditRepository {
  record(entry: ConsoleAuditEntry): Promise<number>;
  /** Newest first. */
  list(query: { username?: string; action?: string; limit?: number }): Promise<(ConsoleAuditEntry & { id: number })[]>;
  /**
   * The entries of `action` whose target is exactly one of `targets` (every entry of `action`
   * when `targets` is absent), newest first, of the newest `limit` such rows (at most and by
   * default 1,000), only those that hold under their `console_audit` chain link's MAC, as `audit
   * verify` judges them: an entry inserted or changed in SQL, by a writer without the chain key,
   * is left out. None without audit keys (nothing can be proved).
   */
  provedEntries(query: { action: string; targets?: readonly string[]; limit?: number }): Promise<(ConsoleAuditEntry & { id: number })[]>;
}

// ---------------------------------------------------------------- audit-chain verification runs

export interface AuditVerificationRun {
  checkedAt: number;
  /** True when every chain was intact. */
  ok: boolean;
  links: number;
  breaks: number;
  /** The first broken record, in words; null when intact. */
  firstBreak: string | null;
  /**
   * Set by AuditVerificationRepository.latest() only: why the newest result cannot be believed
   * (written, altered or deleted in the database, or no keys here to check it). Its date and
   * counts are then the forged row's (or none), not to be shown as a verification's; `ok` is false.
   */
  integrityProblem?: string;
}

/** Results of the audit-chain verification, kept so the console can show the last one. */
export interface AuditVerificationRepository {
  record(run: AuditVerificationRun): Promise<void>;
  latest(): Promise<AuditVerificationRun | null>;
}

export interface Store {
  readonly db: Db;
  readonly clients: ClientRepository;
  readonly accountGrants: AccountGrantRepository;
  readonly clientCredentials: ClientCredentialRepository;
  readonly requestSignatures: RequestSignatureRepository;
  readonly payments: PaymentRepository;
  readonly audit: AuditRepository;
  readonly rateLimits: RateLimitRepository;
  readonly lockouts: LoginLockoutRepository;
  readonly bankTokens: BankTokenRepository;
  readonly sequences: SequenceRepository;
  readonly batches: TransferBatchRepository;
  readonly callbacks: CallbackRepository;
  readonly bankNotifications: BankNotificationRepository;
  readonly paymentSearch: PaymentSearchRepository;
  readonly consoleUsers: ConsoleUserRepository;
  readonly consoleSessions: ConsoleSessionRepository;
  readonly consoleAudit: ConsoleAuditRepository;
  readonly auditVerifications: AuditVerificationRepository;
  readonly keyRotation: KeyRotationRepository;
  close(): Promise<void>;
}
