import { KeyRing } from '../../security/index.js';
import type { ClientRecord, ClientRepository, ClientSigning, ClientStatus, Db, NewClient } from '../types.js';
import { parseJson, toNumber } from './row-values.js';

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
}

const INSERT_COLUMNS = 'id, name, secret_hash, secret_version, allowed_origins, allowed_cidrs, status, created_at, updated_at';
const COLUMNS = `${INSERT_COLUMNS}, signing_required, signing_key`;

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

/** API clients (the ERP). The allowlists are JSON arrays in TEXT columns: read whole, never queried into. */
export class SqlClientRepository implements ClientRepository {
  constructor(private readonly db: Db) {}

  /** Creates an active client at secret version 1. Throws UniqueViolationError when the id exists. */
  async create(client: NewClient, now: number): Promise<ClientRecord> {
    const record: ClientRecord = { ...client, secretVersion: 1, status: 'active', signing: { required: false, sealedKey: null }, createdAt: now, updatedAt: now };
    await this.db.execute(`INSERT INTO clients (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      record.id,
      record.name,
      record.secretHash,
      record.secretVersion,
      JSON.stringify(record.allowedOrigins),
      JSON.stringify(record.allowedCidrs),
      record.status,
      now,
      now,
    ]);
    return record;
  }

  /**
   * The client with exactly this id. MariaDB's collations (utf8mb4_bin included) are PAD SPACE:
   * `WHERE id = 'gbc_1  '` finds `gbc_1`, so the row's id is compared again here, on every backend.
   */
  async findById(id: string): Promise<ClientRecord | null> {
    const rows = await this.db.query<ClientRow>(`SELECT ${COLUMNS} FROM clients WHERE id = ?`, [id]);
    const row = rows.find((r) => r.id === id);
    return row ? toRecord(row) : null;
  }

  /** All clients, oldest first. */
  async list(): Promise<ClientRecord[]> {
    const rows = await this.db.query<ClientRow>(`SELECT ${COLUMNS} FROM clients ORDER BY created_at, id`);
    return rows.map(toRecord);
  }

  /** Returns false when no client has this id. */
  async setStatus(id: string, status: ClientStatus, now: number): Promise<boolean> {
    const result = await this.db.execute('UPDATE clients SET status = ?, updated_at = ? WHERE id = ?', [status, now, id]);
    return result.affectedRows > 0;
  }

  /** Returns false when no client has this id. The bump happens in SQL, so two rotations never share a version. */
  async rotateSecret(id: string, secretHash: string, now: number): Promise<boolean> {
    const result = await this.db.execute(
      'UPDATE clients SET secret_hash = ?, secret_version = secret_version + 1, updated_at = ? WHERE id = ?',
      [secretHash, now, id],
    );
    return result.affectedRows > 0;
  }

  async setAllowlists(id: string, lists: { allowedOrigins: string[]; allowedCidrs: string[] }, now: number): Promise<boolean> {
    const result = await this.db.execute('UPDATE clients SET allowed_origins = ?, allowed_cidrs = ?, updated_at = ? WHERE id = ?', [
      JSON.stringify(lists.allowedOrigins),
      JSON.stringify(lists.allowedCidrs),
      now,
      id,
    ]);
    return result.affectedRows > 0;
  }

  async setSigning(id: string, signing: ClientSigning, now: number): Promise<boolean> {
    const keyId = signing.sealedKey === null ? null : KeyRing.keyIdOf(signing.sealedKey);
    if (signing.sealedKey !== null && keyId === null) throw new TypeError('a signing key is stored sealed (gcm1.<keyId>.…), never in clear');
    const result = await this.db.execute('UPDATE clients SET signing_required = ?, signing_key = ?, key_id = ?, updated_at = ? WHERE id = ?', [
      signing.required ? 1 : 0,
      signing.sealedKey,
      keyId,
      now,
      id,
    ]);
    return result.affectedRows > 0;
  }
}
