import { KeyRing, KeyRingError } from '../../security/index.js';

/**
 * Values encrypted at rest with the key ring, wherever they are stored: the audit's headers,
 * bodies and bank URLs, the answers kept for each payment, the lines of payment runs and the
 * callbacks waiting to be delivered. Each value is one sealed string
 * `gcm1.<keyId>.<nonce>.<tag>.<ciphertext>` (src/security/keyring.ts).
 *
 * Every table listed in SEALED_TABLES has a `key_id` column beside its sealed ones:
 * - a key id: every sealed value of the row is sealed with that key (so `keys rotate` finds
 *   the rows still under an older key with an index);
 * - NULL: the row may hold clear values (written before the migration that sealed its table:
 *   003 for the audit, 009 for the rest) or values of several keys (one column written later by
 *   a process with another newest key). `keys rotate` seals such rows whole and sets the key id.
 */

/** Turns a stored sealed value back into clear text. */
export interface ValueOpener {
  open(value: string | null, rowKeyId: string | null): string | null;
}

/**
 * Seals and opens values with the key ring. Without a ring (a store opened by a tool that needs
 * no sealed value) any use names the setting to configure; clear legacy values and NULLs need no key.
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

  seal(value: string): string;
  seal(value: string | null): string | null;
  seal(value: string | null): string | null {
    return value === null ? null : this.keyRing.encrypt(value);
  }

  /**
   * Opens a stored value. In a row whose key_id is NULL a value that is not a sealed string is
   * clear text from before its table was sealed; in a row with a key id every value must be sealed.
   */
  open(value: string | null, rowKeyId: string | null): string | null {
    if (value === null) return null;
    if (rowKeyId === null && KeyRing.keyIdOf(value) === null) return value;
    return this.keyRing.decrypt(value);
  }
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
   * Only the rows that hold a sealed value at all (an SQL condition from code, never input), for a
   * table where most rows hold none: clients without a signing key are neither walked nor counted
   * as left under an older key.
   */
  holding?: string;
}

/** Every sealed column of the store; everything else is clear and searchable. */
export const SEALED_TABLES: readonly SealedTable[] = [
  { table: 'audit_exchanges', key: ['id'], sealed: ['request_headers', 'request_body', 'response_body'] },
  { table: 'audit_bank_calls', key: ['id'], sealed: ['url', 'request_headers', 'request_body', 'response_body'] },
  { table: 'payments', key: ['id'], sealed: ['result_json', 'details_json'] },
  { table: 'transfer_batch_lines', key: ['batch_pk', 'line_no'], sealed: ['request_json', 'result_json'] },
  { table: 'callback_deliveries', key: ['id'], sealed: ['body'] },
  // A client's request-signing key (migration 008): the gateway needs the key itself to verify HMACs.
  { table: 'clients', key: ['id'], sealed: ['signing_key'], holding: 'signing_key IS NOT NULL' },
];
