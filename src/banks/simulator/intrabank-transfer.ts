import { esbError, type SimAnswer } from './esb-answers.js';
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

const MANDATORY = ['CorporateID', 'SourceAccountNumber', 'TransactionID', 'TransactionDate', 'ReferenceID', 'CurrencyCode', 'Amount', 'BeneficiaryAccountNumber'] as const;

/**
 * POST /banking/corporates/transfers field checks (bank-apis.md §1): every mandatory field a
 * non-empty string (ESB-82-001), the CorporateID of the token's partner, TransactionID exactly 8
 * digits, TransactionDate today in UTC+7, CurrencyCode IDR, 10-digit account numbers, Amount a
 * 13.2 decimal above zero (ESB-82-011), Remark1/Remark2 strings of at most 18 characters.
 */
export function parseTransfer(body: string, partner: SimPartner, today: string): { order: TransferOrder } | SimAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return esbError('ESB-82-001', 'Malformed JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return esbError('ESB-82-001', 'Body must be a JSON object');
  const o = parsed as Record<string, unknown>;
  const missing = MANDATORY.filter((field) => typeof o[field] !== 'string' || o[field] === '');
  if (missing.length > 0) return esbError('ESB-82-001', `Mandatory field is missing: ${missing.join(', ')}`);
  for (const remark of ['Remark1', 'Remark2']) {
    if (o[remark] !== undefined && (typeof o[remark] !== 'string' || (o[remark] as string).length > 18)) {
      return esbError('ESB-82-001', `${remark} must be a string of at most 18 characters`);
    }
  }
  const order = { ...o, Remark1: o.Remark1 ?? '', Remark2: o.Remark2 ?? '' } as TransferOrder;
  if (order.CorporateID !== partner.corporateId) return esbError('ESB-82-001', 'CorporateID does not belong to this client');
  if (!/^\d{8}$/.test(order.TransactionID)) return esbError('ESB-82-001', 'TransactionID must be 8 digits');
  if (order.TransactionDate !== today) return esbError('ESB-82-001', `TransactionDate must be today in UTC+7 (${today})`);
  if (order.CurrencyCode !== 'IDR') return esbError('ESB-82-001', 'CurrencyCode must be IDR');
  if (!/^\d{10}$/.test(order.SourceAccountNumber)) return esbError('ESB-82-014', 'SourceAccountNumber must be 10 digits');
  if (!/^\d{10}$/.test(order.BeneficiaryAccountNumber)) return esbError('ESB-82-014', 'BeneficiaryAccountNumber must be 10 digits');
  if (!/^\d{1,13}\.\d{2}$/.test(order.Amount) || /^0+\.00$/.test(order.Amount)) return esbError('ESB-82-011');
  return { order };
}
