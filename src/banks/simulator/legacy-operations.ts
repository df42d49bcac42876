import type { IncomingMessage } from 'node:http';
import { jakartaDate } from '../../time/index.js';
import { esbError, type SimAnswer } from './esb-answers.js';
import { LEGACY_CHANNEL_ID, LEGACY_CUSTOMER_RESIDENCES, LEGACY_CUSTOMER_TYPES, LEGACY_DOMESTIC_TRANSFER_TYPES, LEGACY_MANDATORY, LEGACY_STATEMENT_DAYS } from './legacy-dialect.js';
import { header } from './request-auth.js';
import type { Ledger, LedgerRefusal, SimPartner } from './simulator-state.js';

/**
 * BCA legacy operations beyond the intrabank transfer, as the simulator answers them:
 * domestic (interbank) transfer v2, the domestic beneficiary inquiry, balance and statement.
 * Field names and codes follow BCA's documents (legacy-dialect.ts); answer fields they do not
 * list are marked unconfirmed.
 */

/** The ESB code a refusal of the books is answered with. */
export const ESB_REFUSALS: Record<LedgerRefusal, string> = {
  ACCOUNT_NOT_FOUND: 'ESB-82-014',
  ACCOUNT_DORMANT: 'ESB-82-018',
  ACCOUNT_CLOSED: 'ESB-82-022',
  INSUFFICIENT_FUNDS: 'ESB-82-019',
};

/** Where every legacy TransactionID of a corporate is claimed and its executed transfer kept. */
export function legacyNamespace(partner: SimPartner): string {
  return `legacy:${partner.corporateId}`;
}

/** Domestic v2 and its inquiry want lower-case `channel-id` and `credential-id` (the corporate id). */
export function checkDomesticHeaders(req: IncomingMessage, partner: SimPartner): SimAnswer | null {
  if (header(req.headers, 'channel-id') !== LEGACY_CHANNEL_ID || header(req.headers, 'credential-id') === '') {
    return esbError('ESB-82-001', 'channel-id and credential-id are mandatory');
  }
  if (header(req.headers, 'credential-id') !== partner.corporateId) return esbError('ESB-14-019', 'credential-id does not belong to this client');
  return null;
}

export interface DomesticOrder {
  transaction_id: string;
  transaction_date: string;
  source_account_number: string;
  beneficiary_account_number: string;
  beneficiary_bank_code: string;
  beneficiary_name: string;
  amount: string;
  transfer_type: string;
  beneficiary_cust_type: string;
  beneficiary_cust_residence: string;
  currency_code: string;
  remark1: string;
  remark2: string;
  beneficiary_email?: string;
}


/** POST /banking/corporates/transfers/v2/domestic field checks, in BCA's codes. */
export function parseDomestic(body: string, today: string): { order: DomesticOrder } | SimAnswer {
  const checked = parseLegacyBody(body, LEGACY_MANDATORY.domesticTransfer, ['remark1', 'remark2']);
  if (!('value' in checked)) return checked;
  const order = checked.value as unknown as DomesticOrder;
  if (!/^\d{8}$/.test(order.transaction_id)) return esbError('ESB-82-010', 'transaction_id must be 8 digits');
  if (order.transaction_date !== today) return esbError('ESB-82-001', `transaction_date must be today in UTC+7 (${today})`);
  if (order.currency_code !== 'IDR') return esbError('ESB-82-009', 'currency_code must be IDR');
  if (!LEGACY_DOMESTIC_TRANSFER_TYPES.includes(order.transfer_type)) return esbError('ESB-82-001', 'transfer_type must be ONL, LLG or RTG');
  if (!/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(order.beneficiary_bank_code)) return esbError('ESB-82-001', 'beneficiary_bank_code must be a BIC');
  if (!LEGACY_CUSTOMER_TYPES.includes(order.beneficiary_cust_type) || !LEGACY_CUSTOMER_RESIDENCES.includes(order.beneficiary_cust_residence)) {
    return esbError('ESB-82-001', 'beneficiary_cust_type must be 1, 2 or 3 and beneficiary_cust_residence 1 or 2');
  }
  if (!/^\d{10}$/.test(order.source_account_number)) return esbError('ESB-82-014', 'source_account_number must be 10 digits');
  if (!/^\d{1,34}$/.test(order.beneficiary_account_number)) return esbError('ESB-82-014', 'beneficiary_account_number must be digits');
  if (!/^\d{1,13}\.\d{2}$/.test(order.amount) || /^0+\.00$/.test(order.amount)) return esbError('ESB-82-011');
  return { order };
}

/** Books a domestic transfer that passed its checks; the answer (fields beyond the id and date unconfirmed). */
export function executeDomestic(ledger: Ledger, partner: SimPartner, order: DomesticOrder): SimAnswer {
  if (!ledger.claimId(legacyNamespace(partner), order.transaction_id)) return esbError('ESB-82-003');
  const refusal = ledger.move({
    source: order.source_account_number,
    beneficiary: order.beneficiary_account_number,
    beneficiaryBank: order.beneficiary_bank_code,
    amount: order.amount,
    description: `${order.transfer_type} ${order.transaction_id} ${order.beneficiary_name} ${order.remark1}`.trim(),
    date: order.transaction_date,
  });
  if (refusal) return esbError(ESB_REFUSALS[refusal]);
  const ppuNumber = `PPU${order.transaction_id}`;
  ledger.recordExecuted(legacyNamespace(partner), order.transaction_id, {
    TransactionID: order.transaction_id,
    TransactionDate: order.transaction_date,
    TransferType: order.transfer_type,
    SourceAccountNumber: order.source_account_number,
    BeneficiaryAccountNumber: order.beneficiary_account_number,
    BeneficiaryBankCode: order.beneficiary_bank_code,
    Amount: order.amount,
    CurrencyCode: order.currency_code,
    PPUNumber: ppuNumber,
  });
  return { status: 200, body: { transaction_id: order.transaction_id, transaction_date: order.transaction_date, ppu_number: ppuNumber } };
}

