import { KeyRingError, type KeyRing } from './keyring.js';

/** What signs and verifies the API's access tokens (AccessTokens). */
export interface TokenKeys {
  issue(clientId: string, secretVersion: number): string;
  verify(token: string): { clientId: string };
}

/**
 * Seals a probe value with the ring's current key and opens it again; returns that key's id.
 * Throws KeyRingError naming the setting when the probe does not open.
 */
export function probeKeyRing(ring: KeyRing): string {
  if (ring.decrypt(ring.encrypt('key-check')) !== 'key-check') throw new KeyRingError('GERBANG_AUDIT_KEYS', `a value sealed with key ${ring.currentKeyId} did not open again`);
  return ring.currentKeyId;
}

/**
 * The keys a gateway cannot serve without, checked by using them: an access token signs and
 * verifies, and an audit value seals and opens. Used by /readyz and `gerbang doctor`; returns a
 * one-line description, throws an Error naming the setting at fault.
 */
export function checkKeys(tokens: TokenKeys, auditKeyId: () => string): string {
  let verified: string | undefined;
  try {
    verified = tokens.verify(tokens.issue('key-check', 0)).clientId;
  } catch {
    // reported below
  }
  if (verified !== 'key-check') throw new Error('GERBANG_JWT_SECRET: an access token did not verify');
  return `access tokens sign and verify; audit sealed with key ${auditKeyId()}`;
}
