import { createHmac, randomBytes } from 'node:crypto';
import { stampOf } from '../store/repositories/remembered-payments.js';

/** Slots of a new table (a power of two). */
const FIRST_SLOTS = 1 << 12;
/** The table grows (doubles) when it is this full: 20 bytes a slot at 35-70 % full is 29-57 bytes a payment. */
const FULLEST = 0.7;
/**
 * Slots of the old table moved into the new one at each remember() or forget() while the table
 * grows: the old table (at most 70 % of N slots full) is emptied after N / MOVED_A_CALL calls,
 * before the new one (2N slots) takes more than 0.7 N + N / 8 < 1.4 N entries, so a growth always
 * ends before the next starts, and no call copies more than this many slots.
 */
const MOVED_A_CALL = 8;
/** A slot of the old table whose entry was taken into the new one (or forgotten) before the migration reached it. */
const TAKEN = -1;

/** Bytes of an entry written out (PaymentMemory.records): its hash (8), its payment's id (8), its stamp (4). */
export const RECORD = 20;

/** Slots of a segment of a table: its four arrays (1.25 MiB) allocated when a slot of it is first written. */
const SEGMENT_BITS = 16;

/** One segment's slots: a 64-bit hash, the payment's id, its stamp. */
interface Segment {
  hi: Uint32Array;
  lo: Uint32Array;
  /** Payment ids (0: the slot is empty; ids start at 1; TAKEN in an old table: moved or forgotten). */
  ids: Float64Array;
  stamps: Uint32Array;
}

/**
 * One open-addressing table of 20 bytes a slot, in segments allocated as they are first written:
 * a table of tens of millions of slots is never allocated (and zeroed) in one call.
 */
class Slots {
  private readonly segments: (Segment | undefined)[];
  private readonly bits: number;
  private readonly within: number;
  readonly mask: number;

  constructor(readonly length: number) {
    this.bits = Math.min(SEGMENT_BITS, Math.log2(length));
    this.within = (1 << this.bits) - 1;
    this.mask = length - 1;
    this.segments = new Array<Segment | undefined>(length >>> this.bits);
  }

  id(at: number): number {
    return this.segments[at >>> this.bits]?.ids[at & this.within] ?? 0;
  }

  hi(at: number): number {
    return this.segments[at >>> this.bits]!.hi[at & this.within];
  }

  lo(at: number): number {
    return this.segments[at >>> this.bits]!.lo[at & this.within];
  }

  stamp(at: number): number {
    return this.segments[at >>> this.bits]!.stamps[at & this.within];
  }

  /** Sets the id of a slot that holds an entry. */
  setId(at: number, id: number): void {
    this.segments[at >>> this.bits]!.ids[at & this.within] = id;
  }

  /** The slot of (hi, lo), or the empty slot where it would go. */
  find(hi: number, lo: number): number {
    const { mask } = this;
    let at = lo & mask;
    while (this.id(at) !== 0 && (this.hi(at) !== hi || this.lo(at) !== lo)) at = (at + 1) & mask;
    return at;
  }

