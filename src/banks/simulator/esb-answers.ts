/**
 * How the simulated BCA answers: its error shape
 * `{"ErrorCode":"ESB-xx-yyy","ErrorMessage":{"Indonesian":"…","English":"…"}}`, the HTTP status
 * each code comes with, and the bilingual messages.
 */

/** What a handler decided; the server writes it (or misbehaves as told). */
export interface SimAnswer {
  status: number;
  /** JSON-serialised when an object; written as is when a string. */
  body?: unknown;
  /** The ESB code answered, for the call log. */
  errorCode?: string | null;
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  drop?: boolean;
  /** Never answer (until the caller gives up or the simulator closes). */
  hang?: boolean;
}

const HTTP_STATUS: Record<string, number> = {
  'ESB-14-001': 400,
  'ESB-14-003': 400,
  'ESB-14-005': 503,
  'ESB-14-006': 504,
  'ESB-14-007': 504,
  'ESB-14-008': 401,
  'ESB-14-009': 401,
  'ESB-14-010': 429,
  'ESB-14-019': 403,
  // The status of the API-key refusals is not published; 401, as for the other credential refusals.
  'ESB-14-021': 401,
  'ESB-14-022': 401,
  'ESB-82-024': 504,
  'ESB-82-025': 202,
  'ESB-99-127': 404,
  'ESB-99-999': 500,
};

const MESSAGES: Record<string, [indonesian: string, english: string]> = {
  'ESB-14-001': ['HMAC tidak cocok', 'HMAC mismatch'],
  'ESB-14-003': ['Timestamp tidak valid', 'Invalid timestamp'],
  'ESB-14-005': ['Sistem sedang dalam pemeliharaan', 'System under maintenance'],
  'ESB-14-006': ['Timeout, silakan cek mutasi rekening', 'Timeout, please check your statement'],
  'ESB-14-007': ['Timeout', 'Timeout'],
  'ESB-14-008': ['Client ID/Client Secret/Grant Type tidak valid', 'Invalid client ID, client secret or grant type'],
  'ESB-14-009': ['Tidak berhak', 'Unauthorized'],
  'ESB-14-010': ['Melebihi limit', 'Limit exceeded'],
  'ESB-14-015': ['Content-Type tidak valid', 'Invalid Content-Type'],
  'ESB-14-016': ['Format JSON tidak valid', 'Invalid JSON format'],
  'ESB-14-019': ['Koneksi tidak diperbolehkan', 'Connection not allowed'],
  'ESB-14-021': ['API Key tidak valid', 'API Key invalid'],
  'ESB-14-022': ['API Key dan API Secret tidak cocok', 'API Key and API Secret do not match'],
  'ESB-82-001': ['Field wajib diisi', 'Mandatory field is missing'],
  'ESB-82-003': ['TransactionID harus unik', 'TransactionID must be unique'],
  'ESB-82-006': ['Melebihi jumlah maksimum', 'Maximum amount exceeded'],
  'ESB-82-009': ['Mata uang tidak valid', 'Invalid currency'],
  'ESB-82-010': ['Format TransactionID tidak valid', 'Invalid TransactionID format'],
  'ESB-82-011': ['Jumlah tidak valid', 'Invalid amount'],
  'ESB-82-014': ['Rekening tidak valid', 'Invalid account'],
  'ESB-82-018': ['Rekening tidak aktif', 'Account is dormant'],
  'ESB-82-019': ['Saldo tidak cukup', 'Insufficient funds'],
  'ESB-82-022': ['Rekening ditutup', 'Account is closed'],
  'ESB-82-023': ['Transaksi gagal', 'Transaction failed'],
  'ESB-82-024': ['Timeout, silakan cek mutasi rekening', 'Timeout, please check your statement'],
  'ESB-82-025': ['Transaksi sedang diproses, silakan cek mutasi', 'Transaction in progress, please check your statement'],
  'ESB-82-026': ['Melewati batas waktu transaksi', 'Cut-off time exceeded'],
  'ESB-99-127': ['Transaksi tidak ditemukan', 'Transaction not found'],
  'ESB-99-158': ['Tanggal awal tidak valid atau melebihi 31 hari', 'Start date invalid or more than 31 days back'],
  'ESB-99-999': ['Sistem tidak tersedia', 'System unavailable'],
};

/** BCA's error body; `english` replaces the standard English text to say exactly what was wrong. */
export function esbBody(code: string, english?: string): { ErrorCode: string; ErrorMessage: { Indonesian: string; English: string } } {
  const [indonesian, standard] = MESSAGES[code] ?? ['Terjadi kesalahan', 'An error occurred'];
  return { ErrorCode: code, ErrorMessage: { Indonesian: indonesian, English: english ?? standard } };
}

/** An ESB error answer with its usual HTTP status (400 for codes without a specific one). */
export function esbError(code: string, english?: string, httpStatus?: number): SimAnswer {
  return { status: httpStatus ?? HTTP_STATUS[code] ?? 400, body: esbBody(code, english), errorCode: code };
}
