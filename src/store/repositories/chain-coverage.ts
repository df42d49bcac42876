import type { Queryable } from '../types.js';
import { recordMac, recordMacProblem, rowsUnderOlderKeys, type MacedRow, type MacedTable } from './record-macs.js';
import { toNumber } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

/**
 * chain_coverage (migration 024) says from where each kind of record must have its keyed history:
 * payments created before its `since` may have no event, console audit entries with a lower id no
 * link. Excusing records is what a forger needs, so each row carries a MAC of the key ring
 * (migration 028, record-macs.ts) and is read only through chainCoverage: the API's status read,
 * the console's marks and `audit verify` all get the same answer from it.
 *
 * Migration 037 (history-baselines.ts) gave every record it excused its history and moved both rows
 * to 0 (nothing excused), under a MAC key derived for another purpose than 028's: a row as it stood
 * before 037, written back in SQL with its MAC (a backup, or a reader who noted it), holds no more.
 * On MySQL 037 commits a row a batch on its way down: those rows are MAC'd under a third purpose
 * (COVERAGE_IN_PROGRESS) that only 037 itself accepts, so a reader who noted one while 037 ran
 * cannot write it back later to excuse the payments below it again. CHAIN_COVERAGE, the readers'
 * purpose, is written only for the final row (0). A reader meeting a row of 037 in progress excuses
 * nothing (fail closed): while 037 runs, a payment from before 024 it has not yet recorded is
 * refused (500 AUDIT_INTEGRITY) and named by `audit verify` until 037 finishes.
 */
export const CHAIN_COVERAGE: MacedTable = {
  table: 'chain_coverage',
  purpose: 'chain coverage since 037',
  key: ['records'],
  columns: 'records, since, mac_key_id, mac',
  fields: (row) => [String(row.records), toNumber(row.since)],
  describe: (row) => `chain_coverage row '${String(row.records)}'`,
  covers: 'its kind of records or its since',
};

/** The rows 037 commits on its way down to 0 (MySQL, a batch each): accepted by 037's own step alone, never by a reader. */
export const COVERAGE_IN_PROGRESS: MacedTable = { ...CHAIN_COVERAGE, purpose: 'chain coverage 037 in progress' };

/** What the coverage rows' MAC key was derived for from migration 028 to 037 (read by 037 alone). */
export const PRE_037_COVERAGE: MacedTable = { ...CHAIN_COVERAGE, purpose: 'chain coverage' };

/** The kinds of records covered: payments by created_at, console audit entries by id. */
export type CoveredRecords = 'payments' | 'console_audit';

/** From where records of one kind must have their history, as far as the row can be trusted. */
export interface Coverage {
  /** Records before this may have none; 0 (everything needs its history) when the row cannot be trusted. */
  since: number;
  /** Why the row cannot be trusted (deleted, or not holding its MAC) in words, else null. */
  problem: string | null;
}

/** A row that excuses nothing: no payment is created at time 0 and console audit ids start at 1 (an empty store's 024 wrote 1). */
export const EXCUSES_NOTHING = 1;

const WHOLE: Record<CoveredRecords, string> = { payments: 'every payment must have its history', console_audit: 'every console audit entry must have its chain link' };

/**
 * The coverage of payments and of console audit entries. A row deleted or failing its MAC covers
 * everything (fail closed) and says why; an unsigned row that excuses nothing needs no MAC. Throws
 * KeyRingError when the row's key is not configured.
 */
export async function chainCoverage(q: Queryable, sealer: ValueSealer): Promise<Record<CoveredRecords, Coverage>> {
  const rows = await q.query<MacedRow>(`SELECT ${CHAIN_COVERAGE.columns} FROM chain_coverage WHERE records IN ('payments', 'console_audit')`);
  const coverageOf = (records: CoveredRecords): Coverage => {
    const row = rows.find((r) => r.records === records);
    if (!row) return { since: 0, problem: `the chain_coverage row '${records}' was deleted, so ${WHOLE[records]}` };
    const since = toNumber(row.since);
    if (row.mac === null && since <= EXCUSES_NOTHING) return { since, problem: null };
    const problem = recordMacProblem(CHAIN_COVERAGE, row, sealer);
    if (problem === null) return { since, problem: null };
    if (recordMacProblem(COVERAGE_IN_PROGRESS, row, sealer) === null) {
      return { since: 0, problem: `chain_coverage row '${records}' is one migration 037 wrote while it ran (since ${since}): it excuses nothing, so ${WHOLE[records]} (037 not finished, or the row written back after it)` };
    }
    return { since: 0, problem: `${problem}, so ${WHOLE[records]}` };
  };
  return { payments: coverageOf('payments'), console_audit: coverageOf('console_audit') };
}

/**
 * `keys rotate`: each coverage row whose MAC holds under an older ring key gets the newest key's,
 * guarded by the MAC read. Migrations alone write these rows, so no change record goes with it
 * (record-changes.ts covers what the gateway changes); a row that does not hold is left for
 * `audit verify` to name.
 */
export async function resignCoverage(db: Queryable, sealer: ValueSealer): Promise<void> {
  for (const row of (await rowsUnderOlderKeys(db, CHAIN_COVERAGE, sealer)).rows) {
    const { keyId, mac } = recordMac(sealer.keyRing, CHAIN_COVERAGE.purpose, CHAIN_COVERAGE.fields(row, sealer));
    await db.execute('UPDATE chain_coverage SET mac_key_id = ?, mac = ? WHERE records = ? AND mac = ?', [keyId, mac, row.records, row.mac]);
  }
}
