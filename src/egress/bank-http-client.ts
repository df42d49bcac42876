import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Pool, ProxyAgent, errors, type Dispatcher } from 'undici';
import { failedBeforeSending } from './connect-failures.js';
import { EgressError } from './egress-error.js';

/**
 * Defaults, each with its reason. undici's own are 300 s, far too long for a payment: set real ones.
 */
export const EGRESS_DEFAULTS = {
  /**
   * Opening TCP + TLS. Nothing has been sent yet, so failing fast is safe and turns an
   * unreachable bank into "not sent" (the ERP may retry) instead of a hanging request. A healthy
   * handshake to Jakarta takes well under a second, even from abroad.
   */
  connectTimeoutMs: 5_000,
  /**
   * From sending to the answer's headers: the bank's processing time. Long enough to outlast the
   * bank's own internal timeouts, so we get its verdict (even "ESB-82-024 check your statement")
   * rather than cutting it off ourselves; past it a transfer is UNKNOWN and never re-sent. Short
   * enough that token + transfer + one re-authentication fit inside the ERP's own call timeout.
   */
  headersTimeoutMs: 30_000,
  /**
   * Idle time between chunks of the answer, and also the most the WHOLE body may take once the
   * headers are in: a bank answer is a few hundred bytes sent at once, so this only ends a stalled
   * or hostile connection. Without the total bound, a peer dripping one byte per second would
   * never trip the idle timeout and would hold the payment (and the ERP's call) open for ever.
   */
  bodyTimeoutMs: 30_000,
  /** A bank answer is a few KiB at most: anything past 1 MiB is broken or hostile and is not read. */
  maxResponseBytes: 1024 * 1024,
  /**
   * Idle keep-alive sockets are dropped after 4 s (undici's default, below the 5 s of Node and
   * many load balancers), unless the server's Keep-Alive header says less. Reusing a socket the
   * bank has just closed would make a POST fail *after* sending, i.e. a false "in doubt".
   */
  keepAliveTimeoutMs: 4_000,
  /** Concurrent sockets to the bank: plenty for one worker, and bounded so a burst cannot open hundreds. */
  connections: 16,
} as const;

export interface BankHttpClientOptions {
  /** Scheme, host and port of the bank, e.g. `https://devapi.klikbca.com`; no path (what is signed is the path sent). */
  baseUrl: string;
  /** Local address outbound sockets are bound to: the address the bank whitelisted (a VPS with several IPs). With a proxy, the socket to the proxy. */
  localAddress?: string;
  /** Egress proxy (HTTP CONNECT tunnel), e.g. `http://proxy.internal:3128`. */
  proxyUrl?: string;
  /** PEM file of an extra CA, trusted IN ADDITION to Node's bundled roots (never instead). */
  caFile?: string;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxResponseBytes?: number;
  /** How the bank's host name is resolved; the system resolver (`dns.lookup`) when absent. */
  lookup?: LookupFunction;
}

export interface BankRequest {
  method: 'GET' | 'POST';
  /** Path and query exactly as signed (see the bank's signer); appended to the base URL as is. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Bytes of the answer read at most, where this call's answer may be longer than any other (a statement: STATEMENT_MAX_BYTES); the client's maxResponseBytes otherwise. */
  maxResponseBytes?: number;
}

export interface BankResponse {
  statusCode: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The whole body, read to the end, as UTF-8. */
  body: string;
}

export interface BankHttpClient {
  /** The bank's origin, e.g. `https://devapi.klikbca.com` (for audit rows). */
  readonly baseUrl: string;
  /**
   * Sends one request and reads the whole answer. Never retries (undici does not retry a POST and
   * nothing here adds a retry). Throws EgressError (see its codes and `sent`); never an undici error.
   */
  request(req: BankRequest): Promise<BankResponse>;
  /** Closes the sockets once in-flight requests are done. */
  close(): Promise<void>;
}

/**
 * The one place Gerbang talks HTTP to banks (the only undici import): one keep-alive pool for the
 * bank's origin, explicit timeouts, TLS verification always on, optional source-address binding or
 * egress proxy, and every answer read to the end or destroyed so no socket is left hanging.
 */
