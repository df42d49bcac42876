import { IntegrityError } from '../../errors/index.js';
import { KeyRing, KeyRingError, placeOf, type BoundFormat } from '../../security/index.js';

/**
 * Values encrypted at rest with the key ring, wherever they are stored: the audit's headers,
 * bodies and bank URLs, the answers kept for each payment, the lines of payment runs and the
 * callbacks waiting to be delivered. Each value is one sealed string
 * `gcm1.<keyId>.<nonce>.<tag>.<ciphertext>` (src/security/keyring.ts).
 *
 * `gcm2.<keyId>.<nonce>.<tag>.<ciphertext>` (src/security/keyring.ts), bound to its table,
 * column and row (SealedTable.row: for a payment, its id).
 *
 * `gcm3.…` (the same, bound to another place): a value sealed in its row's INSERT, before the row's
 * id exists, bound to the values the row is inserted with (SealedTable.insertRow: for a payment, its
 * client, transaction id and creation time). The format says which place a value is bound to, so
 * it is opened for that place only, never tried for one then the other: a format changed in the
 * database opens for neither. A release that does not know gcm3 refuses such a value as not sealed
 * for its place (AUDIT_INTEGRITY naming it): so it is written only once every node reads it
 * (GERBANG_SEAL_PAYMENTS_AT_INSERT).
 *
 * Every table listed in SEALED_TABLES has a `key_id` column beside its sealed ones, an index
 * for `keys rotate` only (it proves nothing: opening does not trust it):
 * - a key id: every sealed value of the row is sealed with that key (so `keys rotate` finds
 *   the rows still under an older key with an index);
 * - NULL: the row may hold values of several keys (one column written later by a process with
 *   another newest key). `keys rotate` seals such rows whole and sets the key id.
 */

/**
 * Where a sealed value lives: its table, column and the values identifying its row (see
 * SealedTable.row). Sealed into the value as associated data (placeOf), so it opens only there.
 */
export interface SealPlace {
  table: string;
  column: string;
  row: readonly (string | number)[];
  /**
   * The values the row was inserted with (SealedTable.insertRow), where its table has them: the
   * place a value sealed in the row's INSERT (gcm3) is bound to. Absent: such a value does not open.
   */
  insertRow?: readonly (string | number)[];
}

/** Turns a stored sealed value back into clear text. */
export interface ValueOpener {
  open(value: string | null, place: SealPlace): string | null;
}

/**
 * Seals and opens values with the key ring, each bound to its place (AES-256-GCM with the place
 * as associated data). There is no clear-text fallback: a value that is not sealed for its place
 * (clear text, a ciphertext moved from another row, an altered one) throws IntegrityError naming
 * the place, whatever the row's key_id says. Clear values from before 012 were sealed by that
 * migration (src/store/sealing-migration.ts). Without a ring (a store opened by a tool that needs
 * no sealed value) any use names the setting to configure; NULLs need no key.
 */
export class ValueSealer implements ValueOpener {
  constructor(private readonly ring: KeyRing | null) {}

  get keyRing(): KeyRing {
    if (!this.ring) {
      throw new KeyRingError(
        'GERBANG_AUDIT_KEYS',
        'no audit key is configured, so the audit and the other sealed values (payment answers, payment-run lines, callbacks) can be neither written nor read ' +
          '(set GERBANG_AUDIT_KEYS or GERBANG_AUDIT_KEY_FILES)',
      );
    }
    return this.ring;
  }

  /** The key id a row written now carries; null without a ring (then nothing sealed may be written). */
  get currentKeyId(): string | null {
    return this.ring?.currentKeyId ?? null;
  }

  /** Seals `value` for `place` by its row (gcm2): for a row whose key is known. */
  seal(value: string, place: SealPlace): string;
  seal(value: string | null, place: SealPlace): string | null;
  seal(value: string | null, place: SealPlace): string | null {
    return this.sealAs(value, place, 'gcm2');
  }

