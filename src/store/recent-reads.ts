import { elapsedClock, isYoung } from '../time/index.js';

/** Entries kept at most; past it the oldest read goes first (a flood of ids cannot grow memory). */
const MAX_ENTRIES = 10_000;

/**
 * Reads of the store reused for at most `stalenessMs` after they were made: the bound is the
 * promise to operators (GERBANG_CACHE_STALENESS_MS, at most 1 s) within which a change made in the
 * store by any process is seen by this one. Only what `keep` accepts is reused, a read that failed
 * (a row that failed its MAC check: IntegrityError) never is, and concurrent reads under one key
 * share one query. 0 reads the store every time. Ages are measured on `elapsed`, a monotonic
 * clock (elapsedClock; tests inject their own): a wall clock stepped back would keep every read
 * "fresh" for the length of the step. An age below 0 (a clock that went back) counts as stale.
 */
export class RecentReads {
  private readonly entries = new Map<string, { readAt: number; read: Promise<unknown> }>();

  constructor(
    private readonly stalenessMs: number,
    private readonly elapsed: () => number = elapsedClock,
  ) {}

  /** The read under `key` made less than `stalenessMs` ago, else a new one; kept only when `keep` accepts its value. */
  read<T>(key: string, read: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    if (this.stalenessMs <= 0) return read();
    const now = this.elapsed();
    const entry = this.entries.get(key);
    if (entry && isYoung(now - entry.readAt, this.stalenessMs)) return entry.read as Promise<T>;
    const reading = read();
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { readAt: now, read: reading });
    // A failed read, or a value not to keep, is never reused: the next caller asks the store again.
    reading.then(
      (value) => {
        if (!keep(value)) this.forget(key, reading);
      },
      () => this.forget(key, reading),
    );
    return reading;
  }

  /** Drops what is kept under `key` (this process changed it): the next read asks the store. */
  drop(key: string): void {
    this.entries.delete(key);
  }

  private forget(key: string, read: Promise<unknown>): void {
    if (this.entries.get(key)?.read === read) this.entries.delete(key);
  }
}
