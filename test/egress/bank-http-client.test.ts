import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect as netConnect, type AddressInfo, type LookupFunction, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBankHttpClient, EgressError, type BankHttpClientOptions } from '../../src/egress/index.js';
import { missingTool } from '../support/missing-tool.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1:0 playing the bank; each test gives its own handler. */
async function startServer(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stop(server: Server | HttpsServer): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A closed port: bound, then released, so nothing listens there. */
async function closedPort(): Promise<number> {
  const { server } = await startServer(() => undefined);
  const { port } = server.address() as AddressInfo;
  await stop(server);
  return port;
}

const caught = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => null, (error: unknown) => error);

describe('Bank HTTP client (egress)', () => {
  const servers: (Server | HttpsServer)[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(stop));
  });

  async function bank(handler: Handler): Promise<string> {
    const { server, url } = await startServer(handler);
    servers.push(server);
    return url;
  }

  function client(baseUrl: string, extra: Partial<BankHttpClientOptions> = {}) {
    return createBankHttpClient({ baseUrl, connectTimeoutMs: 1_000, headersTimeoutMs: 300, bodyTimeoutMs: 300, ...extra });
  }

  describe('when the bank answers', () => {
    it('sends the exact body and headers and reads the whole answer', async () => {
      const url = await bank((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.setHeader('x-echo', String(req.headers['x-bca-key']));
          res.end(JSON.stringify({ method: req.method, path: req.url, body }));
        });
      });
      const http = client(url);
      const res = await http.request({ method: 'POST', path: '/a?b=1%2C2', headers: { 'X-BCA-Key': 'k', 'Content-Type': 'application/json' }, body: '{"a": "x y"}' });
      await http.close();
      expect(res.statusCode).to.equal(200);
      expect(res.headers['x-echo']).to.equal('k');
      expect(JSON.parse(res.body)).to.deep.equal({ method: 'POST', path: '/a?b=1%2C2', body: '{"a": "x y"}' });
    });

    it('keeps connections alive and reuses them', async () => {
      const url = await bank((req, res) => res.end(String(req.socket.remotePort)));
      const http = client(url);
      const ports: string[] = [];
      for (let i = 0; i < 6; i += 1) ports.push((await http.request({ method: 'GET', path: '/', headers: {} })).body);
      await http.close();
      // undici may open a second socket while the first is being released; it never opens one per request.
      expect(new Set(ports).size).to.be.at.most(2);
    });

    it('reads an error status as an answer, not as a failure', async () => {
      const url = await bank((_req, res) => {
        res.statusCode = 401;
        res.end('{"ErrorCode":"ESB-14-009"}');
      });
      const http = client(url);
      const res = await http.request({ method: 'POST', path: '/', headers: {}, body: '{}' });
      await http.close();
      expect(res).to.deep.include({ statusCode: 401, body: '{"ErrorCode":"ESB-14-009"}' });
    });
  });

  describe('when a local address is configured', () => {
    it('binds the outbound socket to it (the server sees 127.0.0.2)', async () => {
      const url = await bank((req, res) => res.end(req.socket.remoteAddress));
      const http = client(url, { localAddress: '127.0.0.2' });
      const res = await http.request({ method: 'GET', path: '/', headers: {} });
      await http.close();
      expect(res.body.replace(/^::ffff:/, '')).to.equal('127.0.0.2');
    });
  });

  describe('when the connection is refused', () => {
    it('throws BANK_CONNECT_FAILED with sent=false', async () => {
      const http = client(`http://127.0.0.1:${await closedPort()}`);
      const error = await caught(http.request({ method: 'POST', path: '/x', headers: {}, body: '{}' }));
      await http.close();
      expect(error).to.be.instanceOf(EgressError);
      expect(error).to.include({ code: 'BANK_CONNECT_FAILED', sent: false });
    });
  });

  describe('when the host name does not resolve', () => {
    it('throws BANK_CONNECT_FAILED with sent=false', async () => {
      // Resolved by a resolver that knows no name, as a DNS server would answer: the test sends
      // no query off this machine.
      const noSuchName: LookupFunction = (hostname, _options, callback) =>
        process.nextTick(() => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '', 4));
      const http = client('http://no-such-host.invalid', { lookup: noSuchName });
      const error = await caught(http.request({ method: 'GET', path: '/', headers: {} }));
      await http.close();
      expect(error).to.include({ code: 'BANK_CONNECT_FAILED', sent: false });
    });
  });

  describe('when the bank does not answer in time', () => {
    it('throws BANK_TIMEOUT with sent=true once the headers are late', async () => {
      let received = 0;
      const url = await bank((_req, res) => {
        received += 1;
        setTimeout(() => res.end('late'), 1_000);
      });
      const http = client(url);
      const error = await caught(http.request({ method: 'POST', path: '/slow', headers: {}, body: '{}' }));
      await http.close();
      expect(error).to.include({ code: 'BANK_TIMEOUT', sent: true });
      expect(received, 'the request reached the bank').to.equal(1);
    });

    it('throws BANK_TIMEOUT with sent=true when the body stalls', async () => {
      const url = await bank((_req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('{"partial":');
      });
      const http = client(url);
      const error = await caught(http.request({ method: 'GET', path: '/', headers: {} }));
      await http.close();
      expect(error).to.include({ code: 'BANK_TIMEOUT', sent: true });
    });
  });

  describe('when the connection drops after sending', () => {
    it('throws BANK_CONNECTION_RESET with sent=true', async () => {
      const url = await bank((req) => req.socket.destroy());
      const http = client(url);
      const error = await caught(http.request({ method: 'POST', path: '/', headers: {}, body: '{}' }));
      await http.close();
      expect(error).to.include({ code: 'BANK_CONNECTION_RESET', sent: true });
    });
  });

  describe('when the answer is larger than maxResponseBytes', () => {
    it('refuses a declared length without reading it', async () => {
      const url = await bank((_req, res) => res.end('x'.repeat(4096)));
      const http = client(url, { maxResponseBytes: 1024 });
      const error = await caught(http.request({ method: 'GET', path: '/', headers: {} }));
      await http.close();
      expect(error).to.include({ code: 'BANK_RESPONSE_TOO_LARGE', sent: true });
    });

    it('stops reading a chunked answer once past the limit', async () => {
      const url = await bank((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 64; i += 1) res.write('x'.repeat(1024));
        res.end();
      });
      const http = client(url, { maxResponseBytes: 8 * 1024 });
      const error = await caught(http.request({ method: 'GET', path: '/', headers: {} }));
      await http.close();
      expect(error).to.include({ code: 'BANK_RESPONSE_TOO_LARGE', sent: true });
    });

    it('reads a longer answer where the request allows it (a statement), and that bound only for that request', async () => {
      const url = await bank((_req, res) => res.end('x'.repeat(4096)));
      const http = client(url, { maxResponseBytes: 1024 });
      const read = await http.request({ method: 'GET', path: '/', headers: {}, maxResponseBytes: 8 * 1024 });
      const error = await caught(http.request({ method: 'GET', path: '/', headers: {} }));
      const past = await caught(http.request({ method: 'GET', path: '/', headers: {}, maxResponseBytes: 2048 }));
      await http.close();
      expect(read.body).to.have.length(4096);
      expect(error).to.include({ code: 'BANK_RESPONSE_TOO_LARGE', sent: true });
      expect(past).to.include({ code: 'BANK_RESPONSE_TOO_LARGE', sent: true });
    });
  });

  describe('when the base URL has a path', () => {
    it('refuses it at creation, since the signed path must be the path sent', () => {
      expect(() => client('http://127.0.0.1:1/prefix')).to.throw(TypeError, /origin/);
    });
  });

  describe('when going through an egress proxy', () => {
    /** A minimal HTTP CONNECT proxy; `refuse` answers 403 to every tunnel. */
    async function proxy(refuse = false): Promise<{ url: string; tunnels: string[] }> {
      const tunnels: string[] = [];
      const server = createServer((_req, res) => res.writeHead(405).end());
      server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
        tunnels.push(String(req.url));
        if (refuse) return void socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        const [host, port] = String(req.url).split(':');
        const upstream = netConnect(Number(port), host, () => {
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.write(head);
          upstream.pipe(socket).pipe(upstream);
        });
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels };
    }

    it('tunnels the request to the bank', async () => {
      const url = await bank((_req, res) => res.end('via proxy'));
      const { url: proxyUrl, tunnels } = await proxy();
      const http = client(url, { proxyUrl });
      const res = await http.request({ method: 'GET', path: '/', headers: {} });
      await http.close();
      expect(res.body).to.equal('via proxy');
      expect(tunnels).to.deep.equal([new URL(url).host]);
    });

    it('reports a refused tunnel as BANK_CONNECT_FAILED with sent=false', async () => {
      let received = 0;
      const url = await bank((_req, res) => {
        received += 1;
        res.end();
      });
      const { url: proxyUrl } = await proxy(true);
      const http = client(url, { proxyUrl });
      const error = await caught(http.request({ method: 'POST', path: '/', headers: {}, body: '{}' }));
      await http.close();
      expect(error).to.include({ code: 'BANK_CONNECT_FAILED', sent: false });
      expect(received).to.equal(0);
    });
  });

  describe('over TLS', () => {
    let dir: string;
    let caFile: string;
    let tlsUrl: string;

    before(async function () {
      // A throwaway self-signed certificate for 127.0.0.1, made for this run only.
      dir = mkdtempSync(join(tmpdir(), 'gerbang-tls-'));
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
          '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      } catch {
        missingTool(this, 'the egress TLS suite needs openssl (apt-get install openssl)');
      }
      caFile = join(dir, 'cert.pem');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    beforeEach(async () => {
      const tls = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(caFile) }, (_req, res) => res.end('{"ok":true}'));
      await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
      servers.push(tls);
      tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    });

    it('refuses a certificate no trusted CA signed, with sent=false', async () => {
      const http = client(tlsUrl);
      const error = await caught(http.request({ method: 'POST', path: '/', headers: {}, body: '{}' }));
      await http.close();
      expect(error).to.include({ code: 'BANK_CONNECT_FAILED', sent: false });
    });

    it('trusts it once its CA is added with caFile', async () => {
      const http = client(tlsUrl, { caFile });
      const res = await http.request({ method: 'GET', path: '/', headers: {} });
      await http.close();
      expect(res.body).to.equal('{"ok":true}');
    });
  });
});
