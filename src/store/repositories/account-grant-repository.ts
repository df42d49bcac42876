import { createHash } from 'node:crypto';
import type { KeyRing } from '../../security/index.js';
import { UniqueViolationError, type AccountGrantRepository, type Db } from '../types.js';
import { maskAccount } from './audit-records.js';
import type { ChainLanes } from './audit-chain.js';
import { changeRows } from './record-changes.js';
import { checkedCurrent, withLatestRecord, type LatestRecordColumns } from './record-history.js';
import { type MacedRow, type MacedTable } from './record-macs.js';
import { ValueSealer } from './sealed-values.js';

/** The looked-up key of a grant: no account number is stored in clear. */
function digest(clientId: string, accountNumber: string): string {
  return createHash('sha256').update(`${clientId}:${accountNumber}`).digest('hex');
}

const COLUMNS = 'client_id, account_digest, account_masked, granted_at, mac_key_id, mac';

/**
 * A grant carries a MAC (migration 025) of its client and account digest: an account granted in
 * SQL does not match it, and is refused as if not granted, loudly (IntegrityError).
 */
export const ACCOUNT_GRANTS: MacedTable = {
  table: 'client_account_grants',
  purpose: 'account grant',
  key: ['client_id', 'account_digest'],
  columns: COLUMNS,
  fields: (row) => [String(row.client_id), String(row.account_digest)],
  describe: (row) => `client_account_grants of client ${String(row.client_id)} (account ${String(row.account_masked)})`,
  covers: 'its client or account',
};

/**
 * The company accounts each API client may use (table client_account_grants). No row, no
 * access: a client is never granted an account by default.
 */
export class SqlAccountGrantRepository implements AccountGrantRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null,
    private readonly chain: ChainLanes,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  async grant(clientId: string, accountNumber: string, now: number): Promise<boolean> {
    try {
      await changeRows(this.chain, this.sealer, now, (rows) =>
        rows.insert(ACCOUNT_GRANTS, { client_id: clientId, account_digest: digest(clientId, accountNumber), account_masked: maskAccount(accountNumber) ?? '', granted_at: now }),
      );
      return true;
    } catch (error) {
      // Granted already (maybe by another node a moment ago): nothing to change.
      if (error instanceof UniqueViolationError) return false;
      throw error;
    }
  }

  async revoke(clientId: string, accountNumber: string): Promise<boolean> {
    const revoked = await changeRows(this.chain, this.sealer, Date.now(), (rows) => rows.delete(ACCOUNT_GRANTS, 'client_id = ? AND account_digest = ?', [clientId, digest(clientId, accountNumber)]));
    return revoked > 0;
  }

  /**
   * Throws IntegrityError when the grant's row does not hold its MAC (granted in SQL) or is not
   * its latest state (inserted back after its revocation): read with the row, no statement more.
   */
  async isGranted(clientId: string, accountNumber: string): Promise<boolean> {
    const key = [clientId, digest(clientId, accountNumber)];
    const latest = withLatestRecord(ACCOUNT_GRANTS, 'g', key);
    const rows = await this.db.query<MacedRow & LatestRecordColumns>(`SELECT ${latest.columns} FROM client_account_grants g ${latest.join} WHERE g.client_id = ? AND g.account_digest = ?`, [...latest.params, ...key]);
    const row = rows.find((r) => r.client_id === clientId);
    return row !== undefined && checkedCurrent(ACCOUNT_GRANTS, row, row, this.sealer) === row;
  }

  async list(clientId: string): Promise<string[]> {
    const rows = await this.db.query<{ account_masked: string }>('SELECT account_masked FROM client_account_grants WHERE client_id = ? ORDER BY granted_at, account_masked', [clientId]);
    return rows.map((row) => row.account_masked);
  }
}
