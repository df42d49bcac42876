import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBankHttpClient, EgressError } from '../../src/egress/index.js';

describe('Bank HTTP client (egress)', () => {
  let server: Server;
  let baseUrl: string;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
      if (req.url === '/huge') {
        res.writeHead(200);
        return void res.end('x'.repeat(2 * 1024 * 1024));
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ from: req.socket.remoteAddress, method: req.method }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const client = (extra: Partial<Parameters<typeof createBankHttpClient>[0]> = {}) =>
    createBankHttpClient({ baseUrl, connectTimeoutMs: 500, headersTimeoutMs: 300, bodyTimeoutMs: 300, ...extra });

  it('sends and reads a whole answer', async () => {
    const http = client();
    const res = await http.request({ method: 'POST', path: '/x', headers: { 'content-type': 'application/json' }, body: '{}' });
    await http.close();
    expect(res.statusCode).to.equal(200);
    expect(JSON.parse(res.body)).to.include({ method: 'POST' });
  });

  it('binds outbound calls to the configured local address', async () => {
    const http = client({ localAddress: '127.0.0.2' });
    const res = await http.request({ method: 'GET', path: '/x', headers: {} });
    await http.close();
    expect(JSON.parse(res.body).from).to.equal('127.0.0.2');
  });

  it('reports a refused connection as BANK_CONNECT_FAILED, not sent', async () => {
    const http = createBankHttpClient({ baseUrl: 'http://127.0.0.1:1', connectTimeoutMs: 500, headersTimeoutMs: 300, bodyTimeoutMs: 300 });
    const error = await http.request({ method: 'POST', path: '/x', headers: {}, body: '{}' }).then(() => null, (e: unknown) => e);
    await http.close();
    expect(error).to.be.instanceOf(EgressError);
    expect(error).to.include({ code: 'BANK_CONNECT_FAILED', sent: false });
  });

  it('reports a bank that does not answer in time as BANK_TIMEOUT, maybe sent', async () => {
    const http = client();
    const error = await http.request({ method: 'POST', path: '/slow', headers: {}, body: '{}' }).then(() => null, (e: unknown) => e);
    await http.close();
    expect(error).to.include({ code: 'BANK_TIMEOUT', sent: true });
  });

  it('stops reading an oversized answer', async () => {
    const http = client({ maxResponseBytes: 1024 });
    const error = await http.request({ method: 'GET', path: '/huge', headers: {} }).then(() => null, (e: unknown) => e);
    await http.close();
    expect(error).to.include({ code: 'BANK_RESPONSE_TOO_LARGE', sent: true });
  });

  describe('over TLS', () => {
    let tls: import('node:https').Server;
    let caFile: string;
    let tlsUrl: string;

    before(async () => {
      // A throwaway self-signed certificate for 127.0.0.1, made for this run only.
      const { execFileSync } = await import('node:child_process');
      const { mkdtempSync, readFileSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-tls-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      caFile = join(dir, 'cert.pem');
      const { createServer: createHttpsServer } = await import('node:https');
      tls = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(caFile) }, (_req, res) => res.end('{"ok":true}'));
      await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
      tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    });
    after(() => tls.close());

    it('refuses a certificate no trusted CA signed, before anything is sent', async () => {
      const http = createBankHttpClient({ baseUrl: tlsUrl, connectTimeoutMs: 1000, headersTimeoutMs: 500, bodyTimeoutMs: 500 });
      const error = await http.request({ method: 'POST', path: '/', headers: {}, body: '{}' }).then(() => null, (e: unknown) => e);
      await http.close();
      expect(error).to.include({ code: 'BANK_CONNECT_FAILED', sent: false });
    });

    it('trusts it once its CA is given in GERBANG_EGRESS_CA_FILE', async () => {
      const http = createBankHttpClient({ baseUrl: tlsUrl, caFile, connectTimeoutMs: 1000, headersTimeoutMs: 500, bodyTimeoutMs: 500 });
      const res = await http.request({ method: 'GET', path: '/', headers: {} });
      await http.close();
      expect(res.body).to.equal('{"ok":true}');
    });
  });
});
