import { createHmac } from 'node:crypto';
import { IntegrityError } from '../../errors/index.js';
import type { KeyRing } from '../../security/index.js';
import { REVIEW_STATES, type Db, type Dialect, type ExecuteResult, type InDoubtState, type InDoubtSummary, type LaterHistory, type NewPayment, type PaymentDetails, type PaymentRecord, type PaymentRepository, type PaymentState, type PaymentUpdate, type Queryable, type RefusedPayment, type SenderLastWrote, type SendingFields, type SqlStatement, type SqlValue, type HeldBankId } from '../types.js';
import { isLink, type ChainLanes, type Written } from './audit-chain.js';
import type { ChainDependency, VouchedChains } from '../types.js';
import { chainCoverage } from './chain-coverage.js';
import { chainReader } from './chain-reader.js';
import { verifyChainsSince } from './audit-verify.js';
import { eventPlace, lastTrustedEvent, openEvent, PAYMENT_EVENT_COLUMNS, PAYMENT_EVENT_WRITTEN, paymentEventDigest, paymentHistory, RELEASED, snapshotOfRow, type PaymentEventCause, type PaymentEventRow, type PaymentSnapshot } from './payment-events.js';
import { insertUnlessTaken, lastInsertIdSql, rowCountSql } from './sql-dialect.js';
import { amountMinor } from './amount-minor.js';
import { toNumber, toNumberOrNull, toStringOrNull, wellFormed } from './row-values.js';
import { maskAccount } from './audit-records.js';
import { KEY_ID_AFTER_PARTIAL_WRITE, paymentPlace, place, ValueSealer, type SealPlace, type ValueOpener } from './sealed-values.js';
import { gramHashesOf, gramInserts } from './payment-search-grams.js';
import { macHolds, recordMac } from './record-macs.js';

/**
 * How much earlier than a payment's last event laterHistory() begins on every chain: another
 * node's clock may run this much behind the one that linked the event, so a later event it linked
 * may carry an earlier time. Nodes keep NTP time (docs/operator-guide.md); 10 s is far beyond its drift.
 */
export const OTHER_CLOCKS_MS = 10_000;

/** How long a payment in doubt that failed its integrity check is held by the resolver that found it: it is named again after. */
export const REFUSED_PAYMENT_HOLD_MS = 24 * 3_600_000;

export interface PaymentRow {
  id: number | string;
  client_id: string;
  transaction_id: string;
  request_hash: string;
  state: PaymentState;
  bank: string | null;
  operation: string | null;
  bank_transaction_id: string | null;
  bank_transaction_date: string | null;
  bank_reference: string | null;
  amount: string;
  currency: string;
  result_json: string | null;
  http_status: number | string | null;
  created_at: number | string;
  updated_at: number | string;
  check_attempts: number | string;
  not_found_count: number | string;
  next_check_at: number | string | null;
  key_id: string | null;
  details_json: string | null;
  beneficiary_account: string | null;
  beneficiary_bank: string | null;
  mac_key_id: string | null;
  mac: string | null;
  source_account: string | null;
  bank_external_id: string | null;
  review_since: number | string | null;
}

/** Every column a PaymentRecord is read from (shared with the console's search). */
export const PAYMENT_COLUMNS =
  'id, client_id, transaction_id, request_hash, state, bank, operation, bank_transaction_id, bank_transaction_date, ' +
  'bank_reference, amount, currency, result_json, http_status, created_at, updated_at, check_attempts, not_found_count, next_check_at, key_id, mac_key_id, mac, ' +
  'source_account, bank_external_id, review_since, details_json, beneficiary_account, beneficiary_bank';

export function parseDetails(text: string | null): PaymentDetails | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as PaymentDetails;
    return value !== null && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

/** What a payment's MAC key is derived for (KeyRing.macKey). */
const PAYMENT_PURPOSE = 'payment';
/** The key of the paying accounts' search tags (HKDF from the ring key: never the encryption key). */
const ACCOUNT_TAG_PURPOSE = 'payment account tag';

/** The fields fixed when a payment is reserved, which its MAC covers (the id is not known before the INSERT; the pair is unique). */
export interface PaymentFixed {
  clientId: string;
  transactionId: string;
  requestHash: string;
  amount: string;
  currency: string;
  createdAt: number;
}

/** HMAC-SHA256 of a payment's fixed fields under the ring's payment key `keyId` (the newest when omitted). */
export function paymentMac(ring: KeyRing, p: PaymentFixed, keyId?: string): { keyId: string; mac: string } {
  return recordMac(ring, PAYMENT_PURPOSE, fixedFields(p), keyId);
}

/** What a payment's MAC covers, in its order (record-macs.ts: one HMAC for every maced row). */
function fixedFields(p: PaymentFixed): readonly unknown[] {
  return [p.clientId, p.transactionId, p.requestHash, p.amount, p.currency, p.createdAt];
}

/**
 * The keyed tag of a paying account (migration 022): HMAC-SHA256 under the ring's account-tag key
 * `keyId` (the newest when omitted), its first 128 bits in hex. Searchable in SQL, opaque without the key.
 */
export function accountTag(ring: KeyRing, account: string, keyId?: string): string {
  const { key } = ring.macKey(ACCOUNT_TAG_PURPOSE, keyId);
  return createHmac('sha256', key).update(account).digest('hex').slice(0, 32);
}

/** The problem with a payment row's MAC in words, or null when it matches. */
export function paymentMacProblem(ring: KeyRing, row: Pick<PaymentRow, 'id' | MacedColumn>): string | null {
  if (row.mac === null || row.mac_key_id === null) return `payments id ${toNumber(row.id)} carries no MAC: it was not written by the gateway`;
  if (!macHolds(ring, PAYMENT_PURPOSE, fixedFields(fixedOf(row)), { mac_key_id: row.mac_key_id, mac: row.mac })) {
    return `payments id ${toNumber(row.id)} (${row.client_id} / ${row.transaction_id}) was altered: its client, transaction id, request hash, amount, currency or creation time no longer match its MAC`;
  }
  return null;
}

