import { randomInt } from 'node:crypto';
import type { SimAnswer } from '../esb-answers.js';
import type { Ledger, LedgerRefusal } from '../simulator-state.js';
import { snapAnswer } from './snap-answers.js';
import type { SnapBankDialect, SnapCodedServiceName } from './snap-dialect.js';

/**
 * SNAP transfers as the simulated bank checks and books them: intrabank (17), interbank (18,
 * switching or BI-FAST), RTGS (22), SKN (23). Field names follow bank-apis.md §2.
 */

export type TransferService = Extract<SnapCodedServiceName, 'transfer-intrabank' | 'transfer-interbank' | 'transfer-rtgs' | 'transfer-skn'>;

export const TRANSFER_SERVICES: readonly TransferService[] = ['transfer-intrabank', 'transfer-interbank', 'transfer-rtgs', 'transfer-skn'];

/** The case code a refusal of the books is answered with (HTTP status first). */
export const SNAP_REFUSALS: Record<LedgerRefusal, [string, string]> = {
  ACCOUNT_NOT_FOUND: ['404', '11'],
  ACCOUNT_DORMANT: ['403', '18'],
  ACCOUNT_CLOSED: ['403', '18'],
  INSUFFICIENT_FUNDS: ['403', '14'],
};

export interface SnapTransferOrder {
  service: TransferService;
  partnerReferenceNo: string;
  amount: string;
  currency: string;
  sourceAccountNo: string;
  beneficiaryAccountNo: string;
  beneficiaryAccountName?: string;
  beneficiaryBankCode?: string;
  transferType?: string;
  purposeCode?: string;
  remark: string;
  customerReference: string;
  /** yyyy-MM-dd part of transactionDate. */
  date: string;
  transactionDate: string;
}