  put(at: number, hi: number, lo: number, id: number, stamp: number): void {
    const n = at >>> this.bits;
    let segment = this.segments[n];
    if (segment === undefined) {
      const slots = 1 << this.bits;
      segment = { hi: new Uint32Array(slots), lo: new Uint32Array(slots), ids: new Float64Array(slots), stamps: new Uint32Array(slots) };
      this.segments[n] = segment;
    }
    const i = at & this.within;
    segment.hi[i] = hi;
    segment.lo[i] = lo;
    segment.ids[i] = id;
    segment.stamps[i] = stamp;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** The entries of segment `n` as RECORD-byte records (hi, lo, id, stamp; big-endian), empty and taken slots left out. */
  records(n: number): Buffer {
    const segment = this.segments[n];
    if (segment === undefined) return Buffer.alloc(0);
    const out = Buffer.alloc(segment.ids.length * RECORD);
    let end = 0;
    for (let i = 0; i < segment.ids.length; i += 1) {
      if (segment.ids[i] <= 0) continue;
      out.writeUInt32BE(segment.hi[i], end);
      out.writeUInt32BE(segment.lo[i], end + 4);
      out.writeDoubleBE(segment.ids[i], end + 8);
      out.writeUInt32BE(segment.stamps[i], end + 16);
      end += RECORD;
    }
    return out.subarray(0, end);
  }

  /** Empties slot `at` by backward-shift deletion: the entries after the hole that probed past it move into it. */
  remove(at: number): void {
    const { mask } = this;
    for (let next = (at + 1) & mask; this.id(next) !== 0; next = (next + 1) & mask) {
      const home = this.lo(next) & mask;
      // The entry at `next` may move into the hole when its home is not between the hole and it (cyclically).
      if (((next - home) & mask) >= ((next - at) & mask)) {
        this.put(at, this.hi(next), this.lo(next), this.id(next), this.stamp(next));
        at = next;
      }
    }
    this.setId(at, 0);
  }
}

/**
 * The audit scrub's memory of the payments it has seen (AuditScrub): for each idempotency key
 * (client, transactionId) the id of the payment last made for it and its stamp (its creation time,
 * which its MAC covers, modulo 2^32 ms: the row at that id is that payment only when it carries the
 * key and the stamp, an id being covered by no MAC), in a compact table of 20 bytes a slot (a 64-bit
 * keyed hash of the key, the payment's id, its stamp), open addressing with linear probing.
 * The hash is keyed by a secret of this process, so no one can pick two keys that collide; two
 * that do by chance (about one in 2^64 a pair) cost one exact check of the database, never a
 * payment missed silently: the key's newer payment overwrites the older.
 *
 * The table grows on the request path (a reservation remembers its key), so it grows a little at
 * a time: a full table becomes the old one, still read, and each remember() or forget() moves the
 * next MOVED_A_CALL of its slots into a table twice its size, instead of copying millions of slots
 * in one call (a 38 ms stall at a million payments, 328 ms at ten million). A key is in one of the
 * two at a time: the new table, or the old one at a slot the migration has not reached (a key
 * written meanwhile is first taken out of the old one), so a lookup stays exact throughout.
 */
export class PaymentMemory {
  private table = new Slots(FIRST_SLOTS);
  /** While the table grows: the old table, and how many of its slots were moved (in slot order). */
  private old: Slots | null = null;
  private moved = 0;
  size = 0;
  /** Counts the changes that move or drop an entry already written out (a forget, a key taken from the old table, a growth started): records() read across them is not whole. */
  private changes = 0;

  /**
   * `secret` keys the hash of the keys: random (this process's), or derived from the key ring when
   * the memory is written out and read back by the next process (audit/memory-file.ts).
   */
  constructor(private readonly secret: Buffer = randomBytes(32)) {}

  /** The bytes the table takes at most (both tables while it grows; a segment not written yet takes none). */
  get bytes(): number {
    return (this.table.length + (this.old?.length ?? 0)) * 20;
  }

  /** Whether the table is growing (its old table not yet emptied into the new one). */
  get growing(): boolean {
    return this.old !== null;
  }

  /** Remembers payment `id`, created at `createdAt` (epoch ms), as the one made for (`clientId`, `transactionId`). */
  remember(clientId: string, transactionId: string, id: number, createdAt: number): void {
    const [hi, lo] = this.hash(clientId, transactionId);
    this.put(hi, lo, id, stampOf(createdAt));
  }

  /**
   * Every entry as RECORD-byte records, a segment of a table at a time (the old table's first while
   * it grows, so a key's newer entry comes later), to be written out between yields; then `whole()`
   * says whether they are all of it (no entry moved or dropped meanwhile: else written again later).
   */
  *records(): Generator<Buffer> {
    const changes = this.changes;
    const tables = [this.old, this.table].filter((t): t is Slots => t !== null);
    this.wholeSince = changes;
    for (const table of tables) for (let n = 0; n < table.segmentCount; n += 1) yield table.records(n);
  }

