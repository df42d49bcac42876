import type { IncomingHttpHeaders } from 'node:http';
import { jakartaDate } from '../../../time/index.js';
import type { SimAnswer } from '../esb-answers.js';
import type { Ledger } from '../simulator-state.js';
import { snapAnswer, snapCodeAnswer } from './snap-answers.js';
import { BCA_SNAP_DIALECT, type SnapBankDialect, type SnapCodedServiceName, type SnapServiceName } from './snap-dialect.js';
import { checkServiceCall, checkTokenRequest, SnapTokenSessions, type SnapSimPartner } from './snap-auth.js';
import { accountInquiry, balanceInquiry, bankStatement, transferStatus } from './snap-inquiries.js';
import { SnapNotifier, type SentNotification } from './snap-notifier.js';
import { snapScenarioFromRemark, type SnapScenario } from './snap-scenarios.js';
import { book, parseSnapTransfer, referenceNumber, SNAP_REFUSALS, TRANSFER_SERVICES, transferAnswer, type SnapTransferOrder, type SnapTransferRecord, type TransferService } from './snap-transfers.js';

export interface SnapBankOptions {
  partners: readonly SnapSimPartner[];
  /** The bank's SNAP dialect (paths, service codes, HMAC key, timestamp format). Default BCA's. */
  profile?: SnapBankDialect;
  /** The simulated bank's books, shared with its legacy API. */
  ledger: Ledger;
  now: () => number;
  /** Allowed distance between X-TIMESTAMP and the clock. */
  toleranceSeconds: number;
  /** Lifetime of B2B tokens. Default 900, as BCA answers. */
  tokenTtlSeconds?: number;
  /** How long a `pending` transfer stays in progress before it settles. Default 1000 ms. */
  settleAfterMs?: number;
  /** The bank's private key (PEM) that signs its notifications; one is made on first use when omitted. */
  notificationKeyPem?: string;
  /**
   * Beneficiary banks (BICs) BI-FAST does not reach: a BI-FAST transfer to one is refused before
   * anything moves with 403 + service + 15, SNAP's "Transaction Not Permitted".
   */
  bifastUnreachable?: readonly string[];
}

interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The operation a scenario names, per service. */
const SCENARIO_OPERATION: Record<SnapServiceName, NonNullable<SnapScenario['operation']>> = {
  token: 'token',
  balance: 'balance',
  statement: 'statement',
  'account-inquiry-internal': 'inquiry',
  'account-inquiry-external': 'inquiry',
  'transfer-intrabank': 'transfer',
  'transfer-interbank': 'transfer',
  'transfer-rtgs': 'transfer',
  'transfer-skn': 'transfer',
  'transfer-status': 'status',
};

/**
 * SNAP BI as the simulated bank speaks it, beside its legacy API on the same server and books.
 * As strict as the bank, in its order:
 *  1. source address whitelisted                                    → 401xx00 Connection not allowed
 *  2. token: headers, X-TIMESTAMP format and window, registered client, RSA-SHA256 over
 *     `clientId|X-TIMESTAMP` verified with the registered public key → 400/401 7300-7302
 *  3. services: live token (401xx01), mandatory headers (400xx02), X-TIMESTAMP (400xx01),
 *     X-PARTNER-ID, CHANNEL-ID, ORIGIN (401xx00), HMAC-SHA512 over the exact bytes received
 *     (401xx00), numeric X-EXTERNAL-ID and a JSON body (400xx01)
 *  4. the service's fields (400xx02 missing, 400xx01 format), a forced scenario, then
 *     X-EXTERNAL-ID unique per partner and day (409xx00) and, for a transfer, partnerReferenceNo
 *     never used before (409xx01); then the books (404xx11, 403xx14, 403xx18).
 * Failure forcing: `failNext(scenario)` and remark magic values (snap-scenarios.ts).
 */
