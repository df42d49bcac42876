import { KeyRing } from '../../security/index.js';
import type { ClientRecord, ClientRepository, ClientSigning, ClientStatus, Db, NewClient, Queryable, SqlValue } from '../types.js';
import type { ChainLanes } from './audit-chain.js';
import { changeRows } from './record-changes.js';
import { checkedCurrent, listedRowProblems, withLatestRecord, type LatestRecordColumns } from './record-history.js';
import type { MacedRow, MacedTable } from './record-macs.js';
import { parseJson, toNumber } from './row-values.js';
import { place, ValueSealer } from './sealed-values.js';

interface ClientRow {
  id: string;
  name: string;
  secret_hash: string;
  secret_version: number | string;
  allowed_origins: string;
  allowed_cidrs: string;
  status: ClientStatus;
  signing_required: number | string;
  signing_key: string | null;
  created_at: number | string;
  updated_at: number | string;
  mac_key_id: string | null;
  mac: string | null;
}

const COLUMNS = 'id, name, secret_hash, secret_version, allowed_origins, allowed_cidrs, status, signing_required, signing_key, created_at, updated_at, mac_key_id, mac';

/**
 * API clients carry a MAC (migration 025) of their id, name, secret hash and version, allowlists,
 * status and request signing (the key in clear): an address added, a client re-enabled or a
 * secret hash swapped in SQL does not match it.
 */
export const CLIENTS: MacedTable = {
  table: 'clients',
  purpose: 'client',
  key: ['id'],
  columns: COLUMNS,
  // Everything that decides who may call as it, and how; the signing key in clear (`keys rotate` seals it again under a newer key without changing what it is).
  fields: (row, sealer) => [
    row.id,
    row.name,
    row.secret_hash,
    toNumber(row.secret_version as number),
    row.allowed_origins,
    row.allowed_cidrs,
    row.status,
    toNumber(row.signing_required as number) === 1,
    sealer.open(row.signing_key as string | null, place('clients', 'signing_key', [String(row.id)])),
  ],
  describe: (row) => `clients id ${String(row.id)}`,
  covers: 'its secret hash, allowlists, status or request signing',
};

/**
 * The client with exactly this id and its latest change record, in one statement. MariaDB's
 * collations (utf8mb4_bin included) are PAD SPACE: `WHERE id = 'gbc_1  '` finds `gbc_1`, so the
 * row's id is compared again here, on every backend.
 */
async function readCurrent(q: Queryable, id: string): Promise<(ClientRow & LatestRecordColumns) | undefined> {
  const latest = withLatestRecord(CLIENTS, 'c', [id]);
  const rows = await q.query<ClientRow & LatestRecordColumns>(`SELECT ${latest.columns} FROM clients c ${latest.join} WHERE c.id = ?`, [...latest.params, id]);
  return rows.find((r) => r.id === id);
}

function toRecord(row: ClientRow): ClientRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    secretVersion: toNumber(row.secret_version),
    allowedOrigins: parseJson<string[]>(row.allowed_origins, []),
    allowedCidrs: parseJson<string[]>(row.allowed_cidrs, []),
    status: row.status,
    signing: { required: toNumber(row.signing_required) === 1, sealedKey: row.signing_key ?? null },
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

/**
 * API clients (the ERP). The allowlists are JSON arrays in TEXT columns: read whole, never
 * queried into. Each row is under a MAC of the key ring (CLIENTS): a client whose MAC does not
 * hold gets no token and passes no authentication (IntegrityError from findById); list() shows
 * every row as it is, marking those (ClientRecord.integrityProblem).
 */
