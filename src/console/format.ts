import { amountMinor } from '../store/index.js';
import { jakartaTimestamp } from '../time/index.js';

/**
 * Indonesian formats for the finance team: `Rp 2.475.000,00` (dots group thousands, a comma
 * before the cents), exact from minor units (BigInt), never through floating point.
 */
export function formatRupiah(amount: string | bigint): string {
  const minor = typeof amount === 'bigint' ? amount : amountMinor(amount);
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  const cents = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}Rp ${whole},${cents}`;
}

/**
 * Made as the console loads: the first count a page wrote in the clerk's language loaded the
 * locale's data (tens of milliseconds of a clerk's first reconciliation, measured in its profile).
 */
const COUNTS = { id: new Intl.NumberFormat('id-ID'), en: new Intl.NumberFormat('en-US') };

/** A count in the clerk's language: `48.539` in Indonesian, `48,539` in English. */
export function formatCount(lang: 'id' | 'en', n: number): string {
  return COUNTS[lang].format(n);
}

/** `2026-11-25 14:03:07` in Jakarta time (UTC+7), the time the finance team works in. */
export function formatJakartaTime(epochMs: number): string {
  return jakartaTimestamp(epochMs, false).slice(0, 19).replace('T', ' ');
}

/** An account number with all but its last four digits hidden: `******5681`. */
export function maskAccount(account: string): string {
  return account.length <= 4 ? '*'.repeat(account.length) : `${'*'.repeat(account.length - 4)}${account.slice(-4)}`;
}

/**
 * An amount typed by a person, Indonesian or English style, in minor units:
 * `2.475.000,00`, `Rp 2.475.000`, `2475000.50`, `2,475,000.00` → cents. Null when it is not one.
 */
export function parseTypedAmount(typed: string): bigint | null {
  let text = typed.replace(/^\s*rp\.?\s*/i, '').replace(/\s/g, '');
  if (text === '') return null;
  if (/^\d{1,3}(\.\d{3})+(,\d{1,2})?$/.test(text) || /^\d+,\d{1,2}$/.test(text)) text = text.replace(/\./g, '').replace(',', '.');
  else if (/^\d{1,3}(,\d{3})+(\.\d{1,2})?$/.test(text)) text = text.replace(/,/g, '');
  if (!/^\d{1,13}(\.\d{1,2})?$/.test(text)) return null;
  return amountMinor(text);
}

const MONTHS = {
  id: ['Jan', 'Feb', 'Mar', 'Apr', 'Mei', 'Jun', 'Jul', 'Agu', 'Sep', 'Okt', 'Nov', 'Des'],
  en: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
} as const;

/**
 * A moment as the clerk writes it, in Jakarta time with "WIB": `25 Nov 2026 14.03 WIB`
 * (Indonesian: day first, a dot between hours and minutes) or `25 Nov 2026 14:03 WIB`.
 * `seconds` adds them (`14.03.07`), for the detail page's history.
 */
export function formatWhen(lang: 'id' | 'en', epochMs: number, seconds = false): string {
  const [day, time] = formatJakartaTime(epochMs).split(' ');
  const [y, m, d] = day.split('-');
  const clock = (seconds ? time : time.slice(0, 5)).replace(/:/g, lang === 'id' ? '.' : ':');
  return `${Number(d)} ${MONTHS[lang][Number(m) - 1]} ${y} ${clock} WIB`;
}

/** A day as the date inputs show it: `25/11/2026` for `2026-11-25`. */
export function formatDay(isoDay: string): string {
  const [y, m, d] = isoDay.split('-');
  return `${d}/${m}/${y}`;
}

/** A day from a URL or a stored record as the clerk writes it (formatDay) when it is `yyyy-mm-dd`, else as it is: never a garbled date. */
export function shownDay(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? formatDay(value) : value;
}

/**
 * A day typed by a person, in the console's own text input (the browser's date picker would
 * follow the browser's locale): `25/11/2026`, `25-11-2026`, `25.11.2026` or `2026-11-25`
 * → `2026-11-25`; null when it is not a real date.
 */
export function parseTypedDay(typed: string): string | null {
  const text = typed.trim();
  let parts: [string, string, string] | null = null;
  let match = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  if (match) parts = [match[1], match[2], match[3]];
  match = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text);
  if (match) parts = [match[3], match[2], match[1]];
  if (!parts) return null;
  const [y, m, d] = parts.map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return date.toISOString().slice(0, 10);
}
