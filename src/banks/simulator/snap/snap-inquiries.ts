import { jakartaDate } from '../../../time/index.js';
import type { SimAnswer } from '../esb-answers.js';
import { fromCents, toCents, type Ledger } from '../simulator-state.js';
import { snapAnswer } from './snap-answers.js';
import { field, referenceNumber, type SnapTransferRecord } from './snap-transfers.js';

/** SNAP's read-only services as the simulated bank answers them (bank-apis.md §2). */

const DAY_MS = 86_400_000;
const MAX_STATEMENT_DAYS = 31;
const STATUS_TEXT: Record<SnapTransferRecord['status'], string> = { '00': 'Success', '03': 'Pending', '06': 'Failed' };

function mandatory(body: Record<string, unknown>, names: string[], serviceCode: string): SimAnswer | null {
  const missing = names.find((name) => !field(body, name));
  return missing ? snapAnswer('400', serviceCode, '02', missing) : null;
}

/**
 * Transfer status (36): the transfer sent under originalPartnerReferenceNo with X-EXTERNAL-ID
 * originalExternalId and service code serviceCode, within the past 31 days; else 404xx01.
 */
export function transferStatus(find: (partnerReferenceNo: string) => SnapTransferRecord | undefined, body: Record<string, unknown>, serviceCode: string, now: number, required?: string[]): SimAnswer {
  const refused = mandatory(body, required ?? ['originalPartnerReferenceNo', 'originalExternalId', 'serviceCode', 'transactionDate'], serviceCode);
  if (refused) return refused;
  if (!/^\d{2}$/.test(field(body, 'serviceCode') ?? '')) return snapAnswer('400', serviceCode, '01', 'serviceCode');
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(field(body, 'transactionDate') ?? '')?.[1];
  if (!date) return snapAnswer('400', serviceCode, '01', 'transactionDate');
  const record = find(field(body, 'originalPartnerReferenceNo') ?? '');
  const tooOld = record && record.date < jakartaDate(now - MAX_STATEMENT_DAYS * DAY_MS);
  // A bank where originalExternalId is optional (BNI) matches on the reference alone when it is not given.
  const externalId = field(body, 'originalExternalId');
  if (!record || tooOld || (externalId ? record.externalId !== externalId : required === undefined) || record.serviceCode !== field(body, 'serviceCode')) {
    return snapAnswer('404', serviceCode, '01');
  }
  return snapAnswer('200', serviceCode, '00', undefined, {
    originalPartnerReferenceNo: record.partnerReferenceNo,
    originalReferenceNo: record.referenceNo,
    originalExternalId: record.externalId,
    serviceCode: record.serviceCode,
    transactionDate: record.transactionDate,
    amount: { value: record.amount, currency: 'IDR' },
    latestTransactionStatus: record.status,
    transactionStatusDesc: STATUS_TEXT[record.status],
  });
}

/** The references every inquiry answer carries: the bank's new one and the partner's echoed. */
const echo = (body: Record<string, unknown>) => ({ referenceNo: referenceNumber(), partnerReferenceNo: field(body, 'partnerReferenceNo') ?? '' });

/**
 * Account inquiry: internal (15) names an account of this bank, external (16) one at another
 * simulated bank (`beneficiaryBankCode`, and `additionalInfo.inquiryService`: 4001602 without it). Unknown 404xx11, dormant or closed 403xx18.
 */
