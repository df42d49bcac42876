import { transferOperation, type BankAdapter, type TransferMethod } from '../../banks/types.js';
import type { TransferLimits } from '../../config/index.js';
import { AppError } from '../../errors/index.js';
import { canonicalBic } from './bank-codes.js';

export interface BankPartner {
  /** Partner name, the adapter's `partner`. */
  name: string;
  /** The bank this partner is (its BIC); a beneficiary at this bank is paid on-us. */
  bic: string;
  /** 1 is tried first. */
  priority: number;
  adapter: BankAdapter;
}

/** One way to pay a transfer: through this partner, by this method. */
export interface TransferRoute {
  partner: string;
  method: TransferMethod;
  /** `transfer-intrabank`, `transfer-bifast`, … (payments.operation, the audit). */
  operation: string;
  adapter: BankAdapter;
  /** Why this route, for the transfer's routing record. */
  reason: string;
}

export interface RouteRequest {
  beneficiaryBankCode: string;
  amountCents: number;
  /** Asked for by the ERP; chosen by amount and partner when absent. */
  transferMethod?: TransferMethod;
}

type InterbankMethod = Exclude<TransferMethod, 'INTRABANK'>;

/**
 * Chooses how a transfer is paid (the microservice payment-gateway design Gerbang follows):
 * a beneficiary at a partner bank is paid on-us through that partner; any other beneficiary is
 * paid interbank through the partner with the best priority, the method chosen by amount
 * (BI-FAST, then online switching, then SKN or RTGS) among those the partner offers. `route`
 * answers every usable route in order, so the caller falls back to the next when a partner is
 * unavailable; an on-us transfer falls back to interbank through the other partners.
 * Throws ROUTE_UNAVAILABLE (422), naming the field, when no partner can pay it.
 */
export class BankRouter {
  private readonly partners: BankPartner[];

  constructor(partners: BankPartner[], private readonly limits: TransferLimits) {
    this.partners = [...partners].sort((a, b) => a.priority - b.priority);
  }

  route(request: RouteRequest): TransferRoute[] {
    const bic = canonicalBic(request.beneficiaryBankCode);
    if (bic === null) throw unroutable('beneficiaryBankCode', `unknown bank ${request.beneficiaryBankCode}`);
    const asked = request.transferMethod;
    if (asked !== undefined && asked !== 'INTRABANK') this.checkLimit(asked, request.amountCents);

    const routes: TransferRoute[] = [];
    if (asked === undefined || asked === 'INTRABANK') {
      for (const partner of this.partners.filter((p) => p.bic === bic)) {
        routes.push(this.toRoute(partner, 'INTRABANK', `beneficiary bank ${bic} is partner ${partner.name} (priority ${partner.priority}): paid on-us`));
      }
      if (asked === 'INTRABANK' && routes.length === 0) {
        throw unroutable('transferMethod', `INTRABANK needs a partner at the beneficiary's bank ${bic}, and none is configured`);
      }
    }
    if (asked !== 'INTRABANK') {
      for (const partner of this.partners.filter((p) => p.bic !== bic)) {
        const method = asked ?? this.methodFor(partner.adapter.interbankMethods, request.amountCents);
        if (method === null || !partner.adapter.interbankMethods.includes(method as InterbankMethod)) continue;
        const why = asked ? `${method} as asked` : `${method} chosen for the amount`;
        routes.push(this.toRoute(partner, method, `beneficiary bank ${bic} is not a partner: interbank through ${partner.name} (priority ${partner.priority}), ${why}`));
      }
    }
    if (routes.length === 0) {
      throw unroutable(asked ? 'transferMethod' : 'beneficiaryBankCode', asked ? `no configured partner offers ${asked} to bank ${bic}` : `no configured partner can pay bank ${bic} this amount`);
    }
    return routes;
  }

  /** The adapter of a partner by name (a stored transfer's `bank`); null when it is no longer configured. */
  adapterFor(partner: string): BankAdapter | null {
    return this.partners.find((p) => p.name === partner)?.adapter ?? null;
  }

  /** The partner that holds an account at its own bank, for balance, statement and internal inquiries. */
  partnerAt(bic: string): BankPartner | null {
    return this.partners.find((p) => p.bic === bic) ?? null;
  }

  /** Every partner, best priority first. */
  all(): readonly BankPartner[] {
    return this.partners;
  }

  async close(): Promise<void> {
    await Promise.all(this.partners.map((p) => p.adapter.close()));
  }

  private toRoute(partner: BankPartner, method: TransferMethod, reason: string): TransferRoute {
    return { partner: partner.name, method, operation: transferOperation(method), adapter: partner.adapter, reason };
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
