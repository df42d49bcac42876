import { transferOperation, type BankAdapter, type TransferMethod } from '../../banks/types.js';
import type { TransferLimits } from '../../config/index.js';
import { AppError } from '../../errors/index.js';
import { canonicalBic } from './bank-codes.js';
import { routeReasonText } from './route-reason.js';
import type { BankIdFormat } from '../transfers/bank-transaction-id.js';

export interface BankPartner {
  /** Partner name, the adapter's `partner`. */
  name: string;
  /** The bank this partner is (its BIC); a beneficiary at this bank is paid on-us. */
  bic: string;
  /** 1 is tried first. */
  priority: number;
  /** The company accounts this partner pays from and reads, its default first. */
  accounts: readonly string[];
  /**
   * Whose ids the bank's transaction ids are unique among: the bank and the corporate (or SNAP
   * partner) id, so two partner blocks on one corporate share one counter; and their format.
   */
  idNamespace: string;
  idFormat: BankIdFormat;
  adapter: BankAdapter;
}

/** One way to pay a transfer: through this partner, by this method. */
export interface TransferRoute {
  partner: string;
  /** The BIC of the bank the partner connection is at (BankPartner.bic): the routing record names the bank, not only the connection. */
  bank?: string;
  /** See BankPartner.idNamespace and idFormat. */
  idNamespace: string;
  idFormat: BankIdFormat;
  method: TransferMethod;
  /** `transfer-intrabank`, `transfer-bifast`, … (payments.operation, the audit). */
  operation: string;
  adapter: BankAdapter;
  /** Why this route, for the transfer's routing record (routeReasonText: readRouteReason reads it back). */
  reason: string;
  /**
   * Taken only when the route before it failed for this reason (the adapter's
   * `extensions.reason`): online switching after a BI-FAST refusal meaning "BI-FAST is not
   * available for this beneficiary bank". Skipped otherwise.
   */
  onlyAfter?: 'BIFAST_UNAVAILABLE';
}

export interface RouteRequest {
  /** The company account paying (see payingAccount). */
  sourceAccountNumber: string;
  beneficiaryBankCode: string;
  amountCents: number;
  /** Asked for by the ERP; chosen by amount and partner when absent. */
  transferMethod?: TransferMethod;
}

type InterbankMethod = Exclude<TransferMethod, 'INTRABANK'>;

/**
 * Chooses how a transfer is paid. Money leaves only from an account held at the bank that sends
 * it, so a transfer goes through the partners that hold its paying account (partners of one
 * bank may share an account; partners of different banks never do): on-us when the beneficiary
 * is at that bank, interbank otherwise, the method chosen by amount (BI-FAST, then online
 * switching, then SKN or RTGS) among those the partner offers. `route` answers every usable
 * route in order, so the caller falls back to the next connection holding the same account
 * when one is unavailable; it never falls back to another bank.
 * Throws VALIDATION_FAILED (400) naming `sourceAccountNumber` for an account no partner holds,
 * ROUTE_UNAVAILABLE (422), naming the field, when no holder can pay it.
 */
export class BankRouter {
  private readonly partners: BankPartner[];

  constructor(partners: BankPartner[], private readonly limits: TransferLimits) {
    this.partners = [...partners].sort((a, b) => a.priority - b.priority);
  }

  /**
   * The company account a transfer pays from: the one asked for, which a partner must hold;
   * when none is asked for, the default account of a partner at the beneficiary's bank if the
   * company has one there, else of the partner of best priority that has accounts.
   */
  payingAccount(sourceAccountNumber: string | undefined, beneficiaryBankCode: string): string {
    if (sourceAccountNumber !== undefined) {
      if (this.holders(sourceAccountNumber).length === 0) {
        throw new AppError('VALIDATION_FAILED', 'No configured bank partner holds the paying account.', {
          fields: [{ field: 'sourceAccountNumber', message: `account ${sourceAccountNumber} is not a company account of any configured bank partner` }],
        });
      }
      return sourceAccountNumber;
    }
    const bic = canonicalBic(beneficiaryBankCode);
    const withAccounts = this.partners.filter((p) => p.accounts.length > 0);
    const chosen = withAccounts.find((p) => p.bic === bic) ?? withAccounts[0];
    if (!chosen) {
      throw new AppError('VALIDATION_FAILED', 'No company account is configured to pay from.', {
        fields: [{ field: 'sourceAccountNumber', message: 'is required: no bank partner has a default account configured' }],
      });
    }
    return chosen.accounts[0];
  }

