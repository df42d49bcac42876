import type { KeyRing } from '../../security/index.js';
import { FLASH_PURPOSES, type ConsoleSession, type ConsoleSessionRepository, type Db, type FlashPurpose } from '../types.js';
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

  async setFlash(idHash: string, purpose: FlashPurpose, message: string): Promise<void> {
    // The other purposes' messages kept: written over the very value read, else read again (a request that took or left one meanwhile).
    for (let tries = 0; tries < 5; tries += 1) {
      const { sealed, messages } = await this.flashes(idHash);
      const next = this.sealer.seal(JSON.stringify({ ...messages, [purpose]: message }), place('console_sessions', 'flash', [idHash]));
      const written = await this.db.execute(`UPDATE console_sessions SET flash = ? WHERE id_hash = ? AND ${sealed === null ? 'flash IS NULL' : 'flash = ?'}`, [next, idHash, ...(sealed === null ? [] : [sealed])]);
      if (written.affectedRows === 1) return;
      if ((await this.db.query('SELECT id_hash FROM console_sessions WHERE id_hash = ?', [idHash])).length === 0) return;
    }
    throw new Error('the console message could not be kept: the session\'s messages kept changing meanwhile');
  }

  async takeFlash(idHash: string, purpose: FlashPurpose): Promise<string | null> {
    const { sealed, messages } = await this.flashes(idHash);
    const message = messages[purpose];
    if (sealed === null || message === undefined) return null;
    const { [purpose]: _taken, ...others } = messages;
    const rest = Object.keys(others).length === 0 ? null : this.sealer.seal(JSON.stringify(others), place('console_sessions', 'flash', [idHash]));
    // Cleared only if it is still the one read: a concurrent request that took it first wins.
    const cleared = await this.db.execute('UPDATE console_sessions SET flash = ? WHERE id_hash = ? AND flash = ?', [rest, idHash, sealed]);
    return cleared.affectedRows === 1 ? message : null;
  }

  /** The session's messages by purpose, and the sealed value they were read from (null: none). One kept before messages had purposes is dropped. */
  private async flashes(idHash: string): Promise<{ sealed: string | null; messages: Partial<Record<FlashPurpose, string>> }> {
    const rows = await this.db.query<{ flash: string | null }>('SELECT flash FROM console_sessions WHERE id_hash = ?', [idHash]);
    const sealed = rows[0]?.flash ?? null;
    if (sealed === null) return { sealed, messages: {} };
    const text = this.sealer.open(sealed, place('console_sessions', 'flash', [idHash])) ?? '';
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return { sealed, messages: Object.fromEntries(Object.entries(parsed).filter(([key, value]) => FLASH_PURPOSES.includes(key as FlashPurpose) && typeof value === 'string')) };
      }
    } catch {
      // Not messages by purpose: none.
    }
    return { sealed, messages: {} };
  }
}
