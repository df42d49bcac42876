import type { KeyRing } from '../../security/index.js';
import { relinkChains } from './audit-verify.js';
import { SqlAuditVerificationRepository } from './audit-verification-repository.js';
import { resignCoverage } from './chain-coverage.js';
import { MACED_TABLES } from './maced-tables.js';
import { resignBatchLines } from './transfer-batch-repository.js';
import type { ChainLanes } from './audit-chain.js';
import { changeRows, rowKeyOf } from './record-changes.js';
import { currentRowProblem, latestRecordsOf } from './record-history.js';
import { afterKey, rowsUnderOlderKeys, type MacedTable } from './record-macs.js';
import { accountTag, PAYMENT_COLUMNS, paymentMac, paymentMacProblem, type PaymentRow } from './payment-repository.js';
import type { Db, KeyRotationRepository, KeyRotationReport, SqlValue } from '../types.js';
import { toNumber } from './row-values.js';
import { reindexPayments } from './payment-search-grams.js';
import { KEY_ID_AFTER_PARTIAL_WRITE, paymentPlace, place, placeInRow, rowColumns, SEALED_TABLES, ValueSealer, type SealedTable } from './sealed-values.js';

/** Whole passes over the tables; a later pass picks up rows a writer changed during the one before. */
const MAX_PASSES = 3;

type SealedRow = Record<string, string | number | null> & { key_id: string | null };

/**
 * Re-encrypts every sealed value not yet sealed with the ring's newest key (the audit, payment
 * answers, payment-run lines, callbacks, client signing keys: SEALED_TABLES), rows of older keys
 * and rows holding values of several keys alike (each value stays bound to its place), `batchSize` rows per transaction so
 * no lock is held for long and the gateways keep writing meanwhile.
 *
 * Only the sealed columns and key_id change, and each UPDATE is guarded by what the batch read:
 * the row's key id and every sealed value. A gateway that wrote one of them meanwhile (a
 * completion, a payment's answer, a line's result: each seal has a fresh nonce, so any rewrite
 * differs) wins: the row is left alone and re-read by the next pass, so no write is overwritten.
 * The audit's hash chains cover clear text, so they stay valid without being touched.
 */
export class SqlKeyRotationRepository implements KeyRotationRepository {
  constructor(
    private readonly db: Db,
    private readonly ring: KeyRing | null,
    private readonly chain: ChainLanes,
  ) {}

  async rotate(options: Parameters<KeyRotationRepository['rotate']>[0]): Promise<KeyRotationReport> {
    const sealer = new ValueSealer(this.ring);
    const keyId = sealer.keyRing.currentKeyId;
    const batchSize = Math.min(Math.max(Math.trunc(options.batchSize), 1), 5_000);
    const records = Object.fromEntries(SEALED_TABLES.map((t) => [t.table, 0]));
    const report: KeyRotationReport = { keyId, records, batches: 0, remaining: 0 };
    const total = () => Object.values(records).reduce((a, b) => a + b, 0);
    for (let pass = 0; pass < MAX_PASSES; pass += 1) {
      const before = total();
      for (const table of SEALED_TABLES) {
        let after: SqlValue[] | null = null;
        for (;;) {
          const rows = await staleRows(this.db, table, keyId, after, batchSize);
          if (rows.length === 0) break;
          records[table.table] += await this.db.withTransaction(async (tx) => {
            let changed = 0;
            for (const row of rows) {
              const values = table.sealed.map((column) => {
                // Each value stays in its format, bound to the same place (a payment's account and details sealed in its INSERT stay so).
                return sealer.reseal(row[column] as string | null, placeInRow(table, column, row));
              });
              const guard = [['key_id', row.key_id] as const, ...table.sealed.map((column) => [column, row[column]] as const)];
              const result = await tx.execute(
                `UPDATE ${table.table} SET ${table.sealed.map((c) => `${c} = ?`).join(', ')}, key_id = ? ` +
                  `WHERE ${table.key.map((c) => `${c} = ?`).join(' AND ')} AND ${guard.map(([c, v]) => (v === null ? `${c} IS NULL` : `${c} = ?`)).join(' AND ')}`,
                [...values, keyId, ...table.key.map((c) => row[c]), ...guard.flatMap(([, v]) => (v === null ? [] : [v]))],
              );
              changed += result.affectedRows;
            }
            return changed;
          });
          report.batches += 1;
          options.onBatch?.(records);
          const last = rows[rows.length - 1];
          after = table.key.map((c) => last[c]);
        }
      }
      report.remaining = await countStale(this.db, keyId);
      if (report.remaining === 0 || total() === before) break;
    }
    // The MACs under the older keys: checked with them, then made again with the newest key.
    const ring = sealer.keyRing;
    // Each chain `batchSize` links a transaction, resumable from where a run killed half-way stopped (relinkChains).
    const chains = await relinkChains(this.db, sealer, { legacy: false, transaction: (fn) => this.db.withTransaction(fn), pageSize: batchSize, relinked: options.onChainRelinked });
    report.relinkedChains = chains.relinked;
    report.unfinishedChains = chains.unfinished;
    report.resignedPayments = await resignPayments(this.db, sealer);
    // Console users, clients, their credentials, grants and callback endpoints (record-macs.ts), each with its change record.
    for (const table of MACED_TABLES) await resignRows(this.db, this.chain, table, sealer, batchSize);
    // Who may lack a history (chain-coverage.ts): written by migrations only, so no change record.
    await resignCoverage(this.db, sealer);
    // Payment-run lines (transfer-batch-repository.ts): the gateway rewrites them whole, so no change record either.
    await resignBatchLines(this.db, sealer);
    // The search's trigrams under the newest key too, so retiring the old key loses no payment from a search.
    report.reindexedPayments = await this.reindexSearch();
    report.resignedVerifications = await new SqlAuditVerificationRepository(this.db, ring).resign();
    return report;
  }

