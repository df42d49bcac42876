import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readableByOthers } from './owner-only.js';

/**
 * The key ring: named AES-256 keys that encrypt values at rest (the audit's bodies and headers
 * today; anything else that must not be readable in the database tomorrow).
 *
 * - The NEWEST key (the last one listed) encrypts; every key decrypts, so old values stay
 *   readable until `gerbang keys rotate` has re-encrypted them.
 * - Each value gets a fresh random 96-bit nonce (GCM's native size; never reused with a key,
 *   2^-32 collision odds only after ~2^32 values per key) and a 128-bit tag, so a changed
 *   ciphertext fails to decrypt instead of decrypting to garbage.
 * - A sealed value is one printable string that carries everything needed to open it:
 *   `gcm1.<keyId>.<nonce>.<tag>.<ciphertext>` (base64url parts), so the key id sits beside the
 *   value and a column can hold values of several keys during a rotation; `gcm2` and `gcm3` the
 *   same, bound to associated data (BoundFormat).
 *
 * Keys come from the environment (GERBANG_AUDIT_KEYS) or key files (GERBANG_AUDIT_KEY_FILES),
 * never from source or the database (see `parseKeySpec`).
 */

/** gcm1: no associated data (files of one process: the audit spool). gcm2: bound to associated data (every stored value). */
const FORMAT = 'gcm1';
const BOUND_FORMAT = 'gcm2';
/**
 * The formats of a value bound to associated data. The ring seals and opens them alike; the format
 * says which associated data its reader must give (src/store/repositories/sealed-values.ts: gcm2 a
 * row's place by its key, gcm3 its place by the values it was inserted with), so a reader never
 * tries one after the other. A reader that does not know a format refuses the value as not sealed.
 */
export type BoundFormat = 'gcm2' | 'gcm3';
const BOUND_FORMATS: readonly string[] = ['gcm2', 'gcm3'] satisfies BoundFormat[];
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/**
 * Nonces are drawn from the CSPRNG this many at a time (one call instead of one per value, which
 * cost about as much as the sealing itself): each value still gets 12 bytes of its own, never
 * handed out twice, and a nonce is public in the sealed value anyway.
 */
const NONCES_PER_DRAW = 256;
let nonces = Buffer.alloc(0);
let nonceAt = 0;

function freshNonce(): Buffer {
  if (nonceAt + NONCE_BYTES > nonces.length) {
    nonces = randomBytes(NONCE_BYTES * NONCES_PER_DRAW);
    nonceAt = 0;
  }
  nonceAt += NONCE_BYTES;
  return nonces.subarray(nonceAt - NONCE_BYTES, nonceAt);
}

/** Key ids travel inside sealed values, whose separator is '.', so ids are a safe alphabet. */
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * A key ring problem. `setting` names the variable to fix; `reason` says whether a key is
 * badly configured, a value names a key the ring lacks, or a value does not decrypt (altered).
 */
export class KeyRingError extends Error {
  readonly code = 'KEY_RING';
  constructor(
    readonly setting: string,
    message: string,
    readonly reason: 'config' | 'unknown-key' | 'corrupt' = 'config',
  ) {
    super(`${setting}: ${message}`);
    this.name = 'KeyRingError';
  }
}

export interface RingKey {
  id: string;
  key: Buffer;
}

export class KeyRing {
  // ES private fields: never enumerated, so a ring that ends up in a log line or JSON shows no key.
  readonly #byId: Map<string, Buffer>;
  readonly #newest: RingKey;
  readonly #macKeys = new Map<string, Buffer>();

