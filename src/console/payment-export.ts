import { methodOfOperation } from '../banks/types.js';
import { FORGED_STATUS, formulaSafe } from '../export/index.js';
import type { ClientRecord, PaymentRecord } from '../store/types.js';
import { formatJakartaTime } from './format.js';
import type { Lang } from './i18n.js';
import { failureReason, storedAnswer } from './payment-facts.js';

/**
 * The columns of every export, CSV and .xlsx alike: one stable set of names whatever the
 * console's language, so a spreadsheet or a script built on one month's file reads the next.
 * `integrity_problem`, last so the others keep their places, is empty but on a payment changed
 * outside Gerbang (FORGED_STATUS).
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
  'integrity_problem',
] as const;

export type ExportColumn = (typeof EXPORT_COLUMNS)[number];
export type ExportRow = Record<ExportColumn, string>;

/** Columns a spreadsheet must keep as text (leading zeros, 16+ digits): never numbers. */
export const TEXT_COLUMNS: readonly ExportColumn[] = ['transaction_id', 'source_account', 'beneficiary_account', 'bank_reference', 'bank_transaction_id', 'run_id', 'client_id'];

/**
 * One payment as an export row. Accounts are full for roles that see them, masked otherwise;
 * the run id is the payment-run's id when the payment was a run's line; the failure message
 * is in the console's language (the column names and codes, `status` and `method`, are not).
 */
export function exportRow(p: PaymentRecord, clients: Map<string, ClientRecord>, full: boolean, runId: string | null, lang: Lang): ExportRow {
  const row = p.integrityProblem === undefined ? paymentRow(p, clients, full, runId, lang) : forgedRow(p, clients, runId, p.integrityProblem);
  // The .xlsx gets the same formula-safe cells as the CSV.
  for (const column of EXPORT_COLUMNS) row[column] = formulaSafe(row[column]);
  return row;
}


/**
 * A payment changed outside Gerbang as a clerk reconciling may read it: which payment (client,
 * transaction id, run) and what was found, as `transfer review list` shows it; every value of it
 * (amount, accounts, bank reference, times) empty, so no sum, match or filter counts it as real.
 */
function forgedRow(p: PaymentRecord, clients: Map<string, ClientRecord>, runId: string | null, problem: string): ExportRow {
  const row = Object.fromEntries(EXPORT_COLUMNS.map((column) => [column, ''])) as ExportRow;
  return {
    ...row,
    client: clients.get(p.clientId)?.name ?? p.clientId,
    client_id: p.clientId,
    transaction_id: p.transactionId,
    status: FORGED_STATUS,
    run_id: runId ?? '',
    integrity_problem: problem,
  };
}

function paymentRow(p: PaymentRecord, clients: Map<string, ClientRecord>, full: boolean, runId: string | null, lang: Lang): ExportRow {
  const answer = storedAnswer(p);
  const d = p.details;
  const masked = (account: string | undefined | null) => (account ? (full ? account : `${'*'.repeat(Math.max(0, account.length - 4))}${account.slice(-4)}`) : '');
  return {
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
    // A code like `status`, in every language: the method the payment went by (the API's `transferMethod`), else the one asked.
    method: p.operation ? methodOfOperation(p.operation) : (d?.transferMethod ?? ''),
    sending_bank: p.bank ?? '',
    bank_reference: p.bankReference ?? '',
    bank_transaction_id: p.bankTransactionId ?? '',
    failure_code: p.state === 'FAILED' ? (answer.code ?? '') : '',
    failure_message: p.state === 'FAILED' ? (failureReason(lang, p) ?? '') : '',
    run_id: runId ?? '',
    updated_wib: formatJakartaTime(p.updatedAt),
    integrity_problem: '',
  };
}

/** `2475000.00` → `2475000,00` for a CSV opened by Excel in an Indonesian locale. */
export function decimalComma(amount: string): string {
  return amount.replace('.', ',');
}
