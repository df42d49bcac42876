/**
 * A minimal FIFO async mutex: a promise chain where each holder waits for the one before it.
 *
 * Why the SQLite backend needs it: better-sqlite3 gives one synchronous connection per process,
 * and our API is async. Between `BEGIN IMMEDIATE` and `COMMIT`, the transaction callback awaits;
 * without a lock, another request's statements would run on the same connection in the middle
 * of that transaction (and be rolled back with it, or commit half of it).
 * The audit's chain writer uses it too: one process appends to its hash chain one link at a time.
 */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every earlier holder has finished; the lock is released however `fn` ends. */
  async runExclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => turn);
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
