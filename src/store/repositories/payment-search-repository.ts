import type {
  BatchLineState,
  ChainsAnswer,
  SealGuard,
  CountedDailyTotals,
  RunLine,
  TransferBatchRecord,
  DailyBankLatency,
  DailyPaymentTotals,
  DayAcceptance,
  DayToAccept,
  Db,
  MissingPayments,
  Dialect,
  PaymentCursor,
  PaymentPage,
  PaymentRecord,
  PaymentSearch,
  PaymentSearchRepository,
  PaymentSort,
  PaymentState,
  PaymentTotals,
  ProvedDailyTotals,
  ReconciledPayment,
  ReconciledPeriod,
  SqlValue,
} from '../types.js';
import { PAYMENT_STATES } from '../types.js';
import type { KeyRing } from '../../security/index.js';
import { accountTag, openPaymentRow, parseDetails, PAYMENT_COLUMNS, paymentMacProblem, REVIEW_STATES_SQL, toPaymentRecord, type PaymentRow } from './payment-repository.js';
import { chainCoverage, type Coverage } from './chain-coverage.js';
import { ChangedDays, lastEventId, SEAL_AFTER_EVENT_MS } from './changed-sealed-days.js';
import { answerProblem, chainGaps, databaseChains } from './audit-verify.js';
import { ProvedRows } from './proved-rows.js';
import { ReconciliationChecks } from './reconciliation-checks.js';
import { dayLabel, daySeal, dayTotalsText, DAY_TOTALS_TAG, dropDayTotals, holdingDayTotals, RESERVES_HELD_MS, sealedDay, sealedIdsAre, sealedLineSql as lineSql, sealedPaymentIds, sealedValueSql, sealHolds, parsedSealedIds, paymentTags, sealsOfDays, trustedSeals, writeSeals, type NewSeal, type SealedDay, type SealedValue, type StateTotals, type TrustedSeal, type KeptDayTotals, type CheckedDayTotals } from './reconciliation-seals.js';
import type { ChainLanes } from './audit-chain.js';
import { CREATION_CAUSES_SQL, firstTrustedEvents, isCreationCause, lastTrustedEvents, missingHistoryProblem, paymentEventProblem, paymentHistory, RELEASED, reservedBetween, reserveEventsDigest, snapshotOfRow, type PaymentSnapshot, type ReserveEvent, type TrustedEvent } from './payment-events.js';
import { getLogger } from '../../log/index.js';
import type { Queryable } from '../types.js';
import { paymentPlace, place, ValueSealer, type SealPlace } from './sealed-values.js';
import { whereOf } from './sql-dialect.js';
import { BATCH_COLUMNS, BATCH_LINES, toBatch, type BatchRow } from './transfer-batch-repository.js';
import { recordMacProblem, type MacedRow } from './record-macs.js';
import { toNumber, toStringOrNull } from './row-values.js';
import { fieldsContain, GRAM_LENGTH, gramHash, trigramsOf, unindexedPayments } from './payment-search-grams.js';
import { AppError, IntegrityError } from '../../errors/index.js';
import { jakartaDate, jakartaDay, jakartaDayStart } from '../../time/index.js';
import { amountMinor } from './amount-minor.js';

const MAX_LIMIT = 1_000;
function parseObject(text: string | null): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text ?? 'null') as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
/**
 * How many matches a text search confirms at most, newest first (see textPage); the page says when
 * it stopped there. Each is opened (AES-GCM, about 45 µs): 1,000 keeps a common term under 300 ms.
 */
export const SEARCH_SCAN_LIMIT = 1_000;
/**
 * How many confirmed matches a text search proves at most as the list proves a row, for its count
 * and sum (PaymentTotals.proof 'proved'); with more, only the page's rows are proved and the sum is
 * taken from the matches' amounts as stored ('stored'), as the list does past PROVED_LIMIT. A
 * search's matches are payments spread over the whole table, each proof a row, its last event and
 * that event's chain link read from pages of their own and four values opened: 1,000 of them took
 * 450-770 ms of a search's 700-2,200 ms on 200,000 payments at load 10 (docs/performance.md,
 * "A search's count and sum proved up to 200 matches"), 200 a fifth of it.
 */
export const SEARCH_PROVED_LIMIT = 200;
/** How many postings of the trigrams it steps by a text search walks at most under one key (newest first: matchUnder). */
const GRAM_WALK_LIMIT = 50_000;
/** Postings of each trigram of the term read per step of that walk: those of the one walked are the step's. */
const GRAM_CHUNK = 1_000;
/**
 * How many times GRAM_CHUNK a step of that walk reads at most, once earlier steps found matches:
 * as many as the matches still wanted take at the rate found so far (stepSize). A common term's
 * 1,000 matches took four steps one after the other ("makmur 16", "jaya 1": two round trips each,
 * 40-80 ms a step at load 10 on 200,000 payments); the same postings in fewer, larger steps wait
 * less on a loaded machine. The bounds of the walk (GRAM_WALK_LIMIT, GRAM_READS_PER_WALKED) hold.
 */
const GRAM_STEP_GROWTH = 4;
/**
 * How many postings that walk reads in all (each step reads the next GRAM_CHUNK of every trigram
 * of the term, to choose the one to walk), as a multiple of its bound: a term of up to this many
 * trigrams is stopped by GRAM_WALK_LIMIT alone, a longer one after fewer steps.
 */
const GRAM_READS_PER_WALKED = 8;
/**
 * How many of the term's other trigrams a step's candidates must hold at most: those rarest where
 * the step is. The confirmation checks the whole term anyway, and a join takes a bounded number
 * of tables (MariaDB 61, SQLite 64): a long remark pasted whole has more trigrams.
 */
const JOINED_GRAMS = 8;
/**
 * In how many statements at once a step of a text search's walk reads its candidates on MariaDB
 * and MySQL, each over its share of the step's ids (stepSlices): a step's candidates are payments
 * spread over tens of thousands of ids, a row each on a page of its own, and InnoDB reads the
 * pages one statement needs one after the other. Cold (pages not in the buffer pool), the four
 * steps of "makmur 16" over 7 days of the million-payment month read about 1,370 pages from disk:
 * 610-720 ms one statement at a time, 130-250 ms four at a time (load 10-12; docs/performance.md,
 * "A search's first opening"). The embedded store reads through the operating system's cache on
 * its one connection: one statement a step there.
 */
const CANDIDATE_READS_MYSQL = 4;

/**
 * In how many statements at once the console's pages read the last events of the payments they
 * prove on MariaDB and MySQL (lastEventsOf), EVENT_SLICE_IDS payments a statement at least: a
 * page of the list (50) in one, the 1,000 matches of a search in four. Each event and its link
 * are rows on pages of their own, read one after the other within a statement.
 */
const EVENT_READS_MYSQL = 4;
const EVENT_SLICE_IDS = 100;

/**
 * How many payments of a date range open on one side (or of more than BOUND_DAYS_LIMIT days) a
 * text search reads the ids of at most to bound its walk (see idBoundsOf; a range with both ends
 * is bounded day by day since migration 046): 3 days of a million-payment month (100,000) took
 * 30-100 ms on a busy two-core machine; the whole month took half a second or more, more than the
 * unbounded walk it saves.
 * A week of it (233,000) is bounded: "makmur 16" over 7 days answered in 133 ms at p50 and
 * 170-180 ms first, against 150-158 and 239-294 ms unbounded at 200,000 (a quiet machine,
 * the two limits alternating; docs/performance.md).
 */
const RANGE_BOUND_LIMIT = 250_000;
/**
 * How many Jakarta days of a date range one statement reads the id bounds of (idBoundsOf: two
 * index dives a day, each a scalar subquery of a compound SELECT: under SQLite's 500 terms).
 */
const BOUND_DAYS_PER_READ = 100;
/** How many Jakarta days a date range spans at most to be bounded day by day (idBoundsOfDays): a longer one is read as a range open on one side is. */
const BOUND_DAYS_LIMIT = 4 * BOUND_DAYS_PER_READ;

/** How much some reads of the store take at a time or in all: the constants above unless a test sets them smaller. */
export interface StoreReadLimits {
  /** How many payments the sweep reads a statement at most when it counts a closed day (countClosedDays; DAY_PAGE_ROWS). */
  dayPageRows: number;
  /** Postings of a trigram a text search's walk reads per step (GRAM_CHUNK). */
  gramChunk: number;
  /** Postings a text search's walk reads at most under one key (GRAM_WALK_LIMIT). */
  gramWalkLimit: number;
  /** Payments a reconciliation reads at most under one tag (RECONCILE_LIMIT). */
  reconcileRows: number;
  /** Payments whose last events one of a page's statements reads at least when it reads them in slices (EVENT_SLICE_IDS). */
  eventSliceIds: number;
  /** Matches a text search proves at most for its count and sum (SEARCH_PROVED_LIMIT). */
  searchProvedRows: number;
  /** Audit chain links a reading's chain guard walks at most before it seals days (READING_CHAIN_LINKS). */
  readingChainLinks: number;
}

/**
 * How many audit chain links a reading (fromAccount) walks at most to prove the chains hold before
 * it seals the days it proved whole (guardSeals; chainGaps' `maxLinks`). On the million-payment
 * database a walk costs about 24 µs a link (one day back: about 67,000 links in 1.6 s; a month: 2
 * million links in about 60 s; docs/operator-guide.md, "Reconciliation day seals"), so 20,000
 * links keep a clerk's reading under half a second of walking: enough for a quiet store's days,
 * and on a busy one a few hours of links. A longer walk is not made: those days are left unsealed,
 * shown as not proved yet, and the seal sweep proves them (requestSweep); the sweep and a day's
 * acceptance walk whole.
 */
const READING_CHAIN_LINKS = 20_000;

/** The lowest and highest payment id of a search's date range (see idBoundsOf). */
interface IdBounds {
  lo: number;
  hi: number;
}

/** A confirmed match of a text search: its id, its sort key and its amount as stored (a sum 'stored'). */
interface TextMatch {
  id: number;
  key: number | string;
  amountMinor: bigint;
}

/** The columns a text search reads of each candidate: enough to confirm and sort it. */
interface CandidateRow {
  id: number | string;
  client_id: string;
  created_at: number | string;
  amount_minor: number | string;
  transaction_id: string;
  bank_reference: string | null;
  bank_transaction_id: string | null;
  details_json: string | null;
}
/**
 * How many payments of one paying account a reconciliation reads at most: a month of an account
 * paying 1,600 a day (each is one value opened and a few hundred bytes held while it is matched).
 */
export const RECONCILE_LIMIT = 50_000;
/**
 * How many payments the sweep reads a statement at most when it counts a closed day for the
 * overview's kept totals (countClosedDays): a day of any size is read in pages, each held and
 * proved alone, never the whole day at once.
 */
const DAY_PAGE_ROWS = 10_000;
/** How many matching rows the list counts and sums at most (see PaymentTotals.capped). */
export const TOTALS_LIMIT = 10_000;
/**
 * How many payments a total (the list's, a day's on the overview) is proved over at most, each
 * row checked as the list checks it (PaymentTotals.proof): a day or a run of a small gateway, a
 * narrow filter of a large one. Four sealed values opened and two MACs per row, and their last
 * events and links read by id: 2,000 rows took 55-135 ms (p50) and up to 260 ms (p95) on the
 * shared two-core machine under load, too close to the list's 300 ms; 1,000 take half that
 * (docs/performance.md).
 */
export const PROVED_LIMIT = 1_000;
const DAY_MS = 86_400_000;
/** Days of dailyTotals per statement: 6 states each, well under SQLite's 500 parts of a UNION. */
const DAYS_PER_READ = 10;
/** UTC+7: the finance team's day starts at midnight in Jakarta, not in UTC. */
const JAKARTA_OFFSET_MS = 7 * 3_600_000;

/**
 * A payment as a reconciliation proves it row by row (ReconciledPayment): what it shows, and every
 * column its proof reads (one sealed value, the paying account, and the MAC and what it covers).
 * On MariaDB and MySQL read from ix_payments_reconcile's range and each row by its id (migration
 * 032: the index holds what is shown and proof_digest, not the proof's own columns; SQLite's holds
 * them); only days not proved by a seal or a kept proof are read so.
 */
const RECONCILED_COLUMN_NAMES = [
  'id',
  'transaction_id',
  'state',
  'amount',
  'bank_transaction_id',
  'bank_transaction_date',
  'bank_external_id',
  'created_at',
  'source_account',
  'client_id',
  'request_hash',
  'currency',
  'mac_key_id',
  'mac',
] as const satisfies readonly (keyof PaymentRow)[];
const RECONCILED_COLUMNS = RECONCILED_COLUMN_NAMES.join(', ');
/** What a reconciliation shows and matches of a payment: what a row read without its proof's columns holds. */
const SHOWN_COLUMN_NAMES = ['id', 'transaction_id', 'state', 'amount', 'bank_transaction_id', 'bank_transaction_date', 'bank_external_id', 'created_at'] as const;
/**
 * A reconciliation's row, with `line`: its line of a day seal (reconciliation-seals.ts), every
 * value a proof reads in this order and its payment's last event seq (null: none) after them,
 * built by the database in the statement that reads the row. The last event seq is part of what
 * its proof held (its state against that event), so a payment that moved on since (a later
 * event) is proved again even if its row was written back as it was.
 */
type ReconciledRow = Pick<PaymentRow, (typeof RECONCILED_COLUMN_NAMES)[number]> & { line: string };
/** A payment's row as proved one by one (SqlPaymentSearchRepository.rowProofs): every column a proof reads. */
type ProvedRow = Omit<ReconciledRow, 'line'>;
/** A row read with what is shown and its line only (a month's read when its days are sealed): proved by its day's seal or a kept proof, else read again whole. */
type ShownRow = Pick<ReconciledRow, (typeof SHOWN_COLUMN_NAMES)[number] | 'line'>;
const SHOWN_COLUMNS = SHOWN_COLUMN_NAMES.join(', ');
/**
 * A row of a span whose days are all kept whole as proved, read with its line and what places it
 * only (its id and created_at): each line compared with the one kept at its place (keptPayments),
 * each payment the one made of that line when its day was kept.
 */
type KeptRow = Pick<ShownRow, 'id' | 'created_at' | 'line'>;

/** The columns of payments a sealed line holds after its id and created_at, in this order, then proofDigestSql's value; those declared NOT NULL (migrations) marked. */
const SEALED_TEXT_COLUMNS: [column: string, notNull: boolean][] = [
  ['state', true],
  ['amount', true],
  ['transaction_id', true],
  ['bank_transaction_id', false],
  ['bank_transaction_date', false],
  ['bank_external_id', false],
];
/** What only a reconciliation's proof reads of a payment: a sealed line holds it as its proof digest (proofDigestSql). */
const PROOF_ONLY_COLUMNS = ['source_account', 'client_id', 'request_hash', 'currency', 'mac_key_id', 'mac'] as const;

/**
 * The SQL of a payments row's proof digest, a text value of its sealed line standing for every
 * value only the proof reads (PROOF_ONLY_COLUMNS), so one of them changed in SQL changes the line
 * as surely as when the line held them. On MariaDB and MySQL the stored column proof_digest
 * (migration 032: 16 bytes of SHA-256 over them, computed by the database on every write of the
 * row), in hex: a month's lines then come from an index of about 140 bytes an entry instead of
 * 360. SQLite has no SHA-256, and its index holds those columns (a virtual column is read from an
 * index only beside them): there the values themselves, each as a line writes it.
 */
export function proofDigestSql(dialect: Dialect): string {
  return dialect === 'mysql' ? 'HEX(proof_digest)' : `(${PROOF_ONLY_COLUMNS.map((c) => sealedValueSql(dialect, c, 'text')).join(' || ')})`;
}

/**
 * A payment's last event seq (null: none), read backwards from the events' own index
 * (uq_payment_events_payment_seq): its last entry only, no event row (MAX(e.seq) read every entry
 * of the payment).
 */
const LAST_EVENT_SEQ_SQL = '(SELECT e.seq FROM payment_events e WHERE e.payment_id = payments.id ORDER BY e.seq DESC LIMIT 1)';

/** The SQL of a payments row's sealed line (reconciliation-seals.ts): the values in this order, then its last event seq. */
function sealedLineSql(dialect: Dialect): string {
  return lineSql(dialect, [
    { sql: 'id', kind: 'integer', notNull: true },
    { sql: 'created_at', kind: 'integer', notNull: true },
    ...SEALED_TEXT_COLUMNS.map(([sql, notNull]): SealedValue => ({ sql, kind: 'text', notNull })),
    { sql: proofDigestSql(dialect), kind: 'text' },
    { sql: LAST_EVENT_SEQ_SQL, kind: 'highest' },
  ]);
}

/**
 * One statement of a reconciliation's read (`where` on the tag, `params`): its rows (`full`: with
 * every column a proof reads, ReconciledRow) and the span of created_at they cover whole
 * (`whole`: none left past the bound of `limit` rows). `keptRows`: its days were all kept whole as
 * proved and sealed when it was asked for, so it was read with its lines alone (`keptRows`, `rows` empty).
 */
interface ReconciledSpan {
  where: string;
  params: SqlValue[];
  rows: ShownRow[];
  from: number;
  to: number;
  whole: boolean;
  limit: number;
  full: boolean;
  keptRows: KeptRow[] | null;
}

/** How a span is read: with every column a proof reads, with what is shown, or with its lines alone (every day of it kept whole). */
type SpanRead = 'full' | 'shown' | 'kept';

/** A whole day of a span not proved by a trusted seal that holds: its rows' places, what they make as sealed, and how it stood (SqlPaymentSearchRepository.provedWithDays). */
interface DayToSeal {
  at: number[];
  lines: string[];
  sealed: SealedDay;
  /** Its trusted seal no longer held. */
  stale: boolean;
  /** Kept in ProvedRows as proved whole with this very text already. */
  keptWhole: boolean;
}

/** What one reconciliation carries from span to span: the account asked for, the coverage of payment histories, the days to seal. */
interface Reconciling {
  account: string;
  /** Hash a sealed day even when it is kept as proved whole with the very text read (the sweep's reading of a day a payment event changed: its seal may no longer hold for that text). */
  hashKept: boolean;
  now: number;
  coverage: Coverage | null;
  seals: ProvedSeal[];
  /**
   * The days named (missingPayments) of each tag, never sealed by a reading: the ids of the rows
   * read on each, and the seal its rows as proved now make (absent when they made none: a row
   * that does not hold, or none read). What an operator's acceptance seals (acceptDay).
   */
  withheld: WithheldDay[];
  /** A span read again (its rows' proof columns, or its lines) held more rows than its bound: those past it were left out (the period is truncated). */
  cut: boolean;
  /** The ids of the account's payments read without a tag (`source_account_tag IS NULL`): a row's tag cleared in SQL reads so. */
  untagged: number[];
}