  /**
   * Seals `value` for `place` by the values its row is inserted with (gcm3, `place.insertRow`), so it
   * can be written in the row's INSERT. Only once every node reads gcm3 (see the file's comment).
   */
  sealAtInsert(value: string | null, place: SealPlace): string | null {
    return this.sealAs(value, place, 'gcm3');
  }

  /** A stored value opened and sealed again with the newest key for the same place, in the same format (`keys rotate`). Throws as open(). */
  reseal(value: string | null, place: SealPlace): string | null {
    if (value === null) return null;
    return this.sealAs(this.open(value, place), place, KeyRing.boundFormatOf(value) ?? 'gcm2');
  }

  private sealAs(value: string | null, place: SealPlace, format: BoundFormat): string | null {
    return value === null ? null : this.keyRing.encrypt(value, associatedData(place, format), format);
  }

  /**
   * Opens a stored value sealed for `place`, by the place its format names (see the file's
   * comment). Throws IntegrityError (AUDIT_INTEGRITY) when it was not sealed for it (see the
   * class), KeyRingError naming the setting when its key is not configured.
   */
  open(value: string | null, place: SealPlace): string | null {
    if (value === null) return null;
    try {
      const format = KeyRing.boundFormatOf(value) ?? 'gcm2';
      if (format === 'gcm3' && place.insertRow === undefined) {
        throw new IntegrityError(describePlace(place, 'is sealed for the values its row was inserted with, which this column is never sealed for: it was moved or altered'));
      }
      return this.keyRing.decrypt(value, associatedData(place, format), format);
    } catch (error) {
      if (error instanceof KeyRingError && error.reason === 'corrupt') {
        throw new IntegrityError(describePlace(place, `is not a value sealed for it: clear text, moved from another row, or altered (${error.message})`));
      }
      throw error;
    }
  }
}

/**
 * The associated data a value of `format` is bound to: gcm2 its place by its row, gcm3 by the values
 * its row was inserted with, under a label of its own so neither place can ever read as the other.
 */
function associatedData(place: SealPlace, format: BoundFormat): string {
  if (format === 'gcm2') return placeOf(place.table, place.column, place.row);
  if (place.insertRow === undefined) throw new Error(`${place.table}.${place.column} is never sealed at its row's INSERT`);
  return placeOf(place.table, place.column, ['inserted with', ...place.insertRow]);
}

/** `payments.result_json of row [42] …`: names the place for the log and `audit verify`. */
export function describePlace(place: SealPlace, problem: string): string {
  return `${place.table}.${place.column} of row ${JSON.stringify(place.row)} ${problem}`;
}

/**
 * The key_id to set when a write seals SOME of a row's sealed columns with `currentKeyId` (the
 * one `?`) and leaves the others as they are: unchanged while the row is under that same key,
 * else NULL, so `keys rotate` seals the row whole (its other values may be under an older key).
 */
export const KEY_ID_AFTER_PARTIAL_WRITE = 'CASE WHEN key_id = ? THEN key_id ELSE NULL END';

/** A table with sealed columns: what `keys rotate` walks, in primary-key order. */
export interface SealedTable {
  table: string;
  /** Primary key columns, in key order (one or two). */
  key: readonly string[];
  sealed: readonly string[];
  /**
   * The columns whose values identify a row when its values are sealed (the place's `row`), in
   * order, `#` marking a number. Known before the INSERT (an auto-increment id is not), unique
   * or nearly so (an audit row: its request id and time; the chain covers the rest).
   */
  row: readonly string[];
  /**
   * For a table whose values may be sealed in the row's INSERT (gcm3, before `row` is known): the
   * columns, as `row`, whose values the row is inserted with and that identify it (a payment: its
   * unique client and transaction id, and its creation time, which its MAC covers).
   */
  insertRow?: readonly string[];
  /**
   * Only the rows that hold a sealed value at all (an SQL condition from code, never input), for a
   * table where most rows hold none: clients without a signing key are neither walked nor counted
   * as left under an older key.
   */
  holding?: string;
}

