import type { ClientRecord, ClientRepository, ClientStatus, Db, NewClient } from '../types.js';
import { num } from './sql-helpers.js';

interface Row {
  id: string;
  name: string;
  secret_hash: string;
  secret_version: number;
  allowed_origins: string;
  allowed_cidrs: string;
  status: ClientStatus;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'id, name, secret_hash, secret_version, allowed_origins, allowed_cidrs, status, created_at, updated_at';

function toRecord(row: Row): ClientRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    secretVersion: num(row.secret_version),
    allowedOrigins: JSON.parse(row.allowed_origins) as string[],
    allowedCidrs: JSON.parse(row.allowed_cidrs) as string[],
    status: row.status,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

export function clientRepository(db: Db): ClientRepository {
  return {
    async create(client: NewClient, now: number) {
      await db.execute(`INSERT INTO clients (${COLUMNS}) VALUES (?, ?, ?, 1, ?, ?, 'active', ?, ?)`, [
        client.id,
        client.name,
        client.secretHash,
        JSON.stringify(client.allowedOrigins),
        JSON.stringify(client.allowedCidrs),
        now,
        now,
      ]);
      return { ...client, secretVersion: 1, status: 'active', createdAt: now, updatedAt: now };
    },
    async findById(id) {
      const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM clients WHERE id = ?`, [id]);
      return rows[0] ? toRecord(rows[0]) : null;
    },
    async list() {
      return (await db.query<Row>(`SELECT ${COLUMNS} FROM clients ORDER BY created_at, id`)).map(toRecord);
    },
    async setStatus(id, status, now) {
      const result = await db.execute('UPDATE clients SET status = ?, updated_at = ? WHERE id = ?', [status, now, id]);
      return result.affectedRows === 1;
    },
    async rotateSecret(id, secretHash, now) {
      const result = await db.execute('UPDATE clients SET secret_hash = ?, secret_version = secret_version + 1, updated_at = ? WHERE id = ?', [
        secretHash,
        now,
        id,
      ]);
      return result.affectedRows === 1;
    },
  };
}
