/**
 * Rows already proved, by id, each kept with the sealed line it was read with (its every value
 * the proof depends on, as the database built it in the statement that read the row:
 * reconciliation-seals.ts, sealedValueSql) and what was made of it (the reconciliation's: a
 * payment whose paying account opened for its row and whose MAC held). A row read again with the
 * same line is the same proof again, so what was made of it is given back instead of opening and
 * checking it anew.
 *
 * Why that is safe: what a proof yields is a function of the row's stored values and the key
 * ring alone (AES-GCM opening a sealed value for its row id, an HMAC over stored columns), and a
 * store's ring never changes while it runs (KeyRing is immutable; a new key means a restart). A
 * line writes each value with its length or its kind, so two rows that differ in any byte of any
 * value it holds have different lines: a row changed in SQL since is proved again from scratch on
 * this very read (and marked when it no longer holds). The cache holds no verdict about a row,
 * only about exact values. Only rows that held are kept; a row that failed is checked (and named)
 * on every read. Nothing is kept across processes.
 *
 * One string a row, not the row read: what a month's first opening keeps alive is one line and
 * the payment made (whose values are the ones shown), not a dozen more values and the row object,
 * which the young-generation collections then copied and promoted (tens of milliseconds).
 *
 * Bounded: beyond `limit` rows the longest kept are dropped (a month of a busy account is
 * RECONCILE_LIMIT rows, a few hundred bytes each).
 */
export class ProvedRows<V> {
  readonly #kept = new Map<number, { line: string; made: V }>();

  /** @param limit how many rows are kept at most */
  constructor(private readonly limit: number) {}

  /** What was made of row `id` when it was read with exactly `line`; undefined when it was not, or with another line (then forgotten). */
  get(id: number, line: string): V | undefined {
    const kept = this.#kept.get(id);
    if (kept === undefined) return undefined;
    if (kept.line !== line) {
      this.#kept.delete(id);
      return undefined;
    }
    return kept.made;
  }

  /** Keeps `made` for row `id` as read with `line`, which was just proved. */
  set(id: number, line: string, made: V): void {
    this.#kept.delete(id);
    this.#kept.set(id, { line, made });
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