  private wholeSince = 0;

  /** Whether the records last read (records()) are every entry: nothing moved or dropped since they started. */
  whole(): boolean {
    return this.changes === this.wholeSince;
  }

  /** Takes back entries written out by records() (of a memory keyed by the same secret). */
  restore(records: Buffer): void {
    for (let at = 0; at + RECORD <= records.length; at += RECORD) {
      this.put(records.readUInt32BE(at), records.readUInt32BE(at + 4), records.readDoubleBE(at + 8), records.readUInt32BE(at + 16));
    }
  }

  private put(hi: number, lo: number, id: number, stamp: number): void {
    this.takeFromOld(hi, lo);
    const { table } = this;
    const at = table.find(hi, lo);
    if (table.id(at) === 0) this.size += 1;
    table.put(at, hi, lo, id, stamp);
    this.moveSome();
    if (this.old === null && this.size > table.length * FULLEST) this.startGrowing();
  }

  /** The payment remembered for (`clientId`, `transactionId`) and its stamp (stampOf its creation time), or null. */
  recall(clientId: string, transactionId: string): { id: number; stamp: number } | null {
    const [hi, lo] = this.hash(clientId, transactionId);
    const { table } = this;
    const at = table.find(hi, lo);
    if (table.id(at) !== 0) return { id: table.id(at), stamp: table.stamp(at) };
    const old = this.unmoved(hi, lo);
    return old === null ? null : { id: this.old!.id(old), stamp: this.old!.stamp(old) };
  }

  /** Forgets (`clientId`, `transactionId`) when it is remembered as payment `id`. */
  forget(clientId: string, transactionId: string, id: number): void {
    const [hi, lo] = this.hash(clientId, transactionId);
    this.takeFromOld(hi, lo);
    const at = this.table.find(hi, lo);
    if (this.table.id(at) === id) {
      this.size -= 1;
      this.changes += 1;
      this.table.remove(at);
    }
    this.moveSome();
  }

  private hash(clientId: string, transactionId: string): [number, number] {
    // Length-prefixed: ('ab', 'c') and ('a', 'bc') are different keys.
    const mac = createHmac('sha256', this.secret).update(`${clientId.length}:${clientId}${transactionId}`).digest();
    return [mac.readUInt32BE(0), mac.readUInt32BE(4)];
  }

  /** The slot of the old table where (hi, lo) stands and the migration has not reached yet, or null. */
  private unmoved(hi: number, lo: number): number | null {
    if (this.old === null) return null;
    const at = this.old.find(hi, lo);
    return at >= this.moved && this.old.id(at) > 0 ? at : null;
  }

  /** A key about to be written: moved from the old table into the new one first, so it is in one table only. */
  private takeFromOld(hi: number, lo: number): void {
    const at = this.unmoved(hi, lo);
    if (at === null) return;
    const old = this.old!;
    this.table.put(this.table.find(hi, lo), hi, lo, old.id(at), old.stamp(at));
    // Left in place as a non-empty slot: the keys that probed past it are still found.
    old.setId(at, TAKEN);
    this.changes += 1;
  }

  private startGrowing(): void {
    this.changes += 1;
    this.old = this.table;
    this.moved = 0;
    this.table = new Slots(this.old.length * 2);
  }

  /** The next MOVED_A_CALL slots of the old table moved into the new one; the old table dropped once all are. */
  private moveSome(): void {
    const old = this.old;
    if (old === null) return;
    const end = Math.min(old.length, this.moved + MOVED_A_CALL);
    for (let i = this.moved; i < end; i += 1) {
      const id = old.id(i);
      if (id <= 0) continue;
      const [hi, lo] = [old.hi(i), old.lo(i)];
      this.table.put(this.table.find(hi, lo), hi, lo, id, old.stamp(i));
    }
    this.moved = end;
    if (end === old.length) this.old = null;
  }
}
