import type { KeyRing } from '../../security/index.js';
import type { ConsoleSession, ConsoleSessionRepository, Db } from '../types.js';
import { toNumber } from './row-values.js';
import { place, ValueSealer } from './sealed-values.js';

interface SessionRow {
  id_hash: string;
  user_id: number | string;
  csrf_token: string;
  created_at: number | string;
  last_seen_at: number | string;
}

/**
 * Console sessions, keyed by the sha256 of the cookie value: the table alone signs nobody in.
 * Kept in the store so a console restart (or a second console process) keeps everyone signed in.
 */
export class SqlConsoleSessionRepository implements ConsoleSessionRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null = null,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  async create(session: ConsoleSession): Promise<void> {
    await this.db.execute('INSERT INTO console_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)', [
      session.idHash,
      session.userId,
      session.csrfToken,
      session.createdAt,
      session.lastSeenAt,
    ]);
  }

  async find(idHash: string): Promise<ConsoleSession | null> {
    const rows = await this.db.query<SessionRow>('SELECT id_hash, user_id, csrf_token, created_at, last_seen_at FROM console_sessions WHERE id_hash = ?', [idHash]);
    const row = rows[0];
    return row
      ? { idHash: row.id_hash, userId: toNumber(row.user_id), csrfToken: row.csrf_token, createdAt: toNumber(row.created_at), lastSeenAt: toNumber(row.last_seen_at) }
      : null;
  }

  async touch(idHash: string, now: number): Promise<void> {
    await this.db.execute('UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?', [now, idHash]);
  }

  async delete(idHash: string): Promise<void> {
    await this.db.execute('DELETE FROM console_sessions WHERE id_hash = ?', [idHash]);
  }

  async deleteForUser(userId: number): Promise<void> {
    await this.db.execute('DELETE FROM console_sessions WHERE user_id = ?', [userId]);
  }

  async purgeIdle(idleBefore: number): Promise<number> {
    return (await this.db.execute('DELETE FROM console_sessions WHERE last_seen_at < ?', [idleBefore])).affectedRows;
  }

  async setFlash(idHash: string, message: string): Promise<void> {
    await this.db.execute('UPDATE console_sessions SET flash = ? WHERE id_hash = ?', [this.sealer.seal(message, place('console_sessions', 'flash', [idHash])), idHash]);
  }

  async takeFlash(idHash: string): Promise<string | null> {
    const rows = await this.db.query<{ flash: string | null }>('SELECT flash FROM console_sessions WHERE id_hash = ?', [idHash]);
    const sealed = rows[0]?.flash ?? null;
    if (sealed === null) return null;
    // Cleared only if it is still the one read: a concurrent request that took it first wins.
    const cleared = await this.db.execute('UPDATE console_sessions SET flash = NULL WHERE id_hash = ? AND flash = ?', [idHash, sealed]);
    if (cleared.affectedRows !== 1) return null;
    return this.sealer.open(sealed, place('console_sessions', 'flash', [idHash]));
  }
}
