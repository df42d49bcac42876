import { randomBytes } from 'node:crypto';
import { KeyRing } from '../../src/security/index.js';

/** A fresh `keyId:base64key` entry; tests make their own keys, none is committed. */
export function testKeySpec(id = `t${randomBytes(3).toString('hex')}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** A key ring of the given GERBANG_AUDIT_KEYS entries (oldest first). */
export function ringOf(...specs: string[]): KeyRing {
  return new KeyRing(
    specs.map((spec) => {
      const [id, key] = spec.split(':');
      return { id, key: Buffer.from(key, 'base64') };
    }),
  );
}

/** One key per test run for stores the tests open directly, and the same for their gateways. */
export const TEST_AUDIT_KEY = testKeySpec('test-run');
export const TEST_AUDIT_KEYS = ringOf(TEST_AUDIT_KEY);
