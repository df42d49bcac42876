import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import { getLogger } from '../../log/index.js';
import type { RateLimitRepository } from '../../store/types.js';
import { elapsedClock, isYoung } from '../../time/index.js';

const log = getLogger('rate-limit');

/** Windows a limiter keeps counts of at most, by default (GERBANG_RATE_LIMIT_LOCAL_WINDOWS). */
export const DEFAULT_LOCAL_WINDOWS = 10_000;
/** The least time between two looks through a full map for windows that ended (each is a walk of the whole map). */
const SWEEP_GAP_MS = 1_000;
/** The longest wait between two tries of a synchronisation the store refused (doubling from S). */
const MAX_RETRY_MS = 10_000;

/** What this process knows of one key's shared window. */
interface LocalWindow {
  resetAt: number;
  /** The window's hits from every process, as the store said at the last synchronisation. */
  shared: number;
  /** When the statement that answered `shared` was sent (this process's monotonic clock, `elapsed`). */
  readAt: number;
  /** Hits admitted here since, not yet added to the store (`sending`: being added now). */
  pending: number;
  sending: number;
  timer: NodeJS.Timeout | null;
  /** The last synchronisation failed: the next hit goes to the store and fails closed with it. */
  failed: boolean;
  /** Synchronisations failed in a row (the retry waits S × 2^(failures − 1), at most MAX_RETRY_MS). */
  failures: number;
}

/**
 * express-rate-limit's Store on Gerbang's own store, so every PM2 worker and every node counts
 * against the same windows (process memory would give each worker its own allowance).
 *
 * With `syncMs` (S) 0 every hit is one statement in the store. Above 0 (the API's per-IP and
 * per-client limiters: GERBANG_RATE_LIMIT_SYNC_MS), hits are counted here and added to the store
 * in one statement per key at most every S, which answers the window's hits of every process
 * (the process's view). A hit is counted here only while that view is younger than S or a
 * statement that renews it is scheduled or under way; otherwise (a key's first hit of a window,
 * its first after a quiet spell of more than S, or after a failed synchronisation) it goes to the
 * store before it is admitted. So a view is never older than 2S plus one statement (d) when a hit
 * is judged on it, and another process's hit is in the store at most S + 2d after it was admitted:
 * a hit admitted here misses at most what the other processes admitted in the last 3(S + d). Across
 * the cluster a window therefore admits at most the limit plus what the other processes admit in
 * 3(S + d) (a bound of limit + (processes - 1) x their rate x 3(S + d)); one process alone is exact.
 * When the store cannot take a synchronisation, the key's next hit goes to the store again and
 * fails closed with it (503), carrying the hits not yet added; and the synchronisation is tried
 * again after S, then twice as long each time up to 10 s, so a key that gets no more hits here
 * still has its hits added once the store answers again (within 10 s of that). While the store is
 * down nothing is admitted that is not counted: every hit that reaches the store fails closed,
 * and the others are those already counted here.
 *
 * A window is kept here for at most `maxWindows` keys (GERBANG_RATE_LIMIT_LOCAL_WINDOWS), so many
 * distinct keys (addresses an attacker spoofs behind a trusted proxy, made-up client ids) cannot
 * grow the process: when the map is full, windows that have ended with nothing left to add are
 * dropped first; a key that still finds no room is counted in the store on every hit, as with S
 * 0 (exact, a statement each), never admitted uncounted, and no live window is ever dropped to make
 * room (its hits not yet added would be lost). The ended windows are looked for at most once a
 * second and only once one can have ended, so a flood of keys past the bound does not walk the map
 * on every hit.
 */
export class SharedRateLimitStore implements Store {
  /** Keys are shared with other processes: express-rate-limit must not assume it sees them all. */
  readonly localKeys = false;
  private windowMs = 60_000;
  private readonly windows = new Map<string, LocalWindow>();
  /** Per key, the hit being counted in the store now, settled once its window is kept. */
  private readonly reading = new Map<string, Promise<void>>();
  private closed = false;
  /** No window kept here ends before this (wall clock, as window ends are). */
  private earliestEnd = Infinity;
  /** When the map was last looked through for ended windows (`elapsed`). */
  private sweptAt = -Infinity;
  private readonly maxWindows: number;
  /** What a view's age is measured on: monotonic (a wall clock stepped back would make an old view young). */
  private readonly elapsed: () => number;

