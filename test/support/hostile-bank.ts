import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { TOKEN_PATH } from '../../src/banks/bca-legacy/index.js';

/** How the hostile bank answers one (non-token) request: it writes whatever it likes. */
export type HostileAnswer = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface HostileBank {
  url: string;
  /** Paths of the requests it received (token requests included). */
  readonly paths: string[];
  /** Sets how every following non-token request is answered. */
  answer(with_: HostileAnswer): void;
  /** Sets how token requests are answered (null: a valid BCA token, the default). */
  answerToken(with_: HostileAnswer | null): void;
  /** The GERBANG_BCA_* settings pointing a gateway at it (random credentials: it checks nothing). */
  env(overrides?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

/**
 * A raw HTTP server on port 0 that plays a broken or malicious bank: it hands out an OAuth2 token
 * like BCA, then answers every other request however the test says (garbage, huge bodies, slow
 * drips, a dropped connection). It verifies nothing: the point is what the gateway does with it.
 */
export async function startHostileBank(): Promise<HostileBank> {
  const paths: string[] = [];
  const sockets = new Set<Socket>();
  let answer: HostileAnswer = (_req, res) => res.end();
  let tokenAnswer: HostileAnswer | null = null;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      paths.push(req.url ?? '');
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === TOKEN_PATH && tokenAnswer) return tokenAnswer(req, res, body);
      if (req.url === TOKEN_PATH) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: '3600', scope: 'resource.WRITE resource.READ' }));
        return;
      }
      answer(req, res, body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    paths,
    answer: (with_) => {
      answer = with_;
    },
    answerToken: (with_) => {
      tokenAnswer = with_;
    },
    env: (overrides = {}) => ({
      GERBANG_BCA_BASE_URL: url,
      GERBANG_BCA_CLIENT_ID: randomBytes(8).toString('hex'),
      GERBANG_BCA_CLIENT_SECRET: randomBytes(8).toString('hex'),
      GERBANG_BCA_API_KEY: randomBytes(8).toString('hex'),
      GERBANG_BCA_API_SECRET: randomBytes(8).toString('hex'),
      GERBANG_BCA_CORPORATE_ID: 'BCAAPI2016',
      GERBANG_BCA_ORIGIN: 'erp.example.com',
      // The company account the tests pay from (BCA's documentation sample), held at this bank.
      GERBANG_BCA_ACCOUNTS: '0201245680',
      ...overrides,
    }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