  async reindexSearch(options: { onBatch?: (done: number) => void; neverIndexedOnly?: boolean } = {}): Promise<number> {
    return reindexPayments(this.db, new ValueSealer(this.ring), { transaction: (fn) => this.db.withTransaction(fn), ...options });
  }

  async sealPaymentsById(options: { batchSize: number }): Promise<{ resealed: number; remaining: number }> {
    const sealer = new ValueSealer(this.ring);
    const batchSize = Math.min(Math.max(Math.trunc(options.batchSize), 1), 5_000);
    const columns = ['source_account', 'details_json'] as const;
    const sealedAtInsert = columns.map((c) => `${c} LIKE 'gcm3.%'`).join(' OR ');
    let resealed = 0;
    let after = 0;
    for (;;) {
      const rows = await this.db.query<Pick<PaymentRow, 'id' | 'client_id' | 'transaction_id' | 'created_at' | 'source_account' | 'details_json'>>(
        `SELECT id, client_id, transaction_id, created_at, ${columns.join(', ')} FROM payments WHERE (${sealedAtInsert}) AND id > ? ORDER BY id LIMIT ?`,
        [after, batchSize],
      );
      if (rows.length === 0) break;
      resealed += await this.db.withTransaction(async (tx) => {
        let changed = 0;
        for (const row of rows) {
          const id = toNumber(row.id);
          // Opened for the place its format names, sealed again for the row's id with the newest key.
          const values = columns.map((c) => sealer.seal(sealer.open(row[c], paymentPlace(c, row)), place('payments', c, [id])));
          const guard = columns.map((c) => (row[c] === null ? `${c} IS NULL` : `${c} = ?`)).join(' AND ');
          const result = await tx.execute(
            `UPDATE payments SET ${columns.map((c) => `${c} = ?`).join(', ')}, key_id = ${KEY_ID_AFTER_PARTIAL_WRITE} WHERE id = ? AND ${guard}`,
            [...values, sealer.currentKeyId, id, ...columns.flatMap((c) => (row[c] === null ? [] : [row[c]]))],
          );
          changed += result.affectedRows;
        }
        return changed;
      });
      after = toNumber(rows[rows.length - 1].id);
    }
    const [{ n }] = await this.db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM payments WHERE ${sealedAtInsert}`);
    return { resealed, remaining: toNumber(n) };
  }
}

/** Rows not under `keyId`, after the key `after` (null: from the start), in key order. */
function staleRows(db: Db, table: SealedTable, keyId: string, after: SqlValue[] | null, limit: number): Promise<SealedRow[]> {
  const position = afterKey(table.key, after);
  const holding = table.holding ? ` AND ${table.holding}` : '';
  return db.query<SealedRow>(
    `SELECT ${[...new Set([...table.key, ...rowColumns(table)])].join(', ')}, key_id, ${table.sealed.join(', ')} FROM ${table.table} ` +
      `WHERE (key_id IS NULL OR key_id <> ?)${holding}${position.sql === '' ? '' : ` AND ${position.sql}`} ORDER BY ${table.key.join(', ')} LIMIT ?`,
    [keyId, ...position.values, limit],
  );
}

async function countStale(db: Db, keyId: string): Promise<number> {
  let total = 0;
  for (const { table, holding } of SEALED_TABLES) {
    const [{ n }] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE (key_id IS NULL OR key_id <> ?)${holding ? ` AND ${holding}` : ''}`, [keyId]);
    total += toNumber(n);
  }
  return total;
}

