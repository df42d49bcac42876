import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { normalizeIp } from '../../security/index.js';
import { jakartaDate } from '../../time/index.js';
import { esbBody, esbError, type SimAnswer } from './esb-answers.js';
import { scenarioFromRemark, type FailureScenario } from './failure-scenarios.js';
import { adminAnswer } from './simulator-admin.js';
import { parseTransfer, type TransferOrder } from './intrabank-transfer.js';
import { checkSignedCall, checkTokenRequest, header, TokenSessions } from './request-auth.js';
import { balances, checkDomesticHeaders, domesticInquiry, ESB_REFUSALS, executeDomestic, legacyNamespace, parseDomestic, statement, statusTransferType } from './legacy-operations.js';
import { LEGACY_CHANNEL_ID, LEGACY_PATHS, LEGACY_STATUS_TRANSFER_TYPES } from './legacy-dialect.js';
import { SnapBank, type SnapBankDialect, type SnapSimPartner } from './snap/index.js';
import { defaultAccounts, Ledger, type LedgerMove, type LedgerRefusal, type SimAccount, type SimPartner, type SimulatorNetwork } from './simulator-state.js';

/**
 * A strict BCA (legacy API) for sandbox mode and every test: a real HTTP server that checks what
 * BCA checks, in BCA's order, and answers in BCA's shapes.
 *
 *  1. the caller's source address must be whitelisted (IPv4-mapped IPv6 normalised) → ESB-14-019
 *  2. POST /api/oauth/token: HTTP Basic client credentials, form grant_type          → ESB-14-008
 *  3. service calls: a live Bearer token                                           → ESB-14-009
 *     an X-BCA-Key BCA issued, and the token's partner's                            → ESB-14-021 / -022
 *     X-BCA-Timestamp exactly `yyyy-MM-ddTHH:mm:ss.SSS+07:00`, within tolerance     → ESB-14-003
 *     the Origin registered for the partner (when it has any)                      → ESB-14-019
 *     X-BCA-Signature recomputed (legacy-signature.ts, from BCA's document)         → ESB-14-001
 *     Content-Type application/json                                                 → ESB-14-015
 *     a body that is JSON                                                           → ESB-14-016
 *  4. POST /banking/corporates/transfers: mandatory fields (ESB-82-001), CorporateID of the
 *     token's partner, 8-digit TransactionID, TransactionDate today in UTC+7, Amount 13.2 > 0
 *     (ESB-82-011), Remarks ≤ 18; a TransactionID is consumed once it passes these checks (even
 *     if the payment is then refused) and is refused ever after (ESB-82-003); unknown account ESB-82-014, dormant ESB-82-018, closed
 *     ESB-82-022, insufficient funds ESB-82-019. Then the money moves and it answers
 *     `{TransactionID, TransactionDate, ReferenceID, Status: "Success"}`.
 *
 * Forcing errors (see failure-scenarios.ts):
 *  - `simulator.failNext({ code?, httpStatus?, execute?, delayMs?, dropConnection?, hang?, operation? })`,
 *    queued, one per call;
 *  - the same JSON posted to `POST /_simulator/fail-next` (loopback callers only);
 *  - a transfer whose Remark1 is `SIM ESB-xx-yyy` (that code, not executed), `SIM HTTP-nnn`
 *    (that status, non-BCA body), `SIM TIMEOUT` (executed, never answered), `SIM RESET`
 *    (executed, connection destroyed) or `SIM DELAY` (executed, answered after 1.5 s);
 *  - `expireTokens()`: every issued token answers ESB-14-009 from now on.
 * Admin endpoints, loopback callers only and never recorded in `calls`:
 *  `GET /_simulator/calls` (last 200, secrets redacted), `GET /_simulator/accounts`,
 *  `POST /_simulator/fail-next`, `POST /_simulator/reset`.
 */
