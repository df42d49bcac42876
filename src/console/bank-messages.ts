import { gerbangMessageWords, type Connection } from './gerbang-messages.js';
import type { Lang } from './i18n.js';

/**
 * The bank's refusal in the clerk's language. BCA's legacy API sends its own Indonesian text
 * (`ErrorMessage.Indonesian`), which wins when the page is in Indonesian; otherwise the code is
 * looked up here; otherwise the bank's message is shown as it came.
 */

/** BCA legacy ESB codes (bank-apis.md §1) in both languages, as BCA words them. */
const BCA_CODES: Record<string, [id: string, en: string]> = {
  'ESB-14-001': ['HMAC tidak cocok', 'HMAC mismatch'],
  'ESB-14-003': ['Timestamp tidak valid', 'Invalid timestamp'],
  'ESB-14-005': ['Sistem sedang dalam pemeliharaan', 'System under maintenance'],
  'ESB-14-006': ['Timeout, silakan cek mutasi rekening', 'Timeout, please check your statement'],
  'ESB-14-007': ['Waktu habis (timeout)', 'Timeout'],
  'ESB-14-008': ['Client ID/Client Secret/Grant Type tidak valid', 'Invalid client ID, client secret or grant type'],
  'ESB-14-009': ['Tidak berhak', 'Unauthorized'],
  'ESB-14-010': ['Melebihi limit', 'Limit exceeded'],
  'ESB-14-019': ['Koneksi tidak diperbolehkan', 'Connection not allowed'],
  'ESB-82-001': ['Field wajib diisi atau tidak valid', 'Mandatory field is missing or invalid'],
  'ESB-82-003': ['TransactionID harus unik', 'TransactionID must be unique'],
  'ESB-82-006': ['Melebihi jumlah maksimum', 'Maximum amount exceeded'],
  'ESB-82-011': ['Jumlah tidak valid', 'Invalid amount'],
  'ESB-82-014': ['Rekening tidak valid', 'Invalid account'],
  'ESB-82-018': ['Rekening tidak aktif (dormant)', 'Account is dormant'],
  'ESB-82-019': ['Saldo tidak cukup', 'Insufficient funds'],
  'ESB-82-022': ['Rekening sudah ditutup', 'Account is closed'],
  'ESB-82-023': ['Transaksi gagal', 'Transaction failed'],
  'ESB-82-024': ['Timeout, silakan cek mutasi rekening', 'Timeout, please check your statement'],
  'ESB-82-025': ['Transaksi sedang diproses, silakan cek mutasi', 'Transaction in progress, please check your statement'],
  'ESB-82-026': ['Melewati batas waktu (cut-off) transaksi', 'Cut-off time exceeded'],
  'ESB-99-127': ['Transaksi tidak ditemukan', 'Transaction not found'],
  'ESB-99-999': ['Sistem tidak tersedia', 'System unavailable'],
};

/**
 * SNAP BI response codes are HTTP status (3) + service code (2) + case code (2): the meaning is
 * the same for every service, so the table is keyed by status and case (`403` + `14`). From the
 * SNAP BI standard's response-code list.
 */
