import type { ConsoleAuditEntry, ConsoleAuditRepository, Db, SqlValue } from '../types.js';
import { fit, toNumber, toStringOrNull } from './row-values.js';

interface EntryRow {
  id: number | string;
  at: number | string;
  username: string;
  action: string;
  target: string | null;
  detail: string | null;
  remote_ip: string;
}

/** What console users did: sign-ins (failed ones too), payments viewed, exports, admin changes. */
export class SqlConsoleAuditRepository implements ConsoleAuditRepository {
  constructor(private readonly db: Db) {}

  async record(entry: ConsoleAuditEntry): Promise<number> {
    const result = await this.db.execute('INSERT INTO console_audit (at, username, action, target, detail, remote_ip) VALUES (?, ?, ?, ?, ?, ?)', [
      entry.at,
      fit(entry.username, 64),
      fit(entry.action, 32),
      fit(entry.target, 191),
      fit(entry.detail, 1024),
      fit(entry.remoteIp, 64),
    ]);
    return result.insertId;
  }

  async list(query: { username?: string; action?: string; limit?: number }): Promise<(ConsoleAuditEntry & { id: number })[]> {
    const filters = ([['username = ?', query.username], ['action = ?', query.action]] as const).filter(([, value]) => value !== undefined);
    const where = filters.map(([condition]) => condition);
    const params: SqlValue[] = filters.map(([, value]) => value as string);
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 1000);
    const rows = await this.db.query<EntryRow>(
      `SELECT id, at, username, action, target, detail, remote_ip FROM console_audit${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      [...params, limit],
    );
    return rows.map((row) => ({
      id: toNumber(row.id),
      at: toNumber(row.at),
      username: row.username,
      action: row.action,
      target: toStringOrNull(row.target),
      detail: toStringOrNull(row.detail),
      remoteIp: row.remote_ip,
    }));
  }
}
