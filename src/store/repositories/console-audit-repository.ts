import type { KeyRing } from '../../security/index.js';
import { CONSOLE_AUDIT_DETAIL_MAX, type ConsoleAuditEntry, type ConsoleAuditRepository, type Db, type SqlValue } from '../types.js';
import { isLink, linkHolds, STORED_LINK_COLUMNS, type ChainLanes, type StoredLink } from './audit-chain.js';
import { consoleAuditDigest } from './audit-records.js';
import { fit, toNumber, toStringOrNull, wellFormed } from './row-values.js';

/** The most entries provedEntries reads at once. */
const PROVED_MAX = 1000;

export interface ConsoleAuditRow {
  id: number | string;
  at: number | string;
  username: string;
  action: string;
  target: string | null;
  detail: string | null;
  remote_ip: string;
}

/**
 * What console users did: sign-ins (failed ones too), payments viewed, exports, admin changes.
 * Each entry is appended to the audit's keyed chains under a `console_audit` link (migration
 * 024), so an entry changed, deleted or inserted in SQL is named by `audit verify`.
 */
export class SqlConsoleAuditRepository implements ConsoleAuditRepository {
  constructor(
    private readonly db: Db,
    private readonly chain: ChainLanes | null = null,
    private readonly keys: KeyRing | null = null,
  ) {}

  async record(entry: ConsoleAuditEntry): Promise<number> {
    if (!this.chain) throw new Error('this store has no audit chain: the console audit cannot be written');
    // Each value exactly as the row will hold it (cut to size, well-formed): the link covers these.
    const stored = {
      at: Math.round(entry.at),
      username: fit(wellFormed(entry.username), 64),
      action: fit(wellFormed(entry.action), 32),
      target: entry.target === null ? null : fit(wellFormed(entry.target), 191),
      detail: entry.detail === null ? null : fit(wellFormed(entry.detail), CONSOLE_AUDIT_DETAIL_MAX),
      remoteIp: fit(wellFormed(entry.remoteIp), 64),
    };
    return this.chain.append('console_audit', async (tx) => {
      const { insertId } = await tx.execute('INSERT INTO console_audit (at, username, action, target, detail, remote_ip) VALUES (?, ?, ?, ?, ?, ?)', [
        stored.at,
        stored.username,
        stored.action,
        stored.target,
        stored.detail,
        stored.remoteIp,
      ]);
      return { recordId: insertId, contentDigest: consoleAuditDigest({ id: insertId, ...stored }) };
    });
  }

  async list(query: { username?: string; action?: string; limit?: number }): Promise<(ConsoleAuditEntry & { id: number })[]> {
    const filters = ([['username = ?', query.username], ['action = ?', query.action]] as const).filter(([, value]) => value !== undefined);
    const where = filters.map(([condition]) => condition);
    const params: SqlValue[] = filters.map(([, value]) => value as string);
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 1000);
    const rows = await this.db.query<ConsoleAuditRow>(
      `SELECT id, at, username, action, target, detail, remote_ip FROM console_audit${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      [...params, limit],
    );
    return rows.map(entryOf);
  }

  async provedEntries(query: { action: string; targets?: readonly string[]; limit?: number }): Promise<(ConsoleAuditEntry & { id: number })[]> {
    const targets = query.targets === undefined ? undefined : [...new Set(query.targets)];
    if (targets?.length === 0 || this.keys === null) return [];
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? PROVED_MAX), 1), PROVED_MAX);
    const inTargets = targets === undefined ? '' : ` AND target IN (${targets.map(() => '?').join(', ')})`;
    const rows = (
      await this.db.query<ConsoleAuditRow>(`SELECT id, at, username, action, target, detail, remote_ip FROM console_audit WHERE action = ?${inTargets} ORDER BY id DESC LIMIT ?`, [query.action, ...(targets ?? []), limit])
    ).filter((row) => row.action === query.action && (targets === undefined || targets.includes(row.target ?? '')));
    if (rows.length === 0) return [];
    const ids = rows.map((row) => toNumber(row.id));
    const links = await this.db.query<StoredLink>(`SELECT ${STORED_LINK_COLUMNS} FROM audit_chain WHERE ${isLink()} AND kind = 'console_audit' AND record_id IN (${ids.map(() => '?').join(', ')})`, ids);
    const ring = this.keys;
    // Held when one of its links holds for it as read: a link written in SQL cannot, without the chain key.
    return rows.map(entryOf).filter((entry) => links.some((link) => toNumber(link.record_id) === entry.id && linkHolds(ring, 'console_audit', entry.id, consoleAuditDigest(entry), link)));
  }
}

function entryOf(row: ConsoleAuditRow): ConsoleAuditEntry & { id: number } {
  return {
    id: toNumber(row.id),
    at: toNumber(row.at),
    username: row.username,
    action: row.action,
    target: toStringOrNull(row.target),
    detail: toStringOrNull(row.detail),
    remoteIp: row.remote_ip,
  };
}
