import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, ProxyAgent, errors, request, type Dispatcher } from 'undici';
import { EgressError } from './egress-error.js';

export interface BankHttpClientOptions {
  /** Scheme, host and port of the bank, e.g. `https://devapi.klikbca.com`. */
  baseUrl: string;
  /** Local address to bind outbound sockets to (the address the bank whitelisted). */
  localAddress?: string;
  /** Egress proxy, e.g. `http://proxy.internal:3128`. */
  proxyUrl?: string;
  /** PEM file of an extra CA trusted on top of Node's bundled roots. */
  caFile?: string;
  /** Opening the connection: nothing was sent yet, so a short limit is safe. */
  connectTimeoutMs: number;
  /** Waiting for the answer's headers: past it a transfer is in doubt. */
  headersTimeoutMs: number;
  /** Idle time between chunks of the answer. */
  bodyTimeoutMs: number;
  /** Largest answer read; a bank answer is a few KiB, so anything past 1 MiB is hostile or broken. */
  maxResponseBytes?: number;
}

export interface BankRequest {
  method: 'GET' | 'POST';
  /** Path and query, already canonical (what was signed is what is sent). */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface BankResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface BankHttpClient {
  readonly baseUrl: string;
  /** Throws EgressError; never retries (undici does not retry a POST, and we add no retry). */
  request(req: BankRequest): Promise<BankResponse>;
  close(): Promise<void>;
}

/** undici errors raised before the request could have left this machine. */
const NOT_SENT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET_BEFORE_SEND']);

/**
 * The one place Gerbang talks HTTP to banks: one keep-alive dispatcher for the bank's origin,
 * explicit timeouts (undici's defaults are 300 s), TLS verification always on, optional source
 * address binding or egress proxy, and every response body read to the end (or destroyed) so no
 * socket is left hanging.
 */
export function createBankHttpClient(options: BankHttpClientOptions): BankHttpClient {
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  const ca = options.caFile ? [...rootCertificates, readFileSync(options.caFile, 'utf8')] : undefined;
  const connect = {
    timeout: options.connectTimeoutMs,
    rejectUnauthorized: true,
    ...(ca ? { ca } : {}),
  };
  const common = {
    // undici binds the socket with its top-level `localAddress` (not `connect.localAddress`).
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: 10_000,
    connections: 16,
  };
  const dispatcher: Dispatcher = options.proxyUrl
    ? new ProxyAgent({ uri: options.proxyUrl, requestTls: connect, proxyTls: connect, ...common })
    : new Agent({ connect, ...common });
  const origin = new URL(options.baseUrl).origin;

  return {
    baseUrl: origin,
    async request(req: BankRequest): Promise<BankResponse> {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(`${origin}${req.path}`, { method: req.method, headers: req.headers, body: req.body, dispatcher });
      } catch (error) {
        throw translate(error);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length;
          if (size > maxBytes) {
            res.body.destroy();
            throw new EgressError('BANK_RESPONSE_TOO_LARGE', true, `the bank's answer exceeded ${maxBytes} bytes`);
          }
          chunks.push(chunk as Buffer);
        }
      } catch (error) {
        throw error instanceof EgressError ? error : translate(error, true);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      return { statusCode: res.statusCode, headers, body: Buffer.concat(chunks).toString('utf8') };
    },
    close: () => dispatcher.close(),
  };
}

function translate(error: unknown, afterHeaders = false): EgressError {
  const code = (error as { code?: string }).code ?? '';
  const cause = (error as { cause?: { code?: string } }).cause;
  const causeCode = cause?.code ?? '';
  if (!afterHeaders && (NOT_SENT.has(code) || NOT_SENT.has(causeCode) || /CERT|SSL|TLS|ERR_TLS/.test(code + causeCode))) {
    return new EgressError('BANK_CONNECT_FAILED', false, `could not connect to the bank (${causeCode || code})`, { cause: error });
  }
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
    return new EgressError('BANK_TIMEOUT', true, 'the bank did not answer in time', { cause: error });
  }
  return new EgressError('BANK_CONNECTION_RESET', true, `the connection to the bank failed after sending (${code || causeCode || 'unknown'})`, { cause: error });
}
