import { formulaSafe } from '../export/index.js';
import type { ClientRecord, PaymentRecord } from '../store/types.js';
import { formatJakartaTime } from './format.js';
import type { Lang } from './i18n.js';
import { failureReason, storedAnswer } from './payment-facts.js';

/**
 * The columns of every export, CSV and .xlsx alike: one stable set of names whatever the
 * console's language, so a spreadsheet or a script built on one month's file reads the next.
 */
export const EXPORT_COLUMNS = [
  'created_wib',
  'client',
  'client_id',
  'transaction_id',
  'status',
  'amount',
  'currency',
  'source_account',
  'beneficiary_name',
  'beneficiary_account',
  'beneficiary_bank',
  'remark',
  'method',
  'sending_bank',
  'bank_reference',
  'bank_transaction_id',
  'failure_code',
  'failure_message',
  'run_id',
  'updated_wib',
] as const;

export type ExportColumn = (typeof EXPORT_COLUMNS)[number];
export type ExportRow = Record<ExportColumn, string>;

/** Columns a spreadsheet must keep as text (leading zeros, 16+ digits): never numbers. */
export const TEXT_COLUMNS: readonly ExportColumn[] = ['transaction_id', 'source_account', 'beneficiary_account', 'bank_reference', 'bank_transaction_id', 'run_id', 'client_id'];

/**
 * One payment as an export row. Accounts are full for roles that see them, masked otherwise;
 * the run id is the payment-run's id when the payment was a run's line; the failure message
 * is in the console's language (the column names are not).
 */
export function exportRow(p: PaymentRecord, clients: Map<string, ClientRecord>, full: boolean, runId: string | null, lang: Lang): ExportRow {
  const answer = storedAnswer(p);
  const d = p.details;
  const masked = (account: string | undefined | null) => (account ? (full ? account : `${'*'.repeat(Math.max(0, account.length - 4))}${account.slice(-4)}`) : '');
  const row: ExportRow = {
    created_wib: formatJakartaTime(p.createdAt),
    client: clients.get(p.clientId)?.name ?? p.clientId,
    client_id: p.clientId,
    transaction_id: p.transactionId,
    status: p.state,
    amount: p.amount,
    currency: p.currency,
    source_account: masked(d?.sourceAccount),
    beneficiary_name: d?.beneficiaryName ?? '',
    beneficiary_account: d ? masked(d.beneficiaryAccount) : (p.beneficiaryAccountMasked ?? ''),
    beneficiary_bank: d?.beneficiaryBankCode ?? p.beneficiaryBank ?? '',
    remark: d?.remark ?? '',
    method: d?.transferMethod ?? p.operation ?? '',
    sending_bank: p.bank ?? '',
    bank_reference: p.bankReference ?? '',
    bank_transaction_id: p.bankTransactionId ?? '',
    failure_code: p.state === 'FAILED' ? (answer.code ?? '') : '',
    failure_message: p.state === 'FAILED' ? (failureReason(lang, p) ?? '') : '',
    run_id: runId ?? '',
    updated_wib: formatJakartaTime(p.updatedAt),
  };
  // The .xlsx gets the same formula-safe cells as the CSV.
  for (const column of EXPORT_COLUMNS) row[column] = formulaSafe(row[column]);
  return row;
}

/** `2475000.00` → `2475000,00` for a CSV opened by Excel in an Indonesian locale. */
export function decimalComma(amount: string): string {
  return amount.replace('.', ',');
}