export class SqlClientRepository implements ClientRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null,
    private readonly chain: ChainLanes,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  /** Creates an active client at secret version 1. Throws UniqueViolationError when the id exists. */
  async create(client: NewClient, now: number): Promise<ClientRecord> {
    const record: ClientRecord = { ...client, secretVersion: 1, status: 'active', signing: { required: false, sealedKey: null }, createdAt: now, updatedAt: now };
    await changeRows(this.chain, this.sealer, now, (rows) =>
      rows.insert(CLIENTS, {
        id: record.id,
        name: record.name,
        secret_hash: record.secretHash,
        secret_version: record.secretVersion,
        allowed_origins: JSON.stringify(record.allowedOrigins),
        allowed_cidrs: JSON.stringify(record.allowedCidrs),
        status: record.status,
        signing_required: 0,
        signing_key: null,
        created_at: now,
        updated_at: now,
      }),
    );
    return record;
  }

  /**
   * The client with exactly this id (readCurrent). Throws IntegrityError when the row does not
   * hold its MAC or is not its latest state (record-history.ts): read with the row, no statement more.
   */
  async findById(id: string): Promise<ClientRecord | null> {
    const row = await readCurrent(this.db, id);
    return row ? toRecord(checkedCurrent(CLIENTS, row as unknown as MacedRow, row, this.sealer) as unknown as ClientRow) : null;
  }

  /** All clients, oldest first; one whose MAC does not hold, or that is not its latest state, carries its integrityProblem. */
  async list(): Promise<ClientRecord[]> {
    const rows = await this.db.query<ClientRow>(`SELECT ${COLUMNS} FROM clients ORDER BY created_at, id`);
    const problems = await listedRowProblems(this.db, CLIENTS, rows as unknown as MacedRow[], this.sealer);
    return rows.map((row, i) => (problems[i] === null ? toRecord(row) : { ...toRecord(row), integrityProblem: problems[i] as string }));
  }

  /** Returns false when no client has this id. */
  async setStatus(id: string, status: ClientStatus, now: number): Promise<boolean> {
    return this.change(id, now, () => ({ status }));
  }

  /** Returns false when no client has this id. Two rotations never share a version (the write is guarded by the row read). */
  async rotateSecret(id: string, secretHash: string, now: number): Promise<boolean> {
    return this.change(id, now, (current) => ({ secret_hash: secretHash, secret_version: toNumber(current.secret_version) + 1 }));
  }

  async setAllowlists(id: string, lists: { allowedOrigins: string[]; allowedCidrs: string[] }, now: number): Promise<boolean> {
    return this.change(id, now, () => ({ allowed_origins: JSON.stringify(lists.allowedOrigins), allowed_cidrs: JSON.stringify(lists.allowedCidrs) }));
  }

  async setSigning(id: string, signing: ClientSigning, now: number): Promise<boolean> {
    const keyId = signing.sealedKey === null ? null : KeyRing.keyIdOf(signing.sealedKey);
    if (signing.sealedKey !== null && keyId === null) throw new TypeError('a signing key is stored sealed (gcm1.<keyId>.…), never in clear');
    return this.change(id, now, () => ({ signing_required: signing.required ? 1 : 0, signing_key: signing.sealedKey, key_id: keyId }));
  }

  /**
   * Writes `next(current)` over the client with its new MAC and its change record (record-changes.ts);
   * false when there is no such client. The row as it stands must hold its MAC first
   * (IntegrityError), so no change re-signs an address or a status set in SQL. Each UPDATE is
   * guarded by the MAC read: when another process changed the row meanwhile, it is read again and
   * the change made over that one.
   */
  private async change(id: string, now: number, next: (current: ClientRow) => Record<string, SqlValue>): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const written = await changeRows(this.chain, this.sealer, now, async (rows) => {
        const row = await readCurrent(rows.tx, id);
        if (!row) return false;
        const current = checkedCurrent(CLIENTS, row as unknown as MacedRow, row, this.sealer);
        return (await rows.update(CLIENTS, current, { ...next(row), updated_at: now })) ? true : null;
      });
      if (written !== null) return written;
    }
    throw new Error(`clients id ${id} kept changing while it was written: try again`);
  }
}
