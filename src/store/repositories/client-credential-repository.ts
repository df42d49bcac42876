import type { ClientCredential, ClientCredentialKind, ClientCredentialRepository, Db } from '../types.js';
import { toNumber } from './row-values.js';

interface CredentialRow {
  kind: ClientCredentialKind;
  lookup: string;
  client_id: string;
  secret_hash: string | null;
  created_at: number | string;
}

const COLUMNS = 'kind, lookup, client_id, secret_hash, created_at';

function toCredential(row: CredentialRow): ClientCredential {
  return { kind: row.kind, lookup: row.lookup, clientId: row.client_id, secretHash: row.secret_hash, createdAt: toNumber(row.created_at) };
}

/**
 * A client's Entra ID applications and API key (table client_credentials). The primary key
 * (kind, lookup) gives each application or key id to one client; the store decides, so two
 * operators adding the same one at once cannot both succeed.
 */
export class SqlClientCredentialRepository implements ClientCredentialRepository {
  constructor(private readonly db: Db) {}

  async find(kind: ClientCredentialKind, lookup: string): Promise<ClientCredential | null> {
    const rows = await this.db.query<CredentialRow>(`SELECT ${COLUMNS} FROM client_credentials WHERE kind = ? AND lookup = ?`, [kind, lookup]);
    return rows.length > 0 ? toCredential(rows[0]) : null;
  }

  async listFor(clientId: string): Promise<ClientCredential[]> {
    const rows = await this.db.query<CredentialRow>(`SELECT ${COLUMNS} FROM client_credentials WHERE client_id = ? ORDER BY kind, created_at, lookup`, [clientId]);
    return rows.map(toCredential);
  }

  async add(credential: ClientCredential): Promise<void> {
    await this.db.execute(`INSERT INTO client_credentials (${COLUMNS}) VALUES (?, ?, ?, ?, ?)`, [
      credential.kind,
      credential.lookup,
      credential.clientId,
      credential.secretHash,
      credential.createdAt,
    ]);
  }

  async replace(credential: ClientCredential): Promise<void> {
    await this.db.withTransaction(async (tx) => {
      await tx.execute('DELETE FROM client_credentials WHERE client_id = ? AND kind = ?', [credential.clientId, credential.kind]);
      await tx.execute(`INSERT INTO client_credentials (${COLUMNS}) VALUES (?, ?, ?, ?, ?)`, [
        credential.kind,
        credential.lookup,
        credential.clientId,
        credential.secretHash,
        credential.createdAt,
      ]);
    });
  }

  async remove(clientId: string, kind: ClientCredentialKind, lookup?: string): Promise<number> {
    const result =
      lookup === undefined
        ? await this.db.execute('DELETE FROM client_credentials WHERE client_id = ? AND kind = ?', [clientId, kind])
        : await this.db.execute('DELETE FROM client_credentials WHERE client_id = ? AND kind = ? AND lookup = ?', [clientId, kind, lookup]);
    return result.affectedRows;
  }
}
