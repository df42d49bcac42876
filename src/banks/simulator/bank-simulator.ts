import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { normalizeIp } from '../../security/index.js';
import { jakartaDate } from '../../time/index.js';
import { BCA_TIMESTAMP_PATTERN, relativeUrl, signBcaLegacy } from '../bca-legacy/signer.js';
import { DEFAULT_ACCOUNTS, fromCents, toCents, type SimAccount, type SimPartner } from './simulator-state.js';

/**
 * A strict BCA (legacy API) for sandbox mode and tests: a real HTTP server that checks what
 * BCA checks, in BCA's order, and answers in BCA's shapes.
 *
 *  1. the caller's source address must be whitelisted             → ESB-14-019
 *  2. token: HTTP Basic client credentials, grant_type            → ESB-14-008
 *  3. calls: a live Bearer token, the partner's X-BCA-Key          → ESB-14-009
 *     X-BCA-Timestamp exactly `yyyy-MM-ddTHH:mm:ss.SSS+07:00`, fresh → ESB-14-003
 *     the Origin registered for the partner                        → ESB-14-019
 *     X-BCA-Signature recomputed over the bytes received           → ESB-14-001
 *  4. intrabank transfer: mandatory fields (ESB-82-001), CorporateID of the token's partner,
 *     8-digit TransactionID never used before (ESB-82-003), today's TransactionDate in UTC+7,
 *     Amount 13.2 and > 0 (ESB-82-011), Remarks ≤ 18, accounts known (ESB-82-014), active
 *     (dormant ESB-82-018, closed ESB-82-022), funded (ESB-82-019). Then the money moves.
 *
 * Misbehaviour on demand, for the next transfer: `failNext({...})`, `POST /_simulator/fail-next`
 * (loopback only), or a Remark1 of:
 *   `SIM ESB-xx-yyy`  answer that error code without executing
 *   `SIM TIMEOUT`     execute, then never answer (the caller times out: in doubt)
 *   `SIM RESET`       execute, then drop the connection (in doubt)
 *   `SIM DELAY`       execute and answer normally after 1.5 s
 */
export interface BankSimulatorOptions {
  partners: SimPartner[];
  /** Caller addresses allowed (the gateway's fixed egress IPs). */
  allowedSourceAddresses: string[];
  accounts?: SimAccount[];
  timestampToleranceSeconds?: number;
  tokenTtlSeconds?: number;
  now?: () => number;
}

export interface SimulatorCall {
  method: string;
  path: string;
  sourceAddress: string;
  headers: Record<string, string>;
  body: string;
  /** Status answered (0 when the connection was dropped or never answered). */
  status: number;
  errorCode: string | null;
}

export interface FailureScenario {
  /** Answer this ESB code (without executing unless `execute`). */
  code?: string;
  httpStatus?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Execute, then destroy the socket without answering. */
  dropConnection?: boolean;
  /** Execute, then never answer. */
  hang?: boolean;
}

interface Account {
  name: string;
  cents: bigint;
  status: 'active' | 'dormant' | 'closed';
}

interface Answer {
  status: number;
  body?: unknown;
  errorCode?: string | null;
  delayMs?: number;
  drop?: boolean;
  hang?: boolean;
}

const HTTP_STATUS: Record<string, number> = {
  'ESB-14-001': 400,
  'ESB-14-003': 400,
  'ESB-14-005': 503,
  'ESB-14-006': 504,
  'ESB-14-007': 504,
  'ESB-14-008': 401,
  'ESB-14-009': 401,
  'ESB-14-010': 429,
  'ESB-14-019': 401,
  'ESB-82-024': 504,
  'ESB-82-025': 202,
  'ESB-99-999': 500,
};

const MESSAGES: Record<string, [string, string]> = {
  'ESB-14-001': ['HMAC tidak cocok', 'HMAC mismatch'],
  'ESB-14-003': ['Timestamp tidak valid', 'Invalid timestamp'],
  'ESB-14-005': ['Sistem sedang dalam pemeliharaan', 'System under maintenance'],
  'ESB-14-008': ['Client ID/Client Secret/Grant Type tidak valid', 'Invalid client ID, client secret or grant type'],
  'ESB-14-009': ['Tidak berhak', 'Unauthorized'],
  'ESB-14-010': ['Melebihi limit', 'Limit exceeded'],
  'ESB-14-019': ['Koneksi tidak diperbolehkan', 'Connection not allowed'],
  'ESB-82-001': ['Field wajib diisi', 'Mandatory field is missing'],
  'ESB-82-003': ['TransactionID harus unik', 'TransactionID must be unique'],
  'ESB-82-011': ['Jumlah tidak valid', 'Invalid amount'],
  'ESB-82-014': ['Rekening tidak valid', 'Invalid account'],
  'ESB-82-018': ['Rekening tidak aktif', 'Account is dormant'],
  'ESB-82-019': ['Saldo tidak cukup', 'Insufficient funds'],
  'ESB-82-022': ['Rekening ditutup', 'Account is closed'],
  'ESB-82-024': ['Timeout, silakan cek mutasi rekening', 'Timeout, please check your statement'],
  'ESB-82-025': ['Transaksi sedang diproses, silakan cek mutasi', 'Transaction in progress, please check your statement'],
};

