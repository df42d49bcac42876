import type { FieldError } from '../errors/index.js';
import type { PaymentCursor, PaymentSearch, PaymentSort, PaymentState } from '../store/types.js';
import { GRAM_LENGTH, PAYMENT_STATES, searchForm } from '../store/index.js';
import { parseTypedAmount, parseTypedDay } from './format.js';
import { translator, type Translate } from './i18n.js';
import { filterBankLabel } from './payment-facts.js';

export { PAYMENT_STATES };
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
  /** Contains, case-insensitive: transaction id, bank ids, beneficiary name, remark. */
  q: string;
  sort: string;
}

export interface ParsedFilters {
  form: FilterForm;
  search: PaymentSearch;
  sort: PaymentSort;
  cursor: PaymentCursor | null;
  /** Which side of the cursor the page lies on (`before`: the previous page). */
  direction: 'after' | 'before';
  /** 1-based position of the page's first row in the whole list ("51–100 of 420"). */
  at: number;
  /** Each bad field with why; the list is then not queried. */
  errors: FieldError[];
}

const FIELDS: (keyof FilterForm)[] = ['from', 'to', 'client', 'status', 'bank', 'min', 'max', 'txn', 'ref', 'q', 'sort'];
const DAY_MS = 86_400_000;

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim().slice(0, 200) : '';
}

/** A typed day (`25/11/2026` or `2026-11-25`) → midnight of that day in Jakarta (UTC+7), epoch ms; null when not a date. */
function jakartaMidnight(typed: string): number | null {
  const day = parseTypedDay(typed);
  return day === null ? null : Date.parse(`${day}T00:00:00+07:00`);
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
 * ends included, typed `25/11/2026` (or `2026-11-25`); amounts may be typed the Indonesian way
 * (`2.475.000,00`). Never throws: a bad value becomes a FieldError naming the field, in the
 * page's language; a reversed range is one too (the list is not queried with it).
 */
export function parseFilters(query: Record<string, unknown>, t: Translate = translator('en')): ParsedFilters {
  const form = Object.fromEntries(FIELDS.map((field) => [field, text(query[field])])) as unknown as FilterForm;
  const errors: FieldError[] = [];
  const search: PaymentSearch = {};
  const labels = { from: t('dateFrom'), to: t('dateTo'), min: t('amountMin'), max: t('amountMax'), status: t('status'), sort: t('sort') };
  if (form.from) {
    const from = jakartaMidnight(form.from);
    if (from === null) errors.push({ field: 'from', message: `${labels.from} ${t('mustBeDate')}` });
    else search.from = from;
  }
  if (form.to) {
    const to = jakartaMidnight(form.to);
    if (to === null) errors.push({ field: 'to', message: `${labels.to} ${t('mustBeDate')}` });
    else search.to = to + DAY_MS;
  }
  if (search.from !== undefined && search.to !== undefined && search.from >= search.to) errors.push({ field: 'to', message: t('reversedDates') });
  if (form.client) search.clientId = form.client;
  if (form.status) {
    if (PAYMENT_STATES.includes(form.status as PaymentState)) search.state = form.status as PaymentState;
    else errors.push({ field: 'status', message: `${labels.status} ${t('mustBeOneOf')} ${PAYMENT_STATES.join(', ')}` });
  }
  if (form.bank) search.bank = form.bank;
  for (const [field, key] of [['min', 'minAmountMinor'], ['max', 'maxAmountMinor']] as const) {
    if (!form[field]) continue;
    const minor = parseTypedAmount(form[field]);
    if (minor === null) errors.push({ field, message: `${labels[field]} ${t('mustBeAmount')}` });
    else search[key] = minor;
  }
  if (search.minAmountMinor !== undefined && search.maxAmountMinor !== undefined && search.minAmountMinor > search.maxAmountMinor) {
    errors.push({ field: 'max', message: t('reversedAmounts') });
  }
  if (form.txn) search.transactionId = form.txn;
  if (form.ref) search.bankReference = form.ref;
  if (form.q) {
    // The search's index holds trigrams (migration 026): a shorter term cannot be looked up, and is said so.
    if (Array.from(searchForm(form.q)).length < GRAM_LENGTH) errors.push({ field: 'q', message: t('searchTooShort') });
    else search.text = form.q;
  }
  let sort: PaymentSort = 'newest';
  if (form.sort) {
    if (SORTS.includes(form.sort as PaymentSort)) sort = form.sort as PaymentSort;
    else errors.push({ field: 'sort', message: `${labels.sort} ${t('mustBeOneOf')} ${SORTS.join(', ')}` });
  }
  let cursor: PaymentCursor | null = null;
  let direction: 'after' | 'before' = 'after';
  const after = text(query.after);
  const before = text(query.before);
  if (after || before) {
    direction = after ? 'after' : 'before';
    cursor = decodeCursor(after || before);
    if (cursor === null) errors.push({ field: direction, message: `${direction} ${t('badPageMarker')}` });
  }
  const atText = text(query.at);
  const at = /^\d{1,9}$/.test(atText) && Number(atText) >= 1 ? Number(atText) : 1;
  return { form, search, sort, cursor, direction, at: cursor ? at : 1, errors };
}

/** The query string of `form` (empty fields left out), plus extra parameters. */
export function filterQuery(form: FilterForm, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const field of FIELDS) if (form[field]) params.set(field, form[field]);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  const query = params.toString();
  return query ? `?${query}` : '';
}

/**
 * The filters in words, for the console audit of a list or an export: `field=value`, the bank
 * filter's connection as its option names it (`banks`: connectionLabels; filterBankLabel), so an
 * auditor reads the bank beside the connection id (`bank=Bank Central Asia (bca-main)`).
 */
export function describeFilters(form: FilterForm, banks: ReadonlyMap<string, string>): string {
  const value = (field: keyof FilterForm) => (field === 'bank' ? filterBankLabel(banks, form.bank) : form[field]);
  return FIELDS.filter((field) => form[field]).map((field) => `${field}=${value(field)}`).join(' ') || 'all';
}