/** Reads a dotted field as a string; undefined when absent or not a string. */
export function field(body: Record<string, unknown>, path: string): string | undefined {
  let value: unknown = body;
  for (const key of path.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Mandatory fields per service, from BCA's request tables (RTGS/SKN: beneficiaryAddress "Mandatory in BCA"). */
const MANDATORY: Record<TransferService, string[]> = {
  'transfer-intrabank': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountNo', 'sourceAccountNo', 'transactionDate'],
  'transfer-interbank': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountName', 'beneficiaryAccountNo', 'beneficiaryBankCode', 'sourceAccountNo', 'transactionDate', 'additionalInfo.transferType'],
  'transfer-rtgs': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountName', 'beneficiaryAccountNo', 'beneficiaryAddress', 'beneficiaryBankCode', 'beneficiaryCustomerResidence', 'beneficiaryCustomerType', 'sourceAccountNo', 'transactionDate'],
  'transfer-skn': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountName', 'beneficiaryAccountNo', 'beneficiaryAddress', 'beneficiaryBankCode', 'beneficiaryCustomerResidence', 'beneficiaryCustomerType', 'sourceAccountNo', 'transactionDate'],
};

const ISO_WITH_OFFSET = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{2}:\d{2}$/;

/** Checks a transfer's fields: 400xx02 missing, 400xx01 bad format, 404xx13 invalid amount. */
export function parseSnapTransfer(service: TransferService, serviceCode: string, body: Record<string, unknown>, dialect?: SnapBankDialect): { order: SnapTransferOrder } | SimAnswer {
  const missing = (dialect?.mandatory?.[service] ?? MANDATORY[service]).find((name) => !field(body, name));
  if (missing) return snapAnswer('400', serviceCode, '02', missing);
  const get = (name: string) => field(body, name) ?? '';
  const bad = (name: string) => snapAnswer('400', serviceCode, '01', name);
  if (get('partnerReferenceNo').length > 64) return bad('partnerReferenceNo');
  if (!/^\d{1,16}\.\d{2}$/.test(get('amount.value'))) return bad('amount.value');
  if (/^0+\.00$/.test(get('amount.value'))) return snapAnswer('404', serviceCode, '13');
  if (get('amount.currency') !== 'IDR') return bad('amount.currency');
  for (const name of ['sourceAccountNo', 'beneficiaryAccountNo']) if (!/^\d{1,34}$/.test(get(name))) return bad(name);
  const date = ISO_WITH_OFFSET.exec(get('transactionDate'));
  if (!date) return bad('transactionDate');
  if ((field(body, 'remark') ?? '').length > 50) return bad('remark');
  const transferType = field(body, 'additionalInfo.transferType');
  if (service === 'transfer-interbank' && dialect?.interbankTransferType !== false) {
    if (transferType !== '1' && transferType !== '2') return bad('additionalInfo.transferType');
    if (transferType === '2' && !field(body, 'additionalInfo.purposeCode')) return snapAnswer('400', serviceCode, '02', 'additionalInfo.purposeCode');
  }
  if (service === 'transfer-rtgs' || service === 'transfer-skn') {
    if (!/^[123]$/.test(get('beneficiaryCustomerType'))) return bad('beneficiaryCustomerType');
    if (!/^[12]$/.test(get('beneficiaryCustomerResidence'))) return bad('beneficiaryCustomerResidence');
    if ((field(body, 'beneficiaryAddress') ?? '').length > 100) return bad('beneficiaryAddress');
  }
  return {
    order: {
      service,
      partnerReferenceNo: get('partnerReferenceNo'),
      amount: get('amount.value'),
      currency: 'IDR',
      sourceAccountNo: get('sourceAccountNo'),
      beneficiaryAccountNo: get('beneficiaryAccountNo'),
      beneficiaryAccountName: field(body, 'beneficiaryAccountName'),
      beneficiaryBankCode: field(body, 'beneficiaryBankCode'),
      transferType,
      purposeCode: field(body, 'additionalInfo.purposeCode'),
      remark: field(body, 'remark') ?? '',
      customerReference: field(body, 'customerReference') ?? '',
      date: date[1],
      transactionDate: get('transactionDate'),
    },
  };
}

/** What the status inquiry finds of a transfer. */
export interface SnapTransferRecord extends Record<string, unknown> {
  serviceCode: string;
  externalId: string;
  partnerReferenceNo: string;
  referenceNo: string;
  date: string;
  transactionDate: string;
  amount: string;
  /** 00 success, 03 pending, 06 failed. */
  status: '00' | '03' | '06';
}

/** Books the order (or refuses it); the record the status inquiry will show. */
export function book(ledger: Ledger, order: SnapTransferOrder): LedgerRefusal | null {
  return ledger.move({
    source: order.sourceAccountNo,
    beneficiary: order.beneficiaryAccountNo,
    ...(order.service === 'transfer-intrabank' ? {} : { beneficiaryBank: order.beneficiaryBankCode }),
    amount: order.amount,
    description: `${order.customerReference} ${order.remark}`.trim(),
    date: order.date,
  });
}

/** A fresh bank reference number. */
export function referenceNumber(): string {
  return String(randomInt(100_000_000_000, 999_999_999_999));
}

/** The success answer of a transfer (RTGS/SKN carry transactionStatus; a pending intrabank/interbank one is 202). */
export function transferAnswer(order: SnapTransferOrder, serviceCode: string, record: SnapTransferRecord): SimAnswer {
  const clearing = order.service === 'transfer-rtgs' || order.service === 'transfer-skn';
  const pending = record.status === '03';
  const body: Record<string, unknown> = {
    referenceNo: record.referenceNo,
    partnerReferenceNo: order.partnerReferenceNo,
    amount: { value: order.amount, currency: order.currency },
    beneficiaryAccountNo: order.beneficiaryAccountNo,
    currency: order.currency,
    ...(order.customerReference ? { customerReference: order.customerReference } : {}),
    ...(order.beneficiaryBankCode ? { beneficiaryBankCode: order.beneficiaryBankCode } : {}),
    sourceAccountNo: order.sourceAccountNo,
    transactionDate: order.transactionDate,
    ...(clearing ? { transactionStatus: record.status } : {}),
    additionalInfo: order.transferType === '2' ? { bifastId: `BIFAST${record.referenceNo}` } : {},
  };
  return snapAnswer(pending && !clearing ? '202' : '200', serviceCode, '00', undefined, body);
}