export function createBankHttpClient(options: BankHttpClientOptions): BankHttpClient {
  const url = new URL(options.baseUrl);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new TypeError(`bank base URL must be an origin without path or query, got ${url.origin}${url.pathname}`);
  }
  const origin = url.origin;
  const maxBytes = options.maxResponseBytes ?? EGRESS_DEFAULTS.maxResponseBytes;
  const bodyDeadlineMs = options.bodyTimeoutMs ?? EGRESS_DEFAULTS.bodyTimeoutMs;
  const dispatcher = createDispatcher(origin, options);

  return {
    baseUrl: origin,
    async request(req: BankRequest): Promise<BankResponse> {
      let res: Dispatcher.ResponseData;
      try {
        res = await dispatcher.request({ origin, path: req.path, method: req.method, headers: req.headers, body: req.body });
      } catch (error) {
        throw translate(error);
      }
      return { statusCode: res.statusCode, headers: flatten(res.headers), body: await readBody(res, req.maxResponseBytes ?? maxBytes, bodyDeadlineMs) };
    },
    close: () => dispatcher.close(),
  };
}

function createDispatcher(origin: string, options: BankHttpClientOptions): Dispatcher {
  // An extra CA is appended to Node's bundled roots: `ca` alone would *replace* them.
  const ca = options.caFile ? [...rootCertificates, readFileSync(options.caFile, 'utf8')] : undefined;
  const tls = {
    rejectUnauthorized: true,
    timeout: options.connectTimeoutMs ?? EGRESS_DEFAULTS.connectTimeoutMs,
    ...(ca ? { ca } : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  };
  const pool = {
    headersTimeout: options.headersTimeoutMs ?? EGRESS_DEFAULTS.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs ?? EGRESS_DEFAULTS.bodyTimeoutMs,
    keepAliveTimeout: EGRESS_DEFAULTS.keepAliveTimeoutMs,
    connections: EGRESS_DEFAULTS.connections,
  };
  // undici binds with the client-level `localAddress`: it passes that value to its connector,
  // overriding any `connect.localAddress`, so it must be given here and not inside `connect`.
  const bind = options.localAddress ? { localAddress: options.localAddress } : {};
  if (!options.proxyUrl) return new Pool(origin, { ...pool, ...bind, connect: tls });
  return new ProxyAgent({
    uri: options.proxyUrl,
    ...pool,
    requestTls: tls,
    proxyTls: tls,
    // The socket that leaves this machine is the one to the proxy: bind that one.
    clientFactory: (proxyOrigin: URL, opts: object) => new Pool(proxyOrigin, { ...opts, ...bind }),
  });
}

/**
 * Reads the whole body, refusing more than maxBytes or taking longer than deadlineMs in all;
 * on any failure the body is destroyed. Read by its events rather than an async iterator: an
 * answer is one or two chunks, and the iterator's promises and listeners cost more than they.
 */
function readBody(res: Dispatcher.ResponseData, maxBytes: number, deadlineMs: number): Promise<string> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(res.body);
    return Promise.reject(tooLarge(maxBytes));
  }
  const body = res.body;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (error: unknown) => {
      clearTimeout(deadline);
      body.off('data', onData);
      discard(body);
      reject(error instanceof EgressError ? error : translate(error));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) fail(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const deadline = setTimeout(() => fail(new EgressError('BANK_TIMEOUT', true, `the bank's answer did not arrive in full within ${deadlineMs} ms`)), deadlineMs);
    body.on('data', onData);
    body.once('error', fail);
    body.once('end', () => {
      clearTimeout(deadline);
      resolve(Buffer.concat(chunks, size).toString('utf8'));
    });
  });
}

/** Destroys an unread body; the abort error it then emits is expected and swallowed. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function tooLarge(maxBytes: number): EgressError {
  return new EgressError('BANK_RESPONSE_TOO_LARGE', true, `the bank's answer exceeded ${maxBytes} bytes and was not read`);
}

/**
 * undici error → EgressError. Whatever is not certainly a connect-phase failure counts as sent:
 * wrongly saying "sent" costs a status inquiry, wrongly saying "not sent" can pay twice.
 */
function translate(error: unknown): EgressError {
  const code = describe(error);
  if (error instanceof errors.InvalidArgumentError) {
    return new EgressError('BANK_CONNECT_FAILED', false, `the HTTP client refused the request before sending it (${error.message})`, { cause: error });
  }
  if (failedBeforeSending(error)) {
    return new EgressError('BANK_CONNECT_FAILED', false, `could not connect to the bank (${code})`, { cause: error });
  }
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
    return new EgressError('BANK_TIMEOUT', true, `the bank did not answer in time (${code})`, { cause: error });
  }
  if (error instanceof errors.ResponseExceededMaxSizeError) {
    return new EgressError('BANK_RESPONSE_TOO_LARGE', true, `the bank's answer was too large (${code})`, { cause: error });
  }
  return new EgressError('BANK_CONNECTION_RESET', true, `the connection to the bank failed after sending (${code})`, { cause: error });
}

function describe(error: unknown): string {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  return [code, cause?.code].filter((c) => typeof c === 'string').join('/') || 'unknown error';
}

function flatten(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
