import { randomBytes } from 'node:crypto';
import { IntegrityError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import { KeyRingError } from '../../security/index.js';
import type { Queryable, SqlValue } from '../types.js';
import { UniqueViolationError } from '../types.js';
import { appendOnOwnChain, isLink, inOwnTransaction, type ChainHead, type LinkKind, type WriterHead, type Written } from './audit-chain.js';
import { consoleAuditDigest } from './audit-records.js';
import { CHAIN_COVERAGE, COVERAGE_IN_PROGRESS, EXCUSES_NOTHING, PRE_037_COVERAGE, type CoveredRecords } from './chain-coverage.js';
import type { ConsoleAuditRow } from './console-audit-repository.js';
import { eventPlace, PAYMENT_EVENT_WRITTEN, paymentEventDigest, snapshotOfRow } from './payment-events.js';
import { PAYMENT_COLUMNS, paymentMacProblem, type PaymentRow } from './payment-repository.js';
import { recordMac, recordMacProblem, type MacedRow } from './record-macs.js';
import { toNumber, toStringOrNull } from './row-values.js';
import { paymentPlace, type ValueSealer } from './sealed-values.js';

const log = getLogger('store');

/**
 * Migration 037: the records chain_coverage excused get their history, and the coverage then
 * excuses nothing. Payments created before migration 024 had no event until their next change,
 * and console audit entries from before it no link: a state, bank reference or answer written
 * into such a payment in SQL was reported by the API and passed `audit verify` (issue #14).
 *
 * Each payment without an event that the coverage excuses gets a `baseline` event (seq 1) recording
 * it as it stands, dated its created_at (as a reserve event is: the day it was made, under the
 * link's digest, so the console's kept day totals count it as they count reserves), under a
 * `payment_event` link; each such console audit entry gets its
 * `console_audit` link as it stands; all in a chain of the migration's own, under the ring's key.
 * The baseline is the state at the upgrade, which the operator vouches for by upgrading
 * (docs/security/threat-model.md). A payment whose MAC does not hold, or whose answer does not open
 * for its place, or that is under a key the ring does not hold, is not recorded: it is left without
 * a history, named as such, never blessed. A coverage row deleted, altered or under such a key stops
 * the migration (not applied), naming it: what it excused cannot be told; restored, 037 runs again.
 *
 * Batched from the newest excused record down, `BATCH` a transaction on MySQL: each transaction
 * first moves its coverage row's `since` down to the oldest record it covers (re-MAC'd, guarded by
 * the row as read, which also makes two migrators take turns: the second matches no row and reads
 * again), then writes the records and links. So the coverage always excuses exactly what has no
 * history yet, a migration cut short carries on where it stopped, and nothing is recorded twice
 * (payment_events' (payment_id, seq) is unique as well: a gateway that wrote a payment's first event
 * meanwhile makes the batch run again, without that payment). The rows on the way down are MAC'd
 * under COVERAGE_IN_PROGRESS, which this step alone accepts (a reader excuses nothing by them, so
 * one noted while 037 ran and written back later excuses nothing); finally both rows stand at 0
 * under CHAIN_COVERAGE's key, whose purpose differs from 028's and from the rows in progress. No
 * lock but the rows written.
 */

/** Records a transaction. */
const BATCH = 1000;

/** Rows per multi-row INSERT of events (15 values each, under what MySQL and SQLite bind). */
const EVENTS_PER_INSERT = 500;

/** Batches run again when a gateway's event took a payment's seq 1 meanwhile, before giving up. */
const MAX_TAKEN = 10;

/** One kind of record the coverage excused: how to find the next batch below `since` and link it. */
interface Excused {
  records: CoveredRecords;
  kind: LinkKind;
  /** The `position` (created_at or id) of the BATCH-th newest record below `since` without its history; null when there are fewer. */
  lowest(tx: Queryable, since: number): Promise<number | null>;
  /** Writes (payments: their events) and describes the records in [from, since) without their history. */
  record(tx: Queryable, sealer: ValueSealer, from: number, since: number): Promise<{ written: Written[]; skipped: string[] }>;
  /** What a run of 037 already recorded: the lowest position (created_at or id) of a record it gave a history, null when none; how many it linked are gone. */
  recorded(q: Queryable): Promise<{ lowest: number | null; gone: number }>;
}

/** The chains 037 writes its links in, one a run (`migration-037-<random>`), as a LIKE pattern. */
const OWN_CHAIN = 'migration-037-';
const OWN_CHAINS = `${OWN_CHAIN}%`;

/**
 * Payments `p` without an event, as an anti-join: a NOT EXISTS was turned by MariaDB into a
 * materialized IN of every payment_events row (2.5 s a statement at 860,000 events, twice a batch),
 * where this looks each payment up in uq_payment_events_payment_seq (1 ms).
 */
const WITHOUT_EVENTS = 'payments p LEFT JOIN payment_events e ON e.payment_id = p.id';
const NO_EVENT = 'e.payment_id IS NULL';
/** PAYMENT_COLUMNS of `p` (payment_events has columns of the same names). */
const P_COLUMNS = PAYMENT_COLUMNS.split(',').map((c) => `p.${c.trim()}`).join(', ');
const NO_LINK = `NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind = 'console_audit' AND c.record_id = a.id)`;

const PAYMENTS: Excused = {
  records: 'payments',
  kind: 'payment_event',
  lowest: (tx, since) => nth(tx, `SELECT p.created_at AS at FROM ${WITHOUT_EVENTS} WHERE p.created_at < ? AND ${NO_EVENT} ORDER BY p.created_at DESC`, since),
  record: async (tx, sealer, from, since) => {
    const rows = await tx.query<PaymentRow>(`SELECT ${P_COLUMNS} FROM ${WITHOUT_EVENTS} WHERE p.created_at >= ? AND p.created_at < ? AND ${NO_EVENT} ORDER BY p.id`, [from, since], { freshPlan: true });
    const skipped: string[] = [];
    const events: { paymentId: number; createdAt: number; snapshot: ReturnType<typeof snapshotOfRow>; values: SqlValue[] }[] = [];
    for (const row of rows) {
      const paymentId = toNumber(row.id);
      const createdAt = toNumber(row.created_at);
      const vouched = asItStands(row, sealer);
      if ('problem' in vouched) {
        skipped.push(vouched.problem);
        continue;
      }
      const snapshot = snapshotOfRow(row, vouched.result);
      const values: SqlValue[] = [
        paymentId, 1, 'baseline', snapshot.state, snapshot.bank, snapshot.operation, snapshot.bankTransactionId, snapshot.bankTransactionDate, snapshot.bankReference,
        snapshot.bankExternalId, snapshot.httpStatus, snapshot.reviewSince, sealer.seal(snapshot.resultJson, eventPlace(paymentId, 1)), createdAt, sealer.currentKeyId,
      ];
      events.push({ paymentId, createdAt, snapshot, values });
    }
    const written: Written[] = [];
    for (let i = 0; i < events.length; i += EVENTS_PER_INSERT) {
      const some = events.slice(i, i + EVENTS_PER_INSERT);
      const row = `(${PAYMENT_EVENT_WRITTEN.map(() => '?').join(', ')})`;
      // Throws UniqueViolationError when a gateway wrote one of these payments' first event meanwhile.
      await tx.execute(`INSERT INTO payment_events (${PAYMENT_EVENT_WRITTEN.join(', ')}) VALUES ${some.map(() => row).join(', ')}`, some.flatMap((e) => e.values));
      // Their ids read back by the unique (payment_id, seq), not assumed contiguous.
      const ids = await tx.query<{ id: number | string; payment_id: number | string }>(
        `SELECT id, payment_id FROM payment_events WHERE seq = 1 AND payment_id IN (${some.map(() => '?').join(', ')})`,
        some.map((e) => e.paymentId),
      );
      const idOf = new Map(ids.map((r) => [toNumber(r.payment_id), toNumber(r.id)]));
      for (const e of some) {
        const id = idOf.get(e.paymentId)!;
        written.push({ recordId: id, contentDigest: paymentEventDigest({ id, paymentId: e.paymentId, seq: 1, cause: 'baseline', recordedAt: e.createdAt, snapshot: e.snapshot }) });
      }
    }
    return { written, skipped };
  },
  recorded: async (q) => {
    // Each link's payment found through its event: an event deleted, or moved to a payment that is not there, leaves the link without one.
    const [links] = await q.query<{ e_at: number | string | null; p_at: number | string | null; gone: number | string }>(
      'SELECT MIN(e.recorded_at) AS e_at, MIN(p.created_at) AS p_at, COALESCE(SUM(CASE WHEN p.id IS NULL THEN 1 ELSE 0 END), 0) AS gone ' +
        `FROM audit_chain c LEFT JOIN payment_events e ON e.id = c.record_id LEFT JOIN payments p ON p.id = e.payment_id WHERE c.writer_id LIKE ? AND ${isLink('c.')} AND c.kind = 'payment_event'`,
      [OWN_CHAINS],
    );
    // 037 alone writes `baseline` events, dated their payment's created_at: one whose link was deleted still tells.
    const [baselines] = await q.query<{ at: number | string | null }>("SELECT MIN(recorded_at) AS at FROM payment_events WHERE cause = 'baseline'");
    return { lowest: lowestOf(links.e_at, links.p_at, baselines.at), gone: toNumber(links.gone) };
  },
};

/**
 * What 037 would record of a payment without events: its answer opened for its place, or why it
 * is not vouched for (its MAC does not hold, its answer does not open, or it is under a key the
 * ring does not hold: proving nothing of it, named as an altered row).
 */
function asItStands(row: PaymentRow, sealer: ValueSealer): { result: string | null } | { problem: string } {
  try {
    const problem = paymentMacProblem(sealer.keyRing, row);
    return problem !== null ? { problem } : { result: sealer.open(toStringOrNull(row.result_json), paymentPlace('result_json', row)) };
  } catch (error) {
    if (error instanceof KeyRingError && error.reason === 'unknown-key') return { problem: `payments id ${toNumber(row.id)} (${row.client_id} / ${row.transaction_id}) is under a key GERBANG_AUDIT_KEYS does not hold (${error.message})` };
    if (error instanceof IntegrityError) return { problem: error.where };
    throw error;
  }
}

const CONSOLE_AUDIT: Excused = {
  records: 'console_audit',
  kind: 'console_audit',
  lowest: (tx, since) => nth(tx, `SELECT id AS at FROM console_audit a WHERE id < ? AND ${NO_LINK} ORDER BY id DESC`, since),
  record: async (tx, _sealer, from, since) => {
    const rows = await tx.query<ConsoleAuditRow>(`SELECT id, at, username, action, target, detail, remote_ip FROM console_audit a WHERE id >= ? AND id < ? AND ${NO_LINK} ORDER BY id`, [from, since], { freshPlan: true });
    const written = rows.map((row) => {
      const id = toNumber(row.id);
      const entry = { id, at: toNumber(row.at), username: row.username, action: row.action, target: toStringOrNull(row.target), detail: toStringOrNull(row.detail), remoteIp: row.remote_ip };
      return { recordId: id, contentDigest: consoleAuditDigest(entry) };
    });
    return { written, skipped: [] };
  },
  recorded: async (q) => {
    const [links] = await q.query<{ at: number | string | null; gone: number | string }>(
      `SELECT MIN(c.record_id) AS at, COALESCE(SUM(CASE WHEN a.id IS NULL THEN 1 ELSE 0 END), 0) AS gone FROM audit_chain c LEFT JOIN console_audit a ON a.id = c.record_id WHERE c.writer_id LIKE ? AND ${isLink('c.')} AND c.kind = 'console_audit'`,
      [OWN_CHAINS],
    );
    return { lowest: lowestOf(links.at), gone: toNumber(links.gone) };
  },
};

/** The lowest of the values a MIN() gave (null: no row), or null when none did. */
function lowestOf(...values: (number | string | null)[]): number | null {
  const given = values.filter((v): v is number | string => v !== null).map(toNumber);
  return given.length === 0 ? null : Math.min(...given);
}

/** The `at` of the BATCH-th row `select` (ordered newest first) gives, or null when it gives fewer. */
async function nth(tx: Queryable, select: string, since: number): Promise<number | null> {
  // Planned for this `since` (QueryOptions.freshPlan): planned for any value, MariaDB sorted every
  // row below it for each batch (1,000,000 payments: a few hundred a second, slowing as it went).
  const [row] = await tx.query<{ at: number | string }>(`${select} LIMIT 1 OFFSET ${BATCH - 1}`, [since], { freshPlan: true });
  return row ? toNumber(row.at) : null;
}

/** What one transaction did: nothing left (`done`), or the coverage moved by another migrator (`again`), or a batch recorded. */
type Step = { done: true } | { again: true } | { linked: number; skipped: string[]; head: ChainHead | null };

/**
 * One batch of `excused` below its coverage row, in `tx`: the row moved down past it, then its
 * records written and linked after `head` on the migration's chain `writerId`.
 */
async function step(tx: Queryable, sealer: ValueSealer, excused: Excused, writerId: string, head: ChainHead | null): Promise<Step> {
  const [row] = await tx.query<MacedRow>(`SELECT ${CHAIN_COVERAGE.columns} FROM chain_coverage WHERE records = ?`, [excused.records]);
  // Deleted: what it excused cannot be told, so nothing is recorded and 037 stops (not applied), to run again once the row is restored.
  if (!row) throw new Error(`migration 037: the chain_coverage row '${excused.records}' was deleted, so which ${excused.records} records it excused cannot be told and none was given a history: restore the row from a backup and start again`);
  const since = toNumber(row.since);
  if (row.mac === null && since <= EXCUSES_NOTHING) return { done: true };
  // Under the readers' key once this migration is done (0), under 037's own while it runs, else 028's.
  let holdsNow: boolean;
  let problem: string | null;
  try {
    holdsNow = recordMacProblem(CHAIN_COVERAGE, row, sealer) === null;
    if (holdsNow && since === 0) return { done: true };
    problem = holdsNow || recordMacProblem(COVERAGE_IN_PROGRESS, row, sealer) === null ? null : recordMacProblem(PRE_037_COVERAGE, row, sealer);
  } catch (error) {
    if (!(error instanceof KeyRingError && error.reason === 'unknown-key')) throw error;
    throw new KeyRingError(error.setting, `migration 037: the chain_coverage row '${excused.records}' is MACed under key '${String(row.mac_key_id)}', which the ring does not hold, so what it excuses cannot be proved and no record was given a history on its word: configure that key, or restore the row from a backup (${error.message})`, 'unknown-key');
  }
  // Altered: as deleted, 037 stops, the row left as it is (`audit verify` names it), to run again once it is restored.
  if (problem !== null) throw new Error(`migration 037: ${problem}; no ${excused.records} record was given a history on its word: restore the row from a backup and start again`);
  const from = since <= EXCUSES_NOTHING ? 0 : ((await excused.lowest(tx, since)) ?? 0);
  const signedAs = from === 0 ? CHAIN_COVERAGE : COVERAGE_IN_PROGRESS;
  const { keyId, mac } = recordMac(sealer.keyRing, signedAs.purpose, signedAs.fields({ records: excused.records, since: from, mac_key_id: null, mac: null }, sealer));
  const moved = await tx.execute('UPDATE chain_coverage SET since = ?, mac_key_id = ?, mac = ? WHERE records = ? AND since = ? AND mac_key_id = ? AND mac = ?', [
    from, keyId, mac, excused.records, row.since, row.mac_key_id, row.mac,
  ]);
  if (moved.affectedRows !== 1) return { again: true };
  if (since <= EXCUSES_NOTHING) return { linked: 0, skipped: [], head };
  let skipped: string[] = [];
  let linked = 0;
  const next = await appendOnOwnChain(tx, sealer.keyRing, writerId, head, excused.kind, async (q) => {
    const recorded = await excused.record(q, sealer, from, since);
    skipped = recorded.skipped;
    linked = recorded.written.length;
    return recorded.written;
  });
  return { linked, skipped, head: next };
}

/**
 * Migration 037's step in code (see above). `db` is the store (MySQL: a transaction a batch) or the
 * migration's transaction (SQLite: all of it in one). Returns how many payments and console audit
 * entries were recorded, and the head of its chain (null: none), to vouch for outside the database.
 */
export async function recordExcusedHistory(db: Queryable, sealer: ValueSealer): Promise<{ recorded: Record<CoveredRecords, number>; head: WriterHead | null }> {
  const writerId = `${OWN_CHAIN}${randomBytes(8).toString('hex')}`;
  let head: ChainHead | null = null;
  const counts: Record<CoveredRecords, number> = { payments: 0, console_audit: 0 };
  for (const excused of [PAYMENTS, CONSOLE_AUDIT]) {
    const began = Date.now();
    let taken = 0;
    for (;;) {
      let done: Step;
      try {
        done = await inOwnTransaction(db, (tx) => step(tx, sealer, excused, writerId, head));
      } catch (error) {
        // A gateway's first event of a payment of the batch: the batch again, without it (MySQL; SQLite migrates alone).
        if (!(error instanceof UniqueViolationError) || !('withTransaction' in db) || ++taken > MAX_TAKEN) throw error;
        continue;
      }
      if ('done' in done) break;
      if ('again' in done) continue;
      head = done.head;
      for (const problem of done.skipped) log.error({ records: excused.records }, `migration 037: not recorded as it stands, left without a history: ${problem}`);
      const before = counts[excused.records];
      counts[excused.records] += done.linked;
      if (Math.floor(before / 50_000) !== Math.floor(counts[excused.records] / 50_000)) log.info({ records: excused.records, recorded: counts[excused.records] }, 'migration 037: recording the records from before 024');
    }
    if (counts[excused.records] > 0) log.info({ records: excused.records, recorded: counts[excused.records], ms: Date.now() - began }, 'migration 037: records from before 024 recorded as they stand; none is excused from its history any more');
  }
  return { recorded: counts, head: head === null ? null : { writerId, ...head } };
}

/**
 * Before migration 037 runs on a database that does not record it as applied: why running it would
 * give a history to what its own earlier run did not vouch for, in words, else null (a database
 * never through it, or one where a run was cut short and carries on). The migrator refuses it then
 * (migrator.ts), the gateway does not start.
 *
 * 037 records a payment as it stands: run again after its row in schema_migrations was deleted in
 * SQL, on a payment whose history was moved away or deleted and whose state was forged, under a
 * coverage row from before it (or from its way down) written back, it would record the forgery
 * under a genuine link. What 037 keyed tells that it ran: its own chains' links and its `baseline`
 * events lie at or above where its coverage row stood at every moment of its run (each batch moves
 * the row down with its links), so
 * - a record it linked that is gone (an event deleted or moved away) or that lies below the row
 *   now (an older row written back), and
 * - once the payments' row holds at 0 (it recorded every payment it excused), a payment without
 *   events that it would record (its MAC holds): its history was deleted after it,
 * each stop it, named. Its links are read before its row: the row only moves down, so a migrator
 * running meanwhile never makes a link read here lie below the row read after it. Not caught: an
 * attacker who deletes, with the events, the links at the tail of 037's chain and moves its head
 * row back; the chain then holds less than the checkpoints outside the database vouched for
 * (rolled back, named by `audit verify` and held on by the gateway), once a checkpoint saw it.
 */
export async function excusedHistoryAgain(q: Queryable, sealer: ValueSealer): Promise<string | null> {
  const found: string[] = [];
  for (const excused of [PAYMENTS, CONSOLE_AUDIT]) {
    const { lowest, gone } = await excused.recorded(q);
    const [row] = await q.query<MacedRow>(`SELECT ${CHAIN_COVERAGE.columns} FROM chain_coverage WHERE records = ?`, [excused.records]);
    // Deleted, altered or under a key the ring does not hold: step() refuses it, naming it.
    const coverage = signedCoverage(row, sealer);
    if (coverage === null) continue;
    if (gone > 0) found.push(`${gone} record(s) of ${excused.records} it linked in its own chain are gone (deleted, or moved to another payment)`);
    if (lowest !== null && lowest < coverage.since) {
      found.push(`it already recorded ${excused.records} below where the chain_coverage row '${excused.records}' now says they are excused (since ${coverage.since}; one recorded at ${lowest}): an older row written back`);
    }
    if (excused === PAYMENTS && coverage.final) {
      const unrecorded = await vouchedWithoutEvents(q, sealer);
      if (unrecorded.length > 0) found.push(`it already recorded every payment it excused (the chain_coverage row 'payments' holds at ${coverage.since}), yet ${unrecorded.join(', ')} ${unrecorded.length === 1 ? 'has' : 'have'} no event in its history: deleted since`);
    }
  }
  return found.length === 0 ? null : found.join('; ');
}

/** A coverage row's since, `final` when 037 finished with it (or it excuses nothing, unsigned: an empty store's); null when it does not hold (step() names it). */
function signedCoverage(row: MacedRow | undefined, sealer: ValueSealer): { since: number; final: boolean } | null {
  if (!row) return null;
  const since = toNumber(row.since);
  if (row.mac === null) return since <= EXCUSES_NOTHING ? { since, final: true } : null;
  try {
    if (recordMacProblem(CHAIN_COVERAGE, row, sealer) === null) return { since, final: true };
    return [COVERAGE_IN_PROGRESS, PRE_037_COVERAGE].some((signedAs) => recordMacProblem(signedAs, row, sealer) === null) ? { since, final: false } : null;
  } catch (error) {
    if (error instanceof KeyRingError) return null;
    throw error;
  }
}

/** Up to `limit` payments without events that 037 would record as they stand (asItStands), named. */
async function vouchedWithoutEvents(q: Queryable, sealer: ValueSealer, limit = 10): Promise<string[]> {
  const named: string[] = [];
  for (let after = Number.MIN_SAFE_INTEGER; ; ) {
    const rows = await q.query<PaymentRow>(`SELECT ${P_COLUMNS} FROM ${WITHOUT_EVENTS} WHERE p.id > ? AND ${NO_EVENT} ORDER BY p.id LIMIT ${BATCH}`, [after]);
    for (const row of rows) {
      if ('problem' in asItStands(row, sealer)) continue; // not recorded by 037 either: named by verify as it stands
      if (named.push(`payments id ${toNumber(row.id)} (${row.client_id} / ${row.transaction_id})`) >= limit) return named;
    }
    if (rows.length < BATCH) return named;
    after = toNumber(rows[rows.length - 1].id);
  }
}