  constructor(
    private readonly repository: RateLimitRepository,
    readonly prefix: string,
    private readonly clock: () => number,
    private readonly syncMs = 0,
    options: { maxWindows?: number; elapsed?: () => number } = {},
  ) {
    this.maxWindows = options.maxWindows ?? DEFAULT_LOCAL_WINDOWS;
    this.elapsed = options.elapsed ?? elapsedClock;
  }

  /** The keys this process keeps a window of now (at most `maxWindows`; gauge gerbang_rate_limit_local_windows). */
  get localWindows(): number {
    return this.windows.size;
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    for (;;) {
      const now = this.clock();
      const local = this.windows.get(key);
      if (local && !local.failed && now < local.resetAt && (local.timer !== null || local.sending > 0 || isYoung(this.elapsed() - local.readAt, this.syncMs))) {
        local.pending += 1;
        this.scheduleSync(key, local);
        return { totalHits: local.shared + local.sending + local.pending, resetTime: new Date(local.resetAt) };
      }
      // Hits that come while another hit of this key is counted in the store wait for its answer
      // and are judged on it: one statement for a burst, not one each (nor each carrying the same
      // hits not yet added, nor each replacing the window the others counted into).
      const reading = this.syncMs > 0 ? this.reading.get(key) : undefined;
      if (reading) {
        await reading.catch(() => undefined);
        continue;
      }
      return this.countInStore(key, local, now);
    }
  }

  /**
   * The first hit of a window, of a quiet key whose view is older than S (the other processes'
   * hits meanwhile are unknown here), or after a failed synchronisation: counted in the store now,
   * with the hits this process counted and had not yet added.
   */
  private async countInStore(key: string, local: LocalWindow | undefined, now: number): Promise<ClientRateLimitInfo> {
    const carried = local && now < local.resetAt ? local.pending + local.sending : 0;
    const sentAt = this.elapsed();
    const counting = this.repository.increment(this.prefix + key, this.windowMs, now, 1 + carried);
    if (this.syncMs <= 0) return toInfo(await counting);
    const done: Promise<void> = counting
      .then(
        ({ hits, resetAt }) => this.keep(key, { resetAt, shared: hits, readAt: sentAt, pending: 0, sending: 0, timer: null, failed: false, failures: 0 }, now),
        () => undefined,
      )
      .finally(() => {
        if (this.reading.get(key) === done) this.reading.delete(key);
      });
    this.reading.set(key, done);
    return toInfo(await counting);
  }

