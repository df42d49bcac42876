import { createHash } from 'node:crypto';
import { API_KEY_PATTERN, verifySecret } from '../../security/index.js';
import type { ClientCredentialRepository } from '../../store/types.js';
import { invalidToken } from './access-tokens.js';

/** The header an API key is sent in (redacted like Authorization). */
export const API_KEY_HEADER = 'X-API-Key';

/** How many verified keys a process remembers (a few per client is plenty). */
const REMEMBERED = 1_000;

/**
 * API keys, for connectors that cannot run OAuth. A key is `gbk_<id>_<secret>`: the store is
 * asked for the key id, and the secret is checked against its scrypt hash in constant time.
 *
 * scrypt costs tens of milliseconds by design, too much for every call of a payment run, so
 * a key that verified is remembered (by its SHA-256) together with the stored hash it verified
 * against: the next call still reads the store, and skips scrypt only while that hash is
 * unchanged. A rotated or revoked key has another row or none, so it stops at once on every
 * worker.
 */
export class ApiKeys {
  private readonly verified = new Map<string, string>();

  constructor(private readonly credentials: ClientCredentialRepository) {}

  /** The id of the client the key belongs to. Throws AppError('INVALID_TOKEN') for any other key. */
  async clientOf(key: string): Promise<string> {
    const match = API_KEY_PATTERN.exec(key);
    if (!match) throw invalidApiKey();
    const credential = await this.credentials.find('api-key', match[1]);
    if (!credential?.secretHash) throw invalidApiKey();
    const digest = createHash('sha256').update(key).digest('base64url');
    if (this.verified.get(digest) !== credential.secretHash) {
      if (!(await verifySecret(match[2], credential.secretHash))) throw invalidApiKey();
      if (this.verified.size >= REMEMBERED) this.verified.clear();
      this.verified.set(digest, credential.secretHash);
    }
    return credential.clientId;
  }
}

function invalidApiKey() {
  return invalidToken('the API key is invalid');
}
