import { jakartaDay, jakartaDayStart } from '../../time/index.js';
import type { Queryable } from '../types.js';
import { CREATION_CAUSES_SQL } from './payment-events.js';
import { toNumber } from './row-values.js';

/**
 * How many payment_events ids the console's first sweep looks back (ChangedDays): the changes
 * appended shortly before it started. 20,000 ids are half an hour of a gateway paying 4 transfers
 * a second (three events each; a third of that on a three-node Galera cluster, whose nodes take
 * ids three apart). Read by primary key, each event's payment by its own: 20,000 ids took 50-210
 * ms of MariaDB (100,000: 0.6-1.3 s), once per start. A sealed day changed before that is sealed
 * anew when a page next reads it, as it always was.
 */
export const FIRST_LOOKBACK_IDS = 20_000;
/**
 * How far below the highest id the last run read up to the next run reads again: an event's id is
 * taken at its INSERT and seen only at its COMMIT, so an event committed after a run read past its
 * id (its transaction still open, or certifying on another Galera node) is read by the next run
 * when fewer than this many ids were taken meanwhile (a minute of that gateway). Ids are not
 * contiguous (rolled back inserts, Galera's auto_increment_increment): only their order is relied
 * on, and only to within this margin. Read again each run: 17-43 ms of MariaDB.
 */
export const LATE_COMMIT_IDS = 5_000;
/**
 * A seal written less than this after an event may have read its day before that event committed
 * (a month read took up to a minute; hosts' clocks differ by seconds; recorded_at is taken before
 * the COMMIT): its day is read again. One read too many hashes a day, one too few leaves a seal
 * that no longer holds to the next page that reads it.
 */
export const SEAL_AFTER_EVENT_MS = 10 * 60_000;

/** One payment event of a day, read by eventDays. */
export interface DayEvent {
  id: number;
  /** Its payment's account tag; null when the payment has none or was released (its row deleted). */
  tag: string | null;
  /** The payment was released: its row is gone, `day` is its reserve event's. */
  released: boolean;
  /** The Jakarta day its payment was created on. */
  day: number;
  recordedAt: number;
}

/**
 * The payment_events of ids in (after, upTo] whose payment was created on a Jakarta day of
 * [firstDay, lastDay], or was released (its row deleted: its day is its reserve event's, whose
 * recorded_at is the payment's created_at), walked by their primary key, each payment found by its
 * own (a LEFT JOIN keeps that order). What changed a day's payments since a given event.
 */
export async function eventDays(db: Queryable, after: number, upTo: number, firstDay: number, lastDay: number): Promise<DayEvent[]> {
  const rows = await db.query<{ id: number | string; payment: number | string | null; tag: string | null; created_at: number | string | null; reserved_at: number | string | null; recorded_at: number | string }>(
    'SELECT e.id, p.id AS payment, p.source_account_tag AS tag, p.created_at, e.recorded_at, ' +
      `CASE WHEN p.id IS NULL THEN (SELECT r.recorded_at FROM payment_events r WHERE r.payment_id = e.payment_id AND r.seq = 1 AND r.cause IN (${CREATION_CAUSES_SQL})) END AS reserved_at ` +
      'FROM payment_events e LEFT JOIN payments p ON p.id = e.payment_id WHERE e.id > ? AND e.id <= ? ' +
      'AND (p.id IS NULL OR (p.created_at >= ? AND p.created_at < ?))',
    [after, upTo, jakartaDayStart(firstDay), jakartaDayStart(lastDay + 1)],
  );
  const events: DayEvent[] = [];
  for (const row of rows) {
    const created = row.created_at ?? row.reserved_at;
    if (created === null) continue;
    const day = jakartaDay(toNumber(created));
    if (day < firstDay || day > lastDay) continue;
    events.push({ id: toNumber(row.id), tag: row.tag, released: row.payment === null, day, recordedAt: toNumber(row.recorded_at) });
  }
  return events;
}

/** The highest payment_events id (0 when there is none). */
export async function lastEventId(db: Queryable): Promise<number> {
  const [{ top }] = await db.query<{ top: number | string | null }>('SELECT MAX(id) AS top FROM payment_events');
  return top === null ? 0 : toNumber(top);
}

/**
 * The closed days whose seals the console's sweep must read again (#16): a sealed day stops
 * holding honestly only when one of its payments moves on, and every write of a payment's state
 * (reserve, update, send, settle, check, review, release: PaymentRepository.changed and
 * deleteWithEvent) appends its payment_events row in the same transaction. So each run reads the
 * events appended since the last one, by their primary key (payment_events has no index on
 * recorded_at), and keeps, per account tag, the days of [firstDay, lastDay] their payments were
 * created on, with the latest recorded_at. A released payment's row is gone: its day is its
 * reserve event's (created_at is that event's recorded_at) and its tag unknown, so that day is
 * kept for every tag. A day is taken (take) once its tag was swept; the others wait for the next
 * run. A row changed in SQL appends no event: its day is found when a page reads it, and marked.
 */
export class ChangedDays {
  /** The highest payment_events id read up to; null before the first run. */
  #readUpTo: number | null = null;
  /** The events of the swept days the last read took within LATE_COMMIT_IDS of its top: the next reads them again, and leaves them. */
  #taken = new Set<number>();
  /** Per tag, each changed day and its latest event's recorded_at. */
  readonly #days = new Map<string, Map<number, number>>();

  /**
   * Reads the events appended since the last run (the first run: the last FIRST_LOOKBACK_IDS ids),
   * and those LATE_COMMIT_IDS below it that the last run did not see, and keeps the days of
   * [firstDay, lastDay] they changed.
   * `tags`: every account tag, for the days of released payments.
   */
  async read(db: Queryable, tags: readonly string[], firstDay: number, lastDay: number): Promise<void> {
    const upTo = await lastEventId(db);
    const after = Math.max(0, this.#readUpTo === null ? upTo - FIRST_LOOKBACK_IDS : Math.min(this.#readUpTo, upTo) - LATE_COMMIT_IDS);
    if (upTo > after) {
      const taken = new Set<number>();
      for (const event of await eventDays(db, after, upTo, firstDay, lastDay)) {
        // A payment without a tag is no account's (it is in no seal).
        if (event.tag === null && !event.released) continue;
        if (event.id > upTo - LATE_COMMIT_IDS) taken.add(event.id);
        if (this.#taken.has(event.id)) continue;
        for (const tag of event.tag === null ? tags : [event.tag]) this.#keep(tag, event.day, event.recordedAt);
      }
      this.#taken = taken;
    }
    this.#readUpTo = upTo;
  }

  /** The changed days kept for `tag` (each with its latest event's recorded_at), no longer kept. */
  take(tag: string): Map<number, number> {
    const days = this.#days.get(tag) ?? new Map<number, number>();
    this.#days.delete(tag);
    return days;
  }

  #keep(tag: string, day: number, at: number): void {
    let days = this.#days.get(tag);
    if (days === undefined) this.#days.set(tag, (days = new Map()));
    days.set(day, Math.max(at, days.get(day) ?? at));
  }
}

