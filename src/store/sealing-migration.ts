import { KeyRing, KeyRingError } from '../security/index.js';
import { placeInRow, rowColumns, SEALED_TABLES, ValueSealer, type SealedTable } from './repositories/sealed-values.js';
import { paymentMac, type PaymentRow } from './repositories/payment-repository.js';
import { toNumber } from './repositories/row-values.js';
import type { Queryable, SqlValue } from './types.js';

const BATCH = 500;

/**
 * Sealed columns added by migrations after 012: they do not exist yet when 012 runs, and the
 * gateway seals them for their place from the start, so 012 has nothing of theirs to seal.
 */
const ADDED_AFTER_012 = new Set(['payments.details_json', 'audit_completions.response_body', 'payment_events.result_json']);

/** The sealed columns of `table` that exist when 012 runs. */
function sealedAt012(table: SealedTable): readonly string[] {
  return table.sealed.filter((c) => !ADDED_AFTER_012.has(`${table.table}.${c}`));
}

/**
 * Migration 012's step in code (SQL cannot encrypt): every stored value that is not yet sealed
 * for its place becomes so, before any process that opens values only that way reads it.
 * - clear text in a row whose key_id is NULL (written before its table was sealed: 003 for the
 *   audit, 009 for the rest) is sealed as it is;
 * - a `gcm1` value (sealed with no associated data) is opened with its key and sealed again for
 *   its place.
 * Clear text in a row that carries a key id was never written by the gateway (it sealed every
 * value of such rows) and is left as it is, so it fails its integrity check when read.
 *
 * Idempotent (a value already `gcm2` is skipped), so a run cut short is simply run again. Needs
 * the key ring only when there is something to seal; without one it names the setting.
 * Returns the number of values sealed.
 */
export async function sealLegacyValues(db: Queryable, keys: KeyRing | null): Promise<number> {
  const sealer = new ValueSealer(keys);
  let sealed = 0;
  for (const table of SEALED_TABLES) {
    const sealedColumns = sealedAt012(table);
    if (sealedColumns.length === 0) continue; // a table created after 012
    const columns = [...new Set([...table.key, ...rowColumns(table)])];
    const unsealed = sealedColumns.map((c) => `(${c} IS NOT NULL AND ${c} NOT LIKE 'gcm2.%')`).join(' OR ');
    let after: SqlValue[] = [];
    for (;;) {
      const position = after.length === 0 ? '' : table.key.length === 1 ? ` AND ${table.key[0]} > ?` : ` AND (${table.key[0]} > ? OR (${table.key[0]} = ? AND ${table.key[1]} > ?))`;
      const positionValues = after.length === 0 ? [] : table.key.length === 1 ? after : [after[0], after[0], after[1]];
      const rows = await db.query<Record<string, string | number | null>>(
        `SELECT ${columns.join(', ')}, key_id, ${sealedColumns.join(', ')} FROM ${table.table} WHERE (${unsealed})${position} ORDER BY ${table.key.join(', ')} LIMIT ?`,
        [...positionValues, BATCH],
      );
      for (const row of rows) {
        const values: (string | null)[] = [];
        for (const column of sealedColumns) {
          const value = row[column] as string | null;
          const legacy = value === null || value.startsWith('gcm2.') ? null : legacyClearText(sealer, value, row.key_id as string | null);
          values.push(legacy === null ? value : sealer.seal(legacy, placeInRow(table, column, row)));
          if (legacy !== null) sealed += 1;
        }
        await db.execute(
          `UPDATE ${table.table} SET ${sealedColumns.map((c) => `${c} = ?`).join(', ')}, key_id = ? WHERE ${table.key.map((c) => `${c} = ?`).join(' AND ')}`,
          [...values, values.every((v) => v === null || v.startsWith('gcm2.')) ? sealer.currentKeyId : row.key_id, ...table.key.map((c) => row[c])],
        );
      }
      if (rows.length < BATCH) break;
      const last = rows[rows.length - 1];
      after = table.key.map((c) => last[c]);
    }
  }
  return sealed;
}

/** The clear text of a value from before 012, or null when it is none (left for the integrity check). */
function legacyClearText(sealer: ValueSealer, value: string, rowKeyId: string | null): string | null {
  if (KeyRing.keyIdOf(value) === null) return rowKeyId === null ? value : null;
  try {
    return sealer.keyRing.decrypt(value); // gcm1: its GCM tag still proves it
  } catch (error) {
    if (error instanceof KeyRingError && error.reason === 'corrupt') return null;
    throw error;
  }
}

/**
 * Migration 012's second step: every payment written before it gets the MAC of its fixed fields
 * (paymentMac), so the payments as they stood at the migration are the ones later checked.
 */
export async function signLegacyPayments(db: Queryable, keys: KeyRing | null): Promise<number> {
  let signed = 0;
  for (;;) {
    // Only the columns that exist at 012 (PAYMENT_COLUMNS names later ones too).
    const rows = await db.query<Pick<PaymentRow, 'id' | 'client_id' | 'transaction_id' | 'request_hash' | 'amount' | 'currency' | 'created_at'>>(
      'SELECT id, client_id, transaction_id, request_hash, amount, currency, created_at FROM payments WHERE mac IS NULL ORDER BY id LIMIT ?',
      [BATCH],
    );
    for (const row of rows) {
      const { keyId, mac } = paymentMac(new ValueSealer(keys).keyRing, {
        clientId: row.client_id,
        transactionId: row.transaction_id,
        requestHash: row.request_hash,
        amount: row.amount,
        currency: row.currency,
        createdAt: toNumber(row.created_at),
      });
      await db.execute('UPDATE payments SET mac_key_id = ?, mac = ? WHERE id = ?', [keyId, mac, row.id]);
      signed += 1;
    }
    if (rows.length < BATCH) return signed;
  }
}

/**
 * What migration 012 would seal, sign or re-link (before its DDL): values not sealed for their
 * place, payments, chain links. Any of them needs the key ring.
 */
export async function countLegacyValues(db: Queryable): Promise<number> {
  let total = 0;
  for (const table of SEALED_TABLES) {
    if (sealedAt012(table).length === 0) continue;
    const unsealed = sealedAt012(table).map((c) => `(${c} IS NOT NULL AND ${c} NOT LIKE 'gcm2.%')`).join(' OR ');
    const [{ n }] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table.table} WHERE ${unsealed}`);
    total += toNumber(n);
  }
  for (const table of ['payments', 'audit_chain']) {
    const [{ n }] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table}`);
    total += toNumber(n);
  }
  return total;
}
