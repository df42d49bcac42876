import { createPublicKey, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface CallbackReceiver {
  url: string;
  /** Every notification received, in order. */
  received: Received[];
  /** Statuses to answer next, in order (then 204). */
  answers: number[];
  /** Holds every answer (each notification received, none answered) until the function returned is called: a send in flight. */
  hold(): () => void;
  server: Server;
}

/** The ERP's callback endpoint: a real HTTP server that answers the queued statuses (then 204). */
export async function startReceiver(): Promise<CallbackReceiver> {
  const received: Received[] = [];
  const answers: number[] = [];
  let held: Promise<void> = Promise.resolve();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      void held.then(() => {
        res.statusCode = answers.shift() ?? 204;
        res.end();
      });
    });
  });
  const hold = () => {
    let release!: () => void;
    held = new Promise((resolve) => (release = resolve));
    return () => {
      release();
      held = Promise.resolve();
    };
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/gerbang/notify`, received, answers, hold, server };
}

/** The parts of a notice's Gerbang-Signature header (`t=…,kid=…,sig=…`). */
export function signatureOf(notice: Received): Record<string, string> {
  const header = String(notice.headers['gerbang-signature']);
  return Object.fromEntries(header.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** Whether the notice's signature holds over `body` (default: the body received) under the PEM public key GET /v1/callbacks/public-key publishes. */
export function signedUnder(notice: Received, publicKeyPem: string, body = notice.body): boolean {
  const parts = signatureOf(notice);
  return verify('sha256', Buffer.from(`${parts.t}.${body}`), createPublicKey(publicKeyPem), Buffer.from(parts.sig, 'base64'));
}