const MAX_BODY_BYTES = 64 * 1024;

export class BankSimulator {
  /** Every request seen, in order, with what was answered: the tests' view of "the bank". */
  readonly calls: SimulatorCall[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly accounts = new Map<string, Account>();
  private readonly tokens = new Map<string, { partner: SimPartner; expiresAt: number }>();
  private readonly usedTransactionIds = new Set<string>();
  private readonly scenarios: FailureScenario[] = [];
  private readonly allowed: Set<string>;
  private readonly now: () => number;

  constructor(private readonly options: BankSimulatorOptions) {
    this.now = options.now ?? Date.now;
    this.allowed = new Set(options.allowedSourceAddresses.map((a) => normalizeIp(a) ?? a));
    for (const account of options.accounts ?? DEFAULT_ACCOUNTS) {
      this.accounts.set(account.number, { name: account.name, cents: toCents(account.balance), status: account.status ?? 'active' });
    }
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens (port 0: any free port) and returns the base URL. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Makes the next transfer misbehave (queued: several calls queue several scenarios). */
  failNext(scenario: FailureScenario): void {
    this.scenarios.push(scenario);
  }

  balanceOf(account: string): string | null {
    const found = this.accounts.get(account);
    return found ? fromCents(found.cents) : null;
  }

  // ------------------------------------------------------------------ dispatch

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const source = normalizeIp(req.socket.remoteAddress) ?? 'unknown';
    const call: SimulatorCall = {
      method: req.method ?? '',
      path: req.url ?? '',
      sourceAddress: source,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)])),
      body: '',
      status: 0,
      errorCode: null,
    };
    this.calls.push(call);
    let answer: Answer;
    try {
      call.body = await readBody(req);
      answer = this.route(req, call, source);
    } catch {
      answer = { status: 413, body: esb('ESB-82-001'), errorCode: 'ESB-82-001' };
    }
    call.errorCode = answer.errorCode ?? null;
    if (answer.hang) {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.drop) {
      req.socket.destroy();
      return;
    }
    call.status = answer.status;
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private route(req: IncomingMessage, call: SimulatorCall, source: string): Answer {
    const path = (req.url ?? '').split('?')[0];
    if (path.startsWith('/_simulator/')) return this.admin(req.method ?? '', path, call.body, source);
    if (!this.allowed.has(source)) return error('ESB-14-019');
    if (req.method === 'POST' && path === '/api/oauth/token') return this.token(req, call.body);
    if (req.method === 'POST' && path === '/banking/corporates/transfers') {
      const auth = this.authorize(req, call.body);
      if ('status' in auth) return auth;
      return this.transfer(auth.partner, call.body);
    }
    return { status: 404, body: esb('ESB-14-019', 'Unknown service'), errorCode: 'NOT_FOUND' };
  }

  // ------------------------------------------------------------------ token

  private token(req: IncomingMessage, body: string): Answer {
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const id = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    const partner = this.options.partners.find((p) => p.clientId === id);
    const form = new URLSearchParams(body);
    const formOk = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') && form.get('grant_type') === 'client_credentials';
    if (colon < 0 || !partner || !safeEqual(partner.clientSecret, secret) || !formOk) return error('ESB-14-008');
    const token = randomBytes(27).toString('base64url');
    const ttl = this.options.tokenTtlSeconds ?? 3600;
    this.tokens.set(token, { partner, expiresAt: this.now() + ttl * 1000 });
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: String(ttl), scope: 'resource.WRITE resource.READ' } };
  }

  /** Expires every token now (tests of the re-authentication path). */
  expireTokens(): void {
    for (const entry of this.tokens.values()) entry.expiresAt = 0;
  }

  // ------------------------------------------------------------------ signed calls

  private authorize(req: IncomingMessage, body: string): { partner: SimPartner } | Answer {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const session = token ? this.tokens.get(token) : undefined;
    if (!token || !session || session.expiresAt <= this.now()) return error('ESB-14-009');
    const { partner } = session;
    if (req.headers['x-bca-key'] !== partner.apiKey) return error('ESB-14-009');
    const timestamp = String(req.headers['x-bca-timestamp'] ?? '');
    const tolerance = (this.options.timestampToleranceSeconds ?? 300) * 1000;
    if (!BCA_TIMESTAMP_PATTERN.test(timestamp) || Math.abs(Date.parse(timestamp) - this.now()) > tolerance) return error('ESB-14-003');
    if (partner.origins && partner.origins.length > 0 && !partner.origins.includes(String(req.headers.origin ?? ''))) return error('ESB-14-019');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return error('ESB-82-001', 'Content-Type must be application/json');
    const expected = signBcaLegacy({ method: req.method ?? '', relativeUrl: relativeUrl(req.url ?? ''), accessToken: token, body, timestamp, apiSecret: partner.apiSecret });
    if (!safeEqual(expected.signature, String(req.headers['x-bca-signature'] ?? ''))) return error('ESB-14-001');
    return { partner };
  }

  // ------------------------------------------------------------------ intrabank transfer

  private transfer(partner: SimPartner, body: string): Answer {
    let order: Record<string, unknown>;
    try {
      order = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return error('ESB-82-001', 'Malformed JSON');
    }
    const fields = ['CorporateID', 'SourceAccountNumber', 'TransactionID', 'TransactionDate', 'ReferenceID', 'CurrencyCode', 'Amount', 'BeneficiaryAccountNumber'];
    const missing = fields.filter((f) => typeof order[f] !== 'string' || order[f] === '');
    if (missing.length > 0) return error('ESB-82-001', `Mandatory field missing: ${missing.join(', ')}`);
    const o = order as Record<string, string> & { Remark1?: unknown; Remark2?: unknown };
    if (o.CorporateID !== partner.corporateId) return error('ESB-14-019', 'CorporateID does not belong to this client');
    if (!/^\d{8}$/.test(o.TransactionID)) return error('ESB-82-001', 'TransactionID must be 8 digits');
    if (o.TransactionDate !== jakartaDate(this.now())) return error('ESB-82-001', 'TransactionDate must be today (UTC+7)');
    if (o.CurrencyCode !== 'IDR') return error('ESB-82-001', 'CurrencyCode must be IDR');
    if (!/^\d{1,13}\.\d{2}$/.test(o.Amount) || toCents(o.Amount) <= 0n) return error('ESB-82-011');
    for (const remark of [o.Remark1, o.Remark2]) {
      if (remark !== undefined && (typeof remark !== 'string' || remark.length > 18)) return error('ESB-82-001', 'Remark1 and Remark2 are at most 18 characters');
    }

    const scenario = this.scenarios.shift() ?? magicScenario(String(o.Remark1 ?? ''));
    if (scenario?.code) return { ...error(scenario.code), status: scenario.httpStatus ?? HTTP_STATUS[scenario.code] ?? 400, delayMs: scenario.delayMs };

    const key = `${partner.corporateId}:${o.TransactionID}`;
    if (this.usedTransactionIds.has(key)) return error('ESB-82-003');
    const source = this.accounts.get(o.SourceAccountNumber);
    const target = this.accounts.get(o.BeneficiaryAccountNumber);
    if (!source || !target) return error('ESB-82-014');
    for (const account of [source, target]) {
      if (account.status === 'dormant') return error('ESB-82-018');
      if (account.status === 'closed') return error('ESB-82-022');
    }
    const cents = toCents(o.Amount);
    if (source.cents < cents) return error('ESB-82-019');

    this.usedTransactionIds.add(key);
    source.cents -= cents;
    target.cents += cents;
    const answer: Answer = {
      status: 200,
      body: { TransactionID: o.TransactionID, TransactionDate: o.TransactionDate, ReferenceID: o.ReferenceID, Status: 'Success' },
      delayMs: scenario?.delayMs,
    };
    if (scenario?.hang) return { ...answer, hang: true };
    if (scenario?.dropConnection) return { ...answer, drop: true };
    return answer;
  }

  // ------------------------------------------------------------------ admin (loopback only)

  private admin(method: string, path: string, body: string, source: string): Answer {
    if (source !== '127.0.0.1' && source !== '::1') return { status: 403, body: { error: 'loopback only' } };
    if (method === 'GET' && path === '/_simulator/calls') return { status: 200, body: this.calls.slice(-200) };
    if (method === 'POST' && path === '/_simulator/fail-next') {
      try {
        this.failNext(JSON.parse(body || '{}') as FailureScenario);
        return { status: 204 };
      } catch {
        return { status: 400, body: { error: 'body must be a JSON scenario' } };
      }
    }
    return { status: 404, body: { error: 'unknown admin call' } };
  }
}

function magicScenario(remark: string): FailureScenario | undefined {
  const match = /^SIM (ESB-\d{2}-\d{3}|TIMEOUT|RESET|DELAY)$/.exec(remark.trim());
  if (!match) return undefined;
  switch (match[1]) {
    case 'TIMEOUT':
      return { hang: true };
    case 'RESET':
      return { dropConnection: true };
    case 'DELAY':
      return { delayMs: 1500 };
    default:
      return { code: match[1] };
  }
}

function esb(code: string, english?: string): { ErrorCode: string; ErrorMessage: { Indonesian: string; English: string } } {
  const [id, en] = MESSAGES[code] ?? ['Kesalahan', 'Error'];
  return { ErrorCode: code, ErrorMessage: { Indonesian: id, English: english ?? en } };
}

function error(code: string, english?: string): Answer {
  return { status: HTTP_STATUS[code] ?? 400, body: esb(code, english), errorCode: code };
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createBankSimulator(options: BankSimulatorOptions): BankSimulator {
  return new BankSimulator(options);
}
