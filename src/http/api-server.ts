import { unwatchFile, watchFile, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../config/index.js';
import { getLogger } from '../log/index.js';

const log = getLogger('http');

export interface TlsFiles {
  /** PEM certificate chain (the server's certificate first). */
  certFile: string;
  /** PEM private key of that certificate. */
  keyFile: string;
  /** How often the two files are checked for a new certificate. */
  reloadIntervalMs: number;
}

/**
 * TLS 1.2 at least (1.0/1.1 are deprecated by RFC 8996), 1.3 preferred: both ends offer their
 * highest version first, so a 1.3 client gets 1.3. Node's own minimum is 1.2 too, but a
 * `--tls-min-v1.0` flag or NODE_OPTIONS would lower it: the API pins it here.
 */
export const TLS_VERSIONS: Pick<SecureContextOptions, 'minVersion' | 'maxVersion'> = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };

export interface ApiServer {
  server: HttpServer | HttpsServer;
  scheme: 'http' | 'https';
  /** Re-reads the certificate files now (as SIGHUP does); false when nothing new was loaded. */
  reloadCertificate(): boolean;
  /** Stops watching the certificate files (the server itself is closed by its owner). */
  stopWatching(): void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The public API's server: plain HTTP (behind a TLS-terminating proxy), or native HTTPS when
 * certificate files are configured. With HTTPS the certificate is reloaded without a restart
 * when the files change (polled, so an atomic rename by certbot or an operator is seen) or on
 * SIGHUP; a pair that cannot be loaded (half-written, key not matching) is logged and the
 * current certificate kept, so a renewal can never take the API down.
 */
export function createApiServer(handler: Handler, tls: TlsFiles | null): ApiServer {
  if (!tls) return { server: createHttpServer(handler), scheme: 'http', reloadCertificate: () => false, stopWatching: () => undefined };

  let current: { cert: Buffer; key: Buffer };
  try {
    current = readPair(tls);
  } catch (error) {
    // At start-up a bad pair stops the process: it must not serve without the TLS it was told to use.
    throw new ConfigError([`GERBANG_TLS_CERT_FILE, GERBANG_TLS_KEY_FILE: cannot load the certificate and key (${(error as Error).message})`]);
  }
  const server = createHttpsServer({ ...TLS_VERSIONS, ...current }, handler);
  log.info({ certificate: describe(current.cert) }, 'HTTPS enabled');

  const reloadCertificate = (): boolean => {
    let next: { cert: Buffer; key: Buffer };
    try {
      next = readPair(tls);
    } catch (error) {
      log.warn({ err: error, certFile: tls.certFile, keyFile: tls.keyFile }, 'TLS certificate not reloaded; still serving the previous one');
      return false;
    }
    if (next.cert.equals(current.cert) && next.key.equals(current.key)) return false;
    server.setSecureContext({ ...TLS_VERSIONS, ...next });
    current = next;
    log.info({ certificate: describe(next.cert) }, 'TLS certificate reloaded');
    return true;
  };
  const onChange = () => void reloadCertificate();
  const watch = { interval: tls.reloadIntervalMs, persistent: false };
  watchFile(tls.certFile, watch, onChange);
  watchFile(tls.keyFile, watch, onChange);
  process.on('SIGHUP', onChange);

  return {
    server,
    scheme: 'https',
    reloadCertificate,
    stopWatching: () => {
      unwatchFile(tls.certFile, onChange);
      unwatchFile(tls.keyFile, onChange);
      process.off('SIGHUP', onChange);
    },
  };
}

/** Reads the pair and proves it usable (the key matches the certificate) before it is served. */
function readPair(tls: TlsFiles): { cert: Buffer; key: Buffer } {
  const pair = { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
  createSecureContext({ ...TLS_VERSIONS, ...pair });
  return pair;
}

function describe(cert: Buffer): { subject: string; validTo: string; fingerprint256: string } {
  const x509 = new X509Certificate(cert);
  return { subject: x509.subject, validTo: x509.validTo, fingerprint256: x509.fingerprint256 };
}