/** The columns a payment's MAC is checked from (besides its id). */
export type MacedColumn = 'client_id' | 'transaction_id' | 'request_hash' | 'amount' | 'currency' | 'created_at' | 'mac_key_id' | 'mac';

/** Those columns and the id: what a check of many payments' MACs reads (AuditScrub's check of payment histories). */
export const MACED_PAYMENT_COLUMNS: readonly ('id' | MacedColumn)[] = ['id', 'client_id', 'transaction_id', 'request_hash', 'amount', 'currency', 'created_at', 'mac_key_id', 'mac'];

function fixedOf(row: Pick<PaymentRow, MacedColumn>): PaymentFixed {
  return { clientId: row.client_id, transactionId: row.transaction_id, requestHash: row.request_hash, amount: row.amount, currency: row.currency, createdAt: toNumber(row.created_at) };
}

/** PaymentUpdate field → column. The only column names an UPDATE is built from (result_json, sealed, is written apart). */
const UPDATABLE: Record<Exclude<keyof PaymentUpdate, 'resultJson'>, string> = {
  state: 'state',
  bank: 'bank',
  operation: 'operation',
  bankTransactionId: 'bank_transaction_id',
  bankTransactionDate: 'bank_transaction_date',
  bankReference: 'bank_reference',
  httpStatus: 'http_status',
  bankExternalId: 'bank_external_id',
};

/** The unique key of payment_events. */
const EVENT_KEY = ['payment_id', 'seq'];

/** An event appended under its chain link, and its place in the payment's history. */
type EventWritten = Written & { seq: number };

/** The record as the event `seq` recorded it (undefined: a row from before its history was kept). */
function withEventSeq(record: PaymentRecord, seq: number | undefined): PaymentRecord {
  return seq === undefined ? record : { ...record, eventSeq: seq };
}

/** An event a writer builds from what it knows: the payment as the write leaves it, and the seq that follows the writer's last event. */
interface KnownEvent {
  seq: number;
  snapshot: PaymentSnapshot;
  /**
   * The bank ids the payment held as its writer last wrote it: their trigrams went into the search
   * index with them, so a write that stores one again adds none, unless the row turns out to have
   * changed since (its event read back: changed()), when all of the write's are added.
   */
  bankIds?: readonly (string | null)[];
}

/** A record's snapshot with `update` written over it (its strings as the store keeps them). */
function snapshotAfter(record: PaymentRecord, update: PaymentUpdate, extra: Partial<PaymentSnapshot> = {}): PaymentSnapshot {
  const snapshot: PaymentSnapshot = {
    state: record.state,
    bank: record.bank,
    operation: record.operation,
    bankTransactionId: record.bankTransactionId,
    bankTransactionDate: record.bankTransactionDate,
    bankReference: record.bankReference,
    bankExternalId: record.bankExternalId,
    httpStatus: record.httpStatus,
    reviewSince: record.reviewSince,
    resultJson: record.resultJson,
  };
  for (const [field, value] of Object.entries(update) as [keyof PaymentUpdate, PaymentUpdate[keyof PaymentUpdate]][]) {
    if (value !== undefined) (snapshot as unknown as Record<string, unknown>)[field] = value;
  }
  return { ...snapshot, ...extra };
}

/** The fields with their clear strings as a utf8mb4 column returns them (the sealed answer aside), so an event built from them matches the row. */
function storable<T extends PaymentUpdate>(fields: T): T {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) out[field] = typeof value === 'string' && field !== 'resultJson' ? wellFormed(value) : value;
  return out as T;
}

/** REVIEW_STATES as a list of SQL literals, for `state IN (…)`. */
export const REVIEW_STATES_SQL = REVIEW_STATES.map((state) => `'${state}'`).join(', ');
/** A settlement's condition: in doubt, or a reservation in review (an admin resolved it). */
const IN_REVIEW_OR_DOUBT = "(state IN ('SENDING', 'UNKNOWN', 'PENDING') OR (state = 'RECEIVED' AND review_since IS NOT NULL))";

/** A write's condition beyond `WHERE id = ?`: SQL beginning with AND, and its parameters. */
interface Condition {
  sql: string;
  params: SqlValue[];
}

/**
 * The condition that the row still holds bank id `held` (null: never routed). A decision is
 * about one bank id: the bank's "X1 failed" must never land on a row a fallback route moved to X2.
 * Written as a function of the columns, which no index serves, so the write is planned on the
 * primary key alone: with the plain columns MariaDB filtered through ix_payments_bank_created_at,
 * whose gap locks held every other payment's insert while this write's event waited on a lock
 * (test/store/mysql-autoinc-lock.test.ts). Bank ids are never empty, so '' stands for none.
 */
function holding(held: HeldBankId): Condition {
  return { sql: " AND COALESCE(bank, '') = ? AND COALESCE(bank_transaction_id, '') = ?", params: [held.bank ?? '', held.bankTransactionId ?? ''] };
}

/**
 * The row still as a sender last wrote it (`lastWrote`): RECEIVED, or SENDING under the same bank
 * id. Null when `lastWrote` is neither (SENDING under no id, or settled): no row is the sender's then.
 */
function asLastWritten(lastWrote: SenderLastWrote | null): Condition | null {
  if (lastWrote?.state === 'RECEIVED') return { sql: "state = 'RECEIVED'", params: [] };
  if (lastWrote?.state !== 'SENDING' || lastWrote.bank === null || lastWrote.bankTransactionId === null) return null;
  const held = holding(lastWrote);
  return { sql: `(state = 'SENDING'${held.sql})`, params: held.params };
}