/** A day of a tag named by a reading and so not sealed (Reconciling.withheld). */
interface WithheldDay {
  tag: string;
  day: number;
  read: number[];
  seal?: ProvedSeal;
}

/**
 * A seal to write with the sealed lines of the rows it is made of, by payment id: read again in
 * the snapshot its chain guard walks in (sealingProblem), and it is written only if they are the same.
 */
type ProvedSeal = NewSeal & { lines: ReadonlyMap<number, string> };

/** What a seal (or a day's kept totals) is made of, to be asked about with others (sealingProblems): its days and its rows' lines as proved. */
interface SealGroup {
  days: readonly number[];
  lines: ReadonlyMap<number, string>;
  /**
   * The days of a tag whose every row `lines` are (its seals': sealGroup), read again where the
   * rows are (rowsNotAsProved): each must hold those rows and no other. Absent for a day's kept
   * totals (rows of every account, counted by id: countClosedDays).
   */
  tagDays?: readonly Pick<NewSeal, 'tag' | 'day'>[];
}

/** What seals `seals` are made of (SealGroup): their days, their rows' lines and the days of their tags they hold whole. */
function sealGroup(seals: readonly ProvedSeal[]): SealGroup {
  return { days: seals.map((s) => s.day), lines: linesOf(seals), tagDays: seals.map(({ tag, day }) => ({ tag, day })) };
}

/** A run of the sweep's chain guard (runGuard): one group, or groups at once, each answered; `found`: the chains' problem found so far. */
interface RunGuard {
  problem: (group: SealGroup) => Promise<string | null>;
  problems: (groups: readonly SealGroup[]) => Promise<(string | null)[]>;
  found: () => string | null;
}

/** Seals a run of the sweep proved, not yet written (sealBatch), and how many rows they are made of. */
interface SweepBatch {
  seals: ProvedSeal[];
  rows: number;
}

/** The lines of every row `seals` are made of (ProvedSeal), by payment id. */
function linesOf(seals: readonly ProvedSeal[]): Map<number, string> {
  return new Map(seals.flatMap((s) => [...s.lines]));
}

/**
 * How long after a Jakarta day ended it is sealed: payments still sending at midnight mostly
 * settle within it. A payment of a sealed day that changes later only costs its day's seal.
 */
const SEAL_MARGIN_MS = 3_600_000;
/** How many closed days back the sweep seals (a month's reconciliation and a day more). */
const SWEEP_DAYS = 32;
/**
 * How many rows a run of the sweep reads at most per row it may prove one by one: a sealed day
 * read again after a payment of it changed is hashed first (a month of a busy account, 49,000
 * rows, took 275-345 ms), so a run after many changes to many sealed days (the first run after a
 * long stop) reads a part of them and the next run goes on.
 */
const SWEEP_READS_PER_PROVED = 4;
/**
 * How many spans of days older than the sweep's window readings may ask the sweep to prove at
 * once (requestSweep): each is a clerk's period (a month at most), read and sealed by the sweep's
 * next run; past it the oldest request is let go (logged), the clerk's next reading asks again.
 */
const REQUESTED_SPANS = 8;

/** The closed days the sweep seals and the warm-up picks from, at `now`: the last SWEEP_DAYS ended SEAL_MARGIN_MS ago or more. */
function sweptDays(now: number): { firstDay: number; lastDay: number } {
  const lastDay = jakartaDay(now - SEAL_MARGIN_MS) - 1;
  return { firstDay: lastDay - SWEEP_DAYS + 1, lastDay };
}

/** Payment ids per statement reading last events (under SQLite's 999 parameters of old builds too). */
const SEQ_CHUNK = 900;

/**
 * How many proved rows' lines a run of the sweep holds at most before it asks its guard about
 * them all at once (SweepBatch): each asking walks every chain link since the first of its days
 * (a month of a million payments is two million links), so asking once per day counted and once
 * per account sealed made a run of a month of a million payments walk about 35 months of links.
 * A line is about 200 bytes: the bound keeps them to about 100 MB.
 */
const SWEEP_GUARD_ROWS = 10 * RECONCILE_LIMIT;

/** Payments of a seal's rows not as proved where its chains are walked that are named (rowsNotAsProved); the rest counted. */
const NAMED_MOVED = 3;

const log = getLogger('store');
/** A payment as the console's pages read it: with amount_minor, which the list sums, filters and sorts on. */
const LISTED_COLUMNS = `${PAYMENT_COLUMNS}, amount_minor`;
type ListedRow = PaymentRow & { amount_minor?: number | string };
/**
 * How many proved rows reconciliations keep (ProvedRows): two months of the busiest account a
 * reconciliation reads (about 900 bytes of heap a row: 45 MB a month, 90 MB at most), so a month
 * opened again, or after its days one by one, opens and checks only what is new or changed.
 */
const KEPT_PROOFS_LIMIT = 2 * RECONCILE_LIMIT;
/** How much of a reconciliation's period one read takes (see reconciledSpans): a month in ten reads. */
const RECONCILE_SPAN_MS = 3 * DAY_MS;
/**
 * In how many statements at once a reconciliation's span is read on MariaDB and MySQL, each over
 * its share of the span's time (readSpan). Each row's line ends with its last event seq, read
 * from the events' index (uq_payment_events_payment_seq): one in twenty payments of the million
 * is the reconciled account's, so its month touches nearly every page of that index over the
 * month (about 4,000 pages), and InnoDB reads the pages one statement needs one after the other.
 * Not in the buffer pool (a first opening), a month's ten span statements took 75-170 ms each
 * (docs/performance.md, "The list by client and status; the month's spans in slices"). The embedded
 * store reads through the operating system's cache on its one connection: one statement there.
 */
const SPAN_READS_MYSQL = 4;

/** A payment's paying account as read to open it (paymentPlace: where it is sealed). */
interface PlacedRow {
  id: number | string;
  client_id: string;
  transaction_id: string;
  created_at: number | string;
  source_account: string | null;
}

/** What one run of the seal sweep did (SqlPaymentSearchRepository.sealClosedDays). */
export interface SealSweep {
  /** Accounts whose closed days were read. */
  accounts: number;
  /** Their payments read (hashed on a sealed day, else proved one by one). */
  rowsRead: number;
  /** Rows proved one by one. */
  rowsProved: number;
  /** Day seals written (new and renewed). */
  sealed: number;
  /** Days whose trusted seal no longer held (proved row by row). */
  stale: number;
  /** The overview's closed days counted and kept (migration 034: new, or counted again). */
  daysCounted: number;
  /** Of those, the days that proved whole and were sealed anew; the others' rows stay marked. */
  renewed: number;
  /** Stopped by its budget (or asked to) before every account was looked at. */
  left: boolean;
  /** Spans older than its window that readings asked it to prove (requestSweep), read this run. */
  requested: number;
}

/** Days of an account older than the sweep's window a reading left to it (requestSweep): Jakarta day numbers, both ends included. */
interface RequestedSpan {
  account: string;
  firstDay: number;
  lastDay: number;
}

/** A search's date range on created_at, as whereOf filters. */
function dateFilters(search: PaymentSearch): [condition: string, value: SqlValue | undefined][] {
  return [
    ['created_at >= ?', search.from],
    ['created_at < ?', search.to],
  ];
}

/** The WHERE conditions of a search's clear filters. Column names come from here only. */
function conditions(search: PaymentSearch): { where: string[]; params: SqlValue[] } {
  return whereOf([
    ...dateFilters(search),
    ['client_id = ?', search.clientId],
    ['state = ?', search.state],
    ['bank = ?', search.bank],
    ['amount_minor >= ?', search.minAmountMinor],
    ['amount_minor <= ?', search.maxAmountMinor],
    ['transaction_id = ?', search.transactionId],
    ['bank_reference = ?', search.bankReference],
  ]);
}

function whereClause(where: string[]): string {
  return where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
}

/** Sort → key column and direction. Column names come from here only, never from input. */
const SORTS: Record<PaymentSort, { column: 'created_at' | 'amount_minor'; descending: boolean }> = {
  newest: { column: 'created_at', descending: true },
  oldest: { column: 'created_at', descending: false },
  largest: { column: 'amount_minor', descending: true },
  smallest: { column: 'amount_minor', descending: false },
};

/** The Jakarta day number of an epoch-ms column, the same integer on both backends. */
function dayExpression(db: Pick<Db, 'dialect'>, column: string): string {
  return db.dialect === 'mysql' ? `((${column} + ${JAKARTA_OFFSET_MS}) DIV ${DAY_MS})` : `((${column} + ${JAKARTA_OFFSET_MS}) / ${DAY_MS})`;
}

/**
 * A payment's Jakarta day of created_at as ix_payments_created_day indexes it (migration 046): on
 * MariaDB and MySQL its virtual column created_day (dayExpression's value), on SQLite the indexed
 * expression itself, which a query must write as the index does.
 */
function createdDaySql(db: Pick<Db, 'dialect'>): string {
  return db.dialect === 'mysql' ? 'created_day' : dayExpression(db, 'created_at');
}


/** The Jakarta days of [from, to), each with the part of it in the range. */
function dayRanges(from: number, to: number): { day: number; start: number; end: number }[] {
  const ranges: { day: number; start: number; end: number }[] = [];
  for (let day = jakartaDay(from); jakartaDayStart(day) < to; day += 1) ranges.push({ day, start: Math.max(from, jakartaDayStart(day)), end: Math.min(to, jakartaDayStart(day + 1)) });
  return ranges;
}

/** Nearest-rank percentile of a histogram sorted by duration. */
function percentile(histogram: { durationMs: number; count: number }[], total: number, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const bucket of histogram) {
    seen += bucket.count;
    if (seen >= rank) return bucket.durationMs;
  }
  return histogram.length > 0 ? histogram[histogram.length - 1].durationMs : 0;
}

/**
 * How a row's amount_minor (what the database sums, filters and sorts by) differs from its amount
 * (what its MAC covers), or null when they agree or the row was read without it.
 */
function amountMinorProblem(row: ListedRow): string | null {
  if (row.amount_minor === undefined) return null;
  let held: bigint | null;
  try {
    held = amountMinor(row.amount);
  } catch {
    held = null;
  }
  if (held !== null && BigInt(String(row.amount_minor)) === held) return null;
  return `payments id ${toNumber(row.id)} (${row.client_id} / ${row.transaction_id}) was altered: its amount_minor ${String(row.amount_minor)} is not its amount ${JSON.stringify(row.amount)}`;
}

/**
 * The days of a span's rows that the span holds whole, each with its rows' places in (created_at,
 * id) order: every Jakarta day between the span's bounds, and not the last row's day when rows
 * were left past the bound.
 */
function wholeDays(span: Pick<ReconciledSpan, 'from' | 'to' | 'whole'>, rows: readonly Pick<ShownRow, 'id' | 'created_at'>[]): Map<number, number[]> {
  const days = new Map<number, number[]>();
  const cut = span.whole || rows.length === 0 ? null : jakartaDay(toNumber(rows[rows.length - 1].created_at));
  // Rows come by time: a day's places are pushed to its array until the day changes, not looked up a row.
  let day = Number.NaN;
  let at: number[] | null = null;
  for (let i = 0; i < rows.length; i += 1) {
    const next = jakartaDay(toNumber(rows[i].created_at));
    if (next !== day) {
      day = next;
      const outside = next === cut || jakartaDayStart(next) < span.from || jakartaDayStart(next + 1) > span.to;
      at = outside ? null : (days.get(next) ?? null);
      if (!outside && at === null) days.set(next, (at = []));
    }
    at?.push(i);
  }
  // Read in created_at order: only ties are out of id order, if any (a day's 1,600 places sorted cost a month 10-20 ms).
  const before = (a: number, b: number) => toNumber(rows[a].created_at) - toNumber(rows[b].created_at) || toNumber(rows[a].id) - toNumber(rows[b].id);
  for (const at of days.values()) if (at.some((place, k) => k > 0 && before(at[k - 1], place) > 0)) at.sort(before);
  return days;
}

/**
 * Puts the ids of a span's rows (`rows`, in created_at order) on each Jakarta day into `counted`,
 * in that order, and returns up to where its days were read whole: its end, or the start of its
 * last row's day when rows were left past it.
 */
function countedDays(span: Pick<ReconciledSpan, 'from' | 'to' | 'whole'>, rows: readonly Pick<ShownRow, 'id' | 'created_at'>[], counted: Map<number, number[]>): number {
  for (const row of rows) {
    const day = jakartaDay(toNumber(row.created_at));
    const ids = counted.get(day);
    if (ids === undefined) counted.set(day, [toNumber(row.id)]);
    else ids.push(toNumber(row.id));
  }
  if (span.whole) return span.to;
  return rows.length === 0 ? span.from : Math.max(span.from, jakartaDayStart(jakartaDay(toNumber(rows[rows.length - 1].created_at))));
}

/** A payment's snapshot as a reconciliation read it: `last`'s, with the fields the reconciliation reads taken from the row. */
function asRead(row: Omit<ShownRow, 'line'>, last: PaymentSnapshot): PaymentSnapshot {
  return {
    ...last,
    state: row.state,
    bankTransactionId: toStringOrNull(row.bank_transaction_id),
    bankTransactionDate: toStringOrNull(row.bank_transaction_date),
    bankExternalId: toStringOrNull(row.bank_external_id),
  };
}

/** Count and sum of proved payments: the sum of those that hold, by the amount their MAC covers; the others counted as changed. */
function provedTotals(records: PaymentRecord[]): { count: number; totalMinor: bigint; proof: 'proved'; changed: number } {
  const holding = records.filter((record) => record.integrityProblem === undefined);
  return { count: records.length, totalMinor: holding.reduce((sum, record) => sum + amountMinor(record.amount), 0n), proof: 'proved', changed: records.length - holding.length };
}

/** The trigrams' own index (gram_hash, payment_id), forced: a trigram's postings in id order are one run of it. */
function gramIndex(dialect: Dialect): string {
  return dialect === 'mysql' ? 'FORCE INDEX (ix_payment_search_grams_gram)' : 'INDEXED BY ix_payment_search_grams_gram';
}

/** The next postings of one trigram of a text search's walk, as nextPostingsSql reads them. */
interface NextPostings {
  hash: bigint;
  /** How many (at most a step's). */
  n: number;
  /** The lowest and highest payment id among them. */
  low: number;
  high: number;
}

/**
 * The statement reading, for each of `grams` trigrams (its index `i`, in parameter order: each
 * trigram's hash, then `within`'s parameters, then the walk's position when `below`), how many of
 * its next `chunk` postings there are below the walk's position and the lowest and highest
 * payment id among them: `chunk` entries of the trigrams' index at most per trigram, newest first
 * (the pages the step then reads), one statement for them all.
 */
function nextPostingsSql(dialect: Dialect, grams: number, chunk: number, within: string, below: boolean): string {
  const index = gramIndex(dialect);
  return Array.from(
    { length: grams },
    (_, i) =>
      `SELECT ${i} AS i, COUNT(*) AS n, MIN(payment_id) AS low, MAX(payment_id) AS high FROM ` +
      `(SELECT payment_id FROM payment_search_grams ${index} WHERE gram_hash = ?${within}${below ? ' AND payment_id < ?' : ''} ORDER BY payment_id DESC LIMIT ${chunk}) t${i}`,
  ).join(' UNION ALL ');
}

/**
 * The statement of a text search's candidates among one step of the postings of the trigram the
 * step walks (`g`, parameters: each of `others` trigram hashes, then the walked one's, the step's highest and
 * lowest payment id, then `where`'s): the payments holding those `others` trigrams too
 * and passing the clear filters `where`, newest first. Every trigram is read in the trigrams' own
 * index (gram_hash, payment_id), and all of them before the payment's row: a step's postings are
 * ids in one range, so the lookups stay on a few pages of each trigram's run (the database may
 * start from whichever trigram has the fewest postings in the range), where the primary key
 * (payment_id, gram_hash) holds every trigram of a payment together and spreads a step over a
 * page a posting; and a posting missing one never reads its payment (a row of a few kilobytes).
 * MariaDB, left to itself, read the payment first and looked the others up by the primary key: a
 * cold step of 675 postings read 274 pages of the trigrams and 171 of the payments from disk
 * (130-140 ms), against none of the trigrams and only the candidates' payments so
 * (docs/performance.md, "Searches' first openings"). The index is forced (FORCE INDEX; SQLite:
 * INDEXED BY) and the payments read last (STRAIGHT_JOIN; SQLite: CROSS JOIN); each joined trigram
 * is one row of a unique pair, so the join finds each candidate once, as EXISTS did.
 */
function candidatesSql(dialect: Dialect, others: number, where: readonly string[]): string {
  const mysql = dialect === 'mysql';
  const index = gramIndex(dialect);
  const grams = Array.from({ length: others }, (_, i) => ` JOIN payment_search_grams x${i} ${index} ON x${i}.gram_hash = ? AND x${i}.payment_id = g.payment_id`).join('');
  return (
    'SELECT id, client_id, created_at, amount_minor, transaction_id, bank_reference, bank_transaction_id, details_json ' +
    `FROM (payment_search_grams g ${index}${grams}) ${mysql ? 'STRAIGHT_JOIN' : 'CROSS JOIN'} payments ON id = g.payment_id ` +
    `WHERE ${['g.gram_hash = ?', 'g.payment_id <= ?', 'g.payment_id >= ?', ...where].join(' AND ')} ORDER BY id DESC`
  );
}

/**
 * The postings the next step of a text search's walk reads per trigram: as many as `wanted` more
 * matches take at the rate the walk found them so far (`matched` in `walked` postings), a fifth
 * more, from `chunk` (the first step's, and the size while none was found) to GRAM_STEP_GROWTH
 * times it, and never past the postings left to walk (`left`, at least 1).
 */
function stepSize(chunk: number, walked: number, matched: number, wanted: number, left: number): number {
  const forWanted = matched > 0 ? Math.ceil((wanted * walked * 1.2) / matched) : chunk;
  return Math.max(1, Math.min(left, GRAM_STEP_GROWTH * chunk, Math.max(chunk, forWanted)));
}

/**
 * A step's ids [low, high] cut into at most `parts` ranges of about equal width, highest first,
 * each [high, low] of its own: together every id of the step, none twice, so their candidates
 * read one after the other in this order are the step's, newest first.
 */
function stepSlices(low: number, high: number, parts: number): [high: number, low: number][] {
  const width = high - low + 1;
  const n = Math.max(1, Math.min(parts, width));
  const slices: [number, number][] = [];
  for (let i = 0, top = high; i < n; i += 1) {
    const bottom = i === n - 1 ? low : high - Math.floor(((i + 1) * width) / n) + 1;
    slices.push([top, bottom]);
    top = bottom - 1;
  }
  return slices;
}

