import { randomBytes } from 'node:crypto';

/** A client id: `gbc_` and 16 random hex characters; not secret, but not guessable either. */
export function newClientId(): string {
  return `gbc_${randomBytes(8).toString('hex')}`;
}

/** A client secret: 32 random bytes, base64url (43 characters). Shown once, stored only as a hash. */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}