  /**
   * @param keys in age order; the last one encrypts. At least one.
   * @param setting the variable(s) the keys came from, named in every error.
   */
  constructor(
    keys: RingKey[],
    readonly setting = 'GERBANG_AUDIT_KEYS',
  ) {
    if (keys.length === 0) throw new KeyRingError(setting, 'no key given');
    this.#byId = new Map();
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id)) throw new KeyRingError(setting, `key id ${JSON.stringify(id)} must be 1-32 of A-Z a-z 0-9 _ -`);
      if (key.length !== KEY_BYTES) throw new KeyRingError(setting, `key ${id} must be ${KEY_BYTES} bytes (AES-256), got ${key.length}`);
      if (this.#byId.has(id)) throw new KeyRingError(setting, `key id ${id} is listed twice`);
      this.#byId.set(id, key);
    }
    this.#newest = keys[keys.length - 1];
  }

  /** Id of the key new values are encrypted with. */
  get currentKeyId(): string {
    return this.#newest.id;
  }

  get keyIds(): string[] {
    return [...this.#byId.keys()];
  }

  toJSON(): { keyIds: string[]; currentKeyId: string } {
    return { keyIds: this.keyIds, currentKeyId: this.currentKeyId };
  }

  /**
   * Encrypts with the newest key and a fresh nonce; returns the sealed string. With `aad`
   * (associated data: where the value lives) the value is `format` (gcm2 unless said) and opens
   * only with that same `aad` and format, so a ciphertext copied to another place does not open.
   */
  encrypt(plaintext: string, aad?: string, format: BoundFormat = BOUND_FORMAT): string {
    const nonce = freshNonce();
    const cipher = createCipheriv('aes-256-gcm', this.#newest.key, nonce, { authTagLength: TAG_BYTES });
    if (aad !== undefined) cipher.setAAD(associatedData(aad, format));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [aad === undefined ? FORMAT : format, this.#newest.id, nonce.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /**
   * Opens a sealed string. With `aad` only a value of `format` (gcm2 unless said) sealed with that
   * same associated data opens; without, only a `gcm1` value. Throws KeyRingError naming the
   * setting when the key id is not in the ring, and when the value is malformed, of another
   * format, or was altered or moved (the GCM tag does not match).
   */
  decrypt(sealed: string, aad?: string, boundFormat: BoundFormat = BOUND_FORMAT): string {
    const format = aad === undefined ? FORMAT : boundFormat;
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== format) throw new KeyRingError(this.setting, `a stored value is not a sealed value (format ${format})`, 'corrupt');
    const [, id, nonce, tag, ciphertext] = parts;
    const key = this.#byId.get(id);
    if (!key) throw new KeyRingError(this.setting, `a stored value was encrypted with key ${JSON.stringify(id)}, which is not configured (known: ${this.keyIds.join(', ')})`, 'unknown-key');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'), { authTagLength: TAG_BYTES });
      if (aad !== undefined) decipher.setAAD(associatedData(aad, format as BoundFormat));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyRingError(this.setting, `a value sealed with key ${id} does not decrypt: it was altered, or key ${id} is not the key it was sealed with`, 'corrupt');
    }
  }

  /**
   * The ring's keys, to build the same ring in a worker thread of this process that opens values
   * for it (src/store/repositories/reconciliation-checks.ts): a copy inside the same process's
   * memory, which any code of the process can already reach through this ring, so no new
   * exposure. Never for anything that leaves the process (a log, a file, another process).
   */
  keysForWorkerThread(): RingKey[] {
    return [...this.#byId].map(([id, key]) => ({ id, key: Buffer.from(key) }));
  }

  /** The key id a sealed string names (null when it is not a sealed string). */
  static keyIdOf(sealed: string): string | null {
    const parts = sealed.split('.');
    return parts.length === 5 && (parts[0] === FORMAT || BOUND_FORMATS.includes(parts[0])) ? parts[1] : null;
  }

  /** The bound format a sealed string says it is (null when it says none: clear text, gcm1, or an unknown format). */
  static boundFormatOf(sealed: string): BoundFormat | null {
    const format = sealed.slice(0, sealed.indexOf('.'));
    return BOUND_FORMATS.includes(format) ? (format as BoundFormat) : null;
  }

  /**
   * A MAC key derived from ring key `keyId` (the newest when omitted) for `purpose`, e.g. the
   * audit chain's links or the checkpoints: HKDF-SHA256, so the encryption key itself never
   * signs anything and each purpose has its own key. The database never holds it.
   */
  macKey(purpose: string, keyId: string = this.#newest.id): { keyId: string; key: Buffer } {
    const name = `${purpose}\n${keyId}`;
    let derived = this.#macKeys.get(name);
    if (!derived) {
      const key = this.#byId.get(keyId);
      if (!key) throw new KeyRingError(this.setting, `a record is signed with key ${JSON.stringify(keyId)}, which is not configured (known: ${this.keyIds.join(', ')})`, 'unknown-key');
      derived = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `gerbang ${purpose}`, 32));
      this.#macKeys.set(name, derived);
    }
    return { keyId, key: derived };
  }
}

