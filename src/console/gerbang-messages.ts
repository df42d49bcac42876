import type { Lang } from './i18n.js';

/**
 * Gerbang's own texts in a stored answer (an in-doubt outcome's guidance, a route's "not sent"
 * error) in the clerk's language. The stored and answered English is unchanged: each sentence
 * Gerbang writes is read back here, with the values it carries, and worded at display time. A
 * text with any sentence not listed here is not Gerbang's (or not one known): null, and the page
 * shows it as stored.
 */

/** A code, a connection or a number inside Gerbang's sentence. */
const VALUE = String.raw`([A-Za-z0-9_.-]{1,64})`;
/** A console user's name (3–64 letters, digits or . _ @ -), as a review decision names its admin. */
const USER = String.raw`([A-Za-z0-9_.@-]{3,64})`;
/** The bank's own code and message quoted inside Gerbang's sentence: `(4031815: Do Not Honor)`. */
const QUOTED = String.raw`\(([A-Za-z0-9_.-]{1,64}): (.{0,300})\)`;

type Words = (m: RegExpExecArray, lang: Lang, bankText: BankText, connection: Connection) => [id: string, en: string];
type BankText = (lang: Lang, code: string, message: string) => string;
/** A bank connection Gerbang's sentence names as a bank (`Bank bca-main is not answering`), as the page names it: `Bank bca-main` unless the caller knows its bank. */
export type Connection = (partner: string) => string;

