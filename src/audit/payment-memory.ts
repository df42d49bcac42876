import { createHmac, randomBytes } from 'node:crypto';
import { stampOf } from '../store/repositories/remembered-payments.js';

/** Slots of a new table (a power of two). */
const FIRST_SLOTS = 1 << 12;
/** The table doubles when it is this full: 20 bytes a slot at 35-70 % full is 29-57 bytes a payment. */
const FULLEST = 0.7;

/**
 * The audit scrub's memory of the payments it has seen (AuditScrub): for each idempotency key
 * (client, transactionId) the id of the payment last made for it and its stamp (its creation time,
 * which its MAC covers, modulo 2^32 ms: the row at that id is that payment only when it carries the
 * key and the stamp, an id being covered by no MAC), in a compact table of 20 bytes a slot (a 64-bit
 * keyed hash of the key, the payment's id, its stamp), open addressing with linear probing.
 * The hash is keyed by a secret of this process, so no one can pick two keys that collide; two
 * that do by chance (about one in 2^64 a pair) cost one exact check of the database, never a
 * payment missed silently: the key's newer payment overwrites the older.
 */
export class PaymentMemory {
  private readonly secret = randomBytes(32);
  private hi = new Uint32Array(FIRST_SLOTS);
  private lo = new Uint32Array(FIRST_SLOTS);
  /** Payment ids (0: the slot is empty; ids start at 1). */
  private ids = new Float64Array(FIRST_SLOTS);
  private stamps = new Uint32Array(FIRST_SLOTS);
  size = 0;

  /** The bytes the table takes now. */
  get bytes(): number {
    return this.ids.length * 20;
  }

  /** Remembers payment `id`, created at `createdAt` (epoch ms), as the one made for (`clientId`, `transactionId`). */
  remember(clientId: string, transactionId: string, id: number, createdAt: number): void {
    const [hi, lo] = this.hash(clientId, transactionId);
    const at = this.find(hi, lo);
    if (this.ids[at] === 0) {
      this.hi[at] = hi;
      this.lo[at] = lo;
      this.size += 1;
    }
    this.ids[at] = id;
    this.stamps[at] = stampOf(createdAt);
    if (this.size > this.ids.length * FULLEST) this.grow();
  }

  /** The payment remembered for (`clientId`, `transactionId`) and its stamp (stampOf its creation time), or null. */
  recall(clientId: string, transactionId: string): { id: number; stamp: number } | null {
    const [hi, lo] = this.hash(clientId, transactionId);
    const at = this.find(hi, lo);
    return this.ids[at] === 0 ? null : { id: this.ids[at], stamp: this.stamps[at] };
  }

  /** Forgets (`clientId`, `transactionId`) when it is remembered as payment `id`. */
  forget(clientId: string, transactionId: string, id: number): void {
    const [hi, lo] = this.hash(clientId, transactionId);
    let at = this.find(hi, lo);
    if (this.ids[at] !== id) return;
    this.size -= 1;
    // Backward-shift deletion: the entries after the hole that probed past it move into it.
    const mask = this.ids.length - 1;
    for (let next = (at + 1) & mask; this.ids[next] !== 0; next = (next + 1) & mask) {
      const home = this.lo[next] & mask;
      // The entry at `next` may move into the hole when its home is not between the hole and it (cyclically).
      if (((next - home) & mask) >= ((next - at) & mask)) {
        this.hi[at] = this.hi[next];
        this.lo[at] = this.lo[next];
        this.ids[at] = this.ids[next];
        this.stamps[at] = this.stamps[next];
        at = next;
      }
    }
    this.ids[at] = 0;
  }

  private hash(clientId: string, transactionId: string): [number, number] {
    // Length-prefixed: ('ab', 'c') and ('a', 'bc') are different keys.
    const mac = createHmac('sha256', this.secret).update(`${clientId.length}:${clientId}${transactionId}`).digest();
    return [mac.readUInt32BE(0), mac.readUInt32BE(4)];
  }

  /** The slot of (hi, lo), or the empty slot where it would go. */
  private find(hi: number, lo: number): number {
    const mask = this.ids.length - 1;
    let at = lo & mask;
    while (this.ids[at] !== 0 && (this.hi[at] !== hi || this.lo[at] !== lo)) at = (at + 1) & mask;
    return at;
  }

  private grow(): void {
    const { hi, lo, ids, stamps } = this;
    this.hi = new Uint32Array(ids.length * 2);
    this.lo = new Uint32Array(ids.length * 2);
    this.ids = new Float64Array(ids.length * 2);
    this.stamps = new Uint32Array(ids.length * 2);
    for (let i = 0; i < ids.length; i += 1) {
      if (ids[i] === 0) continue;
      const at = this.find(hi[i], lo[i]);
      this.hi[at] = hi[i];
      this.lo[at] = lo[i];
      this.ids[at] = ids[i];
      this.stamps[at] = stamps[i];
    }
  }
}