/** Every payment whose MAC holds under its older key gets the newest key's MAC (its fixed fields never change, so no write races it). */
async function resignPayments(db: Db, sealer: ValueSealer): Promise<number> {
  const ring = sealer.keyRing;
  let resigned = 0;
  let after = 0;
  for (;;) {
    const rows = await db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE mac_key_id <> ? AND id > ? ORDER BY id LIMIT 500`, [ring.currentKeyId, after]);
    for (const row of rows) {
      if (row.mac_key_id === null || !ring.keyIds.includes(row.mac_key_id) || paymentMacProblem(ring, row) !== null) continue;
      const { keyId, mac } = paymentMac(ring, { clientId: row.client_id, transactionId: row.transaction_id, requestHash: row.request_hash, amount: row.amount, currency: row.currency, createdAt: toNumber(row.created_at) });
      // The paying account's search tag (migration 022) under the newest key too, so retiring the old key loses no payment from a reconciliation.
      // (An account that does not open is left as it is: `audit verify` names it; the row keeps its tag.)
      let account: string | null | undefined;
      try {
        account = sealer.open(row.source_account, paymentPlace('source_account', row));
      } catch {
        account = undefined;
      }
      if (account === undefined) await db.execute('UPDATE payments SET mac_key_id = ?, mac = ? WHERE id = ? AND mac = ?', [keyId, mac, toNumber(row.id), row.mac]);
      else await db.execute('UPDATE payments SET mac_key_id = ?, mac = ?, source_account_tag = ? WHERE id = ? AND mac = ?', [keyId, mac, account === null ? null : accountTag(ring, account), toNumber(row.id), row.mac]);
      resigned += 1;
    }
    if (rows.length < 500) return resigned;
    after = toNumber(rows[rows.length - 1].id);
  }
}

/**
 * `keys rotate`: every row whose MAC holds under an older ring key gets the newest key's MAC, and
 * its record: read `batchSize` rows at a time in key order (never the table whole: the outbox of
 * queued callbacks grows with every transfer), each page re-MACed in one transaction of the
 * audit's chains (its UPDATEs, its records and their links a few round trips and one COMMIT, as
 * the sealed tables are re-encrypted a batch a transaction). Each UPDATE is guarded by the MAC
 * read, so a write of the gateway meanwhile (a dispatcher's attempt at a queued callback, under
 * the newest key: every process has it before a rotation) wins and is never re-MACed from the
 * values read before it. A row that does not hold, or is not its latest state, is left as it is,
 * for `audit verify` to name. Returns the number re-MACed.
 */
async function resignRows(db: Db, chain: ChainLanes, table: MacedTable, sealer: ValueSealer, batchSize: number): Promise<number> {
  let resigned = 0;
  let after: SqlValue[] | null = null;
  do {
    const page = await rowsUnderOlderKeys(db, table, sealer, { after, limit: batchSize });
    after = page.next;
    if (page.rows.length === 0) continue;
    resigned += await changeRows(
      chain,
      sealer,
      Date.now(),
      async (changes) => {
        const latest = await latestRecordsOf(changes.tx, table, page.rows);
        // Never re-MACed (recorded as the gateway's) when it is not its latest state: left for verify to name.
        const current = page.rows.filter((row) => currentRowProblem(table, row, latest.get(rowKeyOf(table, row))!, sealer) === null);
        const written = await changes.updateAll(table, current.map((row) => ({ current: row, changes: {} })), 'rotate');
        return written.filter(Boolean).length;
      },
      { checkpoint: !table.frequent },
    );
  } while (after !== null);
  return resigned;
}
