import type { ConsoleRole, ConsoleUser, ConsoleUserRepository, Db, SqlValue } from '../types.js';
import { toNumber } from './row-values.js';

interface UserRow {
  id: number | string;
  username: string;
  password_hash: string;
  role: ConsoleRole;
  status: 'active' | 'disabled';
  created_at: number | string;
  updated_at: number | string;
}

const COLUMNS = 'id, username, password_hash, role, status, created_at, updated_at';

function toUser(row: UserRow): ConsoleUser {
  return {
    id: toNumber(row.id),
    username: row.username,
    passwordHash: row.password_hash,
    role: row.role,
    status: row.status,
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

/** Finance console users: a username, an scrypt hash and one role. */
export class SqlConsoleUserRepository implements ConsoleUserRepository {
  constructor(private readonly db: Db) {}

  /** Throws UniqueViolationError when the username is taken. */
  async create(user: { username: string; passwordHash: string; role: ConsoleRole }, now: number): Promise<ConsoleUser> {
    const result = await this.db.execute(
      'INSERT INTO console_users (username, password_hash, role, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      [user.username, user.passwordHash, user.role, 'active', now, now],
    );
    return { id: result.insertId, ...user, status: 'active', createdAt: now, updatedAt: now };
  }

  /** Exactly this username: compared again in code, as MariaDB's PAD SPACE collations ignore trailing spaces. */
  async findByUsername(username: string): Promise<ConsoleUser | null> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM console_users WHERE username = ?`, [username]);
    const row = rows.find((r) => r.username === username);
    return row ? toUser(row) : null;
  }

  async findById(id: number): Promise<ConsoleUser | null> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM console_users WHERE id = ?`, [id]);
    return rows.length > 0 ? toUser(rows[0]) : null;
  }

  async list(): Promise<ConsoleUser[]> {
    return (await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM console_users ORDER BY username`)).map(toUser);
  }

  /** Sets the given fields; false when there is no such user. */
  async update(id: number, change: { role?: ConsoleRole; status?: 'active' | 'disabled'; passwordHash?: string }, now: number): Promise<boolean> {
    // Column names come from this list only, never from input.
    const columns: [string, SqlValue | undefined][] = [
      ['role', change.role],
      ['status', change.status],
      ['password_hash', change.passwordHash],
    ];
    const given = columns.filter(([, value]) => value !== undefined) as [string, SqlValue][];
    const assignments = [...given.map(([column]) => `${column} = ?`), 'updated_at = ?'];
    const params: SqlValue[] = [...given.map(([, value]) => value), now, id];
    const result = await this.db.execute(`UPDATE console_users SET ${assignments.join(', ')} WHERE id = ?`, params);
    return result.affectedRows > 0;
  }
}
