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
