import type { FieldError } from '../errors/index.js';
import type { PaymentCursor, PaymentSearch, PaymentSort, PaymentState } from '../store/types.js';
import { parseTypedAmount } from './format.js';

export const PAYMENT_STATES: readonly PaymentState[] = ['SUCCESS', 'FAILED', 'PENDING', 'UNKNOWN', 'SENDING', 'RECEIVED'];
export const SORTS: readonly PaymentSort[] = ['newest', 'oldest', 'largest', 'smallest'];

/** The list's query string, as typed (shown back in the form). */
export interface FilterForm {
  from: string;
  to: string;
  client: string;
  status: string;
  bank: string;
  min: string;
  max: string;
  txn: string;
  ref: string;
  sort: string;
}

export interface ParsedFilters {
  form: FilterForm;
  search: PaymentSearch;
  sort: PaymentSort;
  cursor: PaymentCursor | null;
  /** Each bad field with why; the list is then not queried. */
  errors: FieldError[];
}

const FIELDS: (keyof FilterForm)[] = ['from', 'to', 'client', 'status', 'bank', 'min', 'max', 'txn', 'ref', 'sort'];
const DAY_MS = 86_400_000;

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim().slice(0, 200) : '';
}

/** `yyyy-MM-dd` → midnight of that day in Jakarta (UTC+7), epoch ms; null when not a date. */
function jakartaMidnight(day: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const ms = Date.parse(`${day}T00:00:00+07:00`);
  return Number.isNaN(ms) ? null : ms;
}

export function encodeCursor(cursor: PaymentCursor): string {
  return Buffer.from(JSON.stringify([cursor.key, cursor.id])).toString('base64url');
}

function decodeCursor(value: string): PaymentCursor | null {
  try {
    const [key, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[];
    const keyOk = (typeof key === 'number' && Number.isSafeInteger(key)) || (typeof key === 'string' && /^-?\d{1,18}$/.test(key));
    return keyOk && typeof id === 'number' && Number.isSafeInteger(id) ? { key: key as number | string, id } : null;
  } catch {
    return null;
  }
}

/**
 * Reads the list's filters from a query string. Dates are whole days in Jakarta time, both
 * ends included; amounts may be typed the Indonesian way (`2.475.000,00`). Never throws: a
 * bad value becomes a FieldError naming the field.
 */
export function parseFilters(query: Record<string, unknown>): ParsedFilters {
  const form = Object.fromEntries(FIELDS.map((field) => [field, text(query[field])])) as unknown as FilterForm;
  const errors: FieldError[] = [];
  const search: PaymentSearch = {};
  if (form.from) {
    const from = jakartaMidnight(form.from);
    if (from === null) errors.push({ field: 'from', message: 'from must be a date (yyyy-mm-dd)' });
    else search.from = from;
  }
  if (form.to) {
    const to = jakartaMidnight(form.to);
    if (to === null) errors.push({ field: 'to', message: 'to must be a date (yyyy-mm-dd)' });
    else search.to = to + DAY_MS;
  }
  if (form.client) search.clientId = form.client;
  if (form.status) {
    if (PAYMENT_STATES.includes(form.status as PaymentState)) search.state = form.status as PaymentState;
    else errors.push({ field: 'status', message: `status must be one of ${PAYMENT_STATES.join(', ')}` });
  }
  if (form.bank) search.bank = form.bank;
  for (const [field, key] of [['min', 'minAmountMinor'], ['max', 'maxAmountMinor']] as const) {
    if (!form[field]) continue;
    const minor = parseTypedAmount(form[field]);
    if (minor === null) errors.push({ field, message: `${field} must be an amount such as 2.475.000,00` });
    else search[key] = minor;
  }
  if (form.txn) search.transactionId = form.txn;
  if (form.ref) search.bankReference = form.ref;
  let sort: PaymentSort = 'newest';
  if (form.sort) {
    if (SORTS.includes(form.sort as PaymentSort)) sort = form.sort as PaymentSort;
    else errors.push({ field: 'sort', message: `sort must be one of ${SORTS.join(', ')}` });
  }
  let cursor: PaymentCursor | null = null;
  const after = text(query.after);
  if (after) {
    cursor = decodeCursor(after);
    if (cursor === null) errors.push({ field: 'after', message: 'after is not a page marker of this list' });
  }
  return { form, search, sort, cursor, errors };
}

/** The query string of `form` (empty fields left out), plus extra parameters. */
export function filterQuery(form: FilterForm, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const field of FIELDS) if (form[field]) params.set(field, form[field]);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  const query = params.toString();
  return query ? `?${query}` : '';
}

/** The filters in words, for the console audit of an export. */
export function describeFilters(form: FilterForm): string {
  return FIELDS.filter((field) => form[field]).map((field) => `${field}=${form[field]}`).join(' ') || 'all';
}