/**
 * The finance console's read side over the clear columns of payments and audit_bank_calls:
 * filters, keyset pages, daily figures. Bodies are never read here (they are the audit
 * repository's, which decrypts them).
 */
export class SqlPaymentSearchRepository implements PaymentSearchRepository {
  private readonly sealer: ValueSealer;
  /** Started on the first reconciliation, ended by close(). */
  #checks: ReconciliationChecks | null = null;
  /** The reconciliation's rows proved so far, by the exact values read (ProvedRows: why a changed row is never taken from it). */
  readonly #proved = new ProvedRows<ReconciledPayment>(KEPT_PROOFS_LIMIT);
  /** Rows proved one by one so far (account opened, MAC and history checked): what day seals spare. */
  #provedOneByOne = 0;
  /** The sweep's place among the account tags (sealClosedDays), so each run goes on from the last. */
  #sweptTag = '';
  /** Day seals this store wrote. */
  #sealsWritten = 0;
  /** The sealed days payment events changed since the sweep's last run, to read again (sealClosedDays). */
  readonly #changedDays = new ChangedDays();
  /** Days read whose trusted seal no longer held, and of those the days proved whole, to be sealed anew. */
  #staleSeals = 0;
  #staleSealsProved = 0;
  /** The overview's kept day totals this process held to the payment events, and up to which (holdingDayTotals). */
  readonly #checkedTotals = new Map<number, CheckedDayTotals>();
  /** The SQL of a row's sealed line on this store's dialect (sealedLineSql). */
  readonly #sealedLine: string;
  private readonly limits: StoreReadLimits;
  /** What a seal asks first (guardSeals): whether the audit chains hold from a time on, at most `maxLinks` walked. */
  #chainGuard: SealGuard;
  /** Spans of days older than the sweep's window that readings left to it (requestSweep), oldest first. */
  #requestedSpans: RequestedSpan[] = [];
  /**
   * The problem the sweep's chain guard found last, asked from `since` on (noteSweepFinding): a
   * reading whose walk is left to the sweep from before `heldFrom` is not provable with it.
   * `heldFrom`: the earliest time a later walk of the sweep found the chains hold from (Infinity:
   * none yet); the break lies before it, so it bears on no day from then on.
   */
  #sweepFinding: { since: number; problem: string; heldFrom: number } | null = null;

  /**
   * @param chain this process's audit chain, to write day seals with their change records; null: none written
   * @param limits bounds smaller than the store's own (StoreReadLimits), so a test reaches them with a few rows
   * @throws RangeError when a limit is not a whole number of at least 1
   */
  constructor(
    private readonly db: Db,
    private readonly keys: KeyRing | null = null,
    private readonly chain: ChainLanes | null = null,
    private readonly clock: () => number = Date.now,
    limits: Partial<StoreReadLimits> = {},
  ) {
    this.limits = {
      dayPageRows: DAY_PAGE_ROWS,
      gramChunk: GRAM_CHUNK,
      gramWalkLimit: GRAM_WALK_LIMIT,
      reconcileRows: RECONCILE_LIMIT,
      eventSliceIds: EVENT_SLICE_IDS,
      searchProvedRows: SEARCH_PROVED_LIMIT,
      readingChainLinks: READING_CHAIN_LINKS,
      ...limits,
    };
    // Written into statements' LIMIT: whole numbers, never a text.
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of at least 1, not ${String(value)}`);
    }
    this.sealer = new ValueSealer(keys);
    // The database's own proof until a guard holding the checkpoints outside it is given (guardSeals).
    this.#chainGuard = () => (since, maxLinks, q) => databaseChains({ chainGaps: (options) => chainGaps(q, this.sealer, options) }, since, maxLinks);
    this.#sealedLine = sealedLineSql(db.dialect);
  }

  guardSeals(guard: SealGuard): void {
    this.#chainGuard = guard;
  }

  /** How many reconciliation rows this store proved one by one (opened and checked), since it started. */
  get rowsProvedOneByOne(): number {
    return this.#provedOneByOne;
  }

  /**
   * The console's sweep (#16): seals the closed days of the last SWEEP_DAYS of every account that
   * has payments then, so a clerk's first opening of a month finds its days sealed, and renews the
   * seals a payment's later change made stale. First it counts and keeps the overview's totals of
   * those closed days whose kept totals do not hold, from their payments proved one by one
   * (countClosedDays, migration 034; those rows count towards `budgetRows`). Then per
   * account tag (from where the last run stopped):
   * - its first day with payments and no trusted seal, found by walking from one unsealed day to
   *   the first payment at or after it; the account's reconciliation is read from that day on
   *   (fromAccount: each such day proved row by row, and sealed when it held; sealed days only
   *   hashed);
   * - each sealed day before it that a payment event appended since (ChangedDays) may have made
   *   stale (the seal written before the event, or less than SEAL_AFTER_EVENT_MS after it): that
   *   day alone is read as a page reads it, hashed, and when its seal no longer holds, proved row
   *   by row and sealed anew only when every row of it held (a day with a row that does not hold
   *   is never sealed, its rows stay marked).
   * The account is opened from a payment of the tag, which must give that tag under a ring key.
   * The seals of these readings are written once the guard found the chains hold and their rows
   * as proved, asked for all of them at once (sealBatch: when their rows reach SWEEP_GUARD_ROWS,
   * and at the end of the run), as the counted days' totals are (countClosedDays).
   * A run over a sealed store with no new event reads no payment of it. Stops once `budgetRows`
   * rows were proved one by one, or SWEEP_READS_PER_PROVED times that many were read, or when
   * `stop` says so; the next run goes on from the tag it stopped at.
   */
  async sealClosedDays(now: number, budgetRows = RECONCILE_LIMIT, stop: () => boolean = () => false): Promise<SealSweep> {
    const swept: SealSweep = { accounts: 0, rowsRead: 0, rowsProved: 0, sealed: 0, stale: 0, daysCounted: 0, renewed: 0, left: false, requested: 0 };
    if (this.chain === null) return swept;
    const { firstDay, lastDay } = sweptDays(now);
    const before = { proved: this.#provedOneByOne, sealed: this.#sealsWritten, stale: this.#staleSeals, renewed: this.#staleSealsProved };
    const guard = this.runGuard();
    swept.daysCounted = await this.countClosedDays(
      Array.from({ length: lastDay - firstDay + 1 }, (_, i) => firstDay + i),
      budgetRows,
      stop,
      guard.problems,
    );
    // The chains found not to hold: nothing more is sealed this run, and no account read for it.
    const spent = () => this.#provedOneByOne - before.proved >= budgetRows || swept.rowsRead >= budgetRows * SWEEP_READS_PER_PROVED || stop() || guard.found() !== null;
    // First the spans older than the window that readings left to it (requestSweep): a clerk waits on them.
    while (this.#requestedSpans.length > 0) {
      if (spent()) {
        swept.left = true;
        break;
      }
      const span = this.#requestedSpans.shift()!;
      swept.rowsRead += (await this.reconcile(span.account, jakartaDayStart(span.firstDay), jakartaDayStart(span.lastDay + 1), false, guard.problem)).rows.length;
      swept.requested += 1;
    }
    const to = jakartaDayStart(lastDay + 1);
    const tags = await paymentTags(this.db);
    await this.#changedDays.read(this.db, tags, firstDay, lastDay);
    const after = this.#sweptTag;
    const batch: SweepBatch = { seals: [], rows: 0 };
    for (const tag of [...tags.filter((t) => t > after), ...tags.filter((t) => t <= after)]) {
      if (spent()) {
        swept.left = true;
        break;
      }
      this.#sweptTag = tag;
      const trusted = await trustedSeals(this.db, this.sealer, tag, firstDay, lastDay);
      const first = await this.firstUnsealed(tag, firstDay, lastDay, trusted);
      // Sealed days the walk does not read on from, each sealed before an event of it.
      const changed = [...this.#changedDays.take(tag)]
        .filter(([day, at]) => day >= firstDay && day < (first?.day ?? lastDay + 1) && (trusted.get(day)?.sealedAt ?? Infinity) < at + SEAL_AFTER_EVENT_MS)
        .map(([day]) => day)
        .sort((a, b) => a - b);
      if (first === null && changed.length === 0) continue;
      const row = first?.row ?? (await this.firstPaymentOf(tag, jakartaDayStart(changed[0]), to));
      const account = row === undefined ? null : this.accountOf(tag, row);
      if (account === null) continue;
      for (const day of changed) swept.rowsRead += await this.readToSeal(account, jakartaDayStart(day), jakartaDayStart(day + 1), true, batch);
      if (first !== null) swept.rowsRead += await this.readToSeal(account, jakartaDayStart(first.day), to, false, batch);
      swept.accounts += 1;
      if (batch.rows >= SWEEP_GUARD_ROWS) await this.sealBatch(batch, guard.problems);
    }
    await this.sealBatch(batch, guard.problems);
    swept.rowsProved = this.#provedOneByOne - before.proved;
    swept.sealed = this.#sealsWritten - before.sealed;
    swept.stale = this.#staleSeals - before.stale;
    swept.renewed = this.#staleSealsProved - before.renewed;
    return swept;
  }

  /**
   * The sweep's reading of `sourceAccount` in [from, to) (fromAccount, `hashKept` as Reconciling
   * says), nothing written: the seals of the days it proved whole are added to `batch`, for
   * sealBatch to ask the guard about them with the others and write them. How many rows it read.
   */
  private async readToSeal(sourceAccount: string, from: number, to: number, hashKept: boolean, batch: SweepBatch): Promise<number> {
    const { period, reconciling } = await this.readPeriod(sourceAccount, from, to, hashKept);
    for (const seal of reconciling.seals) {
      batch.seals.push(seal);
      batch.rows += seal.lines.size;
    }
    return period.rows.length;
  }

  /**
   * Writes the seals of the sweep's readings held in `batch` (readToSeal) that `guard` finds hold:
   * the chains from their first day on, and each seal's rows as proved, all in one snapshot
   * (sealingProblems): what each reading's own asking proved (reconcile), once for all of them. A
   * seal whose rows moved is not written, the others are; the chains broken, none is (logged, as
   * reconcile logs it): the next run reads them again. The batch is emptied.
   */
  private async sealBatch(batch: SweepBatch, guard: RunGuard['problems']): Promise<void> {
    const seals = batch.seals;
    batch.seals = [];
    batch.rows = 0;
    if (seals.length === 0) return;
    const problems = await guard(seals.map((seal) => sealGroup([seal])));
    const held = seals.filter((_, i) => problems[i] === null);
    if (held.length > 0) await this.sealDays(held);
    const refused = seals.filter((_, i) => problems[i] !== null);
    if (refused.length === 0) return;
    log.error({ days: [...new Set(refused.map((s) => dayLabel(s.day)))].sort(), problem: problems.find((p) => p !== null) }, 'reconciliation days not sealed: the audit chains do not hold as a whole, or the rows read changed before they were proved');
  }

  /** The first payment of `tag` on a day of [first, last] that has no trusted seal, and its day; null when every such day is sealed. */
  private async firstUnsealed(tag: string, first: number, last: number, trusted: Map<number, unknown>): Promise<{ day: number; row: PlacedRow } | null> {
    for (let day = first; day <= last; day += 1) {
      if (trusted.has(day)) continue;
      const row = await this.firstPaymentOf(tag, jakartaDayStart(day), jakartaDayStart(last + 1));
      if (row === undefined) return null;
      day = jakartaDay(toNumber(row.created_at));
      if (!trusted.has(day)) return { day, row };
    }
    return null;
  }

  /** The first payment tagged `tag` created in [from, to), with what opens its account. */
  private async firstPaymentOf(tag: string, from: number, to: number): Promise<PlacedRow | undefined> {
    const [row] = await this.db.query<PlacedRow>(
      'SELECT id, client_id, transaction_id, created_at, source_account FROM payments WHERE source_account_tag = ? AND created_at >= ? AND created_at < ? ORDER BY created_at LIMIT 1',
      [tag, from, to],
    );
    return row;
  }

  /**
   * A sealed day to warm the reconciliation with as the console starts (reconciliation-warm-up.ts):
   * of the first account tag (of the first `tags`) that has a trusted seal on a closed day of the
   * last SWEEP_DAYS, the day with the most rows up to `maxRows` (else the one with the fewest),
   * and its account, opened from that day's first payment (which must give the tag, as for the
   * sweep). Null when there is none. The bound keeps the console's start short even when that
   * day's seal no longer holds and its rows are proved one by one.
   */
  async sealedDayToWarm(now: number, maxRows = 5_000, tags = 20): Promise<{ account: string; from: number; to: number } | null> {
    const { firstDay, lastDay } = sweptDays(now);
    // Fewer rows within the bound rank lower; past it, more rows rank lower still.
    const rank = (rows: number) => (rows <= maxRows ? rows : -rows);
    for (const tag of (await paymentTags(this.db)).slice(0, tags)) {
      const trusted = await trustedSeals(this.db, this.sealer, tag, firstDay, lastDay);
      let day: number | null = null;
      for (const [d, seal] of trusted) if (day === null || rank(seal.rowCount) > rank(trusted.get(day)!.rowCount)) day = d;
      if (day === null) continue;
      const row = await this.firstPaymentOf(tag, jakartaDayStart(day), jakartaDayStart(day + 1));
      const account = row === undefined ? null : this.accountOf(tag, row);
      if (account !== null) return { account, from: jakartaDayStart(day), to: jakartaDayStart(day + 1) };
    }
    return null;
  }

  /**
   * The account of a payment tagged `tag`, opened; it must give that tag under a ring key (else it
   * is not the tag's: null, logged, and that payment is named when its account's reconciliation is
   * read).
   */
  private accountOf(tag: string, row: PlacedRow): string | null {
    const ring = this.sealer.keyRing;
    let account: string | null = null;
    try {
      account = this.sealer.open(row.source_account, paymentPlace('source_account', row));
    } catch {
      account = null;
    }
    if (account !== null && ring.keyIds.some((keyId) => accountTag(ring, account!, keyId) === tag)) return account;
    log.warn({ paymentId: toNumber(row.id) }, 'reconciliation seal sweep: a payment whose sealed account does not open to its tag; its account is not sealed by the sweep');
    return null;
  }

  async page(search: PaymentSearch, sort: PaymentSort, cursor: PaymentCursor | null, limit: number, direction: 'after' | 'before' = 'after'): Promise<PaymentPage> {
    const size = Math.min(Math.max(Math.trunc(limit), 1), MAX_LIMIT);
    if (search.text) return this.textPage(search, sort, cursor, size, direction);
    const { where, params } = conditions(search);
    // Bounded: at most TOTALS_LIMIT + 1 rows are read however large the table (see PaymentTotals.capped).
    // First whether there is a row past the bound (an index walk of TOTALS_LIMIT + 1 entries), and
    // only below it the exact count and sum. Not one `LIMIT` inside a derived table: a prepared
    // statement MariaDB has run for a common state keeps walking the whole index for a rare one
    // (the FAILED and UNKNOWN filters over a million payments took 1-2 s, now about 10 ms).
    // The bound is a constant of this file, never input.
    // Walked in the page's own order, so it takes the index the page takes (an amount range: the amount's).
    const { column, descending } = SORTS[sort];
    // Both are read through an index alone, so each is planned afresh (QueryOptions.freshPlan):
    // run again as a kept prepared statement after the page's whole-row read, MariaDB costed the
    // count over ix_payments_state_created_amount as if it had to open each row, and took
    // ix_payments_state_created_at, opening every match (the UNKNOWN filter: 1.5-2.6 s).
    const [past] = await this.db.query<{ id: number | string }>(
      `SELECT id FROM payments${whereClause(where)} ORDER BY ${column} DESC, id DESC LIMIT 1 OFFSET ${TOTALS_LIMIT}`,
      params,
      { freshPlan: true },
    );
    const [totals] = past
      ? [{ n: TOTALS_LIMIT + 1, total: 0 }]
      : await this.db.query<{ n: number | string; total: number | string | null }>(`SELECT COUNT(*) AS n, SUM(amount_minor) AS total FROM payments${whereClause(where)}`, params, {
          freshPlan: true,
        });
    const count = toNumber(totals?.n ?? 0);
    const capped = count > TOTALS_LIMIT;
    // Few enough to prove: the total is taken from the rows each checked, not from the SQL sum.
    const proved = count <= PROVED_LIMIT ? await this.provedRows(where, params) : null;
    // A page before the cursor is read in the opposite order, then turned back.
    const forward = direction === 'after';
    const readDescending = forward ? descending : !descending;
    const order = readDescending ? 'DESC' : 'ASC';
    const keyset = [...where];
    const keysetParams = [...params];
    if (cursor) {
      // Written as `key <= k AND (key < k OR id < i)` rather than a row comparison, so MariaDB
      // reads it as a range on the key's index.
      const op = readDescending ? '<' : '>';
      keyset.push(`${column} ${op}= ? AND (${column} ${op} ? OR id ${op} ?)`);
      keysetParams.push(cursor.key, cursor.key, cursor.id);
    }
    const rows = await this.db.query<PaymentRow & { amount_minor: number | string }>(
      `SELECT ${LISTED_COLUMNS} FROM payments${whereClause(keyset)} ORDER BY ${column} ${order}, id ${order} LIMIT ?`,
      [...keysetParams, size + 1],
    );
    const more = rows.length > size;
    const read = more ? rows.slice(0, size) : rows;
    const pageRows = forward ? read : read.reverse();
    const key = (row: (typeof rows)[number] | undefined): PaymentCursor | null =>
      row ? { key: column === 'created_at' ? toNumber(row.created_at) : String(row.amount_minor), id: toNumber(row.id) } : null;
    const first = pageRows[0];
    const last = pageRows[pageRows.length - 1];
    return {
      rows: await this.marked(pageRows),
      next: forward ? (more ? key(last) : null) : key(last),
      previous: forward ? (cursor ? key(first) : null) : more ? key(first) : null,
      totals: proved
        ? { ...provedTotals(proved), truncated: false, capped: false }
        : { count, totalMinor: capped ? 0n : BigInt(String(totals?.total ?? 0)), truncated: false, capped, proof: 'stored', changed: 0 },
    };
  }

  /**
   * By the account's keyed tag (migration 022), computed under every ring key (rows tagged before
   * a rotation carry an older key's tag); rows without a tag (written before 022) are opened and
   * matched here. At most RECONCILE_LIMIT of each. Read by ix_payments_reconcile (migrations 029
   * and 032): a month of a busy account is tens of thousands of rows. A tag's trusted seals are
   * read once for the period; a span of days all sealed is read from that index alone, with what
   * the page shows and the rows' sealed lines only (SHOWN_COLUMN_NAMES); a span with a day not
   * sealed, and a sealed span again when one of its rows is neither kept as proved nor on a day
   * whose seal holds (reconciledPayments), with each row's proof columns read by its id too.
   */
  async fromAccount(sourceAccount: string, from: number, to: number): Promise<ReconciledPeriod> {
    return this.reconcile(sourceAccount, from, to, false);
  }

  /**
   * fromAccount, `hashKept` as Reconciling says: read, then the days proved whole sealed if `guard`
   * finds the chains hold. A reading's guard walks at most limits.readingChainLinks links (the
   * sweep's walks them whole): a longer walk proves nothing either way, so those days are not
   * sealed, are listed as not checked and as `leftToSweep`, and the sweep is asked for those older
   * than its window (requestSweep); unless a run of the sweep found the chains broken
   * (sweepFinding: over them, or before them, which keeps it from proving them) and no later walk
   * of it found them hold from their start or before, then they are `unprovable` with that problem.
   */
  private async reconcile(
    sourceAccount: string,
    from: number,
    to: number,
    hashKept: boolean,
    guard: (group: SealGroup) => Promise<ChainsAnswer> = (group) => this.sealingProblem(group, this.limits.readingChainLinks),
  ): Promise<ReconciledPeriod> {
    const { period, reconciling } = await this.readPeriod(sourceAccount, from, to, hashKept);
    const sealed = reconciling.seals.map((s) => s.day);
    let answer = await guard(sealGroup(reconciling.seals));
    if (answer === null) {
      await this.sealDays(reconciling.seals);
      return period;
    }
    const days = [...new Set(sealed.map(dayLabel))].sort();
    const unchecked = [...new Set([...period.unchecked, ...days])].sort();
    if (typeof answer === 'object') {
      this.requestSweep(sourceAccount, sealed);
      const found = this.#sweepFinding;
      if (found === null || jakartaDayStart(Math.min(...sealed)) >= found.heldFrom) {
        log.info({ days, left: answer.left }, 'reconciliation days not sealed by this reading: proving the audit chains since then is left to the seal sweep');
        return { ...period, unchecked, leftToSweep: { days, detail: answer.left } };
      }
      // From the sweep's start on, its problem is theirs: links since these days' start are among
      // those it walked. From before their start, the break may lie before them; but the sweep
      // proves nothing past a break until an operator resolves it (runGuard asks from its
      // window's start each run), so "proved on its next run" would never come true: said so.
      answer =
        found.since >= jakartaDayStart(Math.min(...sealed))
          ? found.problem
          : `the seal sweep found the audit chains broken since ${dayLabel(jakartaDay(found.since))}, before these days, and proves no later day until an operator resolves it (gerbang audit verify, then accept-rollback): ${found.problem}`;
    }
    // Proved whole against histories that may have lost their newest events: not sealed, and said so.
    log.error({ days, problem: answer }, 'reconciliation days not sealed: the audit chains do not hold as a whole, or the rows read changed before they were proved');
    return { ...period, unchecked, unprovable: { days, problem: answer } };
  }

  /**
   * Asks the seal sweep's next run to read and seal `days` (Jakarta day numbers) of `account` that
   * lie before its window (it seals the days inside by itself), and the window's first day (it
   * leaves the window as the day turns, maybe before that run): their span, unless a span asked
   * already holds it. At most REQUESTED_SPANS are kept, the oldest let go past that.
   */
  private requestSweep(account: string, days: readonly number[]): void {
    const { firstDay } = sweptDays(this.clock());
    const old = days.filter((day) => day <= firstDay);
    if (old.length === 0) return;
    const span: RequestedSpan = { account, firstDay: Math.min(...old), lastDay: Math.max(...old) };
    if (this.#requestedSpans.some((r) => r.account === account && r.firstDay <= span.firstDay && r.lastDay >= span.lastDay)) return;
    this.#requestedSpans.push(span);
    if (this.#requestedSpans.length <= REQUESTED_SPANS) return;
    const dropped = this.#requestedSpans.shift()!;
    log.warn({ from: dayLabel(dropped.firstDay), to: dayLabel(dropped.lastDay), kept: REQUESTED_SPANS }, 'reconciliation: a span left to the seal sweep let go (too many asked); a reading of it asks again');
  }

  /**
   * Why days `days` may not be sealed now, or null: the chain guard (guardSeals) asked from the
   * first one's start on (other nodes' clocks allowed for: chainGaps). A seal rests on each payment's last event being its
   * last, on the seals and acceptances of the day and on its releases, all linked since its
   * payments were created; an older link bears on none of them (reasoned in docs/operator-guide.md,
   * "Reconciliation day seals"). Null when there is nothing to seal. `maxLinks`: a longer walk is
   * not made (`left`). The walk and the rows the seals are made of (`lines`: each one's sealed
   * line as it was proved, by payment id) are read in one snapshot (Db.withSnapshot), each row
   * held to its history again there (rowsNotAsProved): read one by one, a writer in SQL putting a
   * payment's deleted later events and their links back after its row was proved against the event
   * before them (or taking them out again) would have the walk prove a history the row was never
   * held to (H2). A row not as proved there is the problem (the next reading proves it again). The
   * guard reads the checkpoints outside the database before the snapshot begins (SealGuard): they
   * then vouch only for links it holds unless taken out, not for those of a write committed while
   * the rows are read again (a seal, an access-log entry), which it would name as cut back.
   */
  private async sealingProblem(group: SealGroup, maxLinks?: number): Promise<ChainsAnswer> {
    if (group.days.length === 0) return null;
    const { rows, chains } = await this.sealingProblems([group], maxLinks);
    return rows[0] ?? chains;
  }

  /**
   * sealingProblem for `groups` asked at once (the sweep's batches: a seal, a day's kept totals),
   * in one snapshot: each group's rows read again as proved (rowsNotAsProved), its own problem
   * when they are not (it alone is not sealed: one row settled meanwhile must not keep a month
   * of seals from being written); the chains walked once, from the first day of the groups whose
   * rows held (`chains`: null when none did), at most `maxLinks` walked (a reading's bound; the
   * sweep's walk is unbounded).
   */
  private async sealingProblems(groups: readonly SealGroup[], maxLinks?: number): Promise<{ rows: (string | null)[]; chains: ChainsAnswer; since: number | null }> {
    if (groups.length === 0 || this.chain === null) return { rows: groups.map(() => null), chains: null, since: null };
    const guard = this.#chainGuard();
    // Causal (SnapshotOptions): the guard read the checkpoints outside the database before it, maybe after another node's commit.
    return this.db.withSnapshot(
      async (q) => {
        const rows: (string | null)[] = [];
        for (const group of groups) rows.push(await this.rowsNotAsProved(q, group));
        const held = groups.filter((g, i) => rows[i] === null && g.days.length > 0).flatMap((g) => g.days);
        if (held.length === 0) return { rows, chains: null, since: null };
        const since = jakartaDayStart(Math.min(...held));
        return { rows, chains: await guard(since, maxLinks, q), since };
      },
      { causal: true },
    );
  }

  /**
   * Why the rows of `group` (its lines: by payment id, each one's sealed line as proved) are not as
   * proved on `q`, or null: each read again by its id (SEQ_CHUNK a statement) must have the very
   * line (its values, its proof digest and its last event seq; its MAC holds then as it held) and
   * its state must be its last event's there (reconciledHistoryProblems on `q`: the line and the
   * event it was held to may have been read at different moments too). A row gone is not as proved
   * either. Each of its tags' days (tagDays) is read again too, ids only, as a reading reads it (a
   * range of ix_payments_reconcile), and must hold those rows and no other: read by id alone, a
   * payment deleted whole in SQL (its row, its events and their links) while the day was read and
   * put back before this snapshot would be a row of the day the seal leaves out, its chains whole.
   */
  private async rowsNotAsProved(q: Queryable, group: SealGroup): Promise<string | null> {
    const lines = group.lines;
    const ids = [...lines.keys()];
    const moved: number[] = [];
    const history: string[] = [];
    const proving: Pick<Reconciling, 'coverage'> = { coverage: null };
    for (let i = 0; i < ids.length; i += SEQ_CHUNK) {
      const chunk = ids.slice(i, i + SEQ_CHUNK);
      const rows = await q.query<ReconciledRow>(`SELECT ${RECONCILED_COLUMNS}, ${this.#sealedLine} AS line FROM payments WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk);
      const same = rows.filter((row) => row.line === lines.get(toNumber(row.id)));
      const read = new Set(same.map((row) => toNumber(row.id)));
      moved.push(...chunk.filter((id) => !read.has(id)));
      for (const problem of await this.reconciledHistoryProblems(same, proving, q)) if (problem !== null) history.push(problem);
    }
    const { unproved, away } = await this.tagDaysNotAsProved(q, group);
    const named = new Set(moved);
    moved.push(...away.filter((id) => !named.has(id)));
    const more = (n: number) => (n > NAMED_MOVED ? ` (and ${n - NAMED_MOVED} more)` : '');
    const problems = [
      ...(moved.length > 0 ? [`payments id ${moved.slice(0, NAMED_MOVED).join(', ')}${more(moved.length)} changed or gained a payment event after it was proved`] : []),
      ...(unproved.length > 0 ? [`payments id ${unproved.slice(0, NAMED_MOVED).join(', ')}${more(unproved.length)} of the day was not among its rows proved (written, or deleted whole and put back, while the day was read)`] : []),
      ...(history.length > 0 ? [`where the audit chains are walked, ${history.slice(0, NAMED_MOVED).join('; ')}${more(history.length)}`] : []),
    ];
    if (problems.length === 0) return null;
    return `${problems.join('; ')} (a writer in SQL taking a payment's events, or the whole payment, out or putting them back between the two does that): the day is not sealed on that proof; a reading proves it again`;
  }