  async decrement(key: string): Promise<void> {
    const local = this.windows.get(key);
    if (local && local.pending > 0) {
      local.pending -= 1;
      return;
    }
    await this.repository.decrement(this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    this.forget(key);
    await this.repository.reset(this.prefix + key);
  }

  /** Adds every pending hit to the store now (at shutdown; tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.windows.entries()].map(([key, local]) => this.sync(key, local)));
  }

  /**
   * At shutdown, before the store closes: no synchronisation is scheduled any more, and the hits
   * still pending are added to the store now, so the other processes go on counting them.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const local of this.windows.values()) {
      if (local.timer) clearTimeout(local.timer);
      local.timer = null;
    }
    await this.flush();
  }

  /** Keeps `window` for `key` if there is room (see the class): else the key is counted in the store on every hit. */
  private keep(key: string, window: LocalWindow, now: number): void {
    this.forget(key);
    if (this.windows.size >= this.maxWindows && !this.sweep(now)) return;
    this.windows.set(key, window);
    this.earliestEnd = Math.min(this.earliestEnd, window.resetAt);
  }

  /**
   * Drops the windows that ended and hold no hit to add (a window that ended while hits were
   * pending is emptied by its next synchronisation). Walks the map only once a window
   * can have ended, and at most once a second. True when there is room now.
   */
  private sweep(now: number): boolean {
    const at = this.elapsed();
    if (now < this.earliestEnd || at - this.sweptAt < SWEEP_GAP_MS) return false;
    this.sweptAt = at;
    this.earliestEnd = Infinity;
    for (const [key, local] of this.windows) {
      if (local.resetAt <= now && local.pending === 0 && local.sending === 0) this.forget(key);
      else this.earliestEnd = Math.min(this.earliestEnd, local.resetAt);
    }
    return this.windows.size < this.maxWindows;
  }

  private forget(key: string): void {
    const local = this.windows.get(key);
    if (local?.timer) clearTimeout(local.timer);
    this.windows.delete(key);
  }

  private scheduleSync(key: string, local: LocalWindow): void {
    if (local.timer || this.closed) return;
    local.timer = setTimeout(() => {
      local.timer = null;
      void this.sync(key, local);
    }, this.syncMs);
    local.timer.unref();
  }

  private async sync(key: string, local: LocalWindow): Promise<void> {
    if (local.pending === 0 || local.sending > 0) return;
    const now = this.clock();
    if (now >= local.resetAt) {
      // The window ended: its hits count for nothing any more, and must not start the next one.
      local.pending = 0;
      return;
    }
    local.sending = local.pending;
    local.pending = 0;
    const sentAt = this.elapsed();
    try {
      const { hits, resetAt } = await this.repository.increment(this.prefix + key, this.windowMs, now, local.sending);
      local.shared = hits;
      local.readAt = sentAt;
      local.resetAt = resetAt;
      local.sending = 0;
      local.failed = false;
      local.failures = 0;
      if (local.pending > 0) this.scheduleSync(key, local);
    } catch (error) {
      log.warn({ err: error, limiter: this.prefix }, 'rate-limit counts could not be added to the store; the next request counts in the store');
      local.pending += local.sending;
      local.sending = 0;
      local.failed = true;
      local.failures += 1;
      this.scheduleRetry(key, local);
    }
  }

  /**
   * Tries a refused synchronisation again, unless a hit has carried its counts into the store
   * meanwhile (the key's window was replaced). Hits that come while it is under way wait for it
   * (as for any statement of the key), so its counts are never carried twice.
   */
  private scheduleRetry(key: string, local: LocalWindow): void {
    if (local.timer || this.closed) return;
    local.timer = setTimeout(
      () => {
        local.timer = null;
        if (this.windows.get(key) !== local) return;
        // A hit of the key is in the store now, carrying these counts: try again after it if it fails.
        if (this.reading.has(key)) return this.scheduleRetry(key, local);
        const retry: Promise<void> = this.sync(key, local).finally(() => {
          if (this.reading.get(key) === retry) this.reading.delete(key);
        });
        this.reading.set(key, retry);
      },
      Math.min(this.syncMs * 2 ** (local.failures - 1), MAX_RETRY_MS),
    );
    local.timer.unref();
  }
}

function toInfo({ hits, resetAt }: { hits: number; resetAt: number }): ClientRateLimitInfo {
  return { totalHits: hits, resetTime: new Date(resetAt) };
}

/**
 * The shared-store limiters of one app, so the gateway can close them (close()) before it closes
 * the store: pending hits are added, and no synchronisation fires on a closed store.
 */
export class RateLimitStores {
  private readonly stores: SharedRateLimitStore[] = [];

  create(repository: RateLimitRepository, prefix: string, clock: () => number, syncMs: number, maxWindows?: number): SharedRateLimitStore {
    const store = new SharedRateLimitStore(repository, prefix, clock, syncMs, { maxWindows });
    this.stores.push(store);
    return store;
  }

  /** Each limiter's windows kept in this process now, by its name (`ip`, `client`, `token-ip`). */
  localWindows(): { limiter: string; windows: number }[] {
    return this.stores.map((store) => ({ limiter: store.prefix.replace(/:$/, ''), windows: store.localWindows }));
  }

  async close(): Promise<void> {
    await Promise.all(this.stores.map((store) => store.close()));
  }
}
