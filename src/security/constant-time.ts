import { timingSafeEqual } from 'node:crypto';

/**
 * Whether two stored texts (a MAC or hash in hex, as the database or a checkpoint line holds it)
 * are equal, compared in constant time: a MAC checked with `===` tells an attacker how many of its
 * leading characters were right.
 */
export function sameSecretText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