/** Every sealed column of the store; everything else is clear and searchable. */
export const SEALED_TABLES: readonly SealedTable[] = [
  { table: 'audit_exchanges', key: ['id'], row: ['request_id', '#received_at'], sealed: ['request_headers', 'request_body', 'response_body'] },
  // An exchange's completion (migration 023): its answer, sealed for its exchange id.
  { table: 'audit_completions', key: ['exchange_id'], row: ['#exchange_id'], sealed: ['response_body'] },
  { table: 'audit_bank_calls', key: ['id'], row: ['request_id', 'operation', '#started_at'], sealed: ['url', 'request_headers', 'request_body', 'response_body'] },
  // source_account (migration 011): the paying account, read back to ask for its statement;
  // details_json (migration 015): the transfer's details the finance console shows.
  // The account and details may be sealed in the payment's INSERT (GERBANG_SEAL_PAYMENTS_AT_INSERT), bound to its client, transaction id and creation time.
  { table: 'payments', key: ['id'], row: ['#id'], insertRow: ['client_id', 'transaction_id', '#created_at'], sealed: ['result_json', 'source_account', 'details_json'] },
  // A payment's history (migration 024): the answer kept at each event, sealed for the payment and the event's place in its history.
  { table: 'payment_events', key: ['id'], row: ['#payment_id', '#seq'], sealed: ['result_json'] },
  { table: 'transfer_batch_lines', key: ['batch_pk', 'line_no'], row: ['#batch_pk', '#line_no'], sealed: ['request_json', 'result_json'] },
  { table: 'callback_deliveries', key: ['id'], row: ['client_id', 'transaction_id'], sealed: ['body'] },
  // A client's request-signing key (migration 008): the gateway needs the key itself to verify HMACs.
  { table: 'clients', key: ['id'], row: ['id'], sealed: ['signing_key'], holding: 'signing_key IS NOT NULL' },
  // Not here: console_sessions.flash (migration 021), a message sealed for a session's next page
  // only, cleared when shown or with the session (idle minutes). A flash left under a key retired
  // meanwhile does not open: the page then says the message was lost, and nothing else is.
];

/** The columns a table's rows are read with to know their place (SealedTable.row and insertRow without the `#`). */
export function rowColumns(table: SealedTable): string[] {
  return [...new Set([...table.row, ...(table.insertRow ?? [])].map((c) => c.replace(/^#/, '')))];
}

/** The place of column `column` in a row read with rowColumns(table). */
export function placeInRow(table: SealedTable, column: string, row: Record<string, unknown>): SealPlace {
  const valuesOf = (columns: readonly string[]) => columns.map((c) => (c.startsWith('#') ? Number(row[c.slice(1)]) : String(row[c])));
  return { table: table.table, column, row: valuesOf(table.row), ...(table.insertRow ? { insertRow: valuesOf(table.insertRow) } : {}) };
}

const SEALED_PAYMENTS = SEALED_TABLES.find((t) => t.table === 'payments') as SealedTable;

/**
 * Where a payment's sealed value `column` lives: by its id (gcm2), and by its client, transaction id
 * and creation time (gcm3, a value sealed in its INSERT); the value's format says which it is bound to.
 */
export function paymentPlace(
  column: 'result_json' | 'source_account' | 'details_json',
  row: { id: number | string; client_id: string; transaction_id: string; created_at: number | string },
): SealPlace {
  return placeInRow(SEALED_PAYMENTS, column, row);
}

/** The place of a value of `table.column` for a row identified by `row` (SealedTable.row's values, in order). */
export function place(table: SealedTableName, column: string, row: readonly (string | number)[]): SealPlace {
  return { table, column, row };
}

export type SealedTableName = 'audit_exchanges' | 'audit_completions' | 'payment_events' | 'audit_bank_calls' | 'payments' | 'transfer_batch_lines' | 'callback_deliveries' | 'clients' | 'console_sessions';
