import { esbError, type SimAnswer } from './esb-answers.js';
import { LEGACY_MANDATORY } from './legacy-dialect.js';
import { parseLegacyBody } from './legacy-operations.js';
import type { SimPartner } from './simulator-state.js';

/** A transfer request that passed BCA's field checks. */
export interface TransferOrder {
  CorporateID: string;
  SourceAccountNumber: string;
  TransactionID: string;
  TransactionDate: string;
  ReferenceID: string;
  CurrencyCode: string;
  Amount: string;
  BeneficiaryAccountNumber: string;
  Remark1: string;
  Remark2: string;
}

/**
 * POST /banking/corporates/transfers field checks (BCA's Fund Transfer page): every mandatory field
 * a non-empty string (ESB-82-001), the CorporateID of the token's partner, TransactionID exactly 8
 * digits (ESB-82-010), TransactionDate today in UTC+7, CurrencyCode IDR (ESB-82-009), 10-digit account numbers, Amount a
 * 13.2 decimal above zero (ESB-82-011), Remark1/Remark2 strings of at most 18 characters.
 */
export function parseTransfer(body: string, partner: SimPartner, today: string): { order: TransferOrder } | SimAnswer {
  const checked = parseLegacyBody(body, LEGACY_MANDATORY.transfer, ['Remark1', 'Remark2']);
  if (!('value' in checked)) return checked;
  const order = checked.value as unknown as TransferOrder;
  if (order.CorporateID !== partner.corporateId) return esbError('ESB-82-001', 'CorporateID does not belong to this client');
  if (!/^\d{8}$/.test(order.TransactionID)) return esbError('ESB-82-010', 'TransactionID must be 8 digits');
  if (order.TransactionDate !== today) return esbError('ESB-82-001', `TransactionDate must be today in UTC+7 (${today})`);
  if (order.CurrencyCode !== 'IDR') return esbError('ESB-82-009', 'CurrencyCode must be IDR');
  if (!/^\d{10}$/.test(order.SourceAccountNumber)) return esbError('ESB-82-014', 'SourceAccountNumber must be 10 digits');
  if (!/^\d{10}$/.test(order.BeneficiaryAccountNumber)) return esbError('ESB-82-014', 'BeneficiaryAccountNumber must be 10 digits');
  if (!/^\d{1,13}\.\d{2}$/.test(order.Amount) || /^0+\.00$/.test(order.Amount)) return esbError('ESB-82-011');
  return { order };
}