/**
 * A stored payment in clear: its answer (result_json, sealed for its row) opened with `sealer`.
 * With `verified`, its MAC is checked first: IntegrityError (AUDIT_INTEGRITY) when it does not
 * match, so nothing is reported from a payment changed in the database.
 */
export function toPaymentRecord(row: PaymentRow, sealer: ValueSealer, verified = true): PaymentRecord {
  if (verified) {
    const problem = paymentMacProblem(sealer.keyRing, row);
    if (problem !== null) throw new IntegrityError(problem);
  }
  return openPaymentRow(row, sealer);
}

/** The row as a record, its sealed values opened by `opener`, its MAC not checked. */
export function openPaymentRow(row: PaymentRow, sealer: ValueOpener): PaymentRecord {
  return {
    id: toNumber(row.id),
    clientId: row.client_id,
    transactionId: row.transaction_id,
    requestHash: row.request_hash,
    state: row.state,
    bank: toStringOrNull(row.bank),
    operation: toStringOrNull(row.operation),
    bankTransactionId: toStringOrNull(row.bank_transaction_id),
    bankTransactionDate: toStringOrNull(row.bank_transaction_date),
    bankReference: toStringOrNull(row.bank_reference),
    amount: row.amount,
    currency: row.currency,
    resultJson: sealer.open(toStringOrNull(row.result_json), paymentPlace('result_json', row)),
    httpStatus: toNumberOrNull(row.http_status),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
    checkAttempts: toNumber(row.check_attempts),
    notFoundCount: toNumber(row.not_found_count),
    nextCheckAt: toNumberOrNull(row.next_check_at),
    sourceAccount: sealer.open(toStringOrNull(row.source_account), paymentPlace('source_account', row)),
    bankExternalId: toStringOrNull(row.bank_external_id),
    reviewSince: toNumberOrNull(row.review_since),
    details: parseDetails(sealer.open(toStringOrNull(row.details_json), paymentPlace('details_json', row))),
    beneficiaryAccountMasked: toStringOrNull(row.beneficiary_account),
    beneficiaryBank: toStringOrNull(row.beneficiary_bank),
  };
}

/**
 * Payments keyed by (clientId, transactionId): the idempotency record of every transfer. The
 * UNIQUE key, not a read-then-insert, decides which of two concurrent requests owns the id.
 * The answer kept for replays and status reads (result_json: the bank's message can quote
 * anything), the paying account (source_account) and the details the finance console shows
 * (details_json) are sealed with the key ring; everything else is clear and searchable.
 */