export class SnapBank {
  private readonly profile: SnapBankDialect;
  private readonly sessions: SnapTokenSessions;
  private readonly services = new Map<string, SnapServiceName>();
  private readonly scenarios: SnapScenario[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly notifier: SnapNotifier;

  constructor(private readonly options: SnapBankOptions) {
    this.profile = options.profile ?? BCA_SNAP_DIALECT;
    this.sessions = new SnapTokenSessions(options.tokenTtlSeconds ?? 900);
    this.notifier = new SnapNotifier(options.notificationKeyPem);
    for (const [service, path] of Object.entries(this.profile.paths)) this.services.set(path, service as SnapServiceName);
  }

  /** Whether `path` (without query) is one of this bank's SNAP services. */
  handles(path: string): boolean {
    return this.services.has(path);
  }

  failNext(scenario: SnapScenario): void {
    this.scenarios.push(scenario);
  }

  /** Every issued token answers 401xx01 from now on. */
  expireTokens(): void {
    this.sessions.expireAll();
  }

  /** Forgets queued scenarios. */
  reset(): void {
    this.scenarios.length = 0;
  }

  /** Cancels pending settlements (the simulator is closing). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  route(req: ReceivedRequest, sourceAllowed: boolean): SimAnswer {
    const service = this.services.get(req.url.split('?')[0]) as SnapServiceName;
    const serviceCode = service === 'token' ? '73' : this.profile.serviceCodes[service];
    if (!sourceAllowed) return snapAnswer('401', serviceCode, '00', 'Connection not allowed');
    if (req.method !== 'POST') return snapAnswer('400', serviceCode, '00', `${req.method} not allowed`);
    const clock = { now: this.options.now(), toleranceSeconds: this.options.toleranceSeconds, profile: this.profile };
    if (service === 'token') {
      const checked = checkTokenRequest(req, this.options.partners, clock);
      if (!('partner' in checked)) return checked;
      return this.withScenario('token', () => ({ status: 200, body: this.sessions.issue(checked.partner, clock.now) }));
    }
    const auth = checkServiceCall(req, serviceCode, this.sessions, clock);
    if (!('partner' in auth)) return auth;
    const namespace = `snap:${auth.partner.clientId}`;
    const claimExternalId = () => this.options.ledger.claimId(`snap-external-id:${auth.partner.clientId}:${jakartaDate(clock.now)}`, auth.externalId);
    if ((TRANSFER_SERVICES as readonly string[]).includes(service)) {
      return this.transfer(service as TransferService, serviceCode, auth.body, auth.externalId, namespace, claimExternalId, auth.partner);
    }
    const answer = (handler: () => SimAnswer) =>
      this.withScenario(SCENARIO_OPERATION[service], () => (claimExternalId() ? handler() : snapAnswer('409', serviceCode, '00', 'X-EXTERNAL-ID already used today')));
    const ledger = this.options.ledger;
    switch (service as Exclude<SnapCodedServiceName, TransferService>) {
      case 'transfer-status':
        return answer(() => transferStatus((id) => ledger.findExecuted(namespace, id) as SnapTransferRecord | undefined, auth.body, serviceCode, clock.now, this.profile.mandatory?.['transfer-status']));
      case 'account-inquiry-internal':
        return answer(() => accountInquiry(ledger, 'internal', auth.body, serviceCode, this.profile.mandatory?.['account-inquiry-internal']));
      case 'account-inquiry-external':
        return answer(() => accountInquiry(ledger, 'external', auth.body, serviceCode, this.profile.mandatory?.['account-inquiry-external']));
      case 'balance':
        return answer(() => balanceInquiry(ledger, auth.body, serviceCode));
      case 'statement':
        return answer(() => bankStatement(ledger, auth.body, serviceCode));
    }
  }

  /** A read-only call or token: a queued scenario for it, or the handler's answer. */
  private withScenario(operation: NonNullable<SnapScenario['operation']>, handler: () => SimAnswer): SimAnswer {
    const scenario = this.takeScenario(operation);
    if (scenario?.responseCode || scenario?.httpStatus) return { ...forcedAnswer(scenario), delayMs: scenario.delayMs };
    return { ...handler(), delayMs: scenario?.delayMs, hang: scenario?.hang, drop: scenario?.dropConnection };
  }

  private transfer(service: TransferService, serviceCode: string, body: Record<string, unknown>, externalId: string, namespace: string, claimExternalId: () => boolean, partner: SnapSimPartner): SimAnswer {
    const parsed = parseSnapTransfer(service, serviceCode, body, this.profile);
    if (!('order' in parsed)) return parsed;
    const { order } = parsed;
    const unreachable = this.options.bifastUnreachable ?? [];
    if (order.transferType === '2' && unreachable.some((bic) => bic.toUpperCase() === (order.beneficiaryBankCode ?? '').toUpperCase())) {
      return snapAnswer('403', serviceCode, '15', 'BI-FAST not available for the beneficiary bank');
    }
    const scenario = this.takeScenario('transfer') ?? snapScenarioFromRemark(order.remark);
    const forced = scenario?.responseCode !== undefined || scenario?.httpStatus !== undefined;
    // A forced refusal stands for one before processing: nothing is claimed or executed.
    if (forced && !scenario.execute) return { ...forcedAnswer(scenario), delayMs: scenario.delayMs };
    const answer = this.execute(order, serviceCode, externalId, namespace, claimExternalId, scenario?.pending === true, partner);
    if (forced) return { ...forcedAnswer(scenario), delayMs: scenario.delayMs };
    return { ...answer, delayMs: scenario?.delayMs, hang: scenario?.hang, drop: scenario?.dropConnection };
  }

  private execute(order: SnapTransferOrder, serviceCode: string, externalId: string, namespace: string, claimExternalId: () => boolean, pending: boolean, partner: SnapSimPartner): SimAnswer {
    if (!claimExternalId()) return snapAnswer('409', serviceCode, '00', 'X-EXTERNAL-ID already used today');
    if (!this.options.ledger.claimId(namespace, order.partnerReferenceNo)) return snapAnswer('409', serviceCode, '01');
    const record: SnapTransferRecord = {
      serviceCode,
      externalId,
      partnerReferenceNo: order.partnerReferenceNo,
      referenceNo: referenceNumber(),
      date: order.date,
      transactionDate: order.transactionDate,
      amount: order.amount,
      status: pending ? '03' : '00',
    };
    const save = () => this.options.ledger.recordExecuted(namespace, order.partnerReferenceNo, { ...record });
    if (pending) {
      save();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        record.status = book(this.options.ledger, order) ? '06' : '00';
        save();
        this.notifyLater(partner, order, record, 0);
      }, this.options.settleAfterMs ?? 1_000);
      timer.unref();
      this.timers.add(timer);
      return transferAnswer(order, serviceCode, record);
    }
    const refusal = book(this.options.ledger, order);
    if (refusal) {
      record.status = '06';
      save();
      const [http, kase] = SNAP_REFUSALS[refusal];
      return snapAnswer(http, serviceCode, kase);
    }
    save();
    // RTGS/SKN settle after acceptance: the final outcome is notified a little later, as the bank does.
    this.notifyLater(partner, order, record, this.options.settleAfterMs ?? 1_000);
    return transferAnswer(order, serviceCode, record);
  }

  /** The bank's public key for its notifications (SPKI PEM), which the partner configures. */
  get notificationPublicKeyPem(): string {
    return this.notifier.publicKeyPem;
  }

  /** The notifications sent so far, with the HTTP status the partner answered (null: no answer). */
  get notifications(): readonly SentNotification[] {
    return this.notifier.sent;
  }

  /** Sends a clearing transfer's final outcome to the partner's notifyUrl after `delayMs` (nothing for other transfers or without a URL). */
  private notifyLater(partner: SnapSimPartner, order: SnapTransferOrder, record: SnapTransferRecord, delayMs: number): void {
    if (!partner.notifyUrl || (order.service !== 'transfer-rtgs' && order.service !== 'transfer-skn') || record.status === '03') return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.notifier.send(partner, order.service as 'transfer-rtgs' | 'transfer-skn', record, this.options.now());
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private takeScenario(operation: NonNullable<SnapScenario['operation']>): SnapScenario | undefined {
    const index = this.scenarios.findIndex((s) => (s.operation ?? 'transfer') === operation);
    return index < 0 ? undefined : this.scenarios.splice(index, 1)[0];
  }
}

/** The answer a scenario forces: its responseCode, or a non-SNAP error page for a bare HTTP status. */
function forcedAnswer(scenario: SnapScenario): SimAnswer {
  if (scenario.responseCode) return snapCodeAnswer(scenario.responseCode);
  return { status: scenario.httpStatus ?? 500, body: `<html><body>Simulated HTTP ${scenario.httpStatus ?? 500}</body></html>`, errorCode: null };
}