export interface BankSimulatorOptions {
  partners: SimPartner[];
  /** Caller addresses allowed (the gateway's fixed egress IPs). Empty: nobody. */
  allowedSourceAddresses: string[];
  /** Defaults to the bank's own sample accounts (defaultAccounts: BCA's documentation samples for BCA). */
  accounts?: readonly SimAccount[];
  /** The bank this simulator plays, as its BIC. Default `CENAIDJA` (BCA). */
  bic?: string;
  /** Other simulated banks: interbank transfers credit them, external inquiries read them. */
  network?: SimulatorNetwork;
  /** Allowed distance between X-BCA-Timestamp and the simulator's clock. Default 300. */
  timestampToleranceSeconds?: number;
  /** Lifetime of issued tokens. Default 3600, as BCA observed. */
  tokenTtlSeconds?: number;
  /** SNAP partners registered with this bank (its SNAP API answers under the profile's paths; see snap/). */
  snapPartners?: SnapSimPartner[];
  /** The bank's SNAP dialect (paths, service codes, HMAC key, timestamp format). Default BCA's, from its documents. */
  snapProfile?: SnapBankDialect;
  /** How long a SNAP transfer answered "in progress" takes to settle. Default 1000 ms. */
  snapSettleAfterMs?: number;
  /** The bank's private key (PEM) signing its SNAP notifications (RTGS/SKN outcomes); made on first use when omitted. */
  snapNotificationKeyPem?: string;
  /** BICs that BI-FAST does not reach: SNAP BI-FAST transfers to them are refused 403xx15 (see SnapBankOptions). */
  snapBifastUnreachable?: string[];
  now?: () => Date;
}

export interface SimulatorCall {
  /** When the request arrived (epoch ms). */
  at: number;
  method: string;
  /** Path and query as received. */
  path: string;
  /** The caller's address, IPv4-mapped IPv6 normalised. */
  sourceAddress: string;
  /** As received, secrets included (in memory only; the admin endpoint redacts them). */
  headers: Record<string, string>;
  body: string;
  /** HTTP status answered; 0 when the connection was dropped or never answered. */
  status: number;
  /** ESB code answered, if any. */
  errorCode: string | null;
}

const STATUS_ROUTE = new RegExp(`^${LEGACY_PATHS.statusPrefix}([^/]+)$`);
const INQUIRY_ROUTE = new RegExp(`^${LEGACY_PATHS.domesticInquiryPrefix}([^/]+)/accounts/([^/]+)$`);
const BALANCE_ROUTE = new RegExp(`^${LEGACY_PATHS.accountsPrefix}([^/]+)/accounts/([^/]+)$`);
const STATEMENT_ROUTE = new RegExp(`^${LEGACY_PATHS.accountsPrefix}([^/]+)/accounts/([^/]+)/statements$`);
const MAX_BODY_BYTES = 64 * 1024;
/** Calls kept in memory, so a long sandbox run does not grow without bound. */
const MAX_CALLS = 10_000;

export class BankSimulator {
  /** Every request seen (admin calls excepted), in order, with what was answered: the tests' view of "the bank". */
  readonly calls: SimulatorCall[] = [];
  /** The bank's SNAP BI side (same books, same whitelist): `simulator.snap.failNext(…)`, `expireTokens()`. */
  readonly snap: SnapBank;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly ledger: Ledger;
  private readonly sessions: TokenSessions;
  private readonly scenarios: FailureScenario[] = [];
  private readonly allowed: Set<string>;
  private readonly now: () => number;
  private readonly tolerance: number;

  constructor(private readonly options: BankSimulatorOptions) {
    const clock = options.now ?? (() => new Date());
    this.now = () => clock().getTime();
    this.tolerance = options.timestampToleranceSeconds ?? 300;
    this.allowed = new Set(options.allowedSourceAddresses.map(normalizeAddress));
    this.ledger = new Ledger(options.accounts ?? defaultAccounts(options.bic ?? 'CENAIDJA'), (options.bic ?? 'CENAIDJA').toUpperCase(), options.network);
    this.sessions = new TokenSessions(options.tokenTtlSeconds ?? 3600);
    this.snap = new SnapBank({
      partners: options.snapPartners ?? [],
      profile: options.snapProfile,
      ledger: this.ledger,
      now: this.now,
      toleranceSeconds: this.tolerance,
      settleAfterMs: options.snapSettleAfterMs,
      notificationKeyPem: options.snapNotificationKeyPem,
      bifastUnreachable: options.snapBifastUnreachable,
    });
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens (port 0: any free port) and returns the base URL, e.g. `http://127.0.0.1:40123`. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // exclusive: in a cluster worker (PM2 running the sandbox), port 0 would otherwise be one port
      // shared by every worker's simulator, and a worker's calls would reach another's bank.
      this.server.listen({ port, host, exclusive: true }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port: bound } = this.server.address() as AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  }