/**
 * The associated data a bound value of `format` is sealed with: gcm2 `aad` itself (as it always
 * was), a later format `aad` behind its own name, so a value whose format is changed in the
 * database opens as neither, whatever its reader gives as `aad`.
 */
function associatedData(aad: string, format: BoundFormat): Buffer {
  return Buffer.from(format === BOUND_FORMAT ? aad : `${format}\n${aad}`, 'utf8');
}

/**
 * The associated data that binds a stored value to where it lives: its table, its column and
 * its row (the values that identify the row, known when the value is written). A value copied
 * to another row, column or table does not open.
 */
export function placeOf(table: string, column: string, row: readonly (string | number)[]): string {
  return JSON.stringify(['gerbang-sealed', table, column, ...row.map(String)]);
}

/** Where a client's request-signing key lives (clients.signing_key, sealed for its client id). */
export function signingKeyPlace(clientId: string): string {
  return placeOf('clients', 'signing_key', [clientId]);
}

/**
 * Parses one `keyId:base64key` entry (standard or url-safe base64 of 32 random bytes, e.g.
 * `2026-11:$(openssl rand -base64 32)`). `setting` is named in the error.
 */
export function parseKeySpec(spec: string, setting: string): RingKey {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new KeyRingError(setting, 'each key must be written keyId:base64key (e.g. k2026a:$(openssl rand -base64 32))');
  const id = spec.slice(0, colon).trim();
  const encoded = spec.slice(colon + 1).trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new KeyRingError(setting, `key ${id} is not base64`);
  return { id, key: Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64') };
}

export interface KeySources {
  /** `keyId:base64key` entries, oldest first (GERBANG_AUDIT_KEYS). */
  keys: string[];
  /** Files holding one `keyId:base64key` line each, oldest first (GERBANG_AUDIT_KEY_FILES). */
  keyFiles: string[];
}

/**
 * Builds the ring from the inline keys then the key files, in that order (the last listed
 * key encrypts). Returns null when neither is given. Throws KeyRingError naming the setting.
 */
export function keyRingFrom(sources: KeySources): KeyRing | null {
  const keys = sources.keys.map((spec) => parseKeySpec(spec, 'GERBANG_AUDIT_KEYS'));
  for (const file of sources.keyFiles) {
    let text: string;
    try {
      if (readableByOthers(file)) throw new KeyRingError('GERBANG_AUDIT_KEY_FILES', `${file} holds an audit key and must be readable by its owner only (chmod 600)`);
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if (error instanceof KeyRingError) throw error;
      throw new KeyRingError('GERBANG_AUDIT_KEY_FILES', `cannot read key file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    keys.push(parseKeySpec(text.trim(), `GERBANG_AUDIT_KEY_FILES (${file})`));
  }
  if (keys.length === 0) return null;
  const setting = sources.keyFiles.length > 0 ? (sources.keys.length > 0 ? 'GERBANG_AUDIT_KEYS/GERBANG_AUDIT_KEY_FILES' : 'GERBANG_AUDIT_KEY_FILES') : 'GERBANG_AUDIT_KEYS';
  return new KeyRing(keys, setting);
}

/** A new `keyId:base64key` line with a random key. */
export function newKeySpec(id: string): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * The sandbox's key file: created once (mode 0600, owner-only) with a random key, then reused so
 * the sandbox can read its own audit after a restart. Returns the path and whether it was made now.
 */
export function ensureKeyFile(path: string): { path: string; created: boolean } {
  if (existsSync(path)) return { path, created: false };
  mkdirSync(dirname(path), { recursive: true });
  const id = `sandbox-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
  writeFileSync(path, `${newKeySpec(id)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600); // the umask may have narrowed the mode, never widened it; make it exact
  return { path, created: true };
}