  route(request: RouteRequest): TransferRoute[] {
    const bic = canonicalBic(request.beneficiaryBankCode);
    if (bic === null) throw unroutable('beneficiaryBankCode', `unknown bank ${request.beneficiaryBankCode}`);
    const asked = request.transferMethod;
    if (asked !== undefined && asked !== 'INTRABANK') this.checkLimit(asked, request.amountCents);
    const holders = this.holders(this.payingAccount(request.sourceAccountNumber, request.beneficiaryBankCode));

    const routes: TransferRoute[] = [];
    for (const partner of holders) {
      const held = { account: request.sourceAccountNumber, partner: partner.name, priority: partner.priority };
      if (partner.bic === bic) {
        if (asked !== undefined && asked !== 'INTRABANK') continue;
        routes.push(this.toRoute(partner, 'INTRABANK', routeReasonText({ kind: 'on-us', ...held, bic })));
        continue;
      }
      if (asked === 'INTRABANK') continue;
      const method = asked ?? this.methodFor(partner.adapter.interbankMethods, request.amountCents);
      if (method === null || !partner.adapter.interbankMethods.includes(method as InterbankMethod)) continue;
      const interbank = { kind: 'interbank', ...held, bic } as const;
      routes.push(this.toRoute(partner, method, routeReasonText({ ...interbank, method: method as InterbankMethod, chosen: asked ? 'asked' : 'amount' })));
      // Not every bank is reachable by BI-FAST: a BI-FAST Gerbang chose itself falls back to
      // switching at the same partner when the bank says BI-FAST is unavailable for this one.
      if (!asked && method === 'BIFAST' && partner.adapter.interbankMethods.includes('ONLINE') && request.amountCents <= this.limits.onlineMaxCents) {
        routes.push({ ...this.toRoute(partner, 'ONLINE', routeReasonText({ ...interbank, method: 'ONLINE', chosen: 'bifast-unavailable' })), onlyAfter: 'BIFAST_UNAVAILABLE' });
      }
    }
    if (routes.length === 0) {
      const holder = holders[0];
      if (asked === 'INTRABANK') throw unroutable('transferMethod', `INTRABANK pays only a beneficiary at the paying account's bank ${holder.bic}, not ${bic}`);
      if (asked !== undefined && holder.bic === bic) throw unroutable('transferMethod', `${asked} does not pay a beneficiary at the paying account's own bank ${bic}; use INTRABANK`);
      throw unroutable(asked ? 'transferMethod' : 'beneficiaryBankCode', asked ? `no partner holding account ${request.sourceAccountNumber} offers ${asked}` : `no partner holding account ${request.sourceAccountNumber} can pay bank ${bic} this amount`);
    }
    return routes;
  }

  /** The partners holding a company account, best priority first (all of one bank). */
  holders(accountNumber: string): BankPartner[] {
    return this.partners.filter((p) => p.accounts.includes(accountNumber));
  }

  /** The adapter of a partner by name (a stored transfer's `bank`); null when it is no longer configured. */
  adapterFor(partner: string): BankAdapter | null {
    return this.partners.find((p) => p.name === partner)?.adapter ?? null;
  }

  /** Every partner, best priority first. */
  all(): readonly BankPartner[] {
    return this.partners;
  }

  async close(): Promise<void> {
    await Promise.all(this.partners.map((p) => p.adapter.close()));
  }

  private toRoute(partner: BankPartner, method: TransferMethod, reason: string): TransferRoute {
    return { partner: partner.name, bank: partner.bic, idNamespace: partner.idNamespace, idFormat: partner.idFormat, method, operation: transferOperation(method), adapter: partner.adapter, reason };
  }

  /** BI-FAST, then online switching, within their limits; above them RTGS from its minimum, SKN below. */
  private methodFor(offered: readonly InterbankMethod[], amount: number): InterbankMethod | null {
    const { bifastMaxCents, onlineMaxCents, sknMaxCents, rtgsMinCents } = this.limits;
    if (offered.includes('BIFAST') && amount <= bifastMaxCents) return 'BIFAST';
    if (offered.includes('ONLINE') && amount <= onlineMaxCents) return 'ONLINE';
    if (offered.includes('RTGS') && amount >= rtgsMinCents) return 'RTGS';
    if (offered.includes('SKN') && amount <= sknMaxCents) return 'SKN';
    return null;
  }

  private checkLimit(method: InterbankMethod, amount: number): void {
    const { bifastMaxCents, onlineMaxCents, sknMaxCents, rtgsMinCents } = this.limits;
    const rupiah = (cents: number) => (cents / 100).toFixed(2);
    const problem =
      method === 'BIFAST' && amount > bifastMaxCents ? `BIFAST takes at most ${rupiah(bifastMaxCents)}`
      : method === 'ONLINE' && amount > onlineMaxCents ? `ONLINE takes at most ${rupiah(onlineMaxCents)}`
      : method === 'SKN' && amount > sknMaxCents ? `SKN takes at most ${rupiah(sknMaxCents)}`
      : method === 'RTGS' && amount < rtgsMinCents ? `RTGS takes at least ${rupiah(rtgsMinCents)}`
      : null;
    if (problem) throw new AppError('VALIDATION_FAILED', `The amount does not fit ${method}.`, { fields: [{ field: 'amount', message: problem }] });
  }
}

function unroutable(field: string, message: string): AppError {
  return new AppError('ROUTE_UNAVAILABLE', `No configured bank partner can pay this transfer: ${message}.`, { fields: [{ field, message }] });
}
