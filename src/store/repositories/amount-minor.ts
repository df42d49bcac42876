/**
 * A decimal amount string in minor units (cents), with BigInt, never floating point:
 * `'100000.00'` → 10000000n, `'12.5'` → 1250n, `'7'` → 700n.
 * Throws for anything that is not a plain decimal with at most two fraction digits (the
 * request schema guarantees that before a payment is reserved).
 */
export function amountMinor(amount: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount.trim());
  if (!match) throw new Error(`store: amount ${JSON.stringify(amount)} is not a decimal with at most 2 fraction digits`);
  const [, sign, whole, fraction = ''] = match;
  const cents = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
  return sign === '-' ? -cents : cents;
}
