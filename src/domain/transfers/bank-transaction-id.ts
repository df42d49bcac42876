import { createHash } from 'node:crypto';
import { AppError } from '../../errors/index.js';
import { jakartaDate } from '../../time/index.js';
import type { SequenceRepository } from '../../store/types.js';

/** How a bank wants its ids: BCA legacy's 8-digit TransactionID, or SNAP's longer numeric ones. */
export type BankIdFormat = 'legacy' | 'snap';

/** Whose ids these are (the bank and the corporate or SNAP partner id) and their format. */
export interface BankIdSource {
  idNamespace: string;
  idFormat: BankIdFormat;
}

const DAY_SECONDS = 86_400;
const PER_SECOND = 1000;

/**
 * The id a bank sees for a call of ours: BCA legacy's TransactionID (8 digits, unique per
 * corporate and day, sent with its TransactionDate) and SNAP's partnerReferenceNo and
 * X-EXTERNAL-ID (numeric, here 16 digits: the Jakarta date then the same 8 digits).
 *
 * The 8 digits come from the store's counter for (bank, corporate id, Jakarta day), shared by
 * every worker, node and partner block on that corporate, so no two calls get the same one.
 * The counter never goes below `second of the day × 1000`: after the database is restored from
 * a backup, the restored (lower) counter restarts from the present second, above every id
 * issued before the restore, instead of re-issuing the ones sent since the backup. This holds
 * while the counter does not run ahead of the clock, i.e. below 1000 ids a second sustained per
 * corporate; a day's ids run out only if more than 13.6 million are issued past that pace.
 * Throws ROUTE_UNAVAILABLE (nothing sent) when the day's ids are used up. A gateway takes the
 * ids from the counter in blocks (BankIdBlocks), which keeps all of this.
 */
export async function nextBankTransactionId(sequences: Pick<SequenceRepository, 'next'>, source: BankIdSource, now: number): Promise<string> {
  const day = jakartaDate(now);
  const secondOfDay = Math.floor(now / 1000 + 7 * 3600) % DAY_SECONDS;
  const value = await sequences.next(sequenceName(source.idNamespace, day), secondOfDay * PER_SECOND);
  if (value >= 100_000_000) {
    throw new AppError('ROUTE_UNAVAILABLE', `Every bank transaction id of ${day} for this corporate is used; retry after midnight (Jakarta time).`);
  }
  const digits = String(value).padStart(8, '0');
  return source.idFormat === 'legacy' ? digits : `${day.replaceAll('-', '')}${digits}`;
}

/** `ids:<namespace>:<yyyyMMdd>`, the namespace hashed when the name would not fit the column (64). */
function sequenceName(namespace: string, day: string): string {
  const name = `ids:${namespace}:${day.replaceAll('-', '')}`;
  return name.length <= 64 ? name : `ids:${createHash('sha256').update(namespace).digest('hex').slice(0, 40)}:${day.replaceAll('-', '')}`;
}

/** Ids a gateway process takes from the shared counter at once (one round trip per block). */
export const BANK_ID_BLOCK = 16;

/**
 * The bank-id counters as one process uses them: each counter's values are taken from the store
 * in blocks of `blockSize` (SequenceRepository.nextBlock) and handed out from memory, one store
 * round trip per block instead of per payment. Every value is still taken from the shared
 * counter before it is handed out, so no two processes or nodes ever hand out the same one.
 *
 * The floor applies when a block is taken. A value held from an earlier block is handed out even
 * when the clock's floor has passed it: it was taken from the counter then, so no process can
 * get it again, and after a database restored from a backup the counter restarts from the
 * present second, above it. What a process holds when it stops is never issued: at most
 * `blockSize - 1` ids per counter, of the 13.6 million a day allows. Ids are unique, not in time
 * order across processes, which the banks do not ask.
 */
export class BankIdBlocks implements Pick<SequenceRepository, 'next'> {
  private readonly held = new Map<string, { next: number; end: number }>();
  private readonly taking = new Map<string, Promise<void>>();

  constructor(
    private readonly sequences: Pick<SequenceRepository, 'nextBlock'>,
    private readonly blockSize = BANK_ID_BLOCK,
  ) {}

  async next(name: string, floor = 1): Promise<number> {
    for (;;) {
      const block = this.held.get(name);
      if (block && block.next < block.end) {
        const value = block.next;
        block.next += 1;
        return value;
      }
      // One block taken at a time per counter; callers that find it used up wait for the next one.
      let taking = this.taking.get(name);
      if (!taking) {
        taking = this.take(name, floor).finally(() => this.taking.delete(name));
        this.taking.set(name, taking);
      }
      await taking;
    }
  }

  private async take(name: string, floor: number): Promise<void> {
    const first = await this.sequences.nextBlock(name, this.blockSize, floor);
    // Counters are per day: yesterday's blocks go when today's first one is taken.
    const day = name.slice(name.lastIndexOf(':'));
    for (const held of this.held.keys()) if (!held.endsWith(day)) this.held.delete(held);
    this.held.set(name, { next: first, end: first + this.blockSize });
  }
}
