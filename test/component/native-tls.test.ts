import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type ConnectionOptions, type PeerCertificate, type SecureVersion } from 'node:tls';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { createSqliteDatabase } from '../support/databases.js';
import { eventually, TestGateway } from '../support/gateway-harness.js';

/** A throwaway self-signed certificate for 127.0.0.1, made at test time (nothing is committed). */
function makeCertificate(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '2', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

/** Replaces a file the way certbot and careful operators do: write beside it, then rename over it. */
function replaceFile(target: string, source: string): void {
  const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  copyFileSync(source, temp);
  renameSync(temp, target);
}

interface Handshake {
  protocol: string | null;
  peer: PeerCertificate;
}

function handshake(port: number, options: ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      const result = { protocol: socket.getProtocol(), peer: socket.getPeerCertificate() };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
  });
}

/** Offers only the given version; SECLEVEL=0 so OpenSSL 3 on this side really offers TLS 1.0/1.1. */
const only = (version: SecureVersion): ConnectionOptions => ({ minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0' });

describe('Native HTTPS on the public API', function () {
  this.timeout(30_000);
  let dir: string;
  let a: { cert: string; key: string };
  let b: { cert: string; key: string };
  let live: { cert: string; key: string };
  let gw: TestGateway;
  let db: { url: string; drop: () => Promise<void> };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gerbang-tls-'));
    a = makeCertificate(dir, 'gerbang-a');
    b = makeCertificate(dir, 'gerbang-b');
    live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(a.cert, live.cert);
    copyFileSync(a.key, live.key);
    db = createSqliteDatabase();
    gw = await TestGateway.start(db.url, { GERBANG_TLS_CERT_FILE: live.cert, GERBANG_TLS_KEY_FILE: live.key, GERBANG_TLS_RELOAD_INTERVAL_MS: '100' });
  });
  after(async () => {
    await gw?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const port = () => gw.gateway.port;

  it('serves the API over HTTPS, verified against its certificate', async () => {
    expect(gw.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${gw.url}/healthz`, { ca: readFileSync(a.cert) }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer).to.deep.equal({ status: 200, body: '{"status":"ok"}' });
  });

  it('prefers TLS 1.3 and still accepts TLS 1.2', async () => {
    expect((await handshake(port())).protocol).to.equal('TLSv1.3');
    expect((await handshake(port(), { maxVersion: 'TLSv1.2' })).protocol).to.equal('TLSv1.2');
  });

  // Node 20+ with OpenSSL 3 already refuses TLS < 1.2 by default; the gateway pins the minimum so
  // that a `--tls-min-v1.0` flag or NODE_OPTIONS cannot lower it. This checks the outcome.
  it('refuses TLS 1.1 and 1.0, which this client does speak with a server that allows them', async () => {
    // Control: the same client options complete a TLS 1.1 handshake with a permissive server.
    const permissive = createServer({ cert: readFileSync(a.cert), key: readFileSync(a.key), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((resolve) => permissive.listen(0, '127.0.0.1', resolve));
    try {
      const control = await handshake((permissive.address() as { port: number }).port, only('TLSv1.1'));
      expect(control.protocol).to.equal('TLSv1.1');
    } finally {
      permissive.close();
    }
    for (const version of ['TLSv1.1', 'TLSv1'] as const) {
      const error = await handshake(port(), only(version)).then(
        () => null,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(error, `${version} must be refused`).to.be.instanceOf(Error);
      expect(`${error!.code} ${error!.message}`).to.match(/PROTOCOL_VERSION|unsupported protocol|ECONNRESET/i);
    }
  });

  it('serves a replaced certificate without a restart, and keeps the old one when the new pair is broken', async () => {
    expect((await handshake(port())).peer.subject.CN).to.equal('gerbang-a');
    replaceFile(live.cert, b.cert);
    replaceFile(live.key, b.key);
    await eventually(async () => (await handshake(port())).peer.subject.CN === 'gerbang-b', 5000);

    // A certificate whose key is not (yet) the matching one: not loaded, B still served.
    replaceFile(live.cert, a.cert);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await handshake(port())).peer.subject.CN).to.equal('gerbang-b');
    replaceFile(live.key, a.key);
    await eventually(async () => (await handshake(port())).peer.subject.CN === 'gerbang-a', 5000);
  });

  it('reloads on SIGHUP when the files are not polled often', async () => {
    const files = { cert: join(dir, 'hup.crt'), key: join(dir, 'hup.key') };
    copyFileSync(a.cert, files.cert);
    copyFileSync(a.key, files.key);
    const otherDb = createSqliteDatabase();
    const other = await TestGateway.start(otherDb.url, { GERBANG_TLS_CERT_FILE: files.cert, GERBANG_TLS_KEY_FILE: files.key, GERBANG_TLS_RELOAD_INTERVAL_MS: '600000' });
    try {
      expect((await handshake(other.gateway.port)).peer.subject.CN).to.equal('gerbang-a');
      replaceFile(files.cert, b.cert);
      replaceFile(files.key, b.key);
      process.kill(process.pid, 'SIGHUP');
      await eventually(async () => (await handshake(other.gateway.port)).peer.subject.CN === 'gerbang-b', 5000);
    } finally {
      await other.close();
      await otherDb.drop();
    }
  });

  it('refuses to start with a certificate and no key, or with files it cannot load, naming the settings', async () => {
    expect(() => loadConfig({ GERBANG_JWT_SECRET: 'x'.repeat(32), GERBANG_TLS_CERT_FILE: a.cert })).to.throw(ConfigError, /GERBANG_TLS_CERT_FILE, GERBANG_TLS_KEY_FILE/);
    const garbage = join(dir, 'garbage.crt');
    writeFileSync(garbage, 'not a certificate');
    const failedDb = createSqliteDatabase();
    const error = await TestGateway.start(failedDb.url, { GERBANG_TLS_CERT_FILE: garbage, GERBANG_TLS_KEY_FILE: a.key }).then(
      async (started) => {
        await started.close();
        return null;
      },
      (e: Error) => e,
    );
    await failedDb.drop();
    expect(error).to.be.instanceOf(ConfigError);
    expect(error!.message).to.contain('GERBANG_TLS_CERT_FILE');
  });
});
