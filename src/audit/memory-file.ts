import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { KeyRing } from '../security/index.js';
import { PaymentMemory, RECORD } from './payment-memory.js';

/**
 * The audit scrub's memory of payments (PaymentMemory) kept OUTSIDE the database, beside the
 * audit checkpoints, so that a process started later knows at once every payment an earlier one
 * saw: a payment deleted in SQL while no gateway ran (or before the new process could learn it)
 * is never paid again when the ERP resends it. One file per database, rewritten whole (a temporary
 * file of this write's own renamed over it), 0600:
 *
 *   a JSON line {v, store, at, keyId, positions}, the entries (RECORD bytes each), a 32-byte MAC
 *
 * `positions` says, per audit chain, the link up to which every link was proved and every payment
 * of those links remembered: the next process proves the links after it (and every link of a
 * chain not named) before it takes the memory as whole. The MAC (HMAC-SHA256 under a key derived
 * from the key ring) covers the line and the entries, so a file written without the keys is not
 * read; the keys' hashes are keyed by another key derived from the ring (memorySecret), so the file
 * names no client or transactionId. A file under a key no longer in the ring is not read: the
 * process learns every payment again.
 */

const VERSION = 1;
const PURPOSE = 'audit payment memory';
const KEYS_PURPOSE = 'audit payment memory keys';
const MAC_BYTES = 32;

/** The secret the memory's hashes of keys are keyed with under ring key `keyId` (the same in every process). */
export function memorySecret(ring: KeyRing, keyId: string): Buffer {
  return ring.macKey(KEYS_PURPOSE, keyId).key;
}

/** The memory's file for database `store`, beside checkpoint file `checkpointFile` (a checkpoint file may serve several databases). */
export function memoryFileOf(checkpointFile: string, store: string): string {
  return `${checkpointFile}.payments-${createHash('sha256').update(store).digest('hex').slice(0, 12)}`;
}

/** The random part of a write's temporary file name (writeMemoryFile), in bytes. */
const TEMPORARY_RANDOM_BYTES = 6;

/**
 * How old a temporary file of a memory file must be to be taken for the leftover of a write that
 * was killed: far above any write's time (each write touches its file as it goes), so that another
 * process's write in progress is never removed.
 */
export const STALE_TEMPORARY_MS = 60 * 60_000;

/**
 * Removes the temporary files of memory file `path` (writeMemoryFile's names: `<path>.<pid>-<hex>.tmp`)
 * last written more than STALE_TEMPORARY_MS before `now`: a process killed in the middle of a write
 * leaves its own, which no later write would replace. Files of any other name are left alone.
 * The names of those removed.
 */
export async function removeStaleTemporaries(path: string, now: number): Promise<string[]> {
  const base = `${basename(path)}.`;
  const suffix = new RegExp(`^\\d+-[0-9a-f]{${TEMPORARY_RANDOM_BYTES * 2}}\\.tmp$`);
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names.filter((n) => n.startsWith(base) && suffix.test(n.slice(base.length)))) {
    const file = join(dirname(path), name);
    // Gone meanwhile (another process cleaned it, or its write renamed it): nothing to do.
    const written = await stat(file).then((s) => s.mtimeMs, () => null);
    if (written === null || now - written <= STALE_TEMPORARY_MS) continue;
    if (await unlink(file).then(() => true, () => false)) removed.push(name);
  }
  return removed;
}

interface Header {
  v: number;
  store: string;
  at: number;
  keyId: string;
  positions: [string, number][];
}

/**
 * Writes `memory` (keyed by memorySecret(ring, keyId)) and its chains' `positions` to `path`, a
 * segment at a time between writes (no long call). False, and nothing replaced, when an entry
 * moved or was dropped while it was written (written whole next time).
 *
 * The processes of one host (PM2's workers, or containers sharing the folder, each pid 1) write
 * the same file: each write goes to a temporary file of its own (a random name, created
 * exclusively), synced, then renamed over `path` in one step. A reader finds one writer's file
 * whole, never two mixed, and each is whole on its own: its memory holds every payment of the
 * links up to its own positions.
 */
export async function writeMemoryFile(path: string, ring: KeyRing, store: string, memory: PaymentMemory, keyId: string, positions: Map<string, number>, at: number): Promise<boolean> {
  const header: Header = { v: VERSION, store, at, keyId, positions: [...positions] };
  const line = Buffer.from(`${JSON.stringify(header)}\n`);
  const mac = createHmac('sha256', ring.macKey(PURPOSE, keyId).key).update(line);
  const temporary = `${path}.${process.pid}-${randomBytes(TEMPORARY_RANDOM_BYTES).toString('hex')}.tmp`;
  const file = await open(temporary, 'wx', 0o600);
  let renamed = false;
  try {
    let whole = false;
    try {
      await file.write(line);
      for (const records of memory.records()) {
        mac.update(records);
        if (records.length > 0) await file.write(records);
      }
      whole = memory.whole();
      if (whole) {
        await file.write(mac.digest());
        await file.sync();
      }
    } finally {
      await file.close();
    }
    if (!whole) return false;
    await rename(temporary, path);
    renamed = true;
    return true;
  } finally {
    // A write given up (changed meanwhile, the disk full) leaves no temporary file behind.
    if (!renamed) await unlink(temporary).catch(() => undefined);
  }
}

/**
 * The memory written to `path` for database `store`: null when there is none (or another
 * database's); `problem` when it cannot be taken (not signed with a ring key, cut, altered).
 */
export async function readMemoryFile(path: string, ring: KeyRing, store: string): Promise<{ memory: PaymentMemory; keyId: string; positions: Map<string, number>; at: number } | { problem: string } | null> {
  // Read in one call: a file removed meanwhile is none, not an error between a look and a read.
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (bytes === null) return null;
  const end = bytes.indexOf(10);
  if (end < 0 || bytes.length < end + 1 + MAC_BYTES) return { problem: `${path} is cut or not a payment memory` };
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(0, end).toString('utf8')) as Header;
  } catch {
    return { problem: `${path} is not a payment memory` };
  }
  const shaped =
    header.v === VERSION && typeof header.store === 'string' && typeof header.at === 'number' && typeof header.keyId === 'string' &&
    Array.isArray(header.positions) && header.positions.every((p) => Array.isArray(p) && typeof p[0] === 'string' && Number.isSafeInteger(p[1]));
  if (!shaped) return { problem: `${path} is not a payment memory` };
  if (!ring.keyIds.includes(header.keyId)) return { problem: `${path} is under key ${header.keyId}, no longer in the key ring` };
  const records = bytes.subarray(end + 1, bytes.length - MAC_BYTES);
  const mac = createHmac('sha256', ring.macKey(PURPOSE, header.keyId).key).update(bytes.subarray(0, end + 1)).update(records).digest();
  if (!timingSafeEqual(mac, bytes.subarray(bytes.length - MAC_BYTES)) || records.length % RECORD !== 0) return { problem: `${path} is not signed with a ring key (altered, cut or written by hand)` };
  if (header.store !== store) return null;
  const memory = new PaymentMemory(memorySecret(ring, header.keyId));
  memory.restore(records);
  return { memory, keyId: header.keyId, positions: new Map(header.positions), at: header.at };
}
