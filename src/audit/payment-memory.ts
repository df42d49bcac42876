import { createHmac, randomBytes } from 'node:crypto';

/** Slots of a new table (a power of two). */
const FIRST_SLOTS = 1 << 12;
/** The table doubles when it is this full: 18 bytes a slot at 35-70 % full is 26-51 bytes a payment. */
const FULLEST = 0.7;

/**
 * The audit scrub's memory of the payments it has seen (AuditScrub): for each idempotency key
 * (client, transactionId) the id of the payment last made for it and when it was learned (the
 * acceptances of lost records read by then: its epoch), in a compact table of 18 bytes a slot (a
 * 64-bit keyed hash of the key, the payment's id, the epoch), open addressing with linear probing.
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
  private epochs = new Uint16Array(FIRST_SLOTS);
  size = 0;

  /** The bytes the table takes now. */
  get bytes(): number {
    return this.ids.length * 18;
  }

  /** Remembers payment `id` as the one made for (`clientId`, `transactionId`), learned in `epoch` (saturating at 65,535). */
  remember(clientId: string, transactionId: string, id: number, epoch: number): void {
    const [hi, lo] = this.hash(clientId, transactionId);
    const at = this.find(hi, lo);
    if (this.ids[at] === 0) {
      this.hi[at] = hi;
      this.lo[at] = lo;
      this.size += 1;
    }
    this.ids[at] = id;
    this.epochs[at] = Math.min(epoch, 0xffff);
    if (this.size > this.ids.length * FULLEST) this.grow();
  }

  /** The payment remembered for (`clientId`, `transactionId`) and the epoch it was learned in, or null. */
  recall(clientId: string, transactionId: string): { id: number; epoch: number } | null {
    const [hi, lo] = this.hash(clientId, transactionId);
    const at = this.find(hi, lo);
    return this.ids[at] === 0 ? null : { id: this.ids[at], epoch: this.epochs[at] };
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
        this.epochs[at] = this.epochs[next];
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
    const { hi, lo, ids, epochs } = this;
    this.hi = new Uint32Array(ids.length * 2);
    this.lo = new Uint32Array(ids.length * 2);
    this.ids = new Float64Array(ids.length * 2);
    this.epochs = new Uint16Array(ids.length * 2);
    for (let i = 0; i < ids.length; i += 1) {
      if (ids[i] === 0) continue;
      const at = this.find(hi[i], lo[i]);
      this.hi[at] = hi[i];
      this.lo[at] = lo[i];
      this.ids[at] = ids[i];
      this.epochs[at] = epochs[i];
    }
  }
}
