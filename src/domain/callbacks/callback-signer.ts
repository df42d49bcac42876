import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../../config/index.js';
import { getLogger } from '../../log/index.js';

const log = getLogger('callbacks');

/**
 * Signs the notifications Gerbang sends the ERP, with an RSA key (RSASSA-PKCS1-v1_5 over SHA-256:
 * what .NET's RSA.VerifyData, X++ and AL can check). The ERP verifies with the public key (served
 * at GET /v1/callbacks/public-key), so no shared secret has to be stored or handed over.
 *
 * Header: `Gerbang-Signature: t=<unix seconds>,kid=<key id>,sig=<base64 signature of "t.body">`.
 */
export class CallbackSigner {
  readonly publicKeyPem: string;
  /** First 16 hex digits of the SHA-256 of the public key (DER): which key signed. */
  readonly keyId: string;

  private constructor(private readonly privateKey: KeyObject) {
    const publicKey = createPublicKey(privateKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
  }

  /**
   * The key in `file`; when the file does not exist yet, a new 3072-bit key is written there
   * (mode 0600) — once: with several workers starting at once, the first write wins and the others
   * read it. All nodes of one installation must share the file (or the ERP trusts each key).
   */
  static fromFile(file: string): CallbackSigner {
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
      try {
        writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
        log.warn({ file }, 'generated a new callback signing key; give the ERP its public key (GET /v1/callbacks/public-key)');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    try {
      const key = createPrivateKey(readFileSync(file));
      if (key.asymmetricKeyType !== 'rsa') throw new Error(`an ${key.asymmetricKeyType} key, not RSA`);
      return new CallbackSigner(key);
    } catch (error) {
      throw new ConfigError([`GERBANG_CALLBACK_KEY_FILE: ${file} is not an RSA private key in PEM (${(error as Error).message})`]);
    }
  }

  signatureHeader(body: string, nowMs: number): string {
    const t = Math.floor(nowMs / 1000);
    const signature = sign('sha256', Buffer.from(`${t}.${body}`, 'utf8'), this.privateKey).toString('base64');
    return `t=${t},kid=${this.keyId},sig=${signature}`;
  }
}
