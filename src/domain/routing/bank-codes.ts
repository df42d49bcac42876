/**
 * Indonesian bank identifiers. The ERP may send either the 3-digit clearing code or the BIC
 * (SWIFT) code; routing compares the canonical BIC. Extend this table as partners are added.
 */
const BANKS: { code: string; bic: string; name: string }[] = [
  { code: '014', bic: 'CENAIDJA', name: 'Bank Central Asia' },
  { code: '009', bic: 'BNINIDJA', name: 'Bank Negara Indonesia' },
  { code: '002', bic: 'BRINIDJA', name: 'Bank Rakyat Indonesia' },
  { code: '008', bic: 'BMRIIDJA', name: 'Bank Mandiri' },
  { code: '011', bic: 'BDINIDJA', name: 'Bank Danamon Indonesia' },
  { code: '013', bic: 'BBBAIDJA', name: 'Bank Permata' },
  { code: '016', bic: 'IBBKIDJA', name: 'Maybank Indonesia' },
  { code: '019', bic: 'PINBIDJA', name: 'Panin Bank' },
  { code: '022', bic: 'BNIAIDJA', name: 'CIMB Niaga' },
  { code: '028', bic: 'NISPIDJA', name: 'OCBC NISP' },
  { code: '200', bic: 'BTANIDJA', name: 'Bank Tabungan Negara' },
  { code: '213', bic: 'SUNIIDJA', name: 'Bank BTPN' },
  { code: '426', bic: 'MEGAIDJA', name: 'Bank Mega' },
  { code: '451', bic: 'BSMDIDJA', name: 'Bank Syariah Indonesia' },
];

/** `014`, `CENAIDJA` or `CENAIDJAXXX` → `CENAIDJA`; an unknown code → null. */
export function canonicalBic(bankCode: string): string | null {
  const upper = bankCode.trim().toUpperCase();
  const bank = BANKS.find((b) => b.code === upper || b.bic === upper || `${b.bic}XXX` === upper);
  return bank ? bank.bic : null;
}

export const BCA_BIC = 'CENAIDJA';

/**
 * The bank's name for a clearing code, BIC or partner id (`014`, `CENAIDJA`, `bca`), for people
 * to read; null when the code is not in the table.
 */
export function bankName(bankCode: string): string | null {
  const upper = bankCode.trim().toUpperCase();
  const partner: Record<string, string> = { BCA: 'CENAIDJA', BNI: 'BNINIDJA', BRI: 'BRINIDJA', MANDIRI: 'BMRIIDJA' };
  const bic = canonicalBic(partner[upper] ?? upper);
  return BANKS.find((b) => b.bic === bic)?.name ?? null;
}
