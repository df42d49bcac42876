/**
 * Rows already proved, by id, each kept with the exact values it was read with and what was made
 * of it (the reconciliation's: a payment whose paying account opened for its row and whose MAC
 * held). A row read again with every one of those values the same is the same proof again, so
 * what was made of it is given back instead of opening and checking it anew.
 *
 * Why that is safe: what a proof yields is a function of the row's stored values and the key
 * ring alone (AES-GCM opening a sealed value for its row id, an HMAC over stored columns), and a
 * store's ring never changes while it runs (KeyRing is immutable; a new key means a restart). A
 * row changed in SQL since, in any byte of any column kept, differs in one of the compared values
 * and is proved again from scratch on this very read (and marked when it no longer holds): the
 * cache holds no verdict about a row, only about exact values. Only rows that held are kept; a row
 * that failed is checked (and named) on every read. Nothing is kept across processes.
 *
 * Bounded: beyond `limit` rows the longest kept are dropped (a month of a busy account is
 * RECONCILE_LIMIT rows, a few hundred bytes each).
 */
export class ProvedRows<R extends object, V> {
  readonly #kept = new Map<number, { row: R; made: V }>();

  /**
   * @param columns every column of R a proof or what is made of it depends on, all compared
   * @param limit how many rows are kept at most
   */
  constructor(
    private readonly columns: readonly (keyof R)[],
    private readonly limit: number,
  ) {}

  /** What was made of row `id` when it was read with exactly `row`'s values; undefined when it was not, or differs in any column. */
  get(id: number, row: R): V | undefined {
    const kept = this.#kept.get(id);
    if (kept === undefined) return undefined;
    for (const column of this.columns) {
      if (kept.row[column] !== row[column]) {
        this.#kept.delete(id);
        return undefined;
      }
    }
    return kept.made;
  }

  /** Keeps `made` for row `id` as read with `row`, which was just proved. */
  set(id: number, row: R, made: V): void {
    this.#kept.delete(id);
    this.#kept.set(id, { row, made });
    if (this.#kept.size <= this.limit) return;
    for (const oldest of this.#kept.keys()) {
      this.#kept.delete(oldest);
      if (this.#kept.size <= this.limit) return;
    }
  }

  get size(): number {
    return this.#kept.size;
  }
}