  /** Stops listening and destroys every connection, hanging ones included. */
  async close(): Promise<void> {
    this.snap.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Makes the next call of the scenario's operation misbehave (queued, first in first out). */
  failNext(scenario: FailureScenario): void {
    this.scenarios.push(scenario);
  }

  /** Forgets the recorded calls and the queued scenarios; accounts, tokens and used TransactionIDs stay. */
  reset(): void {
    this.calls.length = 0;
    this.scenarios.length = 0;
    this.snap.reset();
  }

  /** Expires every issued token: the next service call answers ESB-14-009. */
  expireTokens(): void {
    this.sessions.expireAll();
  }

  /** Adds or replaces an account (a test makes its own). */
  setAccount(account: SimAccount): void {
    this.ledger.setAccount(account);
  }

  /**
   * Books a movement no API call made: a transfer the company keyed in the bank's own portal, a
   * fee. It shows on the statement as any other line. Returns why it was refused, or null.
   */
  bookOutside(move: LedgerMove): LedgerRefusal | null {
    return this.ledger.move(move);
  }

  /** Every account with its balance now. */
  accounts(): SimAccount[] {
    return this.ledger.list();
  }

  /** Balance as a decimal string, or null for an unknown account. */
  balanceOf(account: string): string | null {
    return this.ledger.balanceOf(account);
  }

  // ------------------------------------------------------------------ dispatch

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const source = normalizeAddress(req.socket.remoteAddress ?? '');
    const path = (req.url ?? '').split('?')[0];
    const admin = path.startsWith('/_simulator/');
    const call: SimulatorCall = {
      at: this.now(),
      method: req.method ?? '',
      path: req.url ?? '',
      sourceAddress: source,
      headers: flatten(req.headers),
      body: '',
      status: 0,
      errorCode: null,
    };
    if (!admin) {
      this.calls.push(call);
      if (this.calls.length > MAX_CALLS) this.calls.splice(0, this.calls.length - MAX_CALLS);
    }
    try {
      call.body = await readBody(req);
    } catch {
      return this.respond(req, res, call, esbError('ESB-82-001', 'Request body too large', 413));
    }
    if (admin) return this.respond(req, res, null, adminAnswer(this, req.method ?? '', path, call.body, source));
    return this.respond(req, res, call, this.route(req, path, call.body, source));
  }

  private route(req: IncomingMessage, path: string, body: string, source: string): SimAnswer {
    // SNAP BI services answer in SNAP's shape, the whitelist refusal included.
    if (this.snap.handles(path)) return this.snap.route({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }, this.allowed.has(source));
    if (!this.allowed.has(source)) return esbError('ESB-14-019');
    if (req.method === 'POST' && path === LEGACY_PATHS.token) return this.token(req, body);
    // Every other service call is signed: checked first, as BCA does, whatever the path.
    const signedCall = (handler: (partner: SimPartner) => SimAnswer): SimAnswer => {
      const auth = checkSignedCall({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }, this.sessions, this.options.partners, this.now(), this.tolerance);
      return 'partner' in auth ? handler(auth.partner) : auth;
    };
    if (req.method === 'POST' && path === LEGACY_PATHS.transfer) return signedCall((partner) => this.transfer(partner, body));
    if (req.method === 'POST' && path === LEGACY_PATHS.domesticTransfer) return signedCall((partner) => this.domesticTransfer(req, partner, body));
    if (req.method === 'GET') {
      const match = (route: RegExp) => route.exec(path)?.slice(1).map(decodeURIComponent);
      const status = match(STATUS_ROUTE);
      if (status) return signedCall((partner) => this.status(partner, req, status[0]));
      const inquiry = match(INQUIRY_ROUTE);
      if (inquiry) return signedCall((partner) => checkDomesticHeaders(req, partner) ?? this.scenarioOr('inquiry', () => domesticInquiry(this.ledger, inquiry[0], inquiry[1])));
      const history = match(STATEMENT_ROUTE);
      if (history) {
        const query = new URL(req.url ?? '', 'http://simulator').searchParams;
        return signedCall((partner) => this.scenarioOr('statement', () => statement(this.ledger, partner, history[0], history[1], query, this.now())));
      }
      const balance = match(BALANCE_ROUTE);
      if (balance) return signedCall((partner) => this.scenarioOr('balance', () => balances(this.ledger, partner, balance[0], balance[1])));
    }
    return { status: 404, body: esbBody('SIM-404', `No such service in the simulator: ${req.method} ${path}`), errorCode: 'SIM-404' };
  }

