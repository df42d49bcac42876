import { createHmac } from 'node:crypto';
import type { KeyRing } from '../../security/index.js';
import type { Dialect, PaymentDetails, Queryable, SqlStatement, SqlValue } from '../types.js';
import { parseDetails } from './payment-repository.js';
import { toNumber } from './row-values.js';
import { paymentPlace, type ValueSealer } from './sealed-values.js';

/**
 * The keyed trigram index of the console's contains search (migration 026): each payment's
 * searchable fields as the HMACs of their trigrams, so the database can narrow a search over the
 * sealed beneficiary name and remark without ever holding them in clear. The search opens the
 * candidates and confirms the match (payment-search-repository.ts): the index only narrows.
 */

/** What the trigram key is derived for (KeyRing.macKey): never the encryption key itself. */
const GRAM_PURPOSE = 'payment search gram';
/** Trigrams: a term shorter than this cannot be looked up (the console asks for at least 3 characters). */
export const GRAM_LENGTH = 3;
/** Rows per INSERT of trigrams: 2 placeholders each, far below either backend's limit. */
const ROWS_PER_INSERT = 1_000;
/** Payments indexed per transaction by reindexPayments. */
const REINDEX_BATCH = 500;

/**
 * The form a field is indexed and matched in: NFKC (a full-width or composed letter is the plain
 * one), lower case. The search's confirmation compares in the same form, so the index and the
 * match never disagree about what "contains" means.
 */
