import type { BankAdapter } from '../../banks/types.js';
import { AppError } from '../../errors/index.js';
import { canonicalBic } from './bank-codes.js';

export interface BankPartner {
  /** The bank this partner is (its BIC); a beneficiary at this bank is paid on-us. */
  bic: string;
  adapter: BankAdapter;
}

export interface TransferRoute {
  partner: string;
  operation: 'transfer-intrabank';
  adapter: BankAdapter;
  /** Why this route was chosen, for the audit record. */
  reason: string;
}

/**
 * Chooses the bank partner and operation of a transfer from the beneficiary's bank. A
 * beneficiary at a partner bank is paid on-us (intrabank) through that partner.
 * Throws ROUTE_UNAVAILABLE (422) when no partner can pay the beneficiary's bank.
 */
export class BankRouter {
  constructor(private readonly partners: BankPartner[]) {}

  route(beneficiaryBankCode: string): TransferRoute {
    const bic = canonicalBic(beneficiaryBankCode);
    const partner = bic === null ? undefined : this.partners.find((p) => p.bic === bic);
    if (!partner) {
      throw new AppError('ROUTE_UNAVAILABLE', `No configured bank partner can pay beneficiary bank ${beneficiaryBankCode}.`, {
        fields: [{ field: 'beneficiaryBankCode', message: `no route to bank ${beneficiaryBankCode} (interbank transfers are not enabled)` }],
      });
    }
    return {
      partner: partner.adapter.partner,
      operation: 'transfer-intrabank',
      adapter: partner.adapter,
      reason: `beneficiary bank ${bic} is partner ${partner.adapter.partner}: paid on-us`,
    };
  }

  /** The adapter of a partner by name (a stored transfer's `bank`); null when it is no longer configured. */
  adapterFor(partner: string): BankAdapter | null {
    return this.partners.find((p) => p.adapter.partner === partner)?.adapter ?? null;
  }

  async close(): Promise<void> {
    await Promise.all(this.partners.map((p) => p.adapter.close()));
  }
}