  /** A read-only call: a queued scenario for it, or the handler's answer. */
  private scenarioOr(operation: 'inquiry' | 'balance' | 'statement', handler: () => SimAnswer): SimAnswer {
    const scenario = this.takeScenario(operation);
    if (scenario?.code || scenario?.httpStatus) return { ...forcedAnswer(scenario), delayMs: scenario.delayMs };
    return { ...handler(), delayMs: scenario?.delayMs, hang: scenario?.hang, drop: scenario?.dropConnection };
  }

  private token(req: IncomingMessage, body: string): SimAnswer {
    const checked = checkTokenRequest(req.headers, body, this.options.partners);
    if (!('partner' in checked)) return checked;
    const scenario = this.takeScenario('token');
    if (scenario?.code || scenario?.httpStatus) return { ...forcedAnswer(scenario), delayMs: scenario.delayMs };
    const answer: SimAnswer = { status: 200, body: this.sessions.issue(checked.partner, this.now()), delayMs: scenario?.delayMs };
    return { ...answer, hang: scenario?.hang, drop: scenario?.dropConnection };
  }

  private transfer(partner: SimPartner, body: string): SimAnswer {
    const parsed = parseTransfer(body, partner, jakartaDate(this.now()));
    if (!('order' in parsed)) return parsed;
    const { order } = parsed;
    return this.executeTransfer(order.Remark1, () => {
      if (!this.ledger.claimId(legacyNamespace(partner), order.TransactionID)) return esbError('ESB-82-003');
      const { TransactionID, TransactionDate, ReferenceID, SourceAccountNumber, BeneficiaryAccountNumber, CurrencyCode, Amount } = order;
      const refusal = this.ledger.move({ source: SourceAccountNumber, beneficiary: BeneficiaryAccountNumber, amount: Amount, description: `${ReferenceID} ${order.Remark1}`.trim(), date: TransactionDate });
      if (refusal) return esbError(ESB_REFUSALS[refusal]);
      this.ledger.recordExecuted(legacyNamespace(partner), TransactionID, { TransactionID, TransactionDate, ReferenceID, SourceAccountNumber, BeneficiaryAccountNumber, CurrencyCode, Amount });
      return { status: 200, body: success(order) };
    });
  }

  private domesticTransfer(req: IncomingMessage, partner: SimPartner, body: string): SimAnswer {
    const refused = checkDomesticHeaders(req, partner);
    if (refused) return refused;
    const parsed = parseDomestic(body, jakartaDate(this.now()));
    if (!('order' in parsed)) return parsed;
    return this.executeTransfer(parsed.order.remark1, () => executeDomestic(this.ledger, partner, parsed.order));
  }

  /**
   * Applies the queued (or Remark1-forced) scenario around a transfer that passed its field
   * checks. A forced refusal stands for one that came before processing: nothing executes and
   * the TransactionID stays unused; with `execute`, the money moves first.
   */
  private executeTransfer(remark1: string, execute: () => SimAnswer): SimAnswer {
    const scenario = this.takeScenario('transfer') ?? scenarioFromRemark(remark1);
    const forced = scenario?.code !== undefined || scenario?.httpStatus !== undefined;
    if (forced && !scenario.execute) return { ...forcedAnswer(scenario), delayMs: scenario.delayMs };
    const answer = execute();
    if (forced) return { ...forcedAnswer(scenario), delayMs: scenario.delayMs };
    return { ...answer, delayMs: scenario?.delayMs, hang: scenario?.hang, drop: scenario?.dropConnection };
  }