export function searchForm(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** The distinct trigrams of `text` in search form, by code point (an emoji or a CJK character is one). */
export function trigramsOf(text: string): string[] {
  const chars = Array.from(searchForm(text));
  const grams = new Set<string>();
  for (let i = 0; i + GRAM_LENGTH <= chars.length; i += 1) grams.add(chars.slice(i, i + GRAM_LENGTH).join(''));
  return [...grams];
}

/** Trigram hashes kept per key ring: names, remarks and id prefixes repeat from payment to payment. */
const MEMO_ENTRIES = 50_000;
const memos = new WeakMap<KeyRing, Map<string, bigint>>();

/**
 * Hashes trigrams under the ring's search key `keyId` (the newest when omitted): the key and the
 * ring's memo looked up once for all the grams a caller hashes (a payment has about 40).
 */
function gramHasher(ring: KeyRing, keyId?: string): (gram: string) => bigint {
  const { keyId: id, key } = ring.macKey(GRAM_PURPOSE, keyId);
  let memo = memos.get(ring);
  if (!memo) memos.set(ring, (memo = new Map()));
  const known = memo;
  const prefix = `${id}\n`;
  return (gram) => {
    const name = prefix + gram;
    const remembered = known.get(name);
    if (remembered !== undefined) return remembered;
    const hash = createHmac('sha256', key).update(gram).digest().readBigInt64BE(0);
    if (known.size >= MEMO_ENTRIES) known.delete(known.keys().next().value as string);
    known.set(name, hash);
    return hash;
  };
}

/**
 * A trigram's hash under the ring's search key `keyId` (the newest when omitted): the first 64
 * bits of HMAC-SHA256, read as a signed integer so it fits a BIGINT on both backends. Recent
 * ones are remembered (at most MEMO_ENTRIES per ring, oldest out first); the index holds them anyway.
 */
export function gramHash(ring: KeyRing, gram: string, keyId?: string): bigint {
  return gramHasher(ring, keyId)(gram);
}

/** The fields of a payment a text search looks in; the index holds the trigrams of all of them. */
export interface SearchableFields {
  transactionId: string;
  bankReference: string | null;
  bankTransactionId: string | null;
  beneficiaryName: string | null | undefined;
  remark: string | null | undefined;
}

/** The searchable fields of a payment row whose details are open. */
export function searchableOf(row: { transaction_id: string; bank_reference: string | null; bank_transaction_id: string | null }, details: PaymentDetails | null): SearchableFields {
  return {
    transactionId: row.transaction_id,
    bankReference: row.bank_reference,
    bankTransactionId: row.bank_transaction_id,
    beneficiaryName: details?.beneficiaryName,
    remark: details?.remark,
  };
}

/** Whether `fields` contain `term` (in search form): the truth the index only approximates. */
export function fieldsContain(fields: Partial<SearchableFields>, term: string): boolean {
  const needle = searchForm(term);
  return Object.values(fields).some((value) => typeof value === 'string' && searchForm(value).includes(needle));
}

/** The distinct trigram hashes of every field (each field on its own: no trigram spans two fields). */
export function gramHashesOf(ring: KeyRing, fields: Partial<SearchableFields>, keyId?: string): bigint[] {
  const grams = new Set<string>();
  for (const value of Object.values(fields)) if (typeof value === 'string') for (const gram of trigramsOf(value)) grams.add(gram);
  const hash = gramHasher(ring, keyId);
  const hashes = new Set<bigint>();
  for (const gram of grams) hashes.add(hash(gram));
  return [...hashes];
}

/**
 * Inserts the trigram rows of payment(s). `ignoring`: rows already there are skipped (a bank id's
 * trigrams added to a payment that may hold some of them), the one place the syntax differs.
 */
export async function insertGrams(q: Queryable, rows: { paymentId: number; hashes: bigint[] }[], ignoring = false): Promise<void> {
  await q.executeAll(gramInserts(q.dialect, rows, ignoring));
}

/** The INSERTs of insertGrams, to run later (a new payment's: Written.alongside). */
export function gramInserts(dialect: Dialect, rows: { paymentId: number; hashes: bigint[] }[], ignoring = false): SqlStatement[] {
  // Each row's two values side by side, in one flat list: a chunk's params are a slice of it.
  const values: SqlValue[] = [];
  for (const { paymentId, hashes } of rows) for (const hash of hashes) values.push(paymentId, hash);
  const inserts: SqlStatement[] = [];
  for (let at = 0; at < values.length; at += 2 * ROWS_PER_INSERT) {
    const params = values.slice(at, at + 2 * ROWS_PER_INSERT);
    inserts.push({ sql: `${insertVerb(dialect, ignoring)} INTO payment_search_grams (payment_id, gram_hash) VALUES (?, ?)${', (?, ?)'.repeat(params.length / 2 - 1)}`, params });
  }
  return inserts;
}

function insertVerb(dialect: Dialect, ignoring: boolean): string {
  if (!ignoring) return 'INSERT';
  return dialect === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
}

interface IndexedRow {
  id: number | string;
  client_id: string;
  created_at: number | string;
  transaction_id: string;
  bank_reference: string | null;
  bank_transaction_id: string | null;
  details_json: string | null;
}

/**
 * Indexes payments `ids` afresh under the ring's newest key, in `tx`: their row is claimed first
 * (search_key_id set: a row lock on MySQL, so a gateway adding a bank id's trigrams meanwhile waits
 * and adds them after), then read, their trigrams deleted and written again. A details value that
 * does not open is left out of the index (its row fails its integrity check when read; `audit
 * verify` names it), the ids still indexed.
 */
export async function indexPayments(tx: Queryable, sealer: ValueSealer, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const ring = sealer.keyRing;
  const list = ids.map(() => '?').join(', ');
  await tx.execute(`UPDATE payments SET search_key_id = ? WHERE id IN (${list})`, [ring.currentKeyId, ...ids]);
  const rows = await tx.query<IndexedRow>(`SELECT id, client_id, created_at, transaction_id, bank_reference, bank_transaction_id, details_json FROM payments WHERE id IN (${list})`, ids);
  await tx.execute(`DELETE FROM payment_search_grams WHERE payment_id IN (${list})`, ids);
  await insertGrams(
    tx,
    rows.map((row) => {
      const id = toNumber(row.id);
      let details: PaymentDetails | null = null;
      try {
        details = parseDetails(sealer.open(row.details_json, paymentPlace('details_json', row)));
      } catch {
        details = null;
      }
      return { paymentId: id, hashes: gramHashesOf(ring, searchableOf(row, details)) };
    }),
  );
  return rows.length;
}

/**
 * Indexes every payment not yet indexed under the ring's newest key (never indexed, or under an
 * older key), REINDEX_BATCH per transaction, in id order. Idempotent: a run cut short is run
 * again. Used by migration 026 (the payments stored before it), `keys rotate` and
 * `gerbang keys reindex-search`. Returns the number of payments indexed.
 */
export async function reindexPayments(
  db: Queryable,
  sealer: ValueSealer,
  options: { transaction?: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T>; onBatch?: (done: number) => void; neverIndexedOnly?: boolean } = {},
): Promise<number> {
  const keyId = sealer.keyRing.currentKeyId;
  const transaction = options.transaction ?? (<T>(fn: (tx: Queryable) => Promise<T>) => fn(db));
  // neverIndexedOnly: the gateway's background pass, which leaves payments under an older key to `keys rotate`.
  const which = options.neverIndexedOnly ? 'search_key_id IS NULL' : '(search_key_id IS NULL OR search_key_id <> ?)';
  let done = 0;
  let after = 0;
  for (;;) {
    const rows = await db.query<{ id: number | string }>(
      `SELECT id FROM payments WHERE ${which} AND id > ? ORDER BY id LIMIT ?`,
      options.neverIndexedOnly ? [after, REINDEX_BATCH] : [keyId, after, REINDEX_BATCH],
    );
    if (rows.length === 0) return done;
    const ids = rows.map((row) => toNumber(row.id));
    done += await transaction((tx) => indexPayments(tx, sealer, ids));
    options.onBatch?.(done);
    after = ids[ids.length - 1];
  }
}

/** How many payments a search cannot find yet: not indexed, or indexed under a key the ring no longer holds. */
export async function unindexedPayments(db: Queryable, ring: KeyRing): Promise<number> {
  const [{ n }] = await db.query<{ n: number | string }>(
    `SELECT COUNT(*) AS n FROM payments WHERE search_key_id IS NULL OR search_key_id NOT IN (${ring.keyIds.map(() => '?').join(', ')})`,
    ring.keyIds,
  );
  return toNumber(n);
}
