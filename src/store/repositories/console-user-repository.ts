import type { KeyRing } from '../../security/index.js';
import type { ConsoleRole, ConsoleUser, ConsoleUserRepository, Db, Queryable } from '../types.js';
import { toNumber } from './row-values.js';
import { checkedRow, recordMac, type MacedRow, type MacedTable } from './record-macs.js';
import { ValueSealer } from './sealed-values.js';

interface UserRow {
  id: number | string;
  username: string;
  password_hash: string;
  role: ConsoleRole;
  status: 'active' | 'disabled';
  created_at: number | string;
  updated_at: number | string;
  mac_key_id: string | null;
  mac: string | null;
}

export const CONSOLE_USER_COLUMNS = 'id, username, password_hash, role, status, created_at, updated_at, mac_key_id, mac';
const COLUMNS = CONSOLE_USER_COLUMNS;

/** The fields of a console user its MAC covers: who it is, how it signs in, what it may do. */
interface UserFields {
  username: string;
  passwordHash: string;
  role: string;
  status: string;
}

/** Console users carry a MAC of their username, password hash, role and status (migration 024). */
export const CONSOLE_USERS: MacedTable = {
  table: 'console_users',
  purpose: 'console user',
  key: ['id'],
  columns: CONSOLE_USER_COLUMNS,
  fields: (row) => userFields(fieldsOf(row as unknown as UserRow)),
  describe: (row) => `console_users id ${toNumber(row.id as number)} (${String(row.username)})`,
  covers: 'its username, password hash, role or status',
};

function userFields(u: UserFields): readonly string[] {
  return [u.username, u.passwordHash, u.role, u.status];
}

/**
 * HMAC-SHA256 of a console user's username, password hash, role and status under the ring's
 * console-user key `keyId` (the newest when omitted): a role raised, a password hash replaced or a
 * user inserted in SQL does not match it (migration 024).
 */
export function consoleUserMac(ring: KeyRing, u: UserFields, keyId?: string): { keyId: string; mac: string } {
  return recordMac(ring, CONSOLE_USERS.purpose, userFields(u), keyId);
}

function fieldsOf(row: UserRow): UserFields {
  return { username: row.username, passwordHash: row.password_hash, role: row.role, status: row.status };
}

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

/**
 * Finance console users: a username, an scrypt hash and one role, each row under a MAC of the key
 * ring (consoleUserMac). A user whose MAC does not hold is never signed in nor let through
 * (IntegrityError from findByUsername and findById); the list shows every row as it is.
 */
export class SqlConsoleUserRepository implements ConsoleUserRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null = null,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  /** Throws UniqueViolationError when the username is taken. */
  async create(user: { username: string; passwordHash: string; role: ConsoleRole }, now: number): Promise<ConsoleUser> {
    const { keyId, mac } = consoleUserMac(this.sealer.keyRing, { ...user, status: 'active' });
    const result = await this.db.execute(
      'INSERT INTO console_users (username, password_hash, role, status, created_at, updated_at, mac_key_id, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [user.username, user.passwordHash, user.role, 'active', now, now, keyId, mac],
    );
    return { id: result.insertId, ...user, status: 'active', createdAt: now, updatedAt: now };
  }

  /** Exactly this username: compared again in code, as MariaDB's PAD SPACE collations ignore trailing spaces. */
  async findByUsername(username: string): Promise<ConsoleUser | null> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM console_users WHERE username = ?`, [username]);
    const row = rows.find((r) => r.username === username);
    return row ? this.checked(row) : null;
  }

  async findById(id: number): Promise<ConsoleUser | null> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM console_users WHERE id = ?`, [id]);
    return rows.length > 0 ? this.checked(rows[0]) : null;
  }

  async list(): Promise<ConsoleUser[]> {
    return (await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM console_users ORDER BY username`)).map(toUser);
  }

  /**
   * Sets the given fields and the row's new MAC; false when there is no such user. The row as it
   * stands must hold its MAC first (IntegrityError), so no change re-signs a role raised in SQL.
   */
  async update(id: number, change: { role?: ConsoleRole; status?: 'active' | 'disabled'; passwordHash?: string }, now: number): Promise<boolean> {
    return this.db.withTransaction(async (tx: Queryable) => {
      const [row] = await tx.query<UserRow>(`SELECT ${COLUMNS} FROM console_users WHERE id = ?`, [id]);
      if (!row) return false;
      const current = this.checked(row);
      const next = { username: current.username, passwordHash: change.passwordHash ?? current.passwordHash, role: change.role ?? current.role, status: change.status ?? current.status };
      const { keyId, mac } = consoleUserMac(this.sealer.keyRing, next);
      // Guarded by the MAC read: a change of another process meanwhile makes this one change nothing.
      const result = await tx.execute('UPDATE console_users SET role = ?, status = ?, password_hash = ?, updated_at = ?, mac_key_id = ?, mac = ? WHERE id = ? AND mac = ?', [
        next.role, next.status, next.passwordHash, now, keyId, mac, id, row.mac,
      ]);
      return result.affectedRows > 0;
    });
  }

  private checked(row: UserRow): ConsoleUser {
    return toUser(checkedRow(CONSOLE_USERS, row as unknown as MacedRow, this.sealer) as unknown as UserRow);
  }
}