export class SqlPaymentRepository implements PaymentRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null = null,
    /** The audit's keyed chains, which every state change of a payment is appended to (payment-events.ts). */
    private readonly chain: ChainLanes | null = null,
    /**
     * Seal a new payment's account and details in its INSERT (gcm3, GERBANG_SEAL_PAYMENTS_AT_INSERT)
     * instead of by an UPDATE after it: only once every process reading this store opens gcm3.
     */
    private readonly sealAtInsert = false,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  /**
   * Runs `change` (a conditional UPDATE of payment `id`: it changed the row when it matched one)
   * and, when it did, appends the payment's event in the same transaction, under a `payment_event`
   * chain link: built from `known` (the row as the write left it, if nothing else changed it since
   * event `known.seq - 1`) when given, else from the row read back; and `grams`, the search
   * trigrams the change adds (`added`; `all` of its bank ids' when the row turns out to have
   * changed since `known`), go with the links (Written.alongside), as nothing later reads them.
   * The UPDATE is a deferred record's statement (DeferredRecord): it travels with the group's other
   * records (a bank call's), and so does, right after it, the INSERT of the event from `known`,
   * which the database makes only when the UPDATE matched the row (knownEventStatement): an UPDATE
   * that matched no row still writes no event. Without `known` the event follows once the UPDATE's
   * result is known, from the row read back.
   */
  private async changed(
    cause: PaymentEventCause,
    id: number,
    update: SqlStatement,
    now: number,
    known?: KnownEvent,
    after?: ChainDependency,
    grams?: { added: bigint[]; all: bigint[] },
  ): Promise<boolean> {
    if (!this.chain) throw new Error('this store has no audit chain: payments cannot be written');
    const written = await this.chain.append(
      'payment_event',
      async (q) => ({
        statements: known ? [update, this.knownEventStatement(q.dialect, cause, id, known, now)] : [update],
        row: `payments:${id}`,
        finish: async ([{ affectedRows }, event], tx) => {
          if (affectedRows !== 1) {
            // Its condition is the UPDATE's outcome (rowCountSql): it cannot have made a row.
            if (event !== undefined && event.affectedRows !== 0) throw new Error(`payments id ${id}: an event was inserted after an UPDATE that matched ${affectedRows} rows`);
            return null;
          }
          const written = known ? await this.knownEventWritten(tx, event, cause, id, now, known) : await this.appendEvent(tx, cause, id, now);
          // An event at another seq than `known`'s was built from the row read back: it changed since.
          const hashes = !grams ? [] : known && written.seq !== known.seq ? grams.all : grams.added;
          return hashes.length === 0 ? written : { ...written, alongside: gramInserts(tx.dialect, [{ paymentId: id, hashes }], true) };
        },
      }),
      { after },
    );
    return written !== null;
  }

  /**
   * The INSERT of event `known` of payment `id` (null: of the payment the statement right before it
   * inserted, by its id: lastInsertIdSql), for a deferred record's statements; with `id`, made only
   * when the statement right before it (the payment's conditional UPDATE) matched the row
   * (rowCountSql): else its seq is `known.seq - 1`, the event `known` follows, which the payment
   * has (its writer read or wrote it; events are never deleted), so the INSERT is skipped as any
   * other whose key is taken (a VALUES insert, not INSERT … SELECT: insertUnlessTaken says why).
   * Skipped, not refused, when the payment has an event at `known.seq` already (insertUnlessTaken):
   * the row changed since the writer's last event (or a new payment's id was used before), which
   * knownEventWritten then handles. Nothing of it is read back: its record is built from `known`
   * and the INSERT's id.
   */
  private knownEventStatement(dialect: Dialect, cause: PaymentEventCause, id: number | null, known: KnownEvent, now: number): SqlStatement {
    // An answer is sealed for its place (payment id, seq): a new payment's id is not known yet, and its first event has none.
    if (id === null && known.snapshot.resultJson !== null) throw new Error("a new payment's event cannot seal an answer before its id is known");
    if (id !== null && known.seq < 2) throw new Error(`payments id ${id}: event ${known.seq} cannot follow an event the payment has`);
    const [, , ...values] = this.eventValues(cause, id ?? 0, known.seq, known.snapshot, now);
    const [payment, seq, keyParams] =
      id === null ? [lastInsertIdSql(dialect), '?', [known.seq]] : ['?', `CASE WHEN ${rowCountSql(dialect)} = 1 THEN ? ELSE ? END`, [id, known.seq, known.seq - 1]];
    return {
      sql: insertUnlessTaken(dialect, { table: 'payment_events', columns: PAYMENT_EVENT_WRITTEN, values: [payment, seq, ...values.map(() => '?')], key: EVENT_KEY }),
      params: [...keyParams, ...values],
    };
  }

  /**
   * The event knownEventStatement inserted (`event` is its result), or, when it was skipped because
   * the payment has an event at `known.seq` already, the event of the row as it now stands
   * (appendEvent, at a later seq). Safe because every write of a payment's state appends its
   * event in the same transaction, and (payment_id, seq) is unique: the write just made holds the
   * row's lock, so a change committed since the writer's last event has its event at `known.seq`
   * already. A row inserted with warnings (MySQL: INSERT IGNORE lets a value be cut) is read back
   * and must be the record built from `known`, else the write fails.
   */
  private async knownEventWritten(
    tx: Queryable,
    event: ExecuteResult,
    cause: PaymentEventCause,
    id: number,
    now: number,
    known: KnownEvent,
  ): Promise<EventWritten> {
    if (event.affectedRows !== 1) return this.appendEvent(tx, cause, id, now);
    const written = this.eventRecord(event.insertId, cause, id, known.seq, known.snapshot, now);
    if (event.warnings) {
      const [row] = await tx.query<PaymentEventRow>(`SELECT ${PAYMENT_EVENT_COLUMNS} FROM payment_events WHERE id = ?`, [event.insertId]);
      if (!row || paymentEventDigest(openEvent(row, this.sealer)) !== written.contentDigest) {
        throw new Error(`payment_events id ${event.insertId} (payment ${id} seq ${known.seq}) was not stored as given (${event.warnings} warnings)`);
      }
    }
    return written;
  }

  /** Inserts the event of payment `id` as the row now stands (`released`: the row that was deleted). */
  private async appendEvent(tx: Queryable, cause: PaymentEventCause, id: number, now: number, released?: PaymentRow): Promise<EventWritten> {
    // The row as it now stands and the number of its last event, in one read.
    const lastSeq = '(SELECT MAX(e.seq) FROM payment_events e WHERE e.payment_id = ?) AS last_event_seq';
    const [read] = released
      ? await tx.query<{ last_event_seq: number | string | null }>(`SELECT ${lastSeq}`, [id])
      : await tx.query<PaymentRow & { last_event_seq: number | string | null }>(`SELECT ${PAYMENT_COLUMNS}, ${lastSeq} FROM payments WHERE id = ?`, [id, id]);
    if (!read) throw new Error(`payment ${id} vanished while its event was written`);
    const row = released ?? (read as PaymentRow & { last_event_seq: number | string | null });
    const result = this.sealer.open(toStringOrNull(row.result_json), paymentPlace('result_json', row));
    const snapshot: PaymentSnapshot = { ...snapshotOfRow(row, result), ...(released ? { state: RELEASED } : {}) };
    const seq = (read.last_event_seq === null ? 0 : toNumber(read.last_event_seq)) + 1;
    return this.insertEvent(tx, cause, id, seq, snapshot, now);
  }

  /** Inserts event `seq` of payment `id` recording `snapshot`; its id and the digest its chain link covers. */
  private async insertEvent(tx: Queryable, cause: PaymentEventCause, id: number, seq: number, snapshot: PaymentSnapshot, now: number): Promise<EventWritten> {
    const values = this.eventValues(cause, id, seq, snapshot, now);
    const { insertId } = await tx.execute(`INSERT INTO payment_events (${PAYMENT_EVENT_WRITTEN.join(', ')}) VALUES (${values.map(() => '?').join(', ')})`, values);
    return this.eventRecord(insertId, cause, id, seq, snapshot, now);
  }

  /** The values of PAYMENT_EVENT_WRITTEN for event `seq` of payment `id` recording `snapshot` (its answer sealed for its place). */
  private eventValues(cause: PaymentEventCause, id: number, seq: number, snapshot: PaymentSnapshot, now: number): SqlValue[] {
    return [
      id, seq, cause, snapshot.state, snapshot.bank, snapshot.operation, snapshot.bankTransactionId, snapshot.bankTransactionDate, snapshot.bankReference,
      snapshot.bankExternalId, snapshot.httpStatus, snapshot.reviewSince, this.sealer.seal(snapshot.resultJson, eventPlace(id, seq)), now, this.sealer.currentKeyId,
    ];
  }

  /** Event `eventId`, seq `seq` of payment `id` recording `snapshot`, as its chain link covers it. */
  private eventRecord(eventId: number, cause: PaymentEventCause, id: number, seq: number, snapshot: PaymentSnapshot, now: number): EventWritten {
    return { recordId: eventId, contentDigest: paymentEventDigest({ id: eventId, paymentId: id, seq, cause, recordedAt: now, snapshot }), seq };
  }

  /**
   * A payment read for the API: its MAC (toPaymentRecord) and its current state against its last
   * event, itself checked against its chain link's MAC. IntegrityError (AUDIT_INTEGRITY) when
   * either does not hold, so a state written in SQL is never reported. Null when the payment was
   * released (deleted) while it was being read.
   */
  private async checkedRecord(row: PaymentRow): Promise<PaymentRecord | null> {
    const record = toPaymentRecord(row, this.sealer);
    const history = await this.history(this.db, row, record);
    if (!('problem' in history)) return withEventSeq(record, history.seq);
    // The row and its history were read by two statements: another request moving this payment
    // on between them looks like a mismatch. Both are read again in one transaction, from one
    // snapshot; a state written in SQL without its event still does not match.
    return this.db.withTransaction(async (tx) => {
      const [fresh] = await tx.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [row.id]);
      if (!fresh) return null;
      const freshRecord = toPaymentRecord(fresh, this.sealer);
      const history = await this.history(tx, fresh, freshRecord);
      if ('problem' in history) throw new IntegrityError(history.problem);
      return withEventSeq(freshRecord, history.seq);
    });
  }

  /**
   * The payment's history as `q` reads it: the seq of its last event when that event matches the
   * row (undefined: a row from before its history was kept), else what is wrong with it.
   */
  private async history(q: Queryable, row: PaymentRow, record: PaymentRecord): Promise<{ seq: number | undefined } | { problem: string }> {
    const last = await lastTrustedEvent(q, this.sealer.keyRing, this.sealer, record.id);
    // The coverage time matters only to a payment without events.
    const coverage = last === null ? (await chainCoverage(q, this.sealer)).payments : { since: 0, problem: null };
    return paymentHistory({ ...record, snapshot: snapshotOfRow(row, record.resultJson) }, last, coverage);
  }


  /**
   * Inserts in state RECEIVED, or SENDING with the first route's bank and bank id (`sending`), in
   * one INSERT. Throws UniqueViolationError when (clientId, transactionId) exists.
   */
  async reserve(payment: NewPayment, now: number): Promise<PaymentRecord> {
    const details = payment.details ?? null;
    const beneficiaryAccountMasked = details ? maskAccount(details.beneficiaryAccount) : null;
    const beneficiaryBank = details ? details.beneficiaryBankCode.trim().toUpperCase().slice(0, 16) : null;
    const { keyId, mac } = paymentMac(this.sealer.keyRing, { ...payment, createdAt: now });
    if (!this.chain) throw new Error('this store has no audit chain: payments cannot be written');
    const sending = payment.sending ? storable(payment.sending) : null;
    const state: PaymentState = sending ? 'SENDING' : 'RECEIVED';
    const reserved: PaymentRecord = {
      id: 0,
      clientId: payment.clientId,
      transactionId: payment.transactionId,
      requestHash: payment.requestHash,
      amount: payment.amount,
      currency: payment.currency,
      sourceAccount: payment.sourceAccount ?? null,
      bankExternalId: null,
      reviewSince: null,
      details,
      beneficiaryAccountMasked,
      beneficiaryBank,
      state,
      bank: sending?.bank ?? null,
      operation: sending?.operation ?? null,
      bankTransactionId: sending?.bankTransactionId ?? null,
      bankTransactionDate: sending?.bankTransactionDate ?? null,
      bankReference: null,
      resultJson: null,
      httpStatus: null,
      createdAt: now,
      updatedAt: now,
      checkAttempts: 0,
      notFoundCount: 0,
      nextCheckAt: null,
    };
    let seq = 1;
    const { insert, inserted } = this.insertPayment(payment, reserved, { keyId, mac });
    // A new row's first event, built from the values inserted. Event 1 exists already only when
    // the id was used before (a released payment's, were a backend to hand it out again).
    const known = { seq: 1, snapshot: snapshotAfter(reserved, {}) };
    // Deferred: the payment's INSERT and its event's travel with the group's other records (the exchange's open).
    await this.chain.append('payment_event', async (q) => ({
      statements: [insert, this.knownEventStatement(q.dialect, 'reserve', null, known, now)],
      finish: async ([{ insertId }, event], tx) => {
        reserved.id = insertId;
        const written = await this.knownEventWritten(tx, event, 'reserve', reserved.id, now, known);
        seq = written.seq;
        // The sealing UPDATE and the trigrams go with the links (one round trip on MySQL), in the same transaction.
        return { ...written, alongside: inserted(tx.dialect, reserved.id) };
      },
    }));
    return withEventSeq(reserved, seq);
  }

  /**
   * The INSERT of payment `p` (its state, and its route and bank id when SENDING) with its sealed
   * account and details, and `inserted`: given the row's id, the statements for the caller to run
   * after it in the same transaction (the INSERTs of its search trigrams). Sealed in the INSERT,
   * for the values the row is inserted with, when `sealAtInsert`; else for the row's id, which
   * only the INSERT gives, by an UPDATE among those statements.
   */
  private insertPayment(
    payment: NewPayment,
    p: PaymentRecord,
    fixed: { keyId: string; mac: string },
  ): { insert: SqlStatement; inserted: (dialect: Dialect, id: number) => SqlStatement[] } {
    const { keyId, mac } = fixed;
    const details = p.details;
    const sourceAccount = payment.sourceAccount || null;
    const sealed = (at: (column: 'source_account' | 'details_json') => SealPlace, seal: (value: string | null, at: SealPlace) => string | null): SqlValue[] => [
      seal(sourceAccount, at('source_account')),
      sourceAccount === null ? null : accountTag(this.sealer.keyRing, sourceAccount),
      seal(details === null ? null : JSON.stringify(details), at('details_json')),
    ];
    const atInsert = this.sealAtInsert ? sealed((column) => paymentPlace(column, { id: 0, client_id: p.clientId, transaction_id: p.transactionId, created_at: p.createdAt }), (v, at) => this.sealer.sealAtInsert(v, at)) : [];
    const insert = {
      sql:
        'INSERT INTO payments (client_id, transaction_id, request_hash, state, bank, operation, bank_transaction_id, bank_transaction_date, amount, amount_minor, currency, ' +
        `created_at, updated_at, key_id, mac_key_id, mac, beneficiary_account, beneficiary_bank, search_key_id${atInsert.length > 0 ? ', source_account, source_account_tag, details_json' : ''}) ` +
        `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?${', ?'.repeat(atInsert.length)})`,
      // Every value sealed now is under the current key: so is the row.
      params: [
        p.clientId,
        p.transactionId,
        p.requestHash,
        p.state,
        p.bank,
        p.operation,
        p.bankTransactionId,
        p.bankTransactionDate,
        p.amount,
        amountMinor(p.amount),
        p.currency,
        p.createdAt,
        p.updatedAt,
        this.sealer.currentKeyId,
        keyId,
        mac,
        p.beneficiaryAccountMasked,
        p.beneficiaryBank,
        this.sealer.keyRing.currentKeyId,
        ...atInsert,
      ],
    };
    const inserted = (dialect: Dialect, id: number): SqlStatement[] => {
      // Sealed for the row, whose id the INSERT has just given: one UPDATE for both. Nothing in
      // the transaction reads these columns, so it goes with the links and the COMMIT.
      const sealing =
        !this.sealAtInsert && (sourceAccount !== null || details !== null)
          ? [{ sql: 'UPDATE payments SET source_account = ?, source_account_tag = ?, details_json = ? WHERE id = ?', params: [...sealed((column) => place('payments', column, [id]), (v, at) => this.sealer.seal(v, at)), id] }]
          : [];
      // The search's trigrams (migration 026) of what is known now, under the key named in search_key_id.
      const fields = { transactionId: p.transactionId, beneficiaryName: details?.beneficiaryName, remark: details?.remark, bankTransactionId: p.bankTransactionId };
      return [...sealing, ...gramInserts(dialect, [{ paymentId: id, hashes: gramHashesOf(this.sealer.keyRing, fields) }])];
    };
    return { insert, inserted };
  }

  async find(clientId: string, transactionId: string): Promise<PaymentRecord | null> {
    const row = await this.rowOf(this.db, clientId, transactionId);
    return row === undefined ? null : this.checkedRecord(row);
  }

  readingOn(q: Queryable): Pick<PaymentRepository, 'find'> {
    return {
      find: async (clientId, transactionId) => {
        const row = await this.rowOf(q, clientId, transactionId);
        if (row === undefined) return null;
        // Row and history read in the caller's one snapshot: a mismatch is no concurrent move (checkedRecord's second read), it is what the snapshot holds.
        const record = toPaymentRecord(row, this.sealer);
        const history = await this.history(q, row, record);
        if ('problem' in history) throw new IntegrityError(history.problem);
        return withEventSeq(record, history.seq);
      },
    };
  }

  /** The row of `clientId`'s `transactionId` as `q` reads it. */
  private async rowOf(q: Queryable, clientId: string, transactionId: string): Promise<PaymentRow | undefined> {
    const rows = await q.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE client_id = ? AND transaction_id = ?`, [clientId, transactionId]);
    // MariaDB's collations are PAD SPACE (`client_id = 'gbc_1 '` finds gbc_1's): compared again, exactly, on every backend.
    return rows.find((r) => r.client_id === clientId && r.transaction_id === transactionId);
  }

  /** Sets the given fields (undefined ones are left alone) and updated_at; a result is sealed, and the row's key id with it. */
  async update(id: number, update: PaymentUpdate, now: number): Promise<boolean> {
    return this.write('update', id, update, now, '');
  }

  async settle(id: number, update: PaymentUpdate & { state: 'SUCCESS' | 'FAILED' }, now: number, about: HeldBankId): Promise<boolean> {
    // The state condition makes the first settlement win: a late one of another process changes nothing.
    // A reservation an admin resolved in review (never proved sent or unsent) is settled from RECEIVED.
    // The bank id condition keeps an outcome about one id off a row moved to another.
    const held = holding(about);
    return this.write('settle', id, update, now, ", review_since = NULL", { sql: ` AND ${IN_REVIEW_OR_DOUBT}${held.sql}`, params: held.params });
  }

  async storeSendOutcome(id: number, update: PaymentUpdate, now: number, since: PaymentRecord, after?: ChainDependency): Promise<boolean> {
    const final = update.state === 'SUCCESS' || update.state === 'FAILED';
    const clean = storable(update);
    // The event from `since` and the values written: no read of the row (knownEventWritten says why that is safe).
    const known =
      since.id === id && since.eventSeq !== undefined
        ? { seq: since.eventSeq + 1, snapshot: snapshotAfter(since, clean, final ? { reviewSince: null } : {}), bankIds: [since.bankTransactionId, since.bankReference] }
        : undefined;
    const held = holding(since);
    return this.write('send', id, clean, now, final ? ', review_since = NULL' : '', { sql: ` AND state IN ('SENDING', 'UNKNOWN', 'PENDING')${held.sql}`, params: held.params }, known, after);
  }

  async markSending(id: number, sending: SendingFields, now: number, from: SenderLastWrote): Promise<boolean> {
    // Only from what this sender last wrote: a row settled, checked or moved on meanwhile is not its to send.
    const own = asLastWritten(from);
    if (own === null) return false;
    return this.write('update', id, { state: 'SENDING', ...sending }, now, '', { sql: ` AND ${own.sql}`, params: own.params });
  }

  async enterReview(id: number, now: number): Promise<void> {
    await this.changed(
      'review',
      id,
      { sql: `UPDATE payments SET review_since = ? WHERE id = ? AND review_since IS NULL AND state IN (${REVIEW_STATES_SQL})`, params: [now, id] },
      now,
    );
  }

  async listInReview(limit: number): Promise<PaymentRecord[]> {
    const rows = await this.db.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE review_since IS NOT NULL AND state IN (${REVIEW_STATES_SQL}) ORDER BY review_since, id LIMIT ?`,
      [Math.max(1, Math.min(Math.trunc(limit), 1000))],
    );
    return rows.map((row) => toPaymentRecord(row, this.sealer));
  }

  async findById(id: number): Promise<PaymentRecord | null> {
    const rows = await this.db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [id]);
    return rows.length > 0 ? this.checkedRecord(rows[0]) : null;
  }

  async findByBankTransaction(bank: string, bankTransactionId: string): Promise<PaymentRecord | null> {
    const rows = await this.db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE bank = ? AND bank_transaction_id = ?`, [bank, bankTransactionId]);
    // Held to its history like find(): a bank's notification settling it appends an event from the row.
    return rows.length === 1 ? this.checkedRecord(rows[0]) : null;
  }

  private async write(cause: PaymentEventCause, id: number, dirty: PaymentUpdate, now: number, extraSet: string, condition: Condition = { sql: '', params: [] }, known?: KnownEvent, after?: ChainDependency): Promise<boolean> {
    const update = storable(dirty);
    const assignments: string[] = [];
    const params: SqlValue[] = [];
    for (const [field, column] of Object.entries(UPDATABLE) as [Exclude<keyof PaymentUpdate, 'resultJson'>, string][]) {
      const value = update[field];
      if (value === undefined) continue;
      assignments.push(`${column} = ?`);
      params.push(value);
    }
    if (update.resultJson !== undefined) {
      // source_account and details_json, sealed at reserve(), may be under an older key: the row keeps its key id
      // only while it is this one, else NULL so `keys rotate` seals the row whole.
      assignments.push('result_json = ?', `key_id = ${KEY_ID_AFTER_PARTIAL_WRITE}`);
      params.push(this.sealer.seal(update.resultJson, place('payments', 'result_json', [id])), this.sealer.currentKeyId);
    }
    assignments.push('updated_at = ?');
    params.push(now, id, ...condition.params);
    // A bank id arriving is searchable from this write on: its trigrams join the payment's (migration 026).
    // One the payment held already (KnownEvent.bankIds; a bank reference that is the bank id it
    // was sent with) has its trigrams there: they are added only if the row changed since.
    const bankIds = { bankReference: update.bankReference, bankTransactionId: update.bankTransactionId };
    const hashes = gramHashesOf(this.sealer.keyRing, bankIds);
    const held = (value: string | null | undefined) => (value !== null && value !== undefined && known?.bankIds?.includes(value) ? undefined : value);
    const added = known?.bankIds ? gramHashesOf(this.sealer.keyRing, { bankReference: held(bankIds.bankReference), bankTransactionId: held(bankIds.bankTransactionId) }) : hashes;
    return this.changed(cause, id, { sql: `UPDATE payments SET ${assignments.join(', ')}${extraSet} WHERE id = ?${condition.sql}`, params }, now, known, after, { added, all: hashes });
  }

  /** Deletes payment `id` when `condition` holds, with a RELEASED event (the row as it was): its history stays. */
  private async deleteWithEvent(id: number, condition: string, params: SqlValue[], now: number): Promise<boolean> {
    if (!this.chain) throw new Error('this store has no audit chain: payments cannot be written');
    const written = await this.chain.append('payment_event', async (tx) => {
      const [row] = await tx.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [id]);
      if (!row) return null;
      const deleted = await tx.execute(`DELETE FROM payments WHERE id = ? AND ${condition}`, [id, ...params]);
      if (deleted.affectedRows !== 1) return null;
      await tx.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [id]);
      return this.appendEvent(tx, 'release', id, now, row);
    });
    return written !== null;
  }

  async releaseStale(id: number, staleBefore: number): Promise<boolean> {
    return this.deleteWithEvent(id, "state = 'RECEIVED' AND updated_at <= ?", [staleBefore], Date.now());
  }

  async laterHistory(payment: PaymentRecord, maxLinks: number, vouched: VouchedChains): Promise<LaterHistory> {
    const id = payment.id;
    // One snapshot for the row, its last event, the checkpoints' comparison and the chains: read
    // one by one, a writer in SQL putting the deleted later events and their links back (and the
    // head row forward) and taking them out again could show each check a history that holds.
    // Causal (SnapshotOptions): `vouched` was read before it, maybe after another node's commit.
    return this.db.withSnapshot(async (q) => {
      const [row] = await q.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [id]);
      const record = row && toPaymentRecord(row, this.sealer);
      if (!record || record.state !== payment.state || record.updatedAt !== payment.updatedAt || record.requestHash !== payment.requestHash) return { moved: true };
      const history = await this.history(q, row, record);
      if ('problem' in history) return { problem: history.problem };
      const lacking = await vouched(chainReader(q, this.sealer));
      if (lacking !== null) return { problem: lacking };
      const [link] = await q.query<{ recorded_at: number | string }>(
        `SELECT recorded_at FROM audit_chain WHERE ${isLink()} AND kind = 'payment_event' AND record_id = (SELECT id FROM payment_events WHERE payment_id = ? ORDER BY seq DESC LIMIT 1)`,
        [id],
      );
      // A payment from before its history was kept (migration 024) has no event to prove from.
      if (!link) return { beyond: Number.POSITIVE_INFINITY };
      // A key this process lacks (not yet reloaded after keys rotate) is "cannot prove now", not a forgery.
      const proved = await verifyChainsSince(q, this.sealer, toNumber(link.recorded_at) - OTHER_CLOCKS_MS, maxLinks, { strictKeys: true });
      // Breaks found before the walk (a head set back, a headless chain) are named even when the walk would be too long.
      if (proved.breaks.length > 0) return { problem: `the history of payments id ${id} after its last event cannot be proved whole: ${proved.breaks.map((b) => b.detail).join('; ')}` };
      return 'beyond' in proved ? { beyond: proved.beyond } : { links: proved.links };
    }, { causal: true });
  }

  async claimDue(options: { owner: string; now: number; leaseMs: number; sendingStaleBefore: number; limit: number }): Promise<(PaymentRecord | RefusedPayment)[]> {
    const { owner, now, leaseMs, sendingStaleBefore } = options;
    const limit = Math.max(1, Math.min(Math.trunc(options.limit), 500));
    const candidates = await this.db.query<{ id: number | string }>(
      'SELECT id FROM payments WHERE ' +
        "((state IN ('UNKNOWN', 'PENDING') AND (next_check_at IS NULL OR next_check_at <= ?)) OR (state = 'SENDING' AND updated_at <= ?)) " +
        'AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?',
      [now, sendingStaleBefore, now, limit],
    );
    const claimed: (PaymentRecord | RefusedPayment)[] = [];
    for (const { id } of candidates) {
      // The conditional UPDATE is the lease: of several processes racing for the row, one wins.
      const won = await this.db.execute('UPDATE payments SET lease_owner = ?, lease_until = ? WHERE id = ? AND (lease_until IS NULL OR lease_until <= ?)', [
        owner,
        now + leaseMs,
        toNumber(id),
        now,
      ]);
      if (won.affectedRows !== 1) continue;
      const rows = await this.db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ? AND lease_owner = ?`, [toNumber(id), owner]);
      if (rows.length === 0) continue;
      // Held to its history as the API's read is: a check of a payment changed in SQL would append
      // an event recording the forged state, and the forgery would become its history. Such a
      // payment is never checked nor written: it is returned refused, for the resolver to audit,
      // and its lease is held for a day so it is named once a day (the console marks it, `audit
      // verify` names it). Only the lease columns are written, which are in no history.
      try {
        const record = await this.checkedRecord(rows[0]);
        if (record !== null) claimed.push(record);
      } catch (error) {
        if (!(error instanceof IntegrityError)) throw error;
        await this.db.execute('UPDATE payments SET lease_until = ? WHERE id = ? AND lease_owner = ?', [now + REFUSED_PAYMENT_HOLD_MS, toNumber(id), owner]);
        claimed.push({ id: toNumber(id), clientId: rows[0].client_id, transactionId: rows[0].transaction_id, refused: error.where });
      }
    }
    return claimed;
  }

  async recordCheck(id: number, owner: string, check: { state: PaymentState; checkAttempts: number; notFoundCount: number; nextCheckAt: number }, now: number, asked: HeldBankId): Promise<void> {
    const held = holding(asked);
    const update = {
      sql:
        'UPDATE payments SET state = ?, check_attempts = ?, not_found_count = ?, next_check_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? ' +
        // Never over a final state another process wrote meanwhile (the bank's answer arrived late),
        // nor over a row a live sender moved to another bank id than the one asked about.
        `WHERE id = ? AND lease_owner = ? AND state IN ('SENDING', 'UNKNOWN', 'PENDING')${held.sql}`,
      params: [check.state, check.checkAttempts, check.notFoundCount, check.nextCheckAt, now, id, owner, ...held.params],
    };
    // Not written (settled, or moved to another bank id): the lease is freed all the same.
    if (!(await this.changed('check', id, update, now))) await this.releaseLease(id, owner);
  }

  async releaseLease(id: number, owner: string): Promise<void> {
    await this.db.execute('UPDATE payments SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?', [id, owner]);
  }

  async renewLease(id: number, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const result = await this.db.execute('UPDATE payments SET lease_until = ? WHERE id = ? AND lease_owner = ?', [now + leaseMs, id, owner]);
    return result.affectedRows === 1;
  }

  async inDoubtSummary(): Promise<InDoubtSummary> {
    // Served by ix_payments_state_created_at: one index range per state, reading only the
    // payments in doubt, however large the table.
    const rows = await this.db.query<{ state: string; n: number | string; oldest: number | string | null }>(
      "SELECT state, COUNT(*) AS n, MIN(created_at) AS oldest FROM payments WHERE state IN ('SENDING', 'UNKNOWN', 'PENDING') GROUP BY state",
    );
    const states: InDoubtSummary['states'] = { SENDING: { count: 0, oldestCreatedAt: null }, UNKNOWN: { count: 0, oldestCreatedAt: null }, PENDING: { count: 0, oldestCreatedAt: null } };
    for (const row of rows) states[row.state as InDoubtState] = { count: toNumber(row.n), oldestCreatedAt: toNumberOrNull(row.oldest) };
    // Served by ix_payments_review_since: settling a payment clears review_since, so the range
    // holds the review queue only.
    const [review] = await this.db.query<{ n: number | string; oldest: number | string | null }>(
      `SELECT COUNT(*) AS n, MIN(review_since) AS oldest FROM payments WHERE review_since IS NOT NULL AND state IN (${REVIEW_STATES_SQL})`,
    );
    return { states, review: { count: toNumber(review?.n ?? 0), oldestSince: toNumberOrNull(review?.oldest ?? null) } };
  }

  /** Deletes the reservation only while it is RECEIVED, or SENDING under the bank id `lastWrote` holds; false otherwise. */
  async release(id: number, lastWrote: SenderLastWrote | null): Promise<boolean> {
    // A reservation never routed is released whatever this sender knows of it (nothing was sent under any id).
    const own = asLastWritten(lastWrote);
    if (own === null || lastWrote?.state === 'RECEIVED') return this.deleteWithEvent(id, "state = 'RECEIVED'", [], Date.now());
    return this.deleteWithEvent(id, `(state = 'RECEIVED' OR ${own.sql})`, own.params, Date.now());
  }
}