const SENTENCES: [RegExp, Words][] = [
  // The network's failures (egress), before the in-doubt guidance or in a "not sent".
  [new RegExp(String.raw`^the bank did not answer in time \(${VALUE}\)\.?`), (m) => [`Bank tidak menjawab tepat waktu (${m[1]}).`, `The bank did not answer in time (${m[1]}).`]],
  [new RegExp(String.raw`^the bank's answer did not arrive in full within (\d{1,9}) ms\.?`), (m) => [`Jawaban bank tidak tiba lengkap dalam ${m[1]} ms.`, `The bank's answer did not arrive in full within ${m[1]} ms.`]],
  [new RegExp(String.raw`^the bank's answer exceeded (\d{1,12}) bytes and was not read\.?`), (m) => [`Jawaban bank melebihi ${m[1]} byte dan tidak dibaca.`, `The bank's answer was larger than ${m[1]} bytes and was not read.`]],
  [new RegExp(String.raw`^the bank's answer was too large \(${VALUE}\)\.?`), (m) => [`Jawaban bank terlalu besar (${m[1]}).`, `The bank's answer was too large (${m[1]}).`]],
  [new RegExp(String.raw`^the connection to the bank failed after sending \(${VALUE}\)\.?`), (m) => [`Koneksi ke bank putus setelah permintaan terkirim (${m[1]}).`, `The connection to the bank broke after the request was sent (${m[1]}).`]],
  [new RegExp(String.raw`^could not connect to the bank \(${VALUE}\)\.?`), (m) => [`Tidak dapat terhubung ke bank (${m[1]}).`, `Could not connect to the bank (${m[1]}).`]],
  // The in-doubt guidance.
  [/^The bank has not confirmed the outcome; it will be resolved by status inquiry\. Do not pay again under a new transactionId\./, () => [
    'Bank belum memastikan hasilnya; Gerbang akan menanyakan statusnya ke bank. Jangan bayar ulang dengan ID transaksi baru.',
    'The bank has not confirmed the outcome; Gerbang will ask the bank for its status. Do not pay again under a new transaction ID.',
  ]],
  [/^The outcome is not known yet; it will be resolved by status inquiry\./, () => [
    'Hasilnya belum diketahui; Gerbang akan menanyakan statusnya ke bank. Jangan bayar ulang.',
    'The outcome is not known yet; Gerbang will ask the bank for its status. Do not pay again.',
  ]],
  [/^The call to the bank failed in an unexpected way; it will be resolved by status inquiry\./, () => [
    'Panggilan ke bank gagal secara tidak terduga; Gerbang akan menanyakan statusnya ke bank. Jangan bayar ulang.',
    'The call to the bank failed in an unexpected way; Gerbang will ask the bank for its status. Do not pay again.',
  ]],
  [/^The status inquiry got no answer; the transfer stays in doubt\./, () => ['Pengecekan status ke bank tidak dijawab; pembayaran tetap belum pasti.', 'The status check got no answer from the bank; the payment stays in doubt.']],
  [new RegExp(String.raw`^Accepted by the bank(?: \(transactionStatus ${VALUE}\))?; not final until the bank reports it settled\.`), (m) => [
    `Diterima bank${m[1] ? ` (status ${m[1]})` : ''}; belum final sampai bank melaporkannya selesai.`,
    `Accepted by the bank${m[1] ? ` (status ${m[1]})` : ''}; not final until the bank reports it settled.`,
  ]],
  [/^The bank gave no latestTransactionStatus; not final yet\./, () => ['Bank tidak memberi status transaksi; belum final.', 'The bank gave no transaction status; not final yet.']],
  [/^Being sent to the bank\./, () => ['Sedang dikirim ke bank.', 'Being sent to the bank.']],
  [new RegExp(String.raw`^Unexpected transactionStatus ${VALUE}\.`), (m) => [`Status transaksi ${m[1]} tidak dikenal.`, `Unknown transaction status ${m[1]}.`]],
  [new RegExp(String.raw`^transactionStatus ${VALUE}( \(failed\))?$`), (m) => [`Status transaksi ${m[1]}${m[2] ? ' (gagal)' : ''}.`, `Transaction status ${m[1]}${m[2] ? ' (failed)' : ''}.`]],
  [/^The bank's answer could not be read\./, () => ['Jawaban bank tidak dapat dibaca.', "The bank's answer could not be read."]],
  [new RegExp(String.raw`^The bank answered HTTP (\d{3}) with responseCode ${VALUE}; the two contradict each other\.`), (m) => [
    `Bank menjawab HTTP ${m[1]} dengan kode ${m[2]}; keduanya bertentangan.`,
    `The bank answered HTTP ${m[1]} with code ${m[2]}; the two contradict each other.`,
  ]],
  [/^In doubt\./, () => ['Belum pasti.', 'In doubt.']],
  // How a payment in doubt was settled, or a reservation released: by an admin in the review queue, or by the resolver from the paying account's statement.
  [new RegExp(String.raw`^Resolved in review by ${USER}: (executed|not executed), from the recorded evidence\.`), (m) => [
    `Diputuskan di antrean tinjauan oleh ${m[1]}: ${m[2] === 'executed' ? 'dijalankan' : 'tidak dijalankan'}, berdasarkan bukti yang dicatat.`,
    `Decided in the review queue by ${m[1]}: ${m[2]}, from the recorded evidence.`,
  ]],
  [new RegExp(String.raw`^Released in review by ${USER}: never sent, from the recorded evidence; the ERP's resend of this transactionId is paid as a new transfer(?:, and so is the payment-run line that met it \(queued again: (\d{1,9})\))?\.`), (m) => [
    `Dilepas di antrean tinjauan oleh ${m[1]}: tidak pernah dikirim, berdasarkan bukti yang dicatat; pengiriman ulang ID transaksi ini oleh ERP dibayar sebagai transfer baru${m[2] ? `, begitu pula baris proses pembayaran yang tertahan olehnya (diantrekan lagi: ${m[2]})` : ''}.`,
    `Released in the review queue by ${m[1]}: never sent, from the recorded evidence; the ERP's resend of this transaction ID is paid as a new transfer${m[2] ? `, and so is the payment-run line it held (queued again: ${m[2]})` : ''}.`,
  ]],
  [/^Executed: the debit is on the paying account's statement\./, () => ['Dijalankan: debitnya ada di mutasi rekening pembayar.', "Executed: the debit is on the paying account's statement."]],
  [/^Not executed: the bank does not know this transfer and the paying account's statement, read after the bank's day closed, shows no debit for it\./, () => [
    'Tidak dijalankan: bank tidak mengenal transfer ini dan mutasi rekening pembayar, dibaca setelah hari bank ditutup, tidak menunjukkan debitnya.',
    "Not executed: the bank does not know this transfer and the paying account's statement, read after the bank's day closed, shows no debit for it.",
  ]],
  // Why a route was not sent (nothing executed: the next route was tried).
  [new RegExp(String.raw`^The bank could not be reached \(${VALUE}\); (the transfer was not sent|nothing was executed)\.`), (m) => [
    `Bank tidak dapat dihubungi (${m[1]}); ${m[2] === 'nothing was executed' ? 'tidak ada yang dijalankan' : 'transfer tidak dikirim'}.`,
    `The bank could not be reached (${m[1]}); ${m[2] === 'nothing was executed' ? 'nothing was executed' : 'the transfer was not sent'}.`,
  ]],
  [new RegExp(String.raw`^The bank could not be reached \(${VALUE}\)\.`), (m) => [`Bank tidak dapat dihubungi (${m[1]}).`, `The bank could not be reached (${m[1]}).`]],
  [new RegExp(String.raw`^The bank could not be reached for a token \(${VALUE}\); nothing was sent\.`), (m) => [
    `Bank tidak dapat dihubungi untuk meminta token (${m[1]}); tidak ada yang dikirim.`,
    `The bank could not be reached for a token (${m[1]}); nothing was sent.`,
  ]],
  [new RegExp(String.raw`^The bank refused the token request \(${VALUE}\); nothing was sent\.`), (m, lang, bank) => [
    `Bank menolak permintaan token: ${bank(lang, m[1], '')}; tidak ada yang dikirim.`,
    `The bank refused the token request: ${bank(lang, m[1], '')}; nothing was sent.`,
  ]],
  [new RegExp(String.raw`^The bank refused the call before processing (?:the transfer|it) ${QUOTED}; nothing was executed\.`), (m, lang, bank) => [
    `Bank menolak sebelum memproses transfer: ${bank(lang, m[1], m[2])}; tidak ada yang dijalankan.`,
    `The bank refused before processing the transfer: ${bank(lang, m[1], m[2])}; nothing was executed.`,
  ]],
  [new RegExp(String.raw`^BI-FAST is not available for this beneficiary bank at ${VALUE} ${QUOTED}; nothing was executed\.`), (m, lang, bank) => [
    `BI-FAST tidak tersedia untuk bank penerima ini lewat koneksi ${m[1]}: ${bank(lang, m[2], m[3])}; tidak ada yang dijalankan.`,
    `BI-FAST is not available for this beneficiary bank through connection ${m[1]}: ${bank(lang, m[2], m[3])}; nothing was executed.`,
  ]],
  [new RegExp(String.raw`^Partner ${VALUE} does not offer ${VALUE} transfers over SNAP\.`), (m) => [
    `Koneksi ${m[1]} tidak menyediakan transfer ${methodWords('id', m[2])}.`,
    `Connection ${m[1]} does not offer ${methodWords('en', m[2])} transfers.`,
  ]],
  [new RegExp(String.raw`^Partner ${VALUE} speaks BCA's legacy API, which has no BI-FAST transfer\.`), (m) => [
    `Koneksi ${m[1]} memakai API lama BCA, yang tidak punya transfer BI-FAST.`,
    `Connection ${m[1]} uses BCA's older API, which has no BI-FAST transfer.`,
  ]],
  [new RegExp(String.raw`^Bank ${VALUE} is not answering; nothing was sent\. Retry later\.`), (m, _l, _b, bank) => [`${bank(m[1])} tidak menjawab; tidak ada yang dikirim.`, `${bank(m[1])} is not answering; nothing was sent.`]],
  [new RegExp(String.raw`^Bank ${VALUE} is being probed; nothing was sent\. Retry shortly\.`), (m, _l, _b, bank) => [`${bank(m[1])} sedang diuji; tidak ada yang dikirim.`, `${bank(m[1])} is being tested; nothing was sent.`]],
  [new RegExp(String.raw`^The bank answered HTTP (\d{3}) without a SNAP body\.`), (m) => [`Bank menjawab HTTP ${m[1]} tanpa isi yang dapat dibaca.`, `The bank answered HTTP ${m[1]} without a readable body.`]],
];

/**
 * Gerbang's own text (`message`, as stored) in `lang`; null when any part of it is not a sentence
 * Gerbang writes. `bankText` words a bank's code and message quoted inside it, `connection` a
 * connection it names as a bank.
 */
export function gerbangMessageWords(lang: Lang, message: string | null, bankText: BankText, connection: Connection = (partner) => `Bank ${partner}`): string | null {
  if (message === null) return null;
  let rest = message.trim();
  if (rest === '' || rest.length > 2000) return null;
  const out: string[] = [];
  while (rest !== '') {
    let matched = false;
    for (const [pattern, words] of SENTENCES) {
      const m = pattern.exec(rest);
      if (!m) continue;
      out.push(words(m, lang, bankText, connection)[lang === 'id' ? 0 : 1]);
      rest = rest.slice(m[0].length).trimStart();
      matched = true;
      break;
    }
    if (!matched) return null;
  }
  return out.join(' ');
}

const METHODS: Record<string, [id: string, en: string]> = {
  INTRABANK: ['Sesama bank', 'Within the bank'],
  ONLINE: ['Transfer online', 'Online transfer'],
  BIFAST: ['BI-FAST', 'BI-FAST'],
  SKN: ['SKN (kliring)', 'SKN (clearing)'],
  RTGS: ['RTGS (nilai besar)', 'RTGS (large value)'],
};

/** A transfer method (`INTRABANK`, `ONLINE`, …) in words; an unknown value as it is. */
export function methodWords(lang: Lang, method: string): string {
  const pair = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  return pair ? pair[lang === 'id' ? 0 : 1] : method;
}
