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
 * Throws ROUTE_UNAVAILABLE (nothing sent) when the day's ids are used up.
 */
export async function nextBankTransactionId(sequences: SequenceRepository, source: BankIdSource, now: number): Promise<string> {
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
