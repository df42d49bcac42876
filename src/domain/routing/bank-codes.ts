import { INDONESIAN_BANKS } from './indonesian-banks.js';

/**
 * Indonesian bank identifiers. The ERP may send the 3-digit clearing code or the BIC (SWIFT
 * code), in any case and with stray spaces or the `XXX` branch suffix; routing compares the
 * canonical BIC. Every bank of Bank Indonesia's list (indonesian-banks.ts) is known, so a vendor
 * at any of them is payable interbank.
 */
interface Bank {
  code: string;
  bic: string;
  name: string;
}

const BY_BIC = new Map<string, Bank>();
const BY_CODE = new Map<string, Bank>();
for (const [code, bic, name, unit] of INDONESIAN_BANKS) {
  const bank = { code, bic, name };
  BY_BIC.set(bic, bank);
  // A sharia unit shares its parent's code: the code names the parent.
  if (!unit) BY_CODE.set(code, bank);
}

function find(bankCode: string): Bank | null {
  const upper = bankCode.trim().toUpperCase();
  return BY_CODE.get(upper) ?? BY_BIC.get(upper) ?? (upper.length === 11 && upper.endsWith('XXX') ? BY_BIC.get(upper.slice(0, 8)) : undefined) ?? null;
}

/** `014`, ` 014`, `cenaidja` or `CENAIDJAXXX` → `CENAIDJA`; `536` → `SYCAIDJ1`; an unknown code → null. */
export function canonicalBic(bankCode: string): string | null {
  return find(bankCode)?.bic ?? null;
}

export const BCA_BIC = 'CENAIDJA';

/**
 * Account numbers by bank, where the bank's rule is known: BCA and BNI 10 digits, BRI 15,
 * Mandiri 13. Any other bank: 5 to 34 digits (the SNAP field's size).
 */
const ACCOUNT_DIGITS: Record<string, number> = { CENAIDJA: 10, BNINIDJA: 10, BRINIDJA: 15, BMRIIDJA: 13 };

/**
 * The account-number rule of the bank a code names, however the code is spelled: the exact
 * number of digits and the bank's name, or null when the bank (or the code) has no fixed length.
 */
export function accountNumberRule(bankCode: string): { digits: number; bank: string } | null {
  const bank = find(bankCode);
  const digits = bank ? ACCOUNT_DIGITS[bank.bic] : undefined;
  return bank && digits ? { digits, bank: displayName(bank.name) } : null;
}

/**
 * The bank's name for a clearing code, BIC or partner id (`014`, `CENAIDJA`, `bca`), for people
 * to read (`Bank Central Asia`); null when the code is not in the list.
 */
export function bankName(bankCode: string): string | null {
  const upper = bankCode.trim().toUpperCase();
  const partner: Record<string, string> = { BCA: 'CENAIDJA', BNI: 'BNINIDJA', BRI: 'BRINIDJA', MANDIRI: 'BMRIIDJA' };
  const bank = find(partner[upper] ?? upper);
  return bank ? displayName(bank.name) : null;
}

/** Letters kept upper-case in a display name. */
const ACRONYMS = new Set(['BCA', 'BNI', 'BRI', 'BTN', 'BTPN', 'CIMB', 'UOB', 'DBS', 'ANZ', 'HSBC', 'ICBC', 'IBK', 'KEB', 'SBI', 'QNB', 'MNC', 'CTBC', 'DKI', 'DIY', 'NTB', 'NTT', 'BPD', 'MUFG', 'BTMU', 'NA', 'N.A.', 'AG.', 'OCBC', 'NISP', 'JTRUST', 'BNP', 'IBK']);

/** `PT. BANK CENTRAL ASIA Tbk.` → `Bank Central Asia`: legal form dropped, words capitalised. */
function displayName(registered: string): string {
  return registered
    .replace(/^PT\.?\s+/i, '')
    .replace(/,?\s*\(?persero\)?/i, '')
    .replace(/,?\s*tbk\.?\s*$/i, '')
    .replace(/,\s*$/, '')
    .split(/\s+/)
    .map((word) => (ACRONYMS.has(word.toUpperCase()) ? word.toUpperCase() : word.charAt(0).toUpperCase() + word.slice(1).toLowerCase()))
    .join(' ')
    .trim();
}