const SNAP_CASES: Record<string, [id: string, en: string]> = {
  '20000': ['Berhasil', 'Successful'],
  '20200': ['Permintaan sedang diproses', 'Request in progress'],
  '40000': ['Permintaan tidak valid', 'Bad request'],
  '40001': ['Format field tidak valid', 'Invalid field format'],
  '40002': ['Field wajib tidak diisi atau tidak valid', 'Invalid mandatory field'],
  '40100': ['Tidak berhak', 'Unauthorized'],
  '40101': ['Token tidak valid', 'Invalid token (B2B)'],
  '40300': ['Transaksi kedaluwarsa', 'Transaction expired'],
  '40301': ['Fitur tidak diizinkan', 'Feature not allowed'],
  '40302': ['Melebihi batas jumlah transaksi', 'Exceeds transaction amount limit'],
  '40303': ['Diduga penipuan', 'Suspected fraud'],
  '40304': ['Melebihi batas jumlah aktivitas', 'Activity count limit exceeded'],
  '40305': ['Ditolak bank (do not honor)', 'Do not honor'],
  '40306': ['Fitur tidak diizinkan pada saat ini', 'Feature not allowed at this time'],
  '40307': ['Kartu diblokir', 'Card blocked'],
  '40308': ['Kartu kedaluwarsa', 'Card expired'],
  '40309': ['Rekening tidak aktif (dormant)', 'Dormant account'],
  '40314': ['Saldo tidak cukup', 'Insufficient funds'],
  '40315': ['Transaksi tidak diizinkan', 'Transaction not permitted'],
  '40316': ['Transaksi ditangguhkan', 'Suspend transaction'],
  '40318': ['Kartu/rekening/nasabah tidak aktif', 'Inactive card/account/customer'],
  '40323': ['Melebihi limit rekening', 'Account limit exceeded'],
  '40400': ['Status transaksi tidak valid', 'Invalid transaction status'],
  '40401': ['Transaksi tidak ditemukan', 'Transaction not found'],
  '40402': ['Rute tidak valid', 'Invalid routing'],
  '40403': ['Bank tidak didukung', 'Bank not supported by switch'],
  '40404': ['Transaksi dibatalkan', 'Transaction cancelled'],
  '40411': ['Kartu/rekening/nasabah tidak valid', 'Invalid card/account/customer'],
  '40413': ['Jumlah tidak valid', 'Invalid amount'],
  '40416': ['Mitra tidak ditemukan', 'Partner not found'],
  '40418': ['Permintaan tidak konsisten', 'Inconsistent request'],
  '40500': ['Fungsi tidak didukung', 'Requested function is not supported'],
  '40900': ['Konflik', 'Conflict'],
  '40901': ['partnerReferenceNo sudah pernah dipakai', 'Duplicate partnerReferenceNo'],
  '42900': ['Terlalu banyak permintaan', 'Too many requests'],
  '50000': ['Kesalahan umum di bank', 'General error'],
  '50001': ['Kesalahan internal di bank', 'Internal server error'],
  '50002': ['Kesalahan server eksternal', 'External server error'],
  '50400': ['Waktu habis (timeout)', 'Timeout'],
};

/** The code's meaning in `lang`, or null when the code is not one we know. */
export function bankCodeMeaning(lang: Lang, code: string | null): string | null {
  if (!code) return null;
  const pick = (pair: [string, string] | undefined) => (pair ? pair[lang === 'id' ? 0 : 1] : null);
  const bca = pick(BCA_CODES[code.toUpperCase()]);
  if (bca) return bca;
  const snap = /^(\d{3})\d{2}(\d{2})$/.exec(code);
  return snap ? pick(SNAP_CASES[`${snap[1]}${snap[2]}`]) : null;
}

/**
 * The refusal a clerk reads: the bank's own Indonesian text on an Indonesian page, else the
 * code's meaning in the page's language, else Gerbang's own text (an in-doubt outcome's guidance)
 * in the page's language, else the bank's message; with the code in brackets.
 */
export function bankRefusalText(lang: Lang, code: string | null, bankMessage: string | null, bankIndonesian: string | null = null): string | null {
  return bankAnswerWords(lang, code, bankMessage, bankIndonesian).text;
}

/** bankRefusalText, and whether the words are Gerbang's own note (the bank said nothing of its own: no answer in time). */
export function bankAnswerWords(lang: Lang, code: string | null, bankMessage: string | null, bankIndonesian: string | null = null): { text: string | null; gerbang: boolean } {
  const bank = (lang === 'id' ? bankIndonesian : null) ?? bankCodeMeaning(lang, code);
  const own = bank === null ? gerbangText(lang, bankMessage) : null;
  const text = bank ?? own ?? bankMessage;
  if (text === null) return { text: code, gerbang: false };
  return { text: code ? `${text} (${code})` : text, gerbang: own !== null };
}

/**
 * Gerbang's own text (an in-doubt guidance, why a route was not sent) in `lang`; null when it is
 * not one Gerbang writes. `connection`: how to name a connection the text names as a bank (a
 * route's, by its bank: connectionLabel).
 */
export function gerbangText(lang: Lang, message: string | null, connection?: Connection): string | null {
  return gerbangMessageWords(lang, message, (l, code, quoted) => bankRefusalText(l, code, quoted === '' ? null : quoted) ?? code, connection);
}
