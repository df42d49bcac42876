import type { KeyRing } from '../../security/index.js';
import type { ConsoleRole, ConsoleUser, ConsoleUserRepository, Db, Queryable } from '../types.js';
import type { ChainLanes } from './audit-chain.js';
import { changeRows } from './record-changes.js';
import { checkedCurrent, listedRowProblems, withLatestRecord, type LatestRecordColumns } from './record-history.js';
import { toNumber } from './row-values.js';
import { type MacedRow, type MacedTable } from './record-macs.js';
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

const COLUMNS = 'id, username, password_hash, role, status, created_at, updated_at, mac_key_id, mac';

/** Console users carry a MAC (migration 024) of what decides who it is, how it signs in and what it may do. */
export const CONSOLE_USERS: MacedTable = {
  table: 'console_users',
  purpose: 'console user',
  key: ['id'],
  columns: COLUMNS,
  fields: (row) => [String(row.username), String(row.password_hash), String(row.role), String(row.status)],
  describe: (row) => `console_users id ${toNumber(row.id as number)} (${String(row.username)})`,
  covers: 'its username, password hash, role or status',
};

/** The user with this id and its latest change record, in one statement. */
async function readCurrent(q: Queryable, id: number): Promise<(UserRow & LatestRecordColumns) | undefined> {
  const latest = withLatestRecord(CONSOLE_USERS, 'u', [id]);
  const [row] = await q.query<UserRow & LatestRecordColumns>(`SELECT ${latest.columns} FROM console_users u ${latest.join} WHERE u.id = ?`, [...latest.params, id]);
  return row;
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
 * ring (CONSOLE_USERS). A user whose MAC does not hold is never signed in nor let through
 * (IntegrityError from findByUsername and findById); the list shows every row as it is, marked.
 */
export class SqlConsoleUserRepository implements ConsoleUserRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null,
    private readonly chain: ChainLanes,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  /** Throws UniqueViolationError when the username is taken. */
  async create(user: { username: string; passwordHash: string; role: ConsoleRole }, now: number): Promise<ConsoleUser> {
    const id = await changeRows(this.chain, this.sealer, now, (rows) =>
      rows.insert(CONSOLE_USERS, { username: user.username, password_hash: user.passwordHash, role: user.role, status: 'active', created_at: now, updated_at: now }),
    );
    return { id, ...user, status: 'active', createdAt: now, updatedAt: now };
  }

  /** Exactly this username: compared again in code, as MariaDB's PAD SPACE collations ignore trailing spaces. */
  async findByUsername(username: string): Promise<ConsoleUser | null> {
    const latest = withLatestRecord(CONSOLE_USERS, 'u', { dialect: this.db.dialect, column: 'u.id' });
    const rows = await this.db.query<UserRow & LatestRecordColumns>(`SELECT ${latest.columns} FROM console_users u ${latest.join} WHERE u.username = ?`, [...latest.params, username]);
    const row = rows.find((r) => r.username === username);
    return row ? this.checked(row, row) : null;
  }

  async findById(id: number): Promise<ConsoleUser | null> {
    const row = await readCurrent(this.db, id);
    return row ? this.checked(row, row) : null;
  }

  /** Every user, by username; one whose MAC does not hold, or that is not its latest state, carries its integrityProblem. */
  async list(): Promise<ConsoleUser[]> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM console_users ORDER BY username`);
    const problems = await listedRowProblems(this.db, CONSOLE_USERS, rows as unknown as MacedRow[], this.sealer);
    return rows.map((row, i) => (problems[i] === null ? toUser(row) : { ...toUser(row), integrityProblem: problems[i] as string }));
  }

  /**
   * Sets the given fields, the row's new MAC and its change record (record-changes.ts); false when
   * there is no such user. The row as it stands must hold its MAC and be its latest state first
   * (IntegrityError), so no change re-signs a role raised in SQL or a row written back. Guarded by the MAC read: a change of another process
   * meanwhile makes this one read the row again and be made over it.
   */
  async update(id: number, change: { role?: ConsoleRole; status?: 'active' | 'disabled'; passwordHash?: string }, now: number): Promise<boolean> {
    const changes = { ...(change.role && { role: change.role }), ...(change.status && { status: change.status }), ...(change.passwordHash && { password_hash: change.passwordHash }), updated_at: now };
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const written = await changeRows(this.chain, this.sealer, now, async (rows) => {
        const row = await readCurrent(rows.tx, id);
        if (!row) return false;
        this.checked(row, row);
        return (await rows.update(CONSOLE_USERS, row as unknown as MacedRow, changes)) ? true : null;
      });
      if (written !== null) return written;
    }
    throw new Error(`console_users id ${id} kept changing while it was written: try again`);
  }

  /** The user when its MAC holds and it is its latest state (record-history.ts); else IntegrityError. */
  private checked(row: UserRow, latest: LatestRecordColumns): ConsoleUser {
    return toUser(checkedCurrent(CONSOLE_USERS, row as unknown as MacedRow, latest, this.sealer) as unknown as UserRow);
  }
}
