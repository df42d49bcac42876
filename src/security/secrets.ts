import { randomBytes } from 'node:crypto';

/** A client id: `gbc_` and 16 random hex characters; not secret, but not guessable either. */
export function newClientId(): string {
  return `gbc_${randomBytes(8).toString('hex')}`;
}

/** A client secret: 32 random bytes, base64url (43 characters). Shown once, stored only as a hash. */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What an API key looks like: `gbk_`, its public id (16 hex), `_`, its secret (43 base64url). */
export const API_KEY_PATTERN = /^gbk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/**
 * A new API key: a public id (the store looks the key up by it) and a 32-byte secret (only its
 * scrypt hash is kept). The whole key is shown once.
 */
export function newApiKey(): { key: string; keyId: string; secret: string } {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { key: `gbk_${keyId}_${secret}`, keyId, secret };
}
