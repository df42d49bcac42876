import { LINES_PER_PIECE, type SealedDay } from './reconciliation-seals.js';

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
 * A closed day whose every row was proved (by its seal, or one by one) is kept whole instead: the
 * text its rows' lines make, in its pieces (reconciliation-seals.ts, sealedDay), nothing a row.
 * Read again with every line the very line kept at its place (its length kept beside the pieces)
 * and as many lines, the text is the same: every row of it is as proved, and what is made of each
 * is made again from the row read (the same values); otherwise each row whose line is the very
 * line kept at its place is as proved, and the others are proved again. A month's first opening
 * then keeps a thousand pieces alive where it kept 50,000 lines and payments that each
 * young-generation collection copied and promoted (tens of milliseconds); a month opened again
 * compares its lines with them, building no text.
 *
 * Bounded: beyond `limit` rows kept one by one, and beyond `limit` rows of kept days, the longest
 * kept are dropped (a month of a busy account is RECONCILE_LIMIT rows, a few hundred bytes each).
 */
export class ProvedRows<V> {
  readonly #kept = new Map<number, { line: string; made: V }>();
  readonly #days = new Map<string, { account: string; pieces: readonly string[]; lengths: Uint32Array; made?: readonly V[] }>();
  #dayRows = 0;

  /** @param limit how many rows are kept at most, one by one and in days each */
  constructor(private readonly limit: number) {}

  /**
   * Day `key` (its tag and day) read as `lines` against what was kept of it for `account`: true
   * when each line is the very line kept at its place and there are as many (its text exactly as
   * proved whole; the day then counts as kept last); else, when kept, whether each line is the
   * very line kept at its place (a row of a day that changed since, proved still); undefined when
   * nothing of it is kept. Compared line by line in the pieces kept: no text of the day is built.
   */
  dayProof(key: string, account: string, lines: readonly string[]): true | boolean[] | undefined {
    const kept = this.#days.get(key);
    if (kept === undefined || kept.account !== account) return undefined;
    const { pieces, lengths } = kept;
    // Each kept line after its newline, at the offset in its piece its lengths give (a line is never cut elsewhere).
    // Compared as the piece's slice (a view of the piece, no copy) equal to the line, not with
    // startsWith: V8's startsWith compares character by character, 30-45 ms a month's 50,000
    // lines against 2-15 ms so (measured in Node 20).
    const same = (i: number, at: number) => {
      const length = lines[i].length;
      return i < lengths.length && lengths[i] === length && pieces[Math.floor(i / LINES_PER_PIECE)].substring(at + 1, at + 1 + length) === lines[i];
    };
    // Null while every line so far is as kept (as many lines as kept), then each line's answer.
    let each: boolean[] | null = lengths.length === lines.length ? null : [];
    for (let i = 0, at = 0; i < lines.length; i += 1) {
      if (i % LINES_PER_PIECE === 0) at = 0;
      const held = same(i, at);
      if (!held && each === null) each = new Array<boolean>(i).fill(true);
      each?.push(held);
      at += i < lengths.length ? lengths[i] + 1 : 0;
    }
    if (each !== null) return each;
    this.#days.delete(key);
    this.#days.set(key, kept);
    return true;
  }

  /** Whether day `key` is kept whole as proved for `account` (a reading may then read its rows' lines alone: dayProof, dayMade). */
  keepsWhole(key: string, account: string): boolean {
    return this.#days.get(key)?.account === account;
  }

  /**
   * Keeps day `key`, whose rows, read as `lines` (making `sealed`, sealedDay), were just proved
   * whole for `account`; with `made`, what was made of each row, in the lines' order (dayMade).
   */
  keepDay(key: string, account: string, sealed: SealedDay, lines: readonly string[], made?: readonly V[]): void {
    this.#forgetDay(key);
    // The lengths off the heap the collector copies: a typed array's bytes are not moved. Filled
    // in a loop: Uint32Array.from with a mapping function took 4-8 ms of a month's 50,000 lines
    // on a first opening (its iteration and a call a line), the loop well under one.
    const lengths = new Uint32Array(lines.length);
    for (let i = 0; i < lines.length; i += 1) lengths[i] = lines[i].length;
    this.#days.set(key, { account, pieces: sealed.pieces, lengths, ...(made !== undefined && made.length === lines.length ? { made } : {}) });
    this.#dayRows += lines.length;
    for (const oldest of this.#days.keys()) {
      if (this.#dayRows <= this.limit) return;
      this.#forgetDay(oldest);
    }
  }

  /**
   * What was made of each row of day `key` kept whole for `account`, in its lines' order, when it
   * was kept with them (keepDay); undefined otherwise. Handed out only for a day just found as
   * kept (dayProof true): each row then is the very line kept at its place, so what was made of
   * it is what would be made of it again (a line holds every value made into it), and a month
   * opened again makes none of its 50,000 anew (each a young object with its strings, copied by
   * the collector while the page is built).
   */
  dayMade(key: string, account: string): readonly V[] | undefined {
    const kept = this.#days.get(key);
    return kept?.account === account ? kept.made : undefined;
  }

  #forgetDay(key: string): void {
    this.#dayRows -= this.#days.get(key)?.lengths.length ?? 0;
    this.#days.delete(key);
  }

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

  /** Forgets row `id` (kept since in its day). */
  forget(id: number): void {
    this.#kept.delete(id);
  }

  /** Rows kept one by one. */
  get size(): number {
    return this.#kept.size;
  }

  /** Rows kept in days. */
  get dayRows(): number {
    return this.#dayRows;
  }
}
