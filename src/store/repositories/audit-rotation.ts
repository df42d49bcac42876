import type { KeyRing } from '../../security/index.js';
import type { AuditRotationReport, Db, SqlValue } from '../types.js';
import { AuditSealer, SEALED_COLUMNS, type AuditTable } from './audit-records.js';
import { toNumber } from './row-values.js';

/** Whole passes over the tables; a later pass picks up rows a writer changed during the one before. */
const MAX_PASSES = 3;

type SealedRow = Record<string, string | null> & { id: number | string; key_id: string | null; outcome?: string };

/**
 * Re-encrypts every audit record not yet sealed with the ring's newest key (rows of older keys,
 * and clear rows from before migration 003), `batchSize` rows per transaction so no lock is held
 * for long and the gateway keeps writing meanwhile.
 *
 * Only the sealed columns and key_id change, and each UPDATE is guarded by what the batch read
 * (the row's key id, and for exchanges its outcome): an exchange a gateway completed in the
 * meantime is left alone and re-read by the next pass, so a completion is never overwritten.
 * The hash chains cover clear text, so they stay valid without being touched.
 */
export async function rotateAudit(
  db: Db,
  ring: KeyRing,
  options: { batchSize: number; onBatch?: (done: { exchanges: number; bankCalls: number }) => void },
): Promise<AuditRotationReport> {
  const sealer = new AuditSealer(ring);
  const keyId = ring.currentKeyId;
  const batchSize = Math.min(Math.max(Math.trunc(options.batchSize), 1), 5_000);
  const report: AuditRotationReport = { keyId, exchanges: 0, bankCalls: 0, batches: 0, remaining: 0 };
  for (let pass = 0; pass < MAX_PASSES; pass += 1) {
    const before = report.exchanges + report.bankCalls;
    for (const table of ['audit_exchanges', 'audit_bank_calls'] as const) {
      let afterId = 0;
      for (;;) {
        const rows = await staleRows(db, table, keyId, afterId, batchSize);
        if (rows.length === 0) break;
        const changed = await db.withTransaction(async (tx) => {
          let n = 0;
          for (const row of rows) {
            const columns = SEALED_COLUMNS[table];
            const values: SqlValue[] = columns.map((column) => sealer.seal(sealer.open(row[column], row.key_id)));
            const guard = [row.key_id === null ? 'key_id IS NULL' : 'key_id = ?', ...(table === 'audit_exchanges' ? ['outcome = ?'] : [])];
            const guardValues = [...(row.key_id === null ? [] : [row.key_id]), ...(table === 'audit_exchanges' ? [row.outcome ?? ''] : [])];
            const result = await tx.execute(
              `UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(', ')}, key_id = ? WHERE id = ? AND ${guard.join(' AND ')}`,
              [...values, keyId, row.id, ...guardValues],
            );
            n += result.affectedRows;
          }
          return n;
        });
        report.batches += 1;
        if (table === 'audit_exchanges') report.exchanges += changed;
        else report.bankCalls += changed;
        options.onBatch?.({ exchanges: report.exchanges, bankCalls: report.bankCalls });
        afterId = toNumber(rows[rows.length - 1].id);
      }
    }
    report.remaining = await countStale(db, keyId);
    if (report.remaining === 0 || report.exchanges + report.bankCalls === before) break;
  }
  return report;
}

function staleRows(db: Db, table: AuditTable, keyId: string, afterId: number, limit: number): Promise<SealedRow[]> {
  const extra = table === 'audit_exchanges' ? ', outcome' : '';
  return db.query<SealedRow>(
    `SELECT id, key_id${extra}, ${SEALED_COLUMNS[table].join(', ')} FROM ${table} WHERE (key_id IS NULL OR key_id <> ?) AND id > ? ORDER BY id LIMIT ?`,
    [keyId, afterId, limit],
  );
}

async function countStale(db: Db, keyId: string): Promise<number> {
  let total = 0;
  for (const table of Object.keys(SEALED_COLUMNS) as AuditTable[]) {
    const [{ n }] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE key_id IS NULL OR key_id <> ?`, [keyId]);
    total += toNumber(n);
  }
  return total;
}
