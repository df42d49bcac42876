import { expect } from 'chai';
import { bankAnswerWords, bankRefusalText, gerbangText } from '../../src/console/bank-messages.js';
import { methodWords } from '../../src/console/gerbang-messages.js';
import { crossCheckWords, uncheckedReasonWords } from '../../src/console/review-words.js';
import { requeueRefusalWords } from '../../src/console/requeue-words.js';
import { fieldErrorText } from '../../src/console/field-errors.js';
import { formatWhen, parseTypedDay } from '../../src/console/format.js';
import { fill, translator } from '../../src/console/i18n.js';
import { connectionLabel, routeReasonWords, routeResultWords } from '../../src/console/payment-facts.js';
import { allowlistProblems } from '../../src/domain/clients/index.js';
import { checkUserInput } from '../../src/console/console-users.js';

describe('the console in the clerk’s words', () => {
  describe('bankRefusalText()', () => {
    it('reads a SNAP code by its HTTP status and case, whatever the service', () => {
      expect(bankRefusalText('id', '4031814', 'Insufficient Funds')).to.equal('Saldo tidak cukup (4031814)');
      expect(bankRefusalText('id', '4031714', 'Insufficient Funds')).to.equal('Saldo tidak cukup (4031714)');
      expect(bankRefusalText('en', '4031814', 'whatever the bank wrote')).to.equal('Insufficient funds (4031814)');
    });

    it('prefers BCA’s own Indonesian text on an Indonesian page, and falls back to the bank’s message for an unknown code', () => {
      expect(bankRefusalText('id', 'ESB-82-019', 'Insufficient funds', 'Saldo Anda kurang')).to.equal('Saldo Anda kurang (ESB-82-019)');
      expect(bankRefusalText('en', 'ESB-82-019', 'Insufficient funds', 'Saldo Anda kurang')).to.equal('Insufficient funds (ESB-82-019)');
      expect(bankRefusalText('id', 'ESB-82-019', null)).to.equal('Saldo tidak cukup (ESB-82-019)');
      expect(bankRefusalText('id', 'XYZ-1', 'Something odd')).to.equal('Something odd (XYZ-1)');
      expect(bankRefusalText('id', null, null)).to.equal(null);
    });
  });

  describe('routeReasonWords()', () => {
    const onUs = "account 0201245680 is held at bca (priority 1), the beneficiary's bank CENAIDJA: paid on-us";
    const interbank = (why: string) => `account 0201245680 is held at bca-main (priority 2); beneficiary bank BMRIIDJA is another bank: interbank, ${why}`;

    it('words an on-us reason with the bank by name, never its BIC', () => {
      expect(routeReasonWords('id', onUs)).to.equal('Rekening sumber 0201245680 ada di Bank Central Asia (koneksi bca, prioritas 1), bank yang sama dengan bank penerima: dibayar sebagai transfer sesama bank.');
      expect(routeReasonWords('en', onUs)).to.equal("The paying account 0201245680 is held at Bank Central Asia (connection bca, priority 1), the beneficiary's own bank: paid as a transfer within the bank.");
    });

    it('words an interbank reason however its method was chosen, naming a connection whose name is no bank’s by the connection alone', () => {
      expect(routeReasonWords('id', interbank('SKN as asked'))).to.equal('Rekening sumber 0201245680 ada di koneksi bca-main (prioritas 2); penerima di bank lain, Bank Mandiri: transfer antarbank, SKN (kliring) sesuai permintaan ERP.');
      expect(routeReasonWords('id', interbank('BIFAST chosen for the amount'))).to.contain('transfer antarbank, BI-FAST dipilih sesuai jumlahnya.');
      expect(routeReasonWords('id', interbank('ONLINE because BI-FAST is not available for bank BMRIIDJA'))).to.contain('transfer online karena BI-FAST tidak tersedia untuk Bank Mandiri.');
      expect(routeReasonWords('en', interbank('ONLINE because BI-FAST is not available for bank BMRIIDJA'))).to.equal(
        'The paying account 0201245680 is held at connection bca-main (priority 2); the beneficiary is at another bank, Bank Mandiri: interbank transfer, online transfer because BI-FAST is not available for Bank Mandiri.',
      );
    });

    it('names the connection’s bank when the record keeps it (its BIC), the connection id in brackets', () => {
      expect(routeReasonWords('id', interbank('SKN as asked'), 'CENAIDJA')).to.equal(
        'Rekening sumber 0201245680 ada di Bank Central Asia (koneksi bca-main, prioritas 2); penerima di bank lain, Bank Mandiri: transfer antarbank, SKN (kliring) sesuai permintaan ERP.',
      );
      expect(routeReasonWords('en', interbank('SKN as asked'), 'CENAIDJA')).to.match(/^The paying account 0201245680 is held at Bank Central Asia \(connection bca-main, priority 2\);/);
      expect(connectionLabel('bca-main', 'CENAIDJA')).to.equal('Bank Central Asia (bca-main)');
      expect(connectionLabel('bca-main', null), 'an older record: the connection alone').to.equal('bca-main');
      expect(connectionLabel('bca-main', 'NOTABANK'), 'a BIC not in the list: the connection alone').to.equal('bca-main');
    });

    it('shows a reason of another wording (an older router’s) as it was stored', () => {
      const older = 'beneficiary bank CENAIDJA is partner bca (priority 1): paid on-us';
      expect(routeReasonWords('id', older)).to.equal(older);
      expect(routeReasonWords('id', '')).to.equal('');
    });
  });

  describe('routeResultWords()', () => {
    it('words what became of a route, the bank’s error as it came', () => {
      expect(routeResultWords('id', 'sent')).to.equal('terkirim');
      expect(routeResultWords('id', 'skipped: an interbank transfer needs beneficiaryName')).to.equal('dilewati: transfer ke bank lain memerlukan nama penerima');
      expect(routeResultWords('id', 'not sent: The bank is not answering.')).to.equal('tidak terkirim: The bank is not answering.');
      expect(routeResultWords('id', 'not sent: Bank bca-main is not answering; nothing was sent. Retry later.')).to.equal('tidak terkirim: Bank bca-main tidak menjawab; tidak ada yang dikirim.');
      expect(routeResultWords('en', 'sent')).to.equal('sent');
      expect(routeResultWords('id', 'odd')).to.equal('odd');
    });
  });

  describe('Gerbang’s own texts', () => {
    const timeout = "the bank did not answer in time (UND_ERR_HEADERS_TIMEOUT). The bank has not confirmed the outcome; it will be resolved by status inquiry. Do not pay again under a new transactionId.";

    it('words the in-doubt guidance of a timeout in the page’s language, with the codes it carries', () => {
      expect(bankRefusalText('id', 'BANK_TIMEOUT', timeout)).to.equal(
        'Bank tidak menjawab tepat waktu (UND_ERR_HEADERS_TIMEOUT). Bank belum memastikan hasilnya; Gerbang akan menanyakan statusnya ke bank. Jangan bayar ulang dengan ID transaksi baru. (BANK_TIMEOUT)',
      );
      expect(bankRefusalText('en', 'BANK_TIMEOUT', timeout)).to.equal(
        'The bank did not answer in time (UND_ERR_HEADERS_TIMEOUT). The bank has not confirmed the outcome; Gerbang will ask the bank for its status. Do not pay again under a new transaction ID. (BANK_TIMEOUT)',
      );
      expect(bankRefusalText('id', null, 'The outcome is not known yet; it will be resolved by status inquiry.')).to.equal('Hasilnya belum diketahui; Gerbang akan menanyakan statusnya ke bank. Jangan bayar ulang.');
      expect(bankRefusalText('id', null, 'The status inquiry got no answer; the transfer stays in doubt.')).to.equal('Pengecekan status ke bank tidak dijawab; pembayaran tetap belum pasti.');
      expect(bankRefusalText('id', '2001800', 'Accepted by the bank (transactionStatus 03); not final until the bank reports it settled. The bank has not confirmed the outcome; it will be resolved by status inquiry. Do not pay again under a new transactionId.')).to.equal('Berhasil (2001800)');
      expect(bankRefusalText('id', null, 'Accepted by the bank; not final until the bank reports it settled. The bank has not confirmed the outcome; it will be resolved by status inquiry. Do not pay again under a new transactionId.')).to.match(/^Diterima bank; belum final sampai bank melaporkannya selesai\. Bank belum memastikan/);
    });

    it('words why a route was not sent, the bank’s own code inside it by its meaning', () => {
      expect(routeResultWords('id', 'not sent: The bank could not be reached (BANK_CONNECT_FAILED); the transfer was not sent.')).to.equal('tidak terkirim: Bank tidak dapat dihubungi (BANK_CONNECT_FAILED); transfer tidak dikirim.');
      expect(routeResultWords('id', 'not sent: BI-FAST is not available for this beneficiary bank at bri-snap (4031815: Do Not Honor); nothing was executed.')).to.equal(
        'tidak terkirim: BI-FAST tidak tersedia untuk bank penerima ini lewat koneksi bri-snap: Transaksi tidak diizinkan (4031815); tidak ada yang dijalankan.',
      );
      expect(routeResultWords('en', 'not sent: The bank refused the token request (ESB-14-008); nothing was sent.')).to.equal(
        'not sent: The bank refused the token request: Invalid client ID, client secret or grant type (ESB-14-008); nothing was sent.',
      );
      expect(routeResultWords('id', "not sent: Partner bca speaks BCA's legacy API, which has no BI-FAST transfer.")).to.equal('tidak terkirim: Koneksi bca memakai API lama BCA, yang tidak punya transfer BI-FAST.');
    });

    it('tells Gerbang’s own note from the bank’s words', () => {
      expect(bankAnswerWords('id', 'BANK_TIMEOUT', 'the bank did not answer in time (X).').gerbang).to.equal(true);
      expect(bankAnswerWords('id', 'ESB-82-024', 'Timeout, please check your statement').gerbang).to.equal(false);
      expect(bankAnswerWords('id', 'XYZ', 'Something odd').gerbang).to.equal(false);
    });

    it('words how a payment in doubt was settled (an admin’s review decision, the resolver’s reading of the statement) as Gerbang’s note', () => {
      const review = bankAnswerWords('id', null, 'Resolved in review by ana.admin@pt-maju: not executed, from the recorded evidence.');
      expect(review).to.deep.equal({ text: 'Diputuskan di antrean tinjauan oleh ana.admin@pt-maju: tidak dijalankan, berdasarkan bukti yang dicatat.', gerbang: true });
      expect(gerbangText('en', 'Resolved in review by ana: executed, from the recorded evidence.')).to.equal('Decided in the review queue by ana: executed, from the recorded evidence.');
      expect(gerbangText('id', "Executed: the debit is on the paying account's statement.")).to.equal('Dijalankan: debitnya ada di mutasi rekening pembayar.');
      expect(gerbangText('id', "Not executed: the bank does not know this transfer and the paying account's statement, read after the bank's day closed, shows no debit for it.")).to.equal(
        'Tidak dijalankan: bank tidak mengenal transfer ini dan mutasi rekening pembayar, dibaca setelah hari bank ditutup, tidak menunjukkan debitnya.',
      );
      // A reservation released (never sent), with or without a payment-run line queued again.
      const released = "Released in review by ana.admin: never sent, from the recorded evidence; the ERP's resend of this transactionId is paid as a new transfer";
      expect(gerbangText('id', `${released}.`)).to.equal('Dilepas di antrean tinjauan oleh ana.admin: tidak pernah dikirim, berdasarkan bukti yang dicatat; pengiriman ulang ID transaksi ini oleh ERP dibayar sebagai transfer baru.');
      expect(gerbangText('id', `${released}, and so is the payment-run line that met it (queued again: 2).`)).to.equal(
        'Dilepas di antrean tinjauan oleh ana.admin: tidak pernah dikirim, berdasarkan bukti yang dicatat; pengiriman ulang ID transaksi ini oleh ERP dibayar sebagai transfer baru, begitu pula baris proses pembayaran yang tertahan olehnya (diantrekan lagi: 2).',
      );
      expect(gerbangText('en', `${released}, and so is the payment-run line that met it (queued again: 1).`)).to.equal(
        "Released in the review queue by ana.admin: never sent, from the recorded evidence; the ERP's resend of this transaction ID is paid as a new transfer, and so is the payment-run line it held (queued again: 1).",
      );
      // A name no console user can have is not a decision Gerbang wrote.
      expect(gerbangText('id', 'Resolved in review by <b>x</b>: executed, from the recorded evidence.')).to.equal(null);
    });

    it('leaves a text with any sentence it does not know as it was stored', () => {
      const odd = 'The outcome is not known yet; it will be resolved by status inquiry. Something else.';
      expect(bankRefusalText('id', null, odd)).to.equal(odd);
      expect(bankRefusalText('id', 'BANK_TIMEOUT', 'the bank did not answer in time (X) and more')).to.equal('the bank did not answer in time (X) and more (BANK_TIMEOUT)');
      expect(bankRefusalText('id', null, '')).to.equal('');
      expect(gerbangText('id', 'x'.repeat(5000))).to.equal(null);
    });

    it('names the transfer methods in words', () => {
      expect(['INTRABANK', 'ONLINE', 'BIFAST', 'SKN', 'RTGS', 'ODD'].map((m) => methodWords('id', m))).to.deep.equal(['Sesama bank', 'Transfer online', 'BI-FAST', 'SKN (kliring)', 'RTGS (nilai besar)', 'ODD']);
      expect(['INTRABANK', 'ONLINE', 'SKN', 'RTGS'].map((m) => methodWords('en', m))).to.deep.equal(['Within the bank', 'Online transfer', 'SKN (clearing)', 'RTGS (large value)']);
    });
  });

  describe('a requeue’s refusals', () => {
    // As requeueCallback words them (src/domain/callbacks/callback-requeue.ts, the repository's `notRequeued`).
    const what = 'the delivery of client gbc_1, transactionId INV-1';
    it('words each known refusal in the page’s language, whatever values it carries', () => {
      expect(requeueRefusalWords('id', `${what} holds (it is DELIVERED as Gerbang left it): nothing to queue again`)).to.equal(translator('id')('requeueRefusedHolds'));
      expect(requeueRefusalWords('en', `${what} was never queued (or Gerbang deleted it): nothing to queue again`)).to.equal(translator('en')('requeueRefusedNeverQueued'));
      expect(requeueRefusalWords('id', 'only an active console admin may queue a notification again; "rudi" is not one')).to.equal(translator('id')('requeueRefusedNotAdmin'));
      expect(requeueRefusalWords('id', 'the payment of client gbc_1, transactionId INV-1 is not final (UNKNOWN): the ERP is told when it becomes final')).to.equal(translator('id')('requeueRefusedNotFinal'));
      expect(requeueRefusalWords('en', 'client gbc_1 has no callback endpoint (gerbang client set-callback)')).to.equal(translator('en')('requeueRefusedNoEndpoint'));
      expect(requeueRefusalWords('id', 'its audit record could not be written (pool closed), and nothing is queued again unrecorded')).to.equal(translator('id')('requeueRefusedUnaudited'));
      const sentBefore = `${what} was deleted in SQL; but the ERP's endpoint took it on 2026-12-07 06:00 UTC (https://erp.example/cb answered 204), so queued again it would be sent a second time and the ERP may act on it twice. Tell the ERP to read the transfer (GET /v1/transfers/{transactionId}); to send it anyway, run again with --send-again (recorded as a deliberate second send)`;
      expect(requeueRefusalWords('id', sentBefore)).to.equal(translator('id')('requeueRefusedSentBefore'));
      expect(requeueRefusalWords('en', sentBefore.replace("the ERP's endpoint took it", "whether the ERP's endpoint took it already cannot be told: a record does not hold"))).to.equal(translator('en')('requeueRefusedSentBefore'));
    });

    it('shows a refusal of another wording as it came, without control or bidi characters', () => {
      expect(requeueRefusalWords('id', 'the notification was already delivered (audit id 7); use --send-again')).to.equal('the notification was already delivered (audit id 7); use --send-again');
      expect(requeueRefusalWords('en', 'odd\u202e text\u0007')).not.to.match(/[\u202e\u0007]/);
    });
  });

  describe('a review’s words', () => {
    it('words why the statement could not confirm a resolution, the amount in Rupiah and the day close in WIB', () => {
      const early = "no debit of 3000000.00 on the statement yet, but it proves nothing before 2026-12-06T11:00:00.000Z (the bank's day close)";
      expect(uncheckedReasonWords('id', early)).to.equal('belum ada debit sebesar Rp 3.000.000,00 di mutasi, tetapi mutasi baru membuktikan sesuatu setelah tutup hari bank (6 Des 2026 18.00 WIB)');
      expect(uncheckedReasonWords('en', early)).to.equal("no debit of Rp 3.000.000,00 on the statement yet, but the statement proves nothing before the bank's day close (6 Dec 2026 18:00 WIB)");
      expect(uncheckedReasonWords('id', 'the statement proves nothing either way: no statement could be read (The bank could not be reached (BANK_CONNECT_FAILED).)')).to.equal(
        'mutasi tidak membuktikan apa pun: mutasi tidak dapat dibaca (The bank could not be reached (BANK_CONNECT_FAILED).)',
      );
      expect(uncheckedReasonWords('id', "the statement proves nothing either way: 2 debit(s) of 150000.00 without this transfer's reference")).to.equal('mutasi tidak membuktikan apa pun: 2 debit sebesar Rp 150.000,00 tanpa referensi transfer ini');
      expect(uncheckedReasonWords('id', 'the statement proves nothing either way: the bank keeps statements 31 days only')).to.equal('mutasi tidak membuktikan apa pun: bank hanya menyimpan mutasi 31 hari');
      expect(uncheckedReasonWords('id', 'the statement read failed unexpectedly')).to.equal('pembacaan mutasi gagal secara tidak terduga');
      expect(crossCheckWords('id', { result: 'unchecked', reason: early })).to.match(/^Gerbang tidak dapat mencocokkan keputusan ini .* Alasannya: belum ada debit sebesar Rp 3\.000\.000,00/);
    });

    it('shows a reason of another wording as it came, and an inner reason it does not know in its own words', () => {
      expect(uncheckedReasonWords('id', 'something new')).to.equal('something new');
      expect(uncheckedReasonWords('id', "no debit of 1.00 on the statement yet, but it proves nothing before 2026-13-45T99:00:00Z (the bank's day close)")).to.equal("no debit of 1.00 on the statement yet, but it proves nothing before 2026-13-45T99:00:00Z (the bank's day close)");
      expect(uncheckedReasonWords('id', 'the statement proves nothing either way: odd')).to.equal('mutasi tidak membuktikan apa pun: odd');
    });

    it('words the resolve form’s errors naming the field by its label', () => {
      const [id, en] = [translator('id'), translator('en')];
      expect(fieldErrorText(id, { field: 'evidence', message: 'must be the statement line or reference, 4 to 500 characters', rule: 'review-evidence' })).to.equal('Bukti: tulis baris mutasi atau referensinya, 4 sampai 500 karakter.');
      expect(fieldErrorText(en, { field: 'outcome', message: 'must be SUCCESS or FAILED', rule: 'review-outcome' })).to.equal('Outcome: choose Success or Failed.');
      expect(fieldErrorText(id, { field: 'form', message: 'Payment #1 (T) is not in the review queue (state SUCCESS).', rule: 'review-not-in-queue' })).to.match(/^Transfer ini tidak ada lagi di antrean tinjauan/);
    });
  });

  describe('fieldErrorText()', () => {
    const [id, en] = [translator('id'), translator('en')];

    it('names the field by its label and the value typed, in the page’s language', () => {
      const [origin, cidr, prefix] = allowlistProblems(['ftp://erp'], ['bukan-alamat', '10.0.0.0/33']);
      expect(fieldErrorText(id, cidr)).to.equal('Alamat IP/CIDR yang diizinkan: "bukan-alamat" bukan alamat IP atau CIDR (contoh: 203.0.113.10 atau 203.0.113.0/24).');
      expect(fieldErrorText(en, cidr)).to.equal('Allowed IP addresses/CIDRs: "bukan-alamat" is not an IP address or CIDR (for example 203.0.113.10 or 203.0.113.0/24).');
      expect(fieldErrorText(id, prefix)).to.equal('Alamat IP/CIDR yang diizinkan: panjang prefiks "10.0.0.0/33" tidak valid (paling besar /32 untuk IPv4, /128 untuk IPv6).');
      expect(fieldErrorText(id, origin)).to.match(/^Origin yang diizinkan: "ftp:\/\/erp" bukan nama host/);
    });

    it('words a console user’s errors without ever showing the password', () => {
      const problems = checkUserInput({ username: 'a b', password: 'rahasia-ku', role: 'boss' });
      expect(problems.map((p) => fieldErrorText(id, p))).to.deep.equal([
        'Nama pengguna: "a b" tidak valid: 3 sampai 64 huruf, angka, atau . _ @ -.',
        'Peran: "boss" harus salah satu dari viewer, auditor, admin.',
        'Kata sandi paling sedikit 12 karakter.',
      ]);
      expect(problems.map((p) => fieldErrorText(en, p)).join(' ')).not.to.contain('rahasia-ku');
    });

    it('shows an error of a rule it does not know as its message says it', () => {
      expect(fieldErrorText(id, { field: 'form', message: 'Pesan dari perubahan terakhir tidak dapat ditampilkan.' })).to.equal('Pesan dari perubahan terakhir tidak dapat ditampilkan.');
      expect(fieldErrorText(id, { field: 'cidr', message: 'odd', rule: 'toString' })).to.equal('odd');
    });
  });

  describe('fill()', () => {
    it('fills each named place, leaves a place without a value, and takes a value’s $ literally', () => {
      expect(fill('{n} hari, {x}', { n: 3 })).to.equal('3 hari, {x}');
      expect(fill('"{value}"', { value: '$& $1' })).to.equal('"$& $1"');
    });
  });

  describe('formatWhen()', () => {
    it('writes Jakarta time day first with WIB, a dot between hours and minutes in Indonesian', () => {
      const at = Date.parse('2026-11-25T07:03:07Z');
      expect(formatWhen('id', at)).to.equal('25 Nov 2026 14.03 WIB');
      expect(formatWhen('id', at, true)).to.equal('25 Nov 2026 14.03.07 WIB');
      expect(formatWhen('en', Date.parse('2026-12-31T17:30:00Z'))).to.equal('1 Jan 2027 00:30 WIB');
      expect(formatWhen('id', Date.parse('2026-08-17T01:00:00Z'))).to.equal('17 Agu 2026 08.00 WIB');
    });
  });

  describe('parseTypedDay()', () => {
    it('takes dd/mm/yyyy (and the ISO form), and refuses a day that does not exist', () => {
      expect(parseTypedDay('25/11/2026')).to.equal('2026-11-25');
      expect(parseTypedDay('5-1-2026')).to.equal('2026-01-05');
      expect(parseTypedDay('2026-11-25')).to.equal('2026-11-25');
      expect(parseTypedDay('31/02/2026')).to.equal(null);
      expect(parseTypedDay('11/25/2026')).to.equal(null);
      expect(parseTypedDay('tomorrow')).to.equal(null);
    });
  });
});