  /**
   * The rows of `group`'s tags' days (SealGroup.tagDays) on `q` against its rows as proved (its
   * lines), one range statement a day: those there not proved (`unproved`), and those proved not
   * there (`away`: gone, or their tag or time changed). Both empty for a group without tagDays.
   */
  private async tagDaysNotAsProved(q: Queryable, group: SealGroup): Promise<{ unproved: number[]; away: number[] }> {
    const tagDays = group.tagDays ?? [];
    if (tagDays.length === 0) return { unproved: [], away: [] };
    // The reading's own index (readSpan): the range holds the ids, no row is looked up.
    const sql = `SELECT id FROM payments${this.db.dialect === 'mysql' ? ' FORCE INDEX (ix_payments_reconcile)' : ''} WHERE source_account_tag = ? AND created_at >= ? AND created_at < ?`;
    const there = new Set<number>();
    for (const { tag, day } of tagDays) for (const row of await q.query<{ id: number | string }>(sql, [tag, jakartaDayStart(day), jakartaDayStart(day + 1)])) there.add(toNumber(row.id));
    return { unproved: [...there].filter((id) => !group.lines.has(id)).sort((a, b) => a - b), away: [...group.lines.keys()].filter((id) => !there.has(id)) };
  }

  /**
   * The sweep's guard (sealingProblems) for one run: once it finds the chains do not hold, every
   * later day of the run is refused with that problem without walking them again (each walk is of
   * every link since its day began: a month of a busy store is a minute, and the run asks for each
   * day it counts and each account it seals). Sealing nothing is always safe; the next run asks
   * anew. A group whose rows moved since they were proved (a payment settled meanwhile) has that
   * problem of its own: it alone is not sealed, and it is neither what the run found nor what is
   * kept for readings; the chains' problem alone is both (sweepFinding). `problem` asks for one
   * group (a span a reading left to the sweep, read as a reading reads: reconcile) as `problems`
   * does for many.
   */
  private runGuard(): RunGuard {
    let found: string | null = null;
    const problems: RunGuard['problems'] = async (groups) => {
      if (found !== null) return groups.map(() => found);
      const { rows, chains, since } = await this.sealingProblems(groups);
      const chainProblem = answerProblem(chains);
      if (since !== null) {
        found = chainProblem;
        this.noteSweepFinding(since, chainProblem);
      }
      return rows.map((problem) => problem ?? chainProblem);
    };
    return {
      problem: async (group) => (found !== null || group.days.length === 0 ? found : (await problems([group]))[0]),
      problems,
      found: () => found,
    };
  }

  /**
   * Keeps what the sweep's guard found asked from `since` on (sweepFinding): a problem replaces
   * the one kept; the chains holding from `since` on clear one found from then or later (an
   * operator accepted the break meanwhile, or it was put back). Holding from a later time (each
   * run asks from its window's start, which moves on as the day turns) they do not clear it (the
   * break may lie between the two), but keep it from days that begin then or later (heldFrom).
   */
  private noteSweepFinding(since: number, problem: string | null): void {
    const found = this.#sweepFinding;
    if (problem !== null) this.#sweepFinding = { since, problem, heldFrom: Number.POSITIVE_INFINITY };
    else if (found !== null && found.since >= since) this.#sweepFinding = null;
    else if (found !== null) found.heldFrom = Math.min(found.heldFrom, since);
  }