export function accountInquiry(ledger: Ledger, scope: 'internal' | 'external', body: Record<string, unknown>, serviceCode: string, required?: string[]): SimAnswer {
  const refused = mandatory(body, required ?? (scope === 'internal' ? ['beneficiaryAccountNo'] : ['beneficiaryBankCode', 'beneficiaryAccountNo', 'additionalInfo.inquiryService']), serviceCode);
  if (refused) return refused;
  if (scope === 'external' && field(body, 'additionalInfo.inquiryService') !== undefined) {
    // BCA: inquiryService "1" through the switcher, "2" through BI-FAST, which also wants the amount
    // and a purpose code (where the purpose code sits is unconfirmed: additionalInfo, as for transfers).
    const service = field(body, 'additionalInfo.inquiryService');
    if (service !== '1' && service !== '2') return snapAnswer('400', serviceCode, '01', 'additionalInfo.inquiryService');
    if (service === '2') {
      const missing = mandatory(body, ['amount.value', 'amount.currency', 'additionalInfo.purposeCode'], serviceCode);
      if (missing) return missing;
    }
  }
  const number = field(body, 'beneficiaryAccountNo') ?? '';
  const bank = field(body, 'beneficiaryBankCode') ?? '';
  const account = scope === 'internal' ? ledger.account(number) : ledger.externalAccount(bank, number);
  if (!account) return snapAnswer('404', serviceCode, '11');
  if (account.status && account.status !== 'active') return snapAnswer('403', serviceCode, '18');
  return snapAnswer('200', serviceCode, '00', undefined, {
    ...echo(body),
    beneficiaryAccountName: account.name,
    beneficiaryAccountNo: account.number,
    ...(scope === 'internal' ? { beneficiaryAccountStatus: 'Rekening aktif', beneficiaryAccountType: 'D' } : { beneficiaryBankCode: bank }),
  });
}

/** Balance inquiry (11). */
export function balanceInquiry(ledger: Ledger, body: Record<string, unknown>, serviceCode: string): SimAnswer {
  const refused = mandatory(body, ['accountNo'], serviceCode);
  if (refused) return refused;
  const account = ledger.account(field(body, 'accountNo') ?? '');
  if (!account) return snapAnswer('404', serviceCode, '11');
  const idr = (value: string) => ({ value, currency: 'IDR' });
  return snapAnswer('200', serviceCode, '00', undefined, {
    ...echo(body),
    accountNo: account.number,
    name: account.name,
    accountInfos: [{ balanceType: 'Cash', amount: idr(account.balance), availableBalance: idr(account.balance), holdAmount: idr('0.00'), status: account.status === 'active' || !account.status ? '0001' : '0002' }],
  });
}

/** Bank statement (14): entries booked from fromDateTime to toDateTime, at most 31 days apart. */
export function bankStatement(ledger: Ledger, body: Record<string, unknown>, serviceCode: string): SimAnswer {
  const refused = mandatory(body, ['accountNo', 'fromDateTime', 'toDateTime'], serviceCode);
  if (refused) return refused;
  const dateOf = (name: string) => /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{2}:\d{2}$/.exec(field(body, name) ?? '')?.[1];
  const from = dateOf('fromDateTime');
  const to = dateOf('toDateTime');
  if (!from) return snapAnswer('400', serviceCode, '01', 'fromDateTime');
  if (!to || to < from) return snapAnswer('400', serviceCode, '01', 'toDateTime');
  if (Date.parse(to) - Date.parse(from) > (MAX_STATEMENT_DAYS - 1) * DAY_MS) return snapAnswer('400', serviceCode, '01', `period longer than ${MAX_STATEMENT_DAYS} days`);
  const number = field(body, 'accountNo') ?? '';
  const opening = ledger.openingBalance(number, from);
  if (opening === null) return snapAnswer('404', serviceCode, '11');
  const entries = ledger.entries(number, from, to);
  let cents = toCents(opening);
  for (const entry of entries) cents += entry.type === 'C' ? toCents(entry.amount) : -toCents(entry.amount);
  const idr = (value: string) => ({ value, currency: 'IDR' });
  return snapAnswer('200', serviceCode, '00', undefined, {
    ...echo(body),
    balance: [{ amount: idr(fromCents(cents)), startingBalance: idr(opening), endingBalance: idr(fromCents(cents)) }],
    detailData: entries.map((entry) => ({
      amount: idr(entry.amount),
      transactionDate: `${entry.date}T00:00:00+07:00`,
      remark: entry.description,
      type: entry.type === 'C' ? 'Credit' : 'Debit',
    })),
  });
}
