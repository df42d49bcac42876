import { createHash } from 'node:crypto';

/** A BIGINT/INT column as a number (mysql2 hands back a string only beyond 2^53, which ours never reach). */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

export function toStringOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/**
 * Cuts a value to its column's size. MySQL in strict mode refuses an over-long value (and the
 * whole audit row with it); SQLite would keep it. Cutting here keeps both backends identical and
 * means a hostile 10 kB path or client id still gets its audit row.
 */
export function fit(value: string, max: number): string;
export function fit(value: string | null, max: number): string | null;
export function fit(value: string | null, max: number): string | null {
  return value !== null && value.length > max ? value.slice(0, max) : value;
}

/** String.prototype.toWellFormed (ES2024, Node 20's V8): not in the ES2022 library this project compiles against. */
const toWellFormed = (String.prototype as unknown as { toWellFormed(this: string): string }).toWellFormed;

/**
 * The string as it comes back from a utf8mb4 column: well-formed UTF-8, a lone surrogate as U+FFFD
 * (what a round trip through UTF-8 bytes gives, without the bytes: this runs on every string of
 * every audit digest, several times a transfer).
 */
export function wellFormed(value: string): string {
  return toWellFormed.call(value);
}

/**
 * A counter key that fits the VARCHAR(191) primary key and stays exact on every backend: long
 * keys, and keys ending in a space (MariaDB's PAD SPACE collations would make `client:x  ` the
 * same row as `client:x`), are replaced by a digest.
 */
export function counterKey(key: string): string {
  return key.length <= 191 && !key.endsWith(' ') ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== 'string' || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
