import type { KeyRing } from '../../security/index.js';
import type { ClientCredential, ClientCredentialKind, ClientCredentialRepository, Db } from '../types.js';
import type { ChainLanes } from './audit-chain.js';
import { changeRows, type RowChanges } from './record-changes.js';
import { checkedCurrent, withLatestRecord, type LatestRecordColumns } from './record-history.js';
import { type MacedRow, type MacedTable } from './record-macs.js';
import { toNumber } from './row-values.js';
import { ValueSealer } from './sealed-values.js';

interface CredentialRow {
  kind: ClientCredentialKind;
  lookup: string;
  client_id: string;
  secret_hash: string | null;
  created_at: number | string;
  mac_key_id: string | null;
  mac: string | null;
}

const COLUMNS = 'kind, lookup, client_id, secret_hash, created_at, mac_key_id, mac';

/**
 * A credential carries a MAC (migration 025) of its kind, lookup, client and secret hash: an
 * Entra application linked or an API key added in SQL, or one moved to another client, does not
 * match it, and never authenticates.
 */
export const CLIENT_CREDENTIALS: MacedTable = {
  table: 'client_credentials',
  purpose: 'client credential',
  key: ['kind', 'lookup'],
  columns: COLUMNS,
  fields: (row) => [String(row.kind), String(row.lookup), String(row.client_id), row.secret_hash === null ? null : String(row.secret_hash)],
  describe: (row) => `client_credentials ${String(row.kind)} ${String(row.lookup)} (client ${String(row.client_id)})`,
  covers: 'its client or secret hash',
};

function toCredential(row: CredentialRow): ClientCredential {
  return { kind: row.kind, lookup: row.lookup, clientId: row.client_id, secretHash: row.secret_hash, createdAt: toNumber(row.created_at) };
}

/**
 * A client's Entra ID applications and API key (table client_credentials). The primary key
 * (kind, lookup) gives each application or key id to one client; the store decides, so two
 * operators adding the same one at once cannot both succeed. A row whose MAC does not hold, or
 * that is not its latest state (a key restored after its rotation), is refused where it would
 * authenticate (IntegrityError from find).
 */
export class SqlClientCredentialRepository implements ClientCredentialRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null,
    private readonly chain: ChainLanes,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  async find(kind: ClientCredentialKind, lookup: string): Promise<ClientCredential | null> {
    const latest = withLatestRecord(CLIENT_CREDENTIALS, 'k', [kind, lookup]);
    const rows = await this.db.query<CredentialRow & LatestRecordColumns>(`SELECT ${latest.columns} FROM client_credentials k ${latest.join} WHERE k.kind = ? AND k.lookup = ?`, [...latest.params, kind, lookup]);
    const row = rows.find((r) => r.lookup === lookup);
    return row ? toCredential(checkedCurrent(CLIENT_CREDENTIALS, row as unknown as MacedRow, row, this.sealer) as unknown as CredentialRow) : null;
  }

  async listFor(clientId: string): Promise<ClientCredential[]> {
    const rows = await this.db.query<CredentialRow>(`SELECT ${COLUMNS} FROM client_credentials WHERE client_id = ? ORDER BY kind, created_at, lookup`, [clientId]);
    return rows.map(toCredential);
  }

  async add(credential: ClientCredential): Promise<void> {
    await changeRows(this.chain, this.sealer, credential.createdAt, (rows) => insert(rows, credential));
  }

  /** The client's credentials of this kind replaced by `credential`, in one transaction. */
  async replace(credential: ClientCredential): Promise<void> {
    await changeRows(this.chain, this.sealer, credential.createdAt, async (rows) => {
      await rows.delete(CLIENT_CREDENTIALS, 'client_id = ? AND kind = ?', [credential.clientId, credential.kind]);
      await insert(rows, credential);
    });
  }

  async remove(clientId: string, kind: ClientCredentialKind, lookup?: string): Promise<number> {
    return changeRows(this.chain, this.sealer, Date.now(), (rows) =>
      lookup === undefined
        ? rows.delete(CLIENT_CREDENTIALS, 'client_id = ? AND kind = ?', [clientId, kind])
        : rows.delete(CLIENT_CREDENTIALS, 'client_id = ? AND kind = ? AND lookup = ?', [clientId, kind, lookup]),
    );
  }
}

function insert(rows: RowChanges, credential: ClientCredential): Promise<number> {
  return rows.insert(CLIENT_CREDENTIALS, {
    kind: credential.kind,
    lookup: credential.lookup,
    client_id: credential.clientId,
    secret_hash: credential.secretHash,
    created_at: credential.createdAt,
  });
}