  /**
   * Transfer status inquiry: `GET /banking/corporates/transfers/status/{TransactionID}
   * ?TransactionDate=yyyy-MM-dd&TransferType=BCA` with `ChannelID` and `CredentialID` headers.
   * The answer's field names beyond BCA's transfer answer are unconfirmed; Status is what counts.
   * A transfer the bank never executed answers ESB-99-127 (not found).
   */
  private status(partner: SimPartner, req: IncomingMessage, transactionId: string): SimAnswer {
    const query = new URL(req.url ?? '', 'http://simulator').searchParams;
    if (header(req.headers, 'channelid') !== LEGACY_CHANNEL_ID || header(req.headers, 'credentialid') === '') {
      return esbError('ESB-82-001', 'ChannelID and CredentialID are mandatory');
    }
    if (header(req.headers, 'credentialid') !== partner.corporateId) return esbError('ESB-14-019', 'CredentialID does not belong to this client');
    if (!/^\d{8}$/.test(transactionId)) return esbError('ESB-82-010', 'TransactionID must be 8 digits');
    const transferType = query.get('TransferType') ?? '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(query.get('TransactionDate') ?? '') || !LEGACY_STATUS_TRANSFER_TYPES.includes(transferType)) {
      return esbError('ESB-82-001', 'TransactionDate (yyyy-MM-dd) and TransferType (BCA, ONL, LLG or RTG) are mandatory');
    }
    const scenario = this.takeScenario('status');
    if (scenario?.code || scenario?.httpStatus) return { ...forcedAnswer(scenario), delayMs: scenario.delayMs };
    const executed = this.ledger.findExecuted(legacyNamespace(partner), transactionId);
    const answer: SimAnswer =
      executed && executed.TransactionDate === query.get('TransactionDate') && statusTransferType(executed) === transferType
        ? { status: 200, body: { ...executed, TransferType: transferType, Status: 'Success' } }
        : esbError('ESB-99-127');
    return { ...answer, delayMs: scenario?.delayMs, hang: scenario?.hang, drop: scenario?.dropConnection };
  }

  private takeScenario(operation: NonNullable<FailureScenario['operation']>): FailureScenario | undefined {
    const index = this.scenarios.findIndex((s) => (s.operation ?? 'transfer') === operation);
    return index < 0 ? undefined : this.scenarios.splice(index, 1)[0];
  }

  // ------------------------------------------------------------------ answering

  private async respond(req: IncomingMessage, res: ServerResponse, call: SimulatorCall | null, answer: SimAnswer): Promise<void> {
    if (call) call.errorCode = answer.errorCode ?? null;
    // Never answered: the socket stays open until the caller gives up or close() destroys it.
    if (answer.hang) return;
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.drop) {
      req.socket.destroy();
      return;
    }
    if (call) call.status = answer.status;
    const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const type = typeof answer.body === 'string' ? 'text/html; charset=utf-8' : 'application/json';
    if (res.destroyed) return;
    res.writeHead(answer.status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

/** Creates a simulator; call listen() to start it. */
export function createBankSimulator(options: BankSimulatorOptions): BankSimulator {
  return new BankSimulator(options);
}

function success(order: TransferOrder): Record<string, string> {
  return { TransactionID: order.TransactionID, TransactionDate: order.TransactionDate, ReferenceID: order.ReferenceID, Status: 'Success' };
}

/** The answer a scenario forces: its ESB code, or a non-BCA error page for a bare HTTP status. */
function forcedAnswer(scenario: FailureScenario): SimAnswer {
  if (scenario.code) return esbError(scenario.code, undefined, scenario.httpStatus);
  return { status: scenario.httpStatus ?? 500, body: `<html><body>Simulated HTTP ${scenario.httpStatus ?? 500}</body></html>`, errorCode: null };
}

/** `::ffff:127.0.0.1` → `127.0.0.1` (so an IPv4 whitelist holds on a dual-stack socket), lower case. */
function normalizeAddress(address: string): string {
  return (normalizeIp(address) ?? address).toLowerCase();
}

function flatten(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RangeError('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