/** GET …/v2/domestic/beneficiaries/banks/{bankCode}/accounts/{accountNo}: the name at the beneficiary's bank. */
export function domesticInquiry(ledger: Ledger, bankCode: string, accountNumber: string): SimAnswer {
  const account = bankCode.toUpperCase() === ledger.bic ? ledger.account(accountNumber) : ledger.externalAccount(bankCode, accountNumber);
  if (!account || account.status === 'closed') return esbError('ESB-82-014');
  return { status: 200, body: { beneficiary_bank_code: bankCode, beneficiary_account_number: accountNumber, beneficiary_name: account.name } };
}

/** GET /banking/v3/corporates/{CorporateID}/accounts/{acc1},{acc2}: at most 20 accounts. */
export function balances(ledger: Ledger, partner: SimPartner, corporateId: string, accountList: string): SimAnswer {
  if (corporateId !== partner.corporateId) return esbError('ESB-14-019', 'CorporateID does not belong to this client');
  const numbers = accountList.split(',');
  if (numbers.length > 20 || numbers.some((n) => n === '')) return esbError('ESB-82-001', 'At most 20 account numbers, comma separated');
  const success: Record<string, string>[] = [];
  const failed: Record<string, unknown>[] = [];
  for (const number of numbers) {
    const account = ledger.account(number);
    if (!account) {
      failed.push({ AccountNumber: number, Indonesian: 'Rekening tidak valid', English: 'Invalid account' });
      continue;
    }
    success.push({ AccountNumber: number, Currency: 'IDR', Balance: account.balance, AvailableBalance: account.balance, FloatAmount: '0.00', HoldAmount: '0.00', Plafon: '0.00' });
  }
  return { status: 200, body: { AccountDetailDataSuccess: success, AccountDetailDataFailed: failed } };
}

/**
 * GET /banking/v3/corporates/{CorporateID}/accounts/{acc}/statements?StartDate&EndDate: a start
 * after the end, or more than 31 days back, is ESB-99-158 (BCA's code); an end after today is
 * refused too (ESB-82-001: BCA does not say which code).
 */
export function statement(ledger: Ledger, partner: SimPartner, corporateId: string, accountNumber: string, query: URLSearchParams, now: number): SimAnswer {
  if (corporateId !== partner.corporateId) return esbError('ESB-14-019', 'CorporateID does not belong to this client');
  const start = query.get('StartDate') ?? '';
  const end = query.get('EndDate') ?? '';
  if (!isDate(start) || !isDate(end)) return esbError('ESB-82-001', 'StartDate and EndDate (yyyy-MM-dd) are mandatory');
  if (end < start || daysBetween(start, jakartaDate(now)) >= LEGACY_STATEMENT_DAYS) {
    return esbError('ESB-99-158', `StartDate must not be after EndDate nor more than ${LEGACY_STATEMENT_DAYS} days back`);
  }
  if (end > jakartaDate(now)) return esbError('ESB-82-001', 'EndDate must not be in the future');
  const opening = ledger.openingBalance(accountNumber, start);
  if (opening === null) return esbError('ESB-82-014');
  // BCA dates a line `dd/MM` (no year) and keeps its remarks and references in Trailer (bank-apis.md §6).
  const data = ledger.entries(accountNumber, start, end).map((entry) => ({
    TransactionDate: `${entry.date.slice(8, 10)}/${entry.date.slice(5, 7)}`,
    BranchCode: '0000',
    TransactionType: entry.type,
    TransactionAmount: entry.amount,
    TransactionName: entry.description,
    Trailer: entry.description,
  }));
  return { status: 200, body: { StartDate: start, EndDate: end, Currency: 'IDR', StartBalance: opening, Data: data } };
}

/** The status inquiry's TransferType for a recorded transfer. */
export function statusTransferType(record: Record<string, unknown>): string {
  return typeof record.TransferType === 'string' ? record.TransferType : 'BCA';
}

/**
 * The checks every legacy request body gets first, in BCA's codes: a JSON object (ESB-14-016),
 * each mandatory field a non-empty string, each remark a string of at most 18 characters
 * (defaulting to ""). Shared by the intrabank and domestic transfers.
 */
export function parseLegacyBody(body: string, mandatory: readonly string[], remarks: readonly string[]): { value: Record<string, unknown> } | SimAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return esbError('ESB-14-016');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return esbError('ESB-14-016', 'Invalid JSON format: the body must be a JSON object');
  const o = parsed as Record<string, unknown>;
  const missing = mandatory.filter((field) => typeof o[field] !== 'string' || o[field] === '');
  if (missing.length > 0) return esbError('ESB-82-001', `Mandatory field is missing: ${missing.join(', ')}`);
  for (const remark of remarks) {
    if (o[remark] !== undefined && (typeof o[remark] !== 'string' || (o[remark] as string).length > 18)) {
      return esbError('ESB-82-001', `${remark} must be a string of at most 18 characters`);
    }
  }
  return { value: { ...o, ...Object.fromEntries(remarks.map((remark) => [remark, o[remark] ?? ''])) } };
}

function isDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
