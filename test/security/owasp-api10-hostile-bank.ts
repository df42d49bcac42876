import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { TRANSFER_PATH } from '../../src/banks/bca-legacy/index.js';
import type { BackendContext } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startHostileBank, type HostileAnswer, type HostileBank } from '../support/hostile-bank.js';

/** Control characters (C0, DEL, C1, U+2028/9) and bidirectional/direction marks: never passed on from a bank. */
const BANK_TEXT_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/;

/** Largest answer the ERP may get back, whatever the bank sent: a problem or a transfer result. */
const MAX_ANSWER_BYTES = 4096;

const json = (status: number, body: unknown, type = 'application/json'): HostileAnswer => (_req, res) => {
  res.writeHead(status, { 'content-type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

/** Echoes the TransactionID the gateway sent, so only the hostile part of the answer is wrong. */
const echo = (build: (sentId: string) => string, status = 200, type = 'application/json'): HostileAnswer => (_req, res, body) => {
  const sentId = (JSON.parse(body) as { TransactionID: string }).TransactionID;
  res.writeHead(status, { 'content-type': type });
  res.end(build(sentId));
};

function streamMiB(res: ServerResponse, mib: number): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let left = mib * 16;
  const pump = () => {
    while (left > 0) {
      left -= 1;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.write('{"TransactionID":"');
  pump();
}

interface Case {
  attack: string;
  answer: HostileAnswer;
  /** The transfer status the ERP must get. */
  status: 'UNKNOWN' | 'FAILED';
  httpStatus: number;
  bankResponseCode?: string | null;
  /** The message as the ERP, the audit and the console must see it. */
  bankMessage?: string;
}

/**
 * API10:2023 Unsafe consumption of APIs: the bank is a third-party API whose answers are
 * untrusted input. A broken, oversized, slow or malicious answer must not crash the gateway,
 * must not turn into SUCCESS, must leave a complete audit row and a bounded answer to the ERP.
 */
export function unsafeConsumptionSuite(db: BackendContext): void {
  describe('API10:2023 Unsafe consumption of APIs (hostile bank answers)', function () {
    this.timeout(60_000);
    let bank: HostileBank;
    let gw: TestGateway;
    let token: string;
    let clientId: string;

    before(async () => {
      bank = await startHostileBank();
      gw = await TestGateway.start(
        db.url(),
        bank.env({ GERBANG_BANK_HEADERS_TIMEOUT_MS: '1500', GERBANG_BANK_BODY_TIMEOUT_MS: '1500', GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_BANK_BREAKER_FAILURES: '1000' }),
      );
      const client = await gw.createClient();
      clientId = client.clientId;
      token = await gw.token(client);
    });
    after(async () => {
      await gw?.close();
      await bank?.close();
    });

    // First, while no bank token is cached yet.
    it('a token answer that is an HTML page: the transfer is not sent, 503, audited', async () => {
      bank.answerToken(json(200, '<html>login</html>', 'text/html'));
      try {
        const sent = bank.paths.filter((p) => p === TRANSFER_PATH).length;
        const { body, res } = await payAgainst(json(200, { TransactionID: 'x', Status: 'Success' }));
        expect(res.status, res.text).to.equal(503);
        expect(res.body.code).to.equal('BANK_UNAVAILABLE');
        expect(bank.paths.filter((p) => p === TRANSFER_PATH).length, 'nothing sent').to.equal(sent);
        expect(await gw.store.payments.find(clientId, body.transactionId as string), 'released: the ERP may retry').to.equal(null);
        const row = await eventually(async () => (await gw.store.audit.list({ requestId: res.headers['x-request-id'] }))[0]);
        expect(row.errorCode).to.equal('BANK_UNAVAILABLE');
        expect(row.bankCalls.map((c) => c.operation)).to.include('token');
      } finally {
        bank.answerToken(null);
      }
    });

    const cases: Case[] = [
      { attack: 'plain text instead of JSON with 200 OK', answer: json(200, 'OK, paid', 'text/plain'), status: 'UNKNOWN', httpStatus: 202 },
      { attack: 'invalid JSON declared as application/json', answer: json(200, '{"TransactionID": "0000001", "Status": "Succ'), status: 'UNKNOWN', httpStatus: 202 },
      { attack: 'an HTML error page of a proxy (wrong content type, 502)', answer: json(502, '<html><body><h1>502 Bad Gateway</h1></body></html>', 'text/html'), status: 'UNKNOWN', httpStatus: 202, bankResponseCode: 'HTTP-502' },
      { attack: 'a valid JSON success for another TransactionID', answer: json(200, { TransactionID: '99999999', Status: 'Success', ReferenceID: 'x' }), status: 'UNKNOWN', httpStatus: 202 },
      {
        attack: 'Status: Success smuggled through __proto__ (prototype pollution)',
        answer: echo((id) => `{"TransactionID":"${id}","__proto__":{"Status":"Success"},"constructor":{"prototype":{"Status":"Success"}}}`),
        status: 'UNKNOWN',
        httpStatus: 202,
      },
      { attack: 'JSON nested 100 000 levels deep', answer: json(200, `${'['.repeat(100_000)}${']'.repeat(100_000)}`), status: 'UNKNOWN', httpStatus: 202 },
      { attack: 'a 1 MB ErrorMessage (beyond any real ESB message)', answer: json(400, { ErrorCode: 'ESB-82-019', ErrorMessage: { English: 'x'.repeat(1_000_000) } }), status: 'UNKNOWN', httpStatus: 202, bankResponseCode: 'HTTP-400' },
      {
        attack: 'an ESB error whose message carries markup, quotes and control characters',
        answer: json(400, { ErrorCode: 'ESB-82-019', ErrorMessage: { English: '<script>alert(1)</script>"\u0000\r\nX-Injected: 1', Indonesian: '' } }),
        status: 'FAILED',
        httpStatus: 422,
        bankResponseCode: 'ESB-82-019',
      },
      {
        attack: 'an ESB error whose message hides its text behind right-to-left overrides and direction marks',
        answer: json(400, { ErrorCode: 'ESB-82-019', ErrorMessage: { English: 'Refused REF-\u202e9876\u202c-\u2066\u200f\u061cOK\u2069 \u2028done', Indonesian: '' } }),
        status: 'FAILED',
        httpStatus: 422,
        bankResponseCode: 'ESB-82-019',
        bankMessage: 'Refused REF-9876-OK  done',
      },
      { attack: 'an ErrorCode outside the ESB alphabet (SQL in it)', answer: json(400, { ErrorCode: "ESB'; DROP TABLE audit_exchanges;--", ErrorMessage: {} }), status: 'UNKNOWN', httpStatus: 202, bankResponseCode: 'HTTP-400' },
      { attack: 'invalid UTF-8 and NUL bytes in a success-looking body', answer: (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x7d])); }, status: 'UNKNOWN', httpStatus: 202 },
      { attack: 'a 5 MiB streamed body without Content-Length', answer: (_req, res) => streamMiB(res, 5), status: 'UNKNOWN', httpStatus: 202, bankResponseCode: 'BANK_RESPONSE_TOO_LARGE' },
      {
        attack: 'a declared Content-Length of 100 MB',
        answer: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) });
          res.write('{');
        },
        status: 'UNKNOWN',
        httpStatus: 202,
        bankResponseCode: 'BANK_RESPONSE_TOO_LARGE',
      },
      {
        attack: '40 KB of response headers',
        answer: (_req, res) => {
          for (let i = 0; i < 40; i += 1) res.setHeader(`x-junk-${i}`, 'j'.repeat(1000));
          res.end('{}');
        },
        status: 'UNKNOWN',
        httpStatus: 202,
      },
      {
        attack: 'the connection dropped half-way through the body',
        answer: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
          res.write('{"TransactionID":"0');
          setTimeout(() => res.socket?.destroy(), 50);
        },
        status: 'UNKNOWN',
        httpStatus: 202,
        bankResponseCode: 'BANK_CONNECTION_RESET',
      },
    ];

    async function payAgainst(answer: HostileAnswer) {
      bank.answer(answer);
      const body = sampleTransfer();
      const res = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
      return { body, res };
    }

    /** The audit row is complete: the inbound exchange, its answer, and the bank leg with what the bank did. */
    async function expectAudited(requestId: string, statusCode: number) {
      const row = await eventually(async () => {
        const [found] = await gw.store.audit.list({ requestId });
        return found?.completedAt ? found : null;
      });
      expect(row.statusCode).to.equal(statusCode);
      const leg = row.bankCalls.find((c) => c.operation === 'transfer-intrabank');
      expect(leg, 'the bank leg is audited').to.exist;
      return { row, leg: leg! };
    }

    for (const c of cases) {
      it(`${c.attack}: ${c.status}, audited, bounded answer, gateway still up`, async () => {
        const { body, res } = await payAgainst(c.answer);
        expect(res.status, res.text.slice(0, 500)).to.equal(c.httpStatus);
        expect(res.body.status).to.equal(c.status);
        if (c.bankResponseCode !== undefined) expect(res.body.bankResponseCode).to.equal(c.bankResponseCode);
        expect(Buffer.byteLength(res.text), 'answer size').to.be.below(MAX_ANSWER_BYTES);
        expect(res.text, 'no stack trace').to.not.match(/\bat [A-Za-z.<>]+ \([^)]*:\d+:\d+\)|node:internal|\.js:\d+/);
        expect(res.headers['content-type']).to.match(/^application\/(problem\+)?json/);
        expect(res.headers['x-content-type-options']).to.equal('nosniff');
        expect(String(res.body.bankMessage ?? ''), 'no control or direction characters passed on').to.not.match(BANK_TEXT_FORBIDDEN);
        if (c.bankMessage !== undefined) expect(res.body.bankMessage).to.equal(c.bankMessage);
        const payment = await gw.store.payments.find(clientId, body.transactionId as string);
        expect(payment!.state).to.equal(c.status);
        expect(JSON.stringify(payment), 'nothing stored with control or direction characters').to.not.match(BANK_TEXT_FORBIDDEN);
        const { leg } = await expectAudited(res.headers['x-request-id'], c.httpStatus);
        expect((leg.responseBody ?? '').length, 'stored bank answer is bounded').to.be.at.most(1024 * 1024);
        expect(({} as Record<string, unknown>).Status, 'Object.prototype untouched').to.equal(undefined);
        expect((await gw.request('/healthz')).status).to.equal(200);
      });
    }

    /** Every string inside `value` (keys and values), for a check no JSON escaping can hide. */
    const strings = (value: unknown): string[] =>
      typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]) : [];

    it('a SUCCESS whose references carry control and bidirectional characters: paid, stored and answered without them', async () => {
      const hostile = (label: string) => `${label}-\u202e9876\u202c\u0007X\u2066\u001b[0m`;
      // Intrabank: the ReferenceID beside the TransactionID echoed.
      const intrabank = await payAgainst(echo((id) => JSON.stringify({ TransactionID: id, TransactionDate: '2026-12-06', ReferenceID: hostile('REF'), Status: 'Success' })));
      expect(intrabank.res.status, intrabank.res.text).to.equal(201);
      // Online switching: the PPU number is the bank's reference of the transfer.
      bank.answer((_req, res, sent) => {
        const id = (JSON.parse(sent) as { transaction_id: string }).transaction_id;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ transaction_id: id, transaction_date: '2026-12-06', ppu_number: hostile('PPU') }));
      });
      const domestic = sampleTransfer({ beneficiaryBankCode: 'BRINIDJA', beneficiaryAccountNumber: '002000000009999', beneficiaryName: 'CV BRI VENDOR', transferMethod: 'ONLINE', amount: '1500.00' });
      const online = await gw.request('/v1/transfers', { json: domestic, headers: { authorization: `Bearer ${token}` } });
      expect(online.status, online.text).to.equal(201);
      expect(online.body).to.include({ status: 'SUCCESS', bankReference: 'PPU-9876 X [0m' });
      for (const [body, res] of [[intrabank.body, intrabank.res], [domestic, online]] as const) {
        expect(res.body.status).to.equal('SUCCESS');
        expect(strings(res.body).filter((t) => BANK_TEXT_FORBIDDEN.test(t)), 'answered').to.deep.equal([]);
        const payment = await gw.store.payments.find(clientId, body.transactionId as string);
        expect(strings(payment).filter((t) => BANK_TEXT_FORBIDDEN.test(t)), 'stored').to.deep.equal([]);
        expect((await gw.request(`/v1/transfers/${body.transactionId as string}`, { headers: { authorization: `Bearer ${token}` } })).body.bankReference).to.equal(res.body.bankReference);
      }
      const [row] = await gw.store.db.query<{ bank_reference: string }>('SELECT bank_reference FROM payments WHERE transaction_id = ?', [domestic.transactionId as string]);
      expect(row.bank_reference).to.equal('PPU-9876 X [0m');
    });

    it('a bank that drips its answer byte by byte is cut off at the deadline: UNKNOWN, audited, while the drip goes on', async () => {
      let dripping = true;
      const { body, res } = await payAgainst((_req, out) => {
        out.writeHead(200, { 'content-type': 'application/json' });
        let sent = 0;
        const timer = setInterval(() => {
          // 1 byte every 200 ms: never idle long enough for an idle timeout, never finished for 40 s.
          // The gateway cutting the connection at its deadline stops the drip but does not finish it:
          // only a drip that reached its end means the gateway waited for the whole answer.
          if (out.destroyed || sent >= 200) {
            clearInterval(timer);
            if (sent >= 200) dripping = false;
            out.end();
            return;
          }
          sent += 1;
          out.write(' ');
        }, 200);
      });
      expect(dripping, 'the gateway answered before the bank finished dripping').to.equal(true);
      expect(res.status, res.text).to.equal(202);
      expect(res.body).to.include({ status: 'UNKNOWN', bankResponseCode: 'BANK_TIMEOUT' });
      const payment = await gw.store.payments.find(clientId, body.transactionId as string);
      expect(payment!.state).to.equal('UNKNOWN');
      const { leg } = await expectAudited(res.headers['x-request-id'], 202);
      expect(leg.errorCode).to.equal('BANK_TIMEOUT');
    });

  });
}