  async acceptDay(sourceAccount: string, day: string, accept: (toAccept: DayToAccept) => Promise<boolean>): Promise<DayAcceptance> {
    if (this.chain === null) throw new Error('this store has no audit chain: a day cannot be sealed');
    const n = Date.parse(`${day}T00:00:00Z`) / 86_400_000;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !Number.isSafeInteger(n) || dayLabel(n) !== day) throw new RangeError(`not a day: ${JSON.stringify(day)}`);
    const ring = this.sealer.keyRing;
    const tag = accountTag(ring, sourceAccount);
    // A day is sealed once closed (as a reading seals it): one not closed yet is not read.
    const closesAt = jakartaDayStart(n + 1) + SEAL_MARGIN_MS;
    if (closesAt > this.clock()) return { found: [], sealed: false, checked: false, closesAt, tag, sealing: [] };
    // Hashed even where kept as proved: the seal written is made of what is read now.
    const { period, reconciling } = await this.readPeriod(sourceAccount, jakartaDayStart(n), jakartaDayStart(n + 1), true);
    const found = period.missing;
    const checked = !period.unchecked.includes(day);
    if (found.length === 0) return { found, sealed: false, checked, tag, sealing: [] };
    // A tag none of whose rows is left on the day is sealed empty: the day is then held to having none.
    const seals = reconciling.withheld.map(
      (w): ProvedSeal | null =>
        w.seal ?? (w.read.length === 0 ? { tag: w.tag, day: w.day, rowCount: 0, seal: daySeal(ring, sourceAccount, w.tag, w.day, sealedDay([]), ring.currentKeyId).seal, paymentIds: '', lines: new Map() } : null),
    );
    const sealing = reconciling.withheld.flatMap((w, i) => (seals[i] === null ? [] : [{ tag: w.tag, day: dayLabel(w.day), paymentIds: w.read, seal: seals[i].seal }]));
    // Sealed without them, a row still there (moved out in SQL, or read without its tag) would be out of every later reading.
    const left = [...new Set([...found.flatMap((m) => m.moved ?? []), ...reconciling.untagged])];
    const unsealable = period.truncated
      ? `the day holds more payments than one reading proves (${this.limits.reconcileRows})`
      : left.length > 0
        ? `payment id ${left.join(', ')} is still in the database but not under the account's tag (changed in SQL; a payment from before account tags has none until gerbang keys rotate tags it): sealing the day would leave it out; restore its row first (gerbang audit verify)`
        : seals.includes(null) || period.rows.some((p) => p.integrityProblem !== undefined)
          ? 'a payment of the day does not hold (changed in the database: marked on the reconciliation page), so the day cannot be sealed; restore it first'
          : undefined;
    if (unsealable !== undefined) return { found, sealed: false, checked, unsealable, tag, sealing };
    const chainProblemNow = answerProblem(await this.sealingProblem({ ...sealGroup(seals as ProvedSeal[]), days: [n] }));
    if (chainProblemNow !== null) return { found, sealed: false, checked, unsealable: chainProblemNow, tag, sealing };
    if (!(await accept({ found, tag, sealing }))) return { found, sealed: false, checked, tag, sealing };
    this.#sealsWritten += await writeSeals(this.chain, this.sealer, this.clock(), seals as NewSeal[]);
    return { found, sealed: true, checked, tag, sealing };
  }

  /** A reconciliation's reading (fromAccount), nothing written: the period, and what it would seal (Reconciling). */
  private async readPeriod(sourceAccount: string, from: number, to: number, hashKept: boolean): Promise<{ period: ReconciledPeriod; reconciling: Reconciling }> {
    const ring = this.sealer.keyRing;
    const tags = [...new Set(ring.keyIds.map((keyId) => accountTag(ring, sourceAccount, keyId)))];
    // One tag (or no tag) per read, in the index's own order: a sort of the rows (several tags in
    // one IN, or `ORDER BY created_at, id`) made MariaDB fetch every sorted row from the table by
    // its id again, the very lookups the index is there to spare (a month: 3.4 s against 60 ms).
    // Ties on created_at are put in id order below.
    const reads = [
      ...tags.map((tag) => ({ where: 'source_account_tag = ?', params: [tag], spanMs: RECONCILE_SPAN_MS, tag })),
      // Rows from before the tags are few, if any: one read, never sealed, so read whole at once.
      { where: 'source_account_tag IS NULL AND source_account IS NOT NULL', params: [], spanMs: to - from, tag: null },
    ];
    const reconciling: Reconciling = { account: sourceAccount, hashKept, now: this.clock(), coverage: null, seals: [], withheld: [], cut: false, untagged: [] };
    const rows: ReconciledPayment[] = [];
    const missing: MissingPayments[] = [];
    let truncated = false;
    // The start of the first day whose payments a read did not read all of (a read cut at the bound).
    let notReadFrom = Number.POSITIVE_INFINITY;
    // The days a read held to a trusted seal, read whole, and those with rows it did not.
    const checked = new Set<number>();
    const unchecked = new Set<number>();
    for (const { where, params, spanMs, tag } of reads) {
      const none = { trusted: new Map<number, TrustedSeal>(), held: new Map<number, TrustedSeal>(), broken: new Map<number, string>() };
      const { trusted, held, broken } = tag === null || to <= from ? none : await sealsOfDays(this.db, this.sealer, tag, jakartaDay(from), jakartaDay(to - 1));
      // A span of days all sealed is read with what is shown only; one of days none sealed whole
      // at once (most of its rows are to be proved one by one, or were and are kept). A span with
      // both is cut at the first day whose sealing differs from its first day's, so a sealed day is
      // never read with its rows' proof columns (since migration 032 each a lookup of its row).
      // A span of whole days each sealed and kept whole as proved (a page opened again) is read
      // with its lines alone, each compared whole with the line kept (keptPayments): what is
      // shown is not read, its payments are those made when it was kept.
      const keptWhole = (start: number, end: number) => {
        if (tag === null || hashKept || jakartaDayStart(jakartaDay(start)) !== start || jakartaDayStart(jakartaDay(end)) !== end) return false;
        for (let day = jakartaDay(start); jakartaDayStart(day) < end; day += 1) if (!this.#proved.keepsWhole(`${tag} ${day}`, sourceAccount)) return false;
        return true;
      };
      // The end of the run of whole days from `start` on, up to `last`, each sealed and kept whole
      // as proved (a page opened again): `start` when its first day is not. Such a run is read in
      // one span, not RECONCILE_SPAN_MS at a time: no line of it is held (its rows are garbage
      // once compared), and each span is a round of statements the page waits for (a
      // month was ten rounds, one after the other: on a loaded machine each waits for a core).
      const keptRun = (start: number, last: number): number => {
        if (tag === null || hashKept || jakartaDayStart(jakartaDay(start)) !== start) return start;
        let day = jakartaDay(start);
        while (jakartaDayStart(day + 1) <= last && trusted.has(day) && this.#proved.keepsWhole(`${tag} ${day}`, sourceAccount)) day += 1;
        return jakartaDayStart(day);
      };
      const cut = (start: number, end: number, last: number): { end: number; read: SpanRead } => {
        const kept = keptRun(start, last);
        if (kept > end) return { end: kept, read: 'kept' };
        const sealed = trusted.has(jakartaDay(start));
        for (let day = jakartaDay(start) + 1; jakartaDayStart(day) < end; day += 1) if (trusted.has(day) !== sealed) return { end: jakartaDayStart(day), read: sealed ? 'shown' : 'full' };
        return { end, read: !sealed ? 'full' : keptWhole(start, end) ? 'kept' : 'shown' };
      };
      // The ids of the rows read on each day, and up to where the days were read whole.
      const counted = new Map<number, number[]>();
      let readTo = from;
      for await (const read of this.reconciledSpans(where, params, from, to, spanMs, cut)) {
        if (read === 'truncated') {
          truncated = true;
          notReadFrom = Math.min(notReadFrom, readTo);
          continue;
        }
        // Counted from the rows proved (a span read again holds the rows as they are now, and its seal is made of them).
        const { payments, proved } = await this.reconciledPayments(read, tag, trusted, reconciling);
        readTo = countedDays(proved, proved.keptRows ?? proved.rows, counted);
        if (!proved.whole) notReadFrom = Math.min(notReadFrom, readTo);
        for (const payment of payments) rows.push(payment);
        if (tag === null) reconciling.untagged.push(...payments.map((payment) => payment.id));
      }
      if (tag !== null) for (const short of await this.missingPayments(tag, held, broken, counted, from, readTo, reconciling)) missing.push(short);
      for (let day = jakartaDay(from); to > from && jakartaDayStart(day) < to; day += 1) {
        const whole = jakartaDayStart(day) >= from && jakartaDayStart(day + 1) <= readTo;
        if (held.has(day) && whole) checked.add(day);
        else if (held.has(day) || counted.has(day) || broken.has(day)) unchecked.add(day);
      }
    }
    if (reconciling.cut) truncated = true;
    // Cut where no read says up to where it read whole: nothing of the period is known whole.
    if (truncated && notReadFrom === Number.POSITIVE_INFINITY) notReadFrom = from;
    const byTime = (a: ReconciledPayment, b: ReconciledPayment) => a.createdAt - b.createdAt || a.id - b.id;
    // Most often in order already (one tag, no ties out of id order): then not sorted.
    if (rows.some((row, i) => i > 0 && byTime(rows[i - 1], row) > 0)) rows.sort(byTime);
    const days: string[] = [];
    for (let day = jakartaDay(from); to > from && jakartaDayStart(day) < to; day += 1) if (!checked.has(day) || unchecked.has(day)) days.push(dayLabel(day));
    return { period: { rows, truncated, missing, unchecked: days, ...(truncated ? { notReadFrom: dayLabel(jakartaDay(notReadFrom)) } : {}) }, reconciling };
  }

  /**
   * The trusted sealed days of `tag` read whole (within [from, readTo)) that lack a payment their
   * seal covered (`counted`: the ids of the rows read on each): payments deleted in the database,
   * outside Gerbang. A seal since migration 041 names its payments (TrustedSeal.paymentIds): each
   * one not read must have been released through Gerbang since the day was sealed (its own history,
   * releasedSince), and any other is named by its id, whatever else the day holds (a release of
   * another payment, a row of another account given this tag in SQL); one whose row is still in
   * `payments` (its tag or its time changed in SQL) is named apart (`moved`): not a deletion, and
   * the day is not accepted while it is so (acceptDay). A seal written before is
   * held to its count, a payment of that day of any account released since making up for one row
   * (releasedOfDay; the threat model states the limit). Such a day is not sealed anew (its seals
   * taken out of `reconciling`): its seal keeps what was deleted, so every later reading names the
   * day too. `held`: the seals whose values are the gateway's (sealsOfDays: under an older key too,
   * or with their MAC alone cleared). A day in `broken` (its seal deleted or changed in SQL) is
   * named (sealProblem), logged, and never sealed anew either. A day read as sealed costs a walk of
   * its sealed ids beside the ids read.
   */
  private async missingPayments(
    tag: string,
    held: Map<number, TrustedSeal>,
    broken: Map<number, string>,
    counted: Map<number, number[]>,
    from: number,
    readTo: number,
    reconciling: Reconciling,
  ): Promise<MissingPayments[]> {
    const missing: MissingPayments[] = [];
    const withhold = (day: number) => {
      reconciling.withheld.push({ tag, day, read: counted.get(day) ?? [], seal: reconciling.seals.find((s) => s.tag === tag && s.day === day) });
      reconciling.seals = reconciling.seals.filter((s) => s.tag !== tag || s.day !== day);
    };
    for (const [day, problem] of broken) {
      // Nothing but a change in SQL gives this: said where operators look, and the day never sealed anew.
      log.error({ day: dayLabel(day), problem }, 'reconciliation day seal deleted or changed outside the gateway: the day is not sealed again');
      const read = counted.get(day)?.length ?? 0;
      missing.push({ day: dayLabel(day), sealed: read, found: read, sealProblem: problem });
      withhold(day);
    }
    for (const [day, seal] of held) {
      if (jakartaDayStart(day) < from || jakartaDayStart(day + 1) > readTo) continue;
      const read = counted.get(day) ?? [];
      const since = seal.sealedAt - SEAL_AFTER_EVENT_MS;
      let short: MissingPayments | null = null;
      // The very payments sealed, in their order: nothing gone (most days, walked in place).
      const held = seal.paymentIds !== null && sealedIdsAre(seal.paymentIds, read);
      // Never other than such a list under a trusted seal's MAC; were it not, the day is held to its count.
      const sealedIds = seal.paymentIds === null || held ? null : parsedSealedIds(seal.paymentIds);
      if (sealedIds !== null) {
        const present = new Set(read);
        const gone = sealedIds.filter((id) => !present.has(id));
        // A row still there was not deleted: its tag or its time was changed in SQL (not a deletion to accept).
        const there = await this.rowsThere(gone);
        const released = await this.releasedSince(gone.filter((id) => !there.has(id)), since);
        const deleted = gone.filter((id) => !released.has(id) && !there.has(id));
        const moved = gone.filter((id) => there.has(id));
        if (deleted.length > 0 || moved.length > 0) {
          short = { day: dayLabel(day), sealed: seal.rowCount, found: seal.rowCount - deleted.length - moved.length, ...(deleted.length > 0 ? { deleted } : {}), ...(moved.length > 0 ? { moved } : {}) };
        }
      } else if (!held) {
        const found = read.length >= seal.rowCount ? read.length : read.length + (await this.releasedOfDay(day, since));
        if (found < seal.rowCount) short = { day: dayLabel(day), sealed: seal.rowCount, found };
      }
      if (short === null) continue;
      missing.push(short);
      withhold(day);
    }
    return missing.sort((a, b) => (a.day < b.day ? -1 : 1));
  }

  /** Those of payments `ids` whose rows are in `payments`. */
  private async rowsThere(ids: readonly number[]): Promise<Set<number>> {
    const there = new Set<number>();
    for (let i = 0; i < ids.length; i += SEQ_CHUNK) {
      const chunk = ids.slice(i, i + SEQ_CHUNK);
      for (const row of await this.db.query<{ id: number | string }>(`SELECT id FROM payments WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk)) there.add(toNumber(row.id));
    }
    return there;
  }

  /**
   * For a seal written before migration 041 (its count alone): how many payments created on UTC+7
   * `day` (their first events, by their own index) have no row and were released through Gerbang
   * at `since` or later (releasedSince). A release's tag is not known (its row is gone): one of any
   * account counts.
   */
  private async releasedOfDay(day: number, since: number): Promise<number> {
    const gone = await this.db.query<{ payment_id: number | string }>(
      `SELECT r.payment_id FROM payment_events r LEFT JOIN payments p ON p.id = r.payment_id WHERE r.cause IN (${CREATION_CAUSES_SQL}) AND r.recorded_at >= ? AND r.recorded_at < ? AND p.id IS NULL`,
      [jakartaDayStart(day), jakartaDayStart(day + 1)],
    );
    return (await this.releasedSince(gone.map((row) => toNumber(row.payment_id)), since)).size;
  }

  /**
   * Those of payments `ids` released through Gerbang at `since` or later: their last event, under a
   * chain link that holds, is their release (its row deleted with it).
   */
  private async releasedSince(ids: readonly number[], since: number): Promise<Set<number>> {
    const released = new Set<number>();
    for (let i = 0; i < ids.length; i += SEQ_CHUNK) {
      for (const [id, event] of await this.eventsOrProblems(ids.slice(i, i + SEQ_CHUNK), lastTrustedEvents)) {
        if (!('problem' in event) && event.snapshot.state === RELEASED && event.recordedAt >= since) released.add(id);
      }
    }
    return released;
  }

  /**
   * Writes the seals of the days a reconciliation proved whole (reconciliation-seals.ts). Two
   * consoles sealing the same day on two Galera nodes conflict at COMMIT; the loser is run again
   * (MysqlDb's conflict retries) and leaves the winner's seal. A write that still fails (a
   * conflict that kept losing, a database user not granted the table) is logged and left: the
   * day is proved row by row next time and sealed then.
   */
  private async sealDays(seals: readonly NewSeal[]): Promise<void> {
    if (this.chain === null || seals.length === 0) return;
    try {
      this.#sealsWritten += await writeSeals(this.chain, this.sealer, this.clock(), seals);
    } catch (error) {
      log.warn({ err: error, days: seals.length }, 'reconciliation day seals not written; the days are proved row by row until they are');
    }
  }

  /**
   * Rows of one read of fromAccount (`where` on the tag) created in [from, to), at most `limit`
   * in created_at order (`whole`: none left past them), each with its sealed line: `whole` its
   * every column a proof reads (RECONCILED_COLUMN_NAMES: a range of ix_payments_reconcile and each
   * row by its id), else what is shown only (that index alone). Planned afresh (QueryOptions.freshPlan).
   */
  private async readSpan(where: string, params: SqlValue[], from: number, to: number, limit: number, how: SpanRead): Promise<{ rows: ShownRow[]; keptRows: KeptRow[] | null; whole: boolean }> {
    // Kept (a page opened again): each row's line and what places it only. Its ten values read one
    // by one were most of the console's CPU on a month (mysql2 decoding seven strings a row, then
    // each compared in place with the line kept); the database builds the one line instead, on its
    // own core, and the line is compared with the one kept as a whole string.
    const columns = how === 'full' ? `${RECONCILED_COLUMNS}, ${this.#sealedLine} AS line` : how === 'shown' ? `${SHOWN_COLUMNS}, ${this.#sealedLine} AS line` : `id, created_at, ${this.#sealedLine} AS line`;
    const mysql = this.db.dialect === 'mysql';
    // In slices of its time sent together (SPAN_READS_MYSQL), joined back oldest first: the same
    // rows in the same order (rows of one created_at fall in one slice), each slice at most the
    // span's limit + 1, so the first limit + 1 of them are the span's (a span holding more than
    // the period's bound, an account past RECONCILE_LIMIT, reads up to four times the rows it
    // keeps, once: the reading stops there). The index is named: a slice
    // of a few hours holding few payments of any account, MariaDB took the created_at index and
    // looked up every payment of those hours for its tag.
    const sql = `SELECT ${columns} FROM payments${mysql ? ' FORCE INDEX (ix_payments_reconcile)' : ''} WHERE ${where} AND created_at >= ? AND created_at < ? ORDER BY created_at LIMIT ?`;
    const slices = stepSlices(from, to - 1, mysql ? SPAN_READS_MYSQL : 1).reverse();
    const parts = await Promise.all(slices.map(([high, low]) => this.db.query<ShownRow & KeptRow>(sql, [...params, low, high + 1, limit + 1], { freshPlan: true })));
    // Joined by concat (a copy of each part), not flat(): a month's 50,000 rows took flat() 10-15 ms.
    const read = parts.length === 1 ? parts[0] : ([] as (ShownRow & KeptRow)[]).concat(...parts);
    const rows = read.length > limit ? read.slice(0, limit) : read;
    return { rows: how === 'kept' ? [] : rows, keptRows: how === 'kept' ? rows : null, whole: read.length <= limit };
  }

  /**
   * The rows of one read of fromAccount (`where` on the tag), RECONCILE_LIMIT at most in created_at
   * order, span by span of `spanMs` at most, each cut where `cut` says (a span's end, and how it
   * is read: with every column a proof reads, with what is shown, or with its lines alone; a span
   * read so may end past `spanMs`, up to `to`, the last argument), the next span asked for
   * while one is proved; then 'truncated' when rows were left. A span's rows
   * are garbage once proved (most of a month opened again is in ProvedRows already): all of a
   * month held at once, every young-generation collection copied tens of megabytes of rows still
   * alive (GC took 100-200 ms of a month).
   */
  private async *reconciledSpans(
    where: string,
    params: SqlValue[],
    from: number,
    to: number,
    spanMs: number,
    cut: (start: number, end: number, last: number) => { end: number; read: SpanRead },
  ): AsyncGenerator<ReconciledSpan | 'truncated'> {
    if (to <= from) return;
    let left = this.limits.reconcileRows;
    const read = (start: number, limit: number) => {
      const { end, read: how } = cut(start, Math.min(to, start + spanMs), to);
      return this.readSpan(where, params, start, end, limit, how).then((rows) => ({ ...rows, full: how === 'full', end }));
    };
    let asked = read(from, left);
    for (let start = from; start < to; ) {
      const span = await asked;
      const end = span.end;
      const more = end < to && span.whole;
      const count = (span.keptRows ?? span.rows).length;
      if (more) {
        asked = read(end, left - count);
        // Settled before awaited, so a read failing while this span is proved is not an unhandled rejection.
        asked.catch(() => undefined);
      }
      yield { where, params, rows: span.rows, keptRows: span.keptRows, from: start, to: end, whole: span.whole, limit: left, full: span.full };
      if (!span.whole) {
        yield 'truncated';
        return;
      }
      left -= count;
      if (!more) return;
      start = end;
    }
  }

  /**
   * The payments of the account asked for among one span's rows (read under `tag`; null: rows
   * from before the tags, read whole), each proved:
   * - on a whole day of `tag` kept as proved whole with the very text its rows' lines make
   *   (ProvedRows, which says why that is safe), or whose trusted seal that text hashes to
   *   (reconciliation-seals.ts), it is proved with its day, no row opened, and the day kept;
   * - else a row read with exactly the sealed line it was proved with is taken from ProvedRows;
   * - else the span is read again whole, in one statement (its rows as they are now, every
   *   column), the two above asked again of it, and each row left is opened and checked now
   *   (ReconciliationChecks: its account and MAC) and held to its last event (its state and bank
   *   ids as that event says), and kept when it holds.
   * A closed day not proved by a trusted seal that holds (none, or one that no longer holds) whose
   * every row held, all of the account asked for, is then kept whole and to be sealed.
   * What is kept in clear is the account asked for, one copy (clerks type it in the form), never
   * an account opened from a row of another. Returns the payments and the span as proved (read
   * again when it was): what the day's deleted payments are counted from, as its seal is made of it.
   */
  private async reconciledPayments(span: ReconciledSpan, tag: string | null, trusted: Map<number, TrustedSeal>, reconciling: Reconciling): Promise<{ payments: ReconciledPayment[]; proved: ReconciledSpan }> {
    const account = reconciling.account;
    let read = span;
    if (read.keptRows !== null) {
      const kept = this.keptPayments(read, read.keptRows, tag!, account);
      if (kept !== null) return { payments: kept, proved: read };
      // A row not as kept, or a day no longer kept: its lines read, and the span proved as any other.
      read = { ...span, ...(await this.readSpan(span.where, span.params, span.from, span.to, span.limit, 'shown')) };
    }
    let proof = this.provedWithDays(read, tag, trusted, account, reconciling.hashKept, reconciling.seals);
    if (proof.payments.includes(undefined)) {
      if (!read.full) {
        const again = await this.readSpan(span.where, span.params, span.from, span.to, span.limit, 'full');
        read = { ...span, ...again, full: true };
        proof = this.provedWithDays(read, tag, trusted, account, reconciling.hashKept, reconciling.seals);
      }
      await this.provedOneByOne(read.rows as ReconciledRow[], proof.payments, reconciling);
    }
    // Rows written into the span since its first read (a payment of today, a clock behind on
    // another node) can take a read again past the span's bound: its rows past it are left out, as
    // a period past RECONCILE_LIMIT's are, and the page says so.
    if (!read.whole) reconciling.cut = true;
    const payments = proof.payments as ReconciledPayment[];
    const ring = this.sealer.keyRing;
    for (const [day, { at, lines, sealed, stale, keptWhole }] of proof.days) {
      if (stale) this.#staleSeals += 1;
      if (jakartaDayStart(day + 1) + SEAL_MARGIN_MS > reconciling.now) continue;
      if (!at.every((i) => payments[i].sourceAccount === account && payments[i].integrityProblem === undefined)) continue;
      if (!keptWhole) {
        this.#proved.keepDay(`${tag!} ${day}`, account, sealed, lines, at.map((i) => payments[i]));
        for (const i of at) this.#proved.forget(payments[i].id);
      }
      // Sealed at the end of the reconciliation.
      if (stale) this.#staleSealsProved += 1;
      const { seal } = daySeal(ring, account, tag!, day, sealed, ring.currentKeyId);
      reconciling.seals.push({ tag: tag!, day, rowCount: sealed.rows, seal, paymentIds: sealedPaymentIds(at.map((i) => payments[i].id)), lines: new Map(at.map((i, k) => [payments[i].id, lines[k]])) });
    }
    // The tag narrows; the opened account decides (a tag is 128 bits of an HMAC, the account is the fact).
    return { payments: payments.filter((payment) => payment.sourceAccount === account), proved: read };
  }

  /**
   * The payments of a span read with its lines only (its days each sealed and kept whole as proved
   * for `account` when it was asked for), each row's line the very line kept at its place in its
   * day and as many (ProvedRows.dayProof): proved with its day, as provedWithDays proves a day kept
   * whole (its text the very text kept). Null when a row is not on one of those days or not as
   * kept, or a day's rows are not as many as kept, or a day is no longer kept or was kept without
   * what was made of its rows: the caller reads what is shown and proves the span as any other.
   * Each row's payment is the one made of its line when its day was kept (ProvedRows.dayMade: a
   * line holds every value a payment is made of), not made again.
   */
  private keptPayments(span: ReconciledSpan, rows: readonly KeptRow[], tag: string, account: string): ReconciledPayment[] | null {
    const days = wholeDays(span, rows);
    let placed = 0;
    for (const at of days.values()) placed += at.length;
    if (placed !== rows.length) return null;
    const payments = new Array<ReconciledPayment>(rows.length);
    for (const [day, at] of days) {
      const key = `${tag} ${day}`;
      const made = this.#proved.dayMade(key, account);
      if (made === undefined || made.length !== at.length || this.#proved.dayProof(key, account, at.map((i) => rows[i].line)) !== true) return null;
      at.forEach((i, k) => (payments[i] = made[k]));
    }
    // A day kept whole that no row read is on now (its rows deleted) is not as kept either.
    const readTo = countedDays(span, rows, new Map());
    for (let day = jakartaDay(span.from); jakartaDayStart(day + 1) <= readTo; day += 1) {
      if (!days.has(day) && this.#proved.keepsWhole(`${tag} ${day}`, account) && this.#proved.dayProof(`${tag} ${day}`, account, []) !== true) return null;
    }
    return payments;
  }

  /**
   * A span's rows proved without opening any: those of a whole day of `tag` kept whole as proved
   * with the very text its rows make, or whose trusted seal that text hashes to (then kept whole),
   * and the others kept one by one as proved with the very line read (ProvedRows); undefined for
   * the rest. With the span's whole days not proved by a trusted seal (to be kept whole and sealed
   * once each of their rows is proved): each with its rows' places in (created_at, id) order, what
   * they make as sealed, whether its trusted seal no longer held (`stale`) and whether it is kept
   * whole already with that very text (`keptWhole`). A day whose seal, written before migration
   * 041 (a count, no ids), its rows were hashed to and held: its seal with their ids put in `seals`.
   */
  private provedWithDays(
    span: ReconciledSpan,
    tag: string | null,
    trusted: Map<number, TrustedSeal>,
    account: string,
    hashKept: boolean,
    seals: ProvedSeal[],
  ): { payments: (ReconciledPayment | undefined)[]; days: Map<number, DayToSeal> } {
    const read = span.rows;
    const payments = new Array<ReconciledPayment | undefined>(read.length).fill(undefined);
    const days = new Map<number, DayToSeal>();
    const ring = this.sealer.keyRing;
    for (const [day, at] of tag === null ? [] : wholeDays(span, read)) {
      const key = `${tag!} ${day}`;
      const lines = at.map((i) => read[i].line);
      const seal = trusted.get(day);
      const kept = this.#proved.dayProof(key, account, lines);
      // Its text in pieces, built only when it is hashed or kept (not for a day kept whole already, a page opened again).
      let sealed: SealedDay | undefined;
      const sealedOf = () => (sealed ??= sealedDay(lines));
      // A page takes a day kept whole as proved without hashing it; the sweep (hashKept) hashes it
      // too, so a seal that no longer holds for that very text is found and renewed.
      const hashed = seal !== undefined && (kept !== true || hashKept);
      const holds = seal !== undefined && (!hashed || sealHolds(ring, account, tag!, day, sealedOf(), seal));
      // Kept whole (a page opened again), or sealed: no row opened.
      if (kept === true || holds) {
        for (const i of at) payments[i] = Object.freeze(this.reconciled(read[i], account, null));
        if (!holds) days.set(day, { at, lines, sealed: sealedOf(), stale: seal !== undefined, keptWhole: true });
        else if (kept !== true) this.#proved.keepDay(key, account, sealedOf(), lines, at.map((i) => payments[i]!));
        // A seal from before migration 041 that these very rows hash to covered these very payments:
        // written again with their ids, so the day is held to them from now on.
        if (holds && hashed && seal.paymentIds === null) {
          seals.push({ tag: tag!, day, rowCount: seal.rowCount, seal: seal.seal, paymentIds: sealedPaymentIds(at.map((i) => toNumber(read[i].id))), lines: new Map(at.map((i, k) => [toNumber(read[i].id), lines[k]])) });
        }
      } else {
        // Changed since it was kept: its rows still as kept are proved, the others proved again.
        at.forEach((i, k) => {
          if (kept?.[k] === true) payments[i] = Object.freeze(this.reconciled(read[i], account, null));
        });
        days.set(day, { at, lines, sealed: sealedOf(), stale: seal !== undefined, keptWhole: false });
      }
    }
    read.forEach((row, i) => {
      if (payments[i] === undefined) payments[i] = this.#proved.get(toNumber(row.id), row.line);
    });
    return { payments, days };
  }

  /**
   * Proves each of `read` with no payment yet in `payments` one by one, in place: its account
   * opened and its MAC checked (ReconciliationChecks), its state held to its history; kept in
   * ProvedRows when it holds and is of the account asked for.
   */
  private async provedOneByOne(read: readonly ReconciledRow[], payments: (ReconciledPayment | undefined)[], reconciling: Reconciling): Promise<void> {
    const account = reconciling.account;
    const unproved = read.filter((_, i) => payments[i] === undefined);
    const { accounts, problems } = await this.rowProofs(unproved, reconciling);
    let next = 0;
    read.forEach((row, i) => {
      if (payments[i] !== undefined) return;
      const problem = problems[next];
      const payment = this.reconciled(row, accounts[next] ?? this.sealer.open(row.source_account, paymentPlace('source_account', row)), problem);
      next += 1;
      if (payment.sourceAccount === account) {
        payment.sourceAccount = account;
        // Frozen: kept and handed to later reconciliations as it is.
        Object.freeze(payment);
        if (payment.integrityProblem === undefined) this.#proved.set(payment.id, row.line, payment);
      }
      payments[i] = payment;
    });
  }

  /**
   * How the sweep and a reconciliation prove rows one by one: each row's paying account opened
   * (null: it did not open here) and its MAC checked (ReconciliationChecks), its state held to its
   * history (reconciledHistoryProblems); each one's problem in words, null when it holds.
   */
  private async rowProofs(rows: readonly ProvedRow[], reconciling: Pick<Reconciling, 'coverage'>): Promise<{ accounts: (string | null)[]; problems: (string | null)[] }> {
    const ring = this.sealer.keyRing;
    this.#provedOneByOne += rows.length;
    const { accounts, macHolds } = await (this.#checks ??= new ReconciliationChecks(ring)).check(rows);
    const history = await this.reconciledHistoryProblems(rows, reconciling);
    return { accounts, problems: rows.map((row, i) => (macHolds[i] ? history[i] : paymentMacProblem(ring, row) ?? history[i])) };
  }

  /**
   * For rows proved one by one: each one's state against its history (as the API, the detail page
   * and `audit verify` hold it), null when it holds: its state and bank ids as its last event whose
   * chain link holds says (the reconciliation reads no other field the event records), or no event
   * when it was created before histories were kept. A payment rolled back in SQL to an earlier
   * state (its old row, with its old MAC that still holds) is named here. Read on `q` (a seal's
   * snapshot: rowsNotAsProved).
   */
  private async reconciledHistoryProblems(rows: readonly ProvedRow[], reconciling: Pick<Reconciling, 'coverage'>, q: Queryable = this.db): Promise<(string | null)[]> {
    if (rows.length === 0) return [];
    const coverage = (reconciling.coverage ??= (await chainCoverage(q, this.sealer)).payments);
    const problems: (string | null)[] = [];
    for (let i = 0; i < rows.length; i += SEQ_CHUNK) {
      const chunk = rows.slice(i, i + SEQ_CHUNK);
      const last = await lastTrustedEvents(q, this.sealer.keyRing, this.sealer, chunk.map((row) => toNumber(row.id)));
      for (const row of chunk) {
        const payment = { id: toNumber(row.id), clientId: row.client_id, transactionId: row.transaction_id, createdAt: toNumber(row.created_at) };
        const event = last.get(payment.id);
        if (event === undefined) problems.push(missingHistoryProblem(payment, coverage));
        else if ('problem' in event) problems.push(event.problem);
        else problems.push(paymentEventProblem({ ...payment, snapshot: asRead(row, event.snapshot) }, event));
      }
    }
    return problems;
  }

  /** Ends the reconciliation's worker threads (ReconciliationChecks), with the store. */
  async close(): Promise<void> {
    await this.#checks?.close();
  }

  /**
   * A row read with RECONCILED_COLUMNS whose paying account is `sourceAccount` (opened, or proved
   * by its day's seal), marked (integrityProblem) with `problem`: its MAC does not hold (migration
   * 030: an amount or transaction id changed in the database is never matched or counted as paid),
   * or its state is not its history's. A row whose account did not open in a worker is opened
   * again by the caller, so the error (IntegrityError when its account was not sealed for it,
   * KeyRingError for a key not configured) is named.
   */
  private reconciled(row: Omit<ShownRow, 'line'>, sourceAccount: string | null, problem: string | null): ReconciledPayment {
    const payment: ReconciledPayment = {
      id: toNumber(row.id),
      transactionId: row.transaction_id,
      state: row.state,
      amount: row.amount,
      bankTransactionId: row.bank_transaction_id,
      bankTransactionDate: row.bank_transaction_date,
      bankExternalId: row.bank_external_id,
      createdAt: toNumber(row.created_at),
      sourceAccount,
    };
    // Added to the few marked, not spread into each of a month's 50,000 (an object cloned a row).
    if (problem !== null) payment.integrityProblem = problem;
    return payment;
  }

  /**
   * A text search (contains, case-insensitive) through the keyed trigram index (migration 026,
   * payment-search-grams.ts): names and remarks are sealed, so no index holds them in clear. Under
   * each ring key, the term's trigrams are walked newest first, each step by the one rarest there
   * (matchUnder: at most GRAM_WALK_LIMIT postings walked), and their payments kept when they hold
   * the other trigrams of the term (the JOINED_GRAMS rarest there) and pass
   * the clear filters; each candidate is then opened and the match confirmed, so a hash collision
   * or trigrams spread over two fields never show. At most SEARCH_SCAN_LIMIT candidates are
   * confirmed; `truncated` says which bound stopped the search, if one did. Count, sum and the page come
   * from the same confirmed list, so they always agree. Up to limits.searchProvedRows matches
   * (SEARCH_PROVED_LIMIT) each is proved as the list proves a row (PaymentTotals.proof 'proved'):
   * the sum leaves out those changed outside Gerbang; past it only the page's rows are, and the sum
   * is of the matches' amounts as stored ('stored', provedLimit: the page says so), as the list's
   * past PROVED_LIMIT.
   * Throws AppError VALIDATION_FAILED (field `q`) for a term of fewer than GRAM_LENGTH characters.
   */
  private async textPage(search: PaymentSearch, sort: PaymentSort, cursor: PaymentCursor | null, size: number, direction: 'after' | 'before'): Promise<PaymentPage> {
    const term = search.text ?? '';
    const grams = trigramsOf(term);
    if (grams.length === 0) {
      throw new AppError('VALIDATION_FAILED', `a text search needs at least ${GRAM_LENGTH} characters`, { fields: [{ field: 'q', message: `must be at least ${GRAM_LENGTH} characters` }] });
    }
    const ring = this.sealer.keyRing;
    const { column, descending } = SORTS[sort];
    const found = new Map<number, TextMatch>();
    let truncated: PaymentTotals['truncated'] = false;
    // The lowest payment id each walk cut short reached, one per ring key.
    const cutAt: number[] = [];
    const bounds = await this.idBoundsOf(search);
    // An empty date range: no payment to walk the postings of.
    if (bounds !== 'empty') {
      for (const keyId of ring.keyIds) {
        const { stopped, reached } = await this.matchUnder(keyId, grams, term, search, bounds, column, found);
        // A walk cut short outweighs a full list: payments were left unlooked at, not only matches unshown.
        if (stopped === 'walk' || truncated === false) truncated = stopped;
        if (stopped === 'walk' && reached !== null) cutAt.push(reached);
      }
    }
    const reached = truncated === 'walk' ? await this.reachedAt(cutAt) : null;
    // In the page's order, ties broken by id as the list's keyset does.
    const byKey = (a: { key: number | string; id: number }, b: { key: number | string; id: number }) => {
      const ka = BigInt(a.key);
      const kb = BigInt(b.key);
      return ka === kb ? a.id - b.id : ka < kb ? -1 : 1;
    };
    const matches = [...found.values()].sort((a, b) => (descending ? byKey(b, a) : byKey(a, b)));
    const unindexed = await unindexedPayments(this.db, ring);
    let start = 0;
    let end = Math.min(size, matches.length);
    if (cursor) {
      const at = matches.findIndex((m) => m.id === cursor.id);
      if (direction === 'after') {
        start = at + 1;
        end = Math.min(start + size, matches.length);
      } else {
        end = at < 0 ? 0 : at;
        start = Math.max(0, end - size);
      }
    }
    const slice = matches.slice(start, end);
    // Every match proved when few enough (limits.searchProvedRows): the page's rows are among them; else the page's rows only.
    const provedAll = matches.length <= this.limits.searchProvedRows;
    const proved = await this.provedById((provedAll ? matches : slice).map((m) => m.id));
    const byId = new Map(proved.map((record) => [record.id, record]));
    const counted = provedAll
      ? provedTotals(proved)
      : { count: matches.length, totalMinor: matches.reduce((sum, m) => sum + m.amountMinor, 0n), proof: 'stored' as const, changed: 0, provedLimit: this.limits.searchProvedRows };
    const cursorOf = (m: (typeof matches)[number] | undefined): PaymentCursor | null => (m ? { key: m.key, id: m.id } : null);
    return {
      rows: slice.map((m) => byId.get(m.id)).filter((p): p is PaymentRecord => p !== undefined),
      next: end < matches.length ? cursorOf(slice[slice.length - 1]) : null,
      previous: start > 0 ? cursorOf(slice[0]) : null,
      totals: {
        ...counted,
        truncated,
        ...(reached === null ? {} : 'at' in reached ? { reachedAt: reached.at } : { reachedUnproved: reached.problem }),
        capped: false,
        ...(unindexed > 0 ? { unindexed } : {}),
      },
    };
  }

  /**
   * Payments for a console page (a list, one payment, the review queue, a run's lines), each
   * marked (integrityProblem) when its fixed fields do not hold their MAC, a sealed value does not
   * open (left out: null, never shown as if real), or its state does not match its last event
   * (itself under its link's MAC), as the API's read and `audit verify` would refuse it: a forged
   * payment never looks normal, and the page still shows the others. Two more statements per
   * page; a payment marked is read again with its history in one transaction, so one the gateway
   * moved on between the reads is not marked.
   */
  private async marked(rows: ListedRow[]): Promise<PaymentRecord[]> {
    const records = rows.map((row) => this.pageRecord(row));
    let problems = await this.historyProblems(this.db, rows, records);
    if (problems.size > 0) {
      const suspects = [...problems.keys()];
      problems = await this.db.withTransaction(async (tx) => {
        const fresh = await tx.query<ListedRow>(`SELECT ${LISTED_COLUMNS} FROM payments WHERE id IN (${suspects.map(() => '?').join(', ')})`, suspects);
        return this.historyProblems(tx, fresh, fresh.map((row) => this.pageRecord(row)));
      });
    }
    return records.map((record) => {
      const found = [record.integrityProblem, problems.get(record.id)].filter((p): p is string => p !== undefined);
      return found.length === 0 ? record : { ...record, integrityProblem: [...new Set(found)].join('; ') };
    });
  }

  /** The row as a record whose sealed values that do not open are null, named in its integrityProblem. */
  private pageRecord(row: PaymentRow): PaymentRecord {
    const failed: string[] = [];
    const record = openPaymentRow(row, { open: (value, at) => this.openOrNull(value, at, failed) });
    return failed.length === 0 ? record : { ...record, integrityProblem: failed.join('; ') };
  }

  /** The value opened for its place; null when it is not sealed for it, the problem added to `failed`. */
  private openOrNull(value: string | null, at: SealPlace, failed: string[]): string | null {
    try {
      return this.sealer.open(value, at);
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      failed.push(error.where);
      return null;
    }
  }

  /** The problem of each of `rows` (read with `q`) whose MAC or history does not hold, by payment id. */
  private async historyProblems(q: Queryable, rows: ListedRow[], records: PaymentRecord[]): Promise<Map<number, string>> {
    const problems = new Map<number, string>();
    if (rows.length === 0) return problems;
    const ring = this.sealer.keyRing;
    const last = await this.lastEventsOf(q, records.map((r) => r.id));
    const coverage = (await chainCoverage(q, this.sealer)).payments;
    rows.forEach((row, i) => {
      const record = records[i];
      const history = paymentHistory({ ...record, snapshot: snapshotOfRow(row, record.resultJson) }, last.get(record.id), coverage);
      const problem = paymentMacProblem(ring, row) ?? amountMinorProblem(row) ?? ('problem' in history ? history.problem : null);
      if (problem !== null) problems.set(record.id, problem);
    });
    return problems;
  }

  /**
   * lastTrustedEvents of `ids` read with `q`. On MariaDB and MySQL through the pool (`q` is the
   * store's, not a transaction's), in up to EVENT_READS_MYSQL slices of limits.eventSliceIds ids
   * or more (EVENT_SLICE_IDS) sent together: each payment's last event and its chain link are rows
   * on pages of their own, which InnoDB reads one after the other within a statement (the 1,000
   * matches a search proves: about 2,000 pages not in the buffer pool on a first opening).
   */
  private async lastEventsOf(q: Queryable, ids: number[]): Promise<Map<number, TrustedEvent | { problem: string }>> {
    const ring = this.sealer.keyRing;
    const parts = q === this.db && q.dialect === 'mysql' ? Math.min(EVENT_READS_MYSQL, Math.floor(ids.length / this.limits.eventSliceIds)) : 1;
    if (parts <= 1) return lastTrustedEvents(q, ring, this.sealer, ids);
    const size = Math.ceil(ids.length / parts);
    const slices = Array.from({ length: parts }, (_, i) => ids.slice(i * size, (i + 1) * size)).filter((slice) => slice.length > 0);
    const read = await Promise.all(slices.map((slice) => lastTrustedEvents(q, ring, this.sealer, slice)));
    return new Map(read.flatMap((events) => [...events]));
  }

  /**
   * Bounds of the ids of the payments inside a search's date range: the walk then reads only the
   * postings between them. Null: the search has no date range, or (a range open on one side, or
   * of more than BOUND_DAYS_LIMIT days) more than RANGE_BOUND_LIMIT payments are inside it (the
   * walk is then not bounded, as without a range); 'empty': no payment is inside it.
   *
   * Exact whatever order the ids were given in (an older created_at may hold a higher id: a clock
   * behind, Galera nodes interleaving their auto-increments): every payment inside the range has
   * an id between the bounds, so walking only the postings between them misses none. The bounds
   * only prune: the candidate query still applies the range itself, so a payment outside it whose
   * id lies between them is dropped there.
   *
   * A range with both ends is bounded by the Jakarta days it touches (idBoundsOfDays): the lowest
   * and highest id of each day, two dives of ix_payments_created_day a day (migration 046): a week
   * of a million-payment month took 1-7 ms against 121-399 ms for a walk of its 233,000 entries of
   * a created_at index (docs/performance.md). Those days hold every payment of the range (and, at a
   * range's ends inside a day, a few more: wider bounds, never narrower). A range open on one side
   * (or spanning more than BOUND_DAYS_LIMIT days) reads that index's entries of the range, at most
   * RANGE_BOUND_LIMIT of them.
   */
  private async idBoundsOf(search: PaymentSearch): Promise<IdBounds | null | 'empty'> {
    const { from, to } = search;
    if (from !== undefined && to !== undefined && jakartaDay(to - 1) - jakartaDay(from) < BOUND_DAYS_LIMIT) return this.idBoundsOfDays(from, to);
    const { where, params } = whereOf(dateFilters(search));
    if (where.length === 0) return null;
    const [row] = await this.db.query<{ n: number | string; lo: number | string | null; hi: number | string | null }>(
      `SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM (SELECT id FROM payments${whereClause(where)} LIMIT ${RANGE_BOUND_LIMIT + 1}) t`,
      params,
      // A range of a created_at index alone: planned for these values (QueryOptions.freshPlan).
      { freshPlan: true },
    );
    if (row === undefined || row.lo === null || row.hi === null) return 'empty';
    // Cut short at the limit, MIN and MAX are of part of the range only: no bounds.
    return toNumber(row.n) > RANGE_BOUND_LIMIT ? null : { lo: toNumber(row.lo), hi: toNumber(row.hi) };
  }

  /**
   * The lowest and highest id of the payments created on the Jakarta days of [from, to) (idBoundsOf),
   * each day's read by equality on ix_payments_created_day (migration 046): its first and last
   * entry, which the primary key orders within the day. BOUND_DAYS_PER_READ days a statement, one
   * row a day (null, null for a day without payments); 'empty' when no day has any.
   */
  private async idBoundsOfDays(from: number, to: number): Promise<IdBounds | 'empty'> {
    if (to <= from) return 'empty';
    const day = createdDaySql(this.db);
    let lo: number | null = null;
    let hi: number | null = null;
    for (let first = jakartaDay(from), last = jakartaDay(to - 1); first <= last; first += BOUND_DAYS_PER_READ) {
      const days = Array.from({ length: Math.min(BOUND_DAYS_PER_READ, last - first + 1) }, (_, i) => first + i);
      const rows = await this.db.query<{ lo: number | string | null; hi: number | string | null }>(
        days.map(() => `SELECT (SELECT MIN(id) FROM payments WHERE ${day} = ?) AS lo, (SELECT MAX(id) FROM payments WHERE ${day} = ?) AS hi`).join(' UNION ALL '),
        days.flatMap((d) => [d, d]),
      );
      for (const row of rows) {
        if (row.lo !== null) lo = Math.min(lo ?? Number.POSITIVE_INFINITY, toNumber(row.lo));
        if (row.hi !== null) hi = Math.max(hi ?? Number.NEGATIVE_INFINITY, toNumber(row.hi));
      }
    }
    return lo === null || hi === null ? 'empty' : { lo, hi };
  }

  /**
   * Adds to `found` the confirmed matches of `term` among the payments indexed under ring key
   * `keyId`, newest first, up to SEARCH_SCAN_LIMIT in all, walking only the postings within
   * `bounds` (the ids of a date range, see idBoundsOf; null: all). Returns why it stopped with
   * postings left (the figures then cover the newest matches only): 'matches' at
   * SEARCH_SCAN_LIMIT, 'walk' at its bound of postings; false when it walked them all. `reached`:
   * the lowest payment id its walk reached (every payment from it up was looked at), null before a step.
   *
   * Each step reads the next limits.gramChunk postings of every trigram of the term below where
   * the last step ended (nextPostingsSql) and walks those of the trigram they reach furthest
   * down with: the rarest there, so the step passes the most payments for its postings, and any
   * trigram rarer further down is taken when the walk gets there. The step's candidates must hold
   * the others rarest there too (JOINED_GRAMS of them at most). A fixed trigram, the rarest
   * among the newest payments, could hold a hundred thousand postings further down and end the
   * walk at its bound before the matches (#16: "perf-4242" over a million payments). A trigram
   * with no postings left ends the walk: no payment further down holds the term.
   */
  private async matchUnder(
    keyId: string,
    grams: string[],
    term: string,
    search: PaymentSearch,
    bounds: IdBounds | null,
    column: 'created_at' | 'amount_minor',
    found: Map<number, TextMatch>,
  ): Promise<{ stopped: false | 'matches' | 'walk'; reached: number | null }> {
    const ring = this.sealer.keyRing;
    const { where, params } = conditions(search);
    const hashes = [...new Set(grams.map((gram) => gramHash(ring, gram, keyId)))];
    const within: { sql: string; params: SqlValue[] } = bounds === null ? { sql: '', params: [] } : { sql: ' AND payment_id BETWEEN ? AND ?', params: [bounds.lo, bounds.hi] };
    const { gramWalkLimit } = this.limits;
    let gramChunk = this.limits.gramChunk;
    const foundBefore = found.size;
    const joined = Math.min(hashes.length - 1, JOINED_GRAMS);
    const candidates = candidatesSql(this.db.dialect, joined, where);
    // A trigram with fewer than a step's postings left reaches past every payment (the fewer the better).
    const reach = (next: NextPostings) => (next.n < gramChunk ? Number.NEGATIVE_INFINITY : next.low);
    let below: number | null = null;
    let walked = 0;
    let read = 0;
    for (;;) {
      if (found.size >= SEARCH_SCAN_LIMIT) return { stopped: 'matches', reached: below };
      if (walked >= gramWalkLimit || read >= gramWalkLimit * GRAM_READS_PER_WALKED) return { stopped: 'walk', reached: below };
      const rows = await this.db.query<{ i: number | string; n: number | string; low: number | string | null; high: number | string | null }>(
        nextPostingsSql(this.db.dialect, hashes.length, gramChunk, within.sql, below !== null),
        hashes.flatMap((hash) => [hash, ...within.params, ...(below === null ? [] : [below])]),
        { freshPlan: true },
      );
      const next: NextPostings[] = rows.map((row) => ({ hash: hashes[toNumber(row.i)], n: toNumber(row.n), low: toNumber(row.low ?? 0), high: toNumber(row.high ?? 0) }));
      read += next.reduce((sum, gram) => sum + gram.n, 0);
      if (next.some((gram) => gram.n === 0)) return { stopped: false, reached: below };
      const [driver, ...others] = next.sort((a, b) => reach(a) - reach(b) || a.n - b.n);
      const held = others.slice(0, joined).map((gram) => gram.hash);
      // Read in slices at once (stepSlices, CANDIDATE_READS_MYSQL), joined back in the step's order.
      const slices = stepSlices(driver.low, driver.high, this.db.dialect === 'mysql' ? CANDIDATE_READS_MYSQL : 1);
      const matched = (await Promise.all(slices.map(([high, low]) => this.db.query<CandidateRow>(candidates, [...held, driver.hash, high, low, ...params], { freshPlan: true })))).flat();
      for (const row of matched) {
        const id = toNumber(row.id);
        if (found.has(id)) continue;
        if (found.size >= SEARCH_SCAN_LIMIT) return { stopped: 'matches', reached: below };
        if (!this.confirms(row, term)) continue;
        found.set(id, { id, key: column === 'created_at' ? toNumber(row.created_at) : String(row.amount_minor), amountMinor: BigInt(String(row.amount_minor)) });
      }
      walked += driver.n;
      if (driver.n < gramChunk) return { stopped: false, reached: below };
      below = driver.low;
      gramChunk = stepSize(this.limits.gramChunk, walked, found.size - foundBefore, SEARCH_SCAN_LIMIT - found.size, gramWalkLimit - walked);
    }
  }

  /**
   * How far back a text search cut short got (PaymentTotals.reachedAt): when the payment at the
   * lowest id a cut walk reached was made (the next one up when that one is gone), the latest of
   * those of each ring key: from then on every payment was looked at. Each time proved
   * (provedCreation), never read as stored: `problem` (PaymentTotals.reachedUnproved) when one
   * does not hold, since the latest cannot then be told. Null when none is left.
   */
  private async reachedAt(cutAt: number[]): Promise<{ at: number } | { problem: string } | null> {
    let latest: number | null = null;
    for (const id of cutAt) {
      const [row] = await this.db.query<ListedRow>(`SELECT ${LISTED_COLUMNS} FROM payments WHERE id >= ? ORDER BY id LIMIT 1`, [id]);
      if (row === undefined) continue;
      const made = await this.provedCreation(row);
      if ('problem' in made) return made;
      latest = Math.max(latest ?? Number.NEGATIVE_INFINITY, made.at);
    }
    return latest === null ? null : { at: latest };
  }

  /**
   * When the payment of `row` was made, proved: the row holds as the list proves one (marked: its
   * MAC covers its created_at, and its state its last event under a chain link that holds), and its
   * first event, under a chain link that holds, is its reserve recorded at that very time (the MAC
   * does not cover the row's id; the event's link does, so a row's fixed columns swapped with
   * another's, MAC and all, do not pass). A payment without history holds when it was created
   * before its history was kept (chainCoverage); one made before it whose first event is the
   * baseline migration 037 recorded it by is held to it as to a reserve (dated its created_at).
   * Else the problem in words.
   */
  private async provedCreation(row: ListedRow): Promise<{ at: number } | { problem: string }> {
    const [record] = await this.marked([row]);
    if (record.integrityProblem !== undefined) return { problem: record.integrityProblem };
    const first = (await this.eventsOrProblems([record.id], firstTrustedEvents)).get(record.id);
    const at = record.createdAt;
    if (first === undefined) {
      const coverage = (await chainCoverage(this.db, this.sealer)).payments;
      if (at < coverage.since && coverage.problem === null) return { at };
      return { problem: `payments id ${record.id} (${record.clientId} / ${record.transactionId}) has no first event in its history: it was deleted in SQL${coverage.problem === null ? '' : `; ${coverage.problem}`}` };
    }
    if ('problem' in first) return first;
    // A baseline: recorded as it stood by migration 037 (made before its history was kept), dated its created_at.
    if (!isCreationCause(first.cause) || first.recordedAt !== at) {
      return { problem: `payments id ${record.id} (${record.clientId} / ${record.transactionId}) says it was made at ${new Date(at).toISOString()}, but its first event is its ${first.cause} recorded at ${new Date(first.recordedAt).toISOString()}` };
    }
    return { at };
  }

  /** Whether the opened candidate really contains the term: a clear id first, else its sealed name or remark. */
  private confirms(row: CandidateRow, term: string): boolean {
    const ids = { transactionId: row.transaction_id, bankReference: row.bank_reference, bankTransactionId: row.bank_transaction_id };
    if (fieldsContain(ids, term)) return true;
    if (row.details_json === null) return false;
    const details = parseDetails(this.sealer.open(row.details_json, paymentPlace('details_json', row)));
    return fieldsContain({ beneficiaryName: details?.beneficiaryName, remark: details?.remark }, term);
  }

  /**
   * The payments of a search's clear conditions, each proved as the list proves a row (marked),
   * or null when more than PROVED_LIMIT match (read in no order, PROVED_LIMIT + 1 at most).
   */
  private async provedRows(where: string[], params: SqlValue[]): Promise<PaymentRecord[] | null> {
    const rows = await this.db.query<ListedRow>(`SELECT ${LISTED_COLUMNS} FROM payments${whereClause(where)} LIMIT ${PROVED_LIMIT + 1}`, params);
    return rows.length > PROVED_LIMIT ? null : this.marked(rows);
  }

  /** The payments of `ids` (at most PROVED_LIMIT), each proved as the list proves a row. */
  private async provedById(ids: number[]): Promise<PaymentRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<ListedRow>(`SELECT ${LISTED_COLUMNS} FROM payments WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
    return this.marked(rows);
  }

  async provedDailyTotals(from: number, to: number): Promise<ProvedDailyTotals | null> {
    // Whether the range holds more than the bound: a walk of PROVED_LIMIT + 1 entries of a created_at index.
    const [past] = await this.db.query<{ id: number | string }>(`SELECT id FROM payments WHERE created_at >= ? AND created_at < ? ORDER BY created_at LIMIT 1 OFFSET ${PROVED_LIMIT}`, [from, to], {
      freshPlan: true,
    });
    if (past) return null;
    const proved = await this.provedRows(['created_at >= ?', 'created_at < ?'], [from, to]);
    if (proved === null) return null;
    const totals = new Map<string, DailyPaymentTotals>();
    const changed = new Map<string, number>();
    for (const record of proved) {
      const day = jakartaDate(record.createdAt);
      if (record.integrityProblem !== undefined) {
        changed.set(day, (changed.get(day) ?? 0) + 1);
        continue;
      }
      const key = `${day} ${record.state}`;
      const entry = totals.get(key) ?? { day, state: record.state, count: 0, totalMinor: 0n };
      entry.count += 1;
      entry.totalMinor += amountMinor(record.amount);
      totals.set(key, entry);
    }
    return { totals: [...totals.values()], changed: [...changed.entries()].map(([day, count]) => ({ day, count })) };
  }

  async findById(id: number): Promise<PaymentRecord | null> {
    const rows = await this.db.query<ListedRow>(`SELECT ${LISTED_COLUMNS} FROM payments WHERE id = ?`, [id]);
    return rows.length > 0 ? (await this.marked(rows))[0] : null;
  }

  async listInReview(limit: number): Promise<PaymentRecord[]> {
    const rows = await this.db.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE review_since IS NOT NULL AND state IN (${REVIEW_STATES_SQL}) ORDER BY review_since, id LIMIT ?`,
      [Math.max(1, Math.min(Math.trunc(limit), 1000))],
    );
    return this.marked(rows);
  }

  async runsOf(payments: PaymentRecord[]): Promise<Map<number, { batchPk: number; batchId: string }>> {
    const found = new Map<number, { batchPk: number; batchId: string }>();
    if (payments.length === 0) return found;
    const rows = await this.db.query<{ transaction_id: string; client_id: string; batch_pk: number | string; batch_id: string }>(
      'SELECT l.transaction_id, b.client_id, l.batch_pk, b.batch_id FROM transfer_batch_lines l JOIN transfer_batches b ON b.id = l.batch_pk ' +
        `WHERE l.transaction_id IN (${payments.map(() => '?').join(', ')})`,
      payments.map((p) => p.transactionId),
    );
    const byKey = new Map(rows.map((row) => [`${row.client_id}\u0000${row.transaction_id}`, row]));
    for (const p of payments) {
      const row = byKey.get(`${p.clientId}\u0000${p.transactionId}`);
      if (row) found.set(p.id, { batchPk: toNumber(row.batch_pk), batchId: row.batch_id });
    }
    return found;
  }

  async recentRuns(limit: number): Promise<TransferBatchRecord[]> {
    const rows = await this.db.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM transfer_batches ORDER BY created_at DESC, id DESC LIMIT ?`, [Math.min(Math.max(Math.trunc(limit), 1), MAX_LIMIT)]);
    return rows.map(toBatch);
  }

  async run(batchPk: number): Promise<{ batch: TransferBatchRecord; lines: RunLine[] } | null> {
    const batches = await this.db.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM transfer_batches WHERE id = ?`, [batchPk]);
    if (batches.length === 0) return null;
    const batch = toBatch(batches[0]);
    // Each line with its MAC (BATCH_LINES): one that does not hold is marked, never shown as proved.
    const lines = await this.db.query<MacedRow & { line_no: number | string; transaction_id: string; state: BatchLineState; request_json: string }>(
      `SELECT ${BATCH_LINES.columns} FROM transfer_batch_lines WHERE batch_pk = ? ORDER BY line_no`,
      [batchPk],
    );
    const payments = lines.length === 0
      ? []
      : await this.db.query<PaymentRow>(
          `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE client_id = ? AND transaction_id IN (${lines.map(() => '?').join(', ')})`,
          [batch.clientId, ...lines.map((l) => l.transaction_id)],
        );
    const byTxn = new Map((await this.marked(payments)).map((record) => [record.transactionId, record]));
    return {
      batch,
      lines: lines.map((line) => {
        const failed: string[] = [];
        const macProblem = recordMacProblem(BATCH_LINES, line, this.sealer);
        if (macProblem !== null) failed.push(macProblem);
        const request = parseObject(this.openOrNull(line.request_json, place('transfer_batch_lines', 'request_json', [batchPk, toNumber(line.line_no)]), failed));
        const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
        return {
          lineNo: toNumber(line.line_no),
          transactionId: line.transaction_id,
          lineState: line.state,
          details: request
            ? {
                sourceAccount: text(request.sourceAccountNumber) ?? '',
                beneficiaryAccount: text(request.beneficiaryAccountNumber) ?? '',
                beneficiaryBankCode: text(request.beneficiaryBankCode) ?? '',
                beneficiaryName: text(request.beneficiaryName),
                remark: text(request.remark),
                transferMethod: text(request.transferMethod),
              }
            : null,
          amount: request ? text(request.amount) : null,
          payment: byTxn.get(line.transaction_id) ?? null,
          ...(failed.length > 0 ? { integrityProblem: failed.join('; ') } : {}),
        };
      }),
    };
  }

  async duplicatesOf(payment: PaymentRecord): Promise<PaymentRecord[]> {
    const rows = await this.db.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE transaction_id = ? AND client_id <> ? AND state = 'SUCCESS' ORDER BY id LIMIT 20`,
      [payment.transactionId, payment.clientId],
    );
    return rows.map((row) => toPaymentRecord(row, this.sealer));
  }

  /**
   * A loose index scan of ix_payments_bank_created_at for each connection's latest time, then the
   * rows at those times, a point of the same index each: cheap however many payments there are (in
   * one join, MariaDB read every payment for the connections' latest times). Of two rows at the
   * same millisecond, the later id.
   */
  async banks(): Promise<PaymentRecord[]> {
    const latest = await this.db.query<{ bank: string; latest: number | string }>('SELECT bank, MAX(created_at) AS latest FROM payments WHERE bank IS NOT NULL GROUP BY bank');
    if (latest.length === 0) return [];
    const rows = await this.db.query<ListedRow>(
      `SELECT ${LISTED_COLUMNS} FROM payments WHERE ${latest.map(() => '(bank = ? AND created_at = ?)').join(' OR ')} ORDER BY bank, id DESC`,
      latest.flatMap((l) => [l.bank, l.latest]),
    );
    return this.marked(rows.filter((row, i) => i === 0 || row.bank !== rows[i - 1].bank));
  }

  /**
   * A closed day wholly in [from, to) is taken from its kept totals when they hold
   * (holdingDayTotals: counted once after the day closed, by the sweep, kept with a MAC and held to
   * the payment events since, and to as many reserve events of the day as when counted); kept
   * totals that do not hold are named (a day with other reserve events logged at error level too)
   * and their day counted as the others. Today, a part of a day, and a closed day without kept totals that hold are counted
   * (countedDays). A plain read: exact whatever writes meanwhile, on any node.
   */
  async dailyTotals(from: number, to: number): Promise<CountedDailyTotals> {
    const ranges = dayRanges(from, to);
    const today = jakartaDay(this.clock());
    const closed = ranges.filter((r) => r.day < today && r.start === jakartaDayStart(r.day) && r.end === jakartaDayStart(r.day + 1)).map((r) => r.day);
    const { kept, problems } = this.keys === null ? { kept: new Map<number, KeptDayTotals>(), problems: [] } : await holdingDayTotals(this.db, this.sealer, closed, this.#checkedTotals, undefined, { now: this.clock(), heldMs: RESERVES_HELD_MS });
    // Nothing but a change in SQL (or a reserve committed after its day was counted) gives this: said where operators look.
    for (const p of problems) if (p.kind === 'reserves') log.error({ day: p.day, problem: p.found }, 'overview day totals whose day has other reserve events than counted: counted from the payments');
    const counted = await this.countedDays(ranges.filter((r) => !kept.has(r.day)));
    const totals: DailyPaymentTotals[] = [];
    for (const { day } of ranges) {
      for (const s of kept.get(day)?.states ?? counted.get(day) ?? []) if (s.count > 0) totals.push({ day: dayLabel(day), state: s.state, count: s.count, totalMinor: s.totalMinor });
    }
    return { totals, integrityProblems: problems };
  }

  /**
   * Each day and state of `ranges` is its own range of ix_payments_state_created_amount (state,
   * created_at, amount_minor), summed from the index alone; the ranges of DAYS_PER_READ days go in
   * one statement. Grouped by a day computed from each row instead, MariaDB put every payment of
   * the period through a temporary table (14 days of a million-payment month: 190-270 ms of SQL
   * against about 60 ms). Every state of each day, those without payments at 0.
   */
  private async countedDays(ranges: readonly { day: number; start: number; end: number }[]): Promise<Map<number, StateTotals[]>> {
    const counted = new Map<number, StateTotals[]>();
    for (let first = 0; first < ranges.length; first += DAYS_PER_READ) {
      const parts: string[] = [];
      const params: SqlValue[] = [];
      for (const { day, start, end } of ranges.slice(first, first + DAYS_PER_READ)) {
        counted.set(day, []);
        for (const state of PAYMENT_STATES) {
          parts.push('SELECT ? AS day, ? AS state, COUNT(*) AS n, SUM(amount_minor) AS total FROM payments WHERE state = ? AND created_at >= ? AND created_at < ?');
          params.push(day, state, state, start, end);
        }
      }
      // Each part a range of an index alone: planned for these values (QueryOptions.freshPlan).
      const rows = await this.db.query<{ day: number | string; state: PaymentState; n: number | string; total: number | string | null }>(parts.join(' UNION ALL '), params, { freshPlan: true });
      for (const row of rows) counted.get(toNumber(row.day))!.push({ state: row.state, count: toNumber(row.n), totalMinor: BigInt(String(row.total ?? 0)) });
    }
    return counted;
  }

  /**
   * The sweep's counting of the overview's closed days (migration 034): each of `days` whose kept
   * totals do not hold (none yet, counted before a payment event of the day, under an older key,
   * or not holding at all: that one is logged, and the page names it until then) is counted from
   * its payments proved one by one (read a page at a time: dayPages), as the sweep proves a day before sealing it (rowProofs: each
   * row's MAC, and its state against its latest event whose chain link holds), after the highest
   * payment_events id is read; each state's sum is of the proved amounts. It is kept (writeSeals:
   * with its MAC and change record) only when every row of the day proved, and every payment the
   * keyed history says was created that day is among them or was released (missingFromDay): a day
   * with a row that does not prove, or a payment missing, keeps no totals (any it had are deleted,
   * the deletion recorded), is logged, and the overview counts it from the payments. So a payment
   * changed in SQL is never counted into kept totals, nor one deleted in SQL left out of them
   * (written back after the count, it would be in no figure), whatever made its day counted again;
   * and the day's reserve events are kept counted with its totals, so one moved out of the day for
   * the count and put back after makes the overview name the day and count it from the payments
   * (holdingDayTotals). `guard` walks the chains, and reads the day's rows again by their lines
   * as counted, in one snapshot (sealingProblems): asked once for the days counted so far, when
   * their rows reach SWEEP_GUARD_ROWS and at the end; each day's totals written only when neither
   * the chains nor that day's rows have a problem (a day whose rows moved is not kept, the others
   * are; the chains broken, none is). Stops once `budgetRows` rows were proved (after a day at
   * least) or `stop` says so. Returns how many days were written.
   */
  private async countClosedDays(
    days: readonly number[],
    budgetRows: number,
    stop: () => boolean,
    guard: RunGuard['problems'],
  ): Promise<number> {
    // Every event since the counts read, however many: only a day with one is proved and counted again.
    const { kept, problems } = await holdingDayTotals(this.db, this.sealer, days, this.#checkedTotals, Number.POSITIVE_INFINITY, { now: this.clock(), heldMs: 0, pageRows: this.limits.dayPageRows });
    for (const problem of problems) log.error({ day: problem.day, problem: problem.found }, 'overview day totals that do not hold: counted again from the payments');
    const first = this.#provedOneByOne;
    const proving: Pick<Reconciling, 'coverage'> = { coverage: null };
    let written = 0;
    // Days counted, held for one asking of the guard over them all (SWEEP_GUARD_ROWS rows at most).
    let toKeep: { day: number; countedAt: number; lines: Map<number, string>; totals: NewSeal }[] = [];
    let heldRows = 0;
    const keep = async () => {
      if (toKeep.length === 0) return;
      const batch = toKeep;
      toKeep = [];
      heldRows = 0;
      const problems = await guard(batch.map((d) => ({ days: [d.day], lines: d.lines })));
      for (const [i, { day, countedAt, totals }] of batch.entries()) {
        const unprovable = problems[i];
        if (unprovable === null) {
          written += await writeSeals(this.chain!, this.sealer, countedAt, [totals]);
          continue;
        }
        log.error({ day: dayLabel(day), problem: unprovable }, 'overview day totals not kept: the audit chains do not hold as a whole, counted from the payments');
        await dropDayTotals(this.chain!, this.sealer, countedAt, [day]);
      }
    };
    for (const day of days.filter((d) => !kept.has(d))) {
      if (stop() || this.#provedOneByOne - first >= budgetRows) break;
      const countedAt = this.clock();
      const eventsTo = await lastEventId(this.db);
      const states = new Map<PaymentState, StateTotals>();
      let failed = 0;
      let problem: string | null = null;
      let rowCount = 0;
      const counted = new Set<number>();
      const lines = new Map<number, string>();
      for await (const rows of this.dayPages(day)) {
        const problems = (await this.rowProofs(rows, proving)).problems.filter((p): p is string => p !== null);
        failed += problems.length;
        problem ??= problems[0] ?? null;
        rowCount += rows.length;
        for (const row of rows) {
          counted.add(toNumber(row.id));
          lines.set(toNumber(row.id), row.line);
          const held = states.get(row.state) ?? { state: row.state, count: 0, totalMinor: 0n };
          held.count += 1;
          held.totalMinor += amountMinor(row.amount);
          states.set(row.state, held);
        }
      }
      if (failed > 0) {
        log.error({ day: dayLabel(day), payments: failed, problem }, 'overview day totals not kept: payments of the day that do not prove, counted from the payments');
        await dropDayTotals(this.chain!, this.sealer, countedAt, [day]);
        continue;
      }
      const { missing, reserved, reserveDigest } = await this.missingFromDay(day, counted);
      if (missing.length > 0) {
        log.error({ day: dayLabel(day), payments: missing.length, problem: missing[0] }, 'overview day totals not kept: payments the history says were created that day are not among its payments, or reserve events of the day do not hold, counted from the payments');
        await dropDayTotals(this.chain!, this.sealer, countedAt, [day]);
        continue;
      }
      const totals = dayTotalsText(eventsTo, PAYMENT_STATES.flatMap((state) => states.get(state) ?? []), reserved, reserveDigest);
      toKeep.push({ day, countedAt, lines, totals: { tag: DAY_TOTALS_TAG, day, rowCount, seal: '', totals } });
      heldRows += lines.size;
      if (heldRows >= SWEEP_GUARD_ROWS) await keep();
    }
    await keep();
    return written;
  }

  /**
   * The payments the keyed history says were created on UTC+7 `day` that are not among `counted`
   * (the ids of the day's payments the sweep counted), each in words as `audit verify` names a
   * payment deleted in SQL; empty when none is missing. `reserved`: how many reserve events the
   * day has, kept with its totals and held to the day's at every reading of them (holdingDayTotals):
   * a payment left out here by moving its reserve event out of the day for the count, then put
   * back with it, is one more there; `reserveDigest`: their identities (reserveEventsDigest), kept
   * with them and held to the day's by the sweep at every run, so that another event of the day
   * moved out as that one is put back is named all the same. So none of them may be a reserve event added in SQL to make
   * up for it: a payment with two in the day is named, and so is a payment not counted whose first
   * event, under a chain link that holds, is not its reserve recorded that day.
   *
   * The day's reserve events are read from their own index (reservedBetween, limits.dayPageRows a
   * statement) and held to `counted` here: a closed day's payments are the same before and after
   * its pages were read, so one deleted and written back meanwhile is missing from `counted` all
   * the same. Only a payment whose last event, under a chain link that holds, released it
   * (RELEASED: its row deleted with it) may be missing; their last and first events are read
   * SEQ_CHUNK payments a statement (lastTrustedEvents, firstTrustedEvents), and only for the
   * payments not counted: a day's releases and what was deleted in SQL.
   */
  private async missingFromDay(day: number, counted: ReadonlySet<number>): Promise<{ missing: string[]; reserved: number; reserveDigest: string }> {
    const [from, to] = [jakartaDayStart(day), jakartaDayStart(day + 1)];
    const seen = new Set<number>();
    const notCounted = new Set<number>();
    const missing: string[] = [];
    const events: ReserveEvent[] = [];
    for await (const page of reservedBetween(this.db, from, to, this.limits.dayPageRows)) {
      for (const event of page) {
        events.push(event);
        const id = event.paymentId;
        if (seen.has(id)) missing.push(`payments id ${id} has more than one reserve event on ${dayLabel(day)}: events were inserted or changed in SQL`);
        seen.add(id);
        if (!counted.has(id)) notCounted.add(id);
      }
    }
    const ids = [...notCounted];
    for (let i = 0; i < ids.length; i += SEQ_CHUNK) {
      const chunk = ids.slice(i, i + SEQ_CHUNK);
      const last = await this.eventsOrProblems(chunk, lastTrustedEvents);
      const released = new Set(chunk.filter((id) => {
        const event = last.get(id);
        return event !== undefined && !('problem' in event) && event.snapshot.state === RELEASED;
      }));
      const first = await this.eventsOrProblems([...released], firstTrustedEvents);
      for (const id of chunk) {
        const event = last.get(id);
        const what = `payments id ${id}, created on ${dayLabel(day)} by its history, is not among that day's payments`;
        if (released.has(id)) {
          const reserve = first.get(id);
          if (reserve !== undefined && !('problem' in reserve) && isCreationCause(reserve.cause) && reserve.recordedAt >= from && reserve.recordedAt < to) continue;
          const why = reserve === undefined ? 'it has none' : 'problem' in reserve ? reserve.problem : `it is its ${reserve.cause} recorded at ${new Date(reserve.recordedAt).toISOString()}`;
          missing.push(`${what}; its history releases it, but its first event is not its reserve that day (${why}): a reserve event was inserted or changed in SQL`);
        } else if (event === undefined) missing.push(`${what}: its history is gone`);
        else if ('problem' in event) missing.push(`${what}, and ${event.problem}`);
        else missing.push(`${what}: it was deleted or moved in SQL, its history (last event seq ${event.seq}, ${event.snapshot.state}) does not end in its release`);
      }
    }
    return { missing, reserved: events.length, reserveDigest: reserveEventsDigest(events) };
  }

  /**
   * `read` (lastTrustedEvents, firstTrustedEvents) of `ids`; when an event's answer does not open
   * where it lies (altered in SQL: IntegrityError), each payment's read alone, and that one's
   * problem is the error's words.
   */
  private async eventsOrProblems<E>(ids: number[], read: (q: Queryable, ring: KeyRing, sealer: ValueSealer, ids: number[]) => Promise<Map<number, E | { problem: string }>>): Promise<Map<number, E | { problem: string }>> {
    const ring = this.sealer.keyRing;
    try {
      return await read(this.db, ring, this.sealer, ids);
    } catch (error) {
      if (!(error instanceof IntegrityError) || ids.length === 1) {
        if (error instanceof IntegrityError) return new Map([[ids[0], { problem: error.where }]]);
        throw error;
      }
    }
    const events = new Map<number, E | { problem: string }>();
    for (const id of ids) for (const [payment, event] of await this.eventsOrProblems([id], read)) events.set(payment, event);
    return events;
  }

  /**
   * The payments received on UTC+7 `day`, each with its sealed line (held to the day's rows in the
   * guard's snapshot: rowsNotAsProved), limits.dayPageRows a statement at most, by id (keyset: each
   * page after the last id of the one before). The walk stays between the lowest and highest id of
   * the day, read first from a created_at index (its entries hold the id): every payment of the
   * day has an id between them, whatever order the ids were given in (a clock behind, Galera
   * nodes interleaving), and a payment of another day between them is dropped by the range. A
   * closed day gets no new payment; a change to one of its payments meanwhile is a payment event
   * after the count's, which makes the sweep count the day again.
   */
  private async *dayPages(day: number): AsyncGenerator<ReconciledRow[]> {
    const range = [jakartaDayStart(day), jakartaDayStart(day + 1)];
    const [bounds] = await this.db.query<{ lo: number | string | null; hi: number | string | null }>('SELECT MIN(id) AS lo, MAX(id) AS hi FROM payments WHERE created_at >= ? AND created_at < ?', range, {
      freshPlan: true,
    });
    if (bounds === undefined || bounds.lo === null || bounds.hi === null) return;
    const hi = toNumber(bounds.hi);
    for (let after = toNumber(bounds.lo) - 1; after < hi; ) {
      const rows = await this.db.query<ReconciledRow>(
        `SELECT ${RECONCILED_COLUMNS}, ${this.#sealedLine} AS line FROM payments WHERE id > ? AND id <= ? AND created_at >= ? AND created_at < ? ORDER BY id LIMIT ${this.limits.dayPageRows}`,
        [after, hi, ...range],
        { freshPlan: true },
      );
      if (rows.length === 0) return;
      yield rows;
      after = toNumber(rows[rows.length - 1].id);
    }
  }

  /**
   * Percentiles from a per-day histogram of whole milliseconds, counted by the database: exact,
   * portable (MySQL 8 has no PERCENTILE_CONT) and a few hundred rows back however many calls.
   */
  async dailyBankLatency(from: number, to: number): Promise<DailyBankLatency[]> {
    const day = dayExpression(this.db, 'started_at');
    const rows = await this.db.query<{ day: number | string; duration_ms: number | string; n: number | string }>(
      `SELECT ${day} AS day, duration_ms, COUNT(*) AS n FROM audit_bank_calls ` +
        "WHERE started_at >= ? AND started_at < ? AND operation <> 'token' " +
        `GROUP BY ${day}, duration_ms ORDER BY day, duration_ms`,
      [from, to],
      // Read from ix_audit_bank_calls_started_operation_duration alone: planned afresh (QueryOptions.freshPlan).
      { freshPlan: true },
    );
    const byDay = new Map<string, { durationMs: number; count: number }[]>();
    for (const row of rows) {
      const label = dayLabel(toNumber(row.day));
      const histogram = byDay.get(label) ?? [];
      histogram.push({ durationMs: toNumber(row.duration_ms), count: toNumber(row.n) });
      byDay.set(label, histogram);
    }
    return [...byDay.entries()].map(([label, histogram]) => {
      const calls = histogram.reduce((sum, bucket) => sum + bucket.count, 0);
      return { day: label, calls, p50Ms: percentile(histogram, calls, 50), p95Ms: percentile(histogram, calls, 95) };
    });
  }

  /**
   * Bank calls written back from the audit spool (spool_entry set: written after the database was
   * back, however long after their day), counted per UTC+7 day as dailyBankLatency counts them.
   * A range of uq_audit_bank_calls_spool_entry: as cheap as such calls are few.
   */
  async spooledBankCallDays(): Promise<Map<string, number>> {
    const day = dayExpression(this.db, 'started_at');
    const rows = await this.db.query<{ day: number | string; n: number | string }>(
      `SELECT ${day} AS day, COUNT(*) AS n FROM audit_bank_calls WHERE spool_entry IS NOT NULL AND operation <> 'token' GROUP BY ${day}`,
    );
    return new Map(rows.map((row) => [dayLabel(toNumber(row.day)), toNumber(row.n)]));
  }

}
