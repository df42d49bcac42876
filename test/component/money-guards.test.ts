import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachBackend, type BackendContext } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startHostileBank, type HostileBank } from '../support/hostile-bank.js';

/**
 * The two guarantees that keep money safe around the bank call, seen from outside the gateway:
 * from the bank's side (what the database holds at the moment the bank receives a transfer) and
 * from the ERP's side (what a resend does after a failure past sending). The bank here is a raw
 * HTTP server that looks into the database as it receives each transfer.
 */
forEachBackend('Money guards around the bank call', (db: BackendContext) => {
  let bank: HostileBank;
  let gw: TestGateway;
  let token: string;
  let clientId: string;
  let spoolDir: string;

  /** BCA's intrabank success answer, echoing the TransactionID that was sent. */
  function answerSuccess(body: string, res: ServerResponse): void {
    const sent = JSON.parse(body) as { TransactionID: string; TransactionDate: string; ReferenceID: string };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ TransactionID: sent.TransactionID, TransactionDate: sent.TransactionDate, ReferenceID: sent.ReferenceID, Status: 'Success' }));
  }

  /** A BCA error body with `code`, on HTTP `status`. */
  function answerEsb(res: ServerResponse, status: number, code: string, english: string): void {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ErrorCode: code, ErrorMessage: { Indonesian: english, English: english } }));
  }

  function isTransfer(req: IncomingMessage): boolean {
    return req.method === 'POST' && req.url === '/banking/corporates/transfers';
  }

  /** Answers every transfer with BCA error `code` on HTTP `status`, every other call with an empty 200. */
  const answerTransfersEsb = (status: number, code: string, english: string) => bank.answer((req, res) => (isTransfer(req) ? answerEsb(res, status, code, english) : res.end()));
  /** Answers every transfer with BCA's success, every other call with an empty 200. */
  const acceptTransfers = () => bank.answer((req, res, body) => (isTransfer(req) ? answerSuccess(body, res) : res.end()));
  /** The gateway's answer says in doubt (202 UNKNOWN) under the bank's `code`. */
  const expectInDoubt = (answer: { status: number; text: string; body: Record<string, unknown> }, code: string) => {
    expect(answer.status, answer.text).to.equal(202);
    expect(answer.body).to.include({ status: 'UNKNOWN', bankResponseCode: code });
  };

  const pay = (body: Record<string, unknown>) => gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
  const transfersReceived = () => bank.paths.filter((path) => path === '/banking/corporates/transfers').length;

  /**
   * Pays a new transfer the bank answers with ESB `code` on HTTP `status`: the answer is in doubt,
   * a resend of the transactionId never reaches the bank, the payment waits for the status inquiry.
   */
  async function expectInDoubtNeverResent(status: number, code: string, english: string): Promise<void> {
    const transfer = sampleTransfer();
    const before = transfersReceived();
    answerTransfersEsb(status, code, english);
    expectInDoubt(await pay(transfer), code);
    acceptTransfers();
    const resend = await pay(transfer);
    expect(resend.status, resend.text).to.equal(202);
    expect(transfersReceived() - before, 'the resend did not reach the bank').to.equal(1);
    const payment = await db.store().payments.find(clientId, transfer.transactionId as string);
    expect(payment?.state, 'the payment stays in doubt for the status inquiry').to.equal('UNKNOWN');
  }

  before(async function () {
    this.timeout(30_000);
    bank = await startHostileBank();
    spoolDir = join(mkdtempSync(join(tmpdir(), 'gerbang-money-guards-')), 'spool');
    gw = await TestGateway.start(
      db.url(),
      bank.env({ GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_BANK_BREAKER_FAILURES: '1000', GERBANG_AUDIT_SPOOL_DIR: spoolDir }),
    );
    const client = await gw.createClient();
    clientId = client.clientId;
    token = await gw.token(client);
    // A first payment fetches and caches the bank token, so that the transfers tested below are
    // the first bank call of their exchange (a token call is recorded, and so opens the record).
    acceptTransfers();
    const warmUp = await pay(sampleTransfer());
    if (warmUp.status !== 201) throw new Error(`warm-up payment: ${warmUp.status} ${warmUp.text}`);
  });

  after(async () => {
    await gw?.close();
    await bank?.close();
    if (spoolDir) rmSync(join(spoolDir, '..'), { recursive: true, force: true });
  });

  describe('when the bank receives a transfer', () => {
    it('finds the inbound exchange of that transactionId already committed to the audit', async () => {
      const transfer = sampleTransfer();
      let seenByBank: unknown[] | undefined;
      bank.answer((req, res, body) => {
        if (!isTransfer(req)) return res.end();
        // Read through a connection of its own, as anyone looking at the database would.
        db.store()
          .db.query('SELECT request_id FROM audit_exchanges WHERE transaction_id = ?', [transfer.transactionId as string])
          .then((rows) => {
            seenByBank = rows;
            answerSuccess(body, res);
          })
          .catch((error: Error) => {
            seenByBank = [`query failed: ${error.message}`];
            answerSuccess(body, res);
          });
      });
      const answer = await pay(transfer);
      expect(answer.status, answer.text).to.equal(201);
      expect(seenByBank, 'the audit row of the exchange, as the bank received the transfer').to.have.length(1);
    });
  });

  describe('when a failure happens after the transfer reached the bank', () => {
    it('answers in doubt (never a retryable error), and a resend of the same transactionId is not sent again', async () => {
      const transfer = sampleTransfer();
      const before = transfersReceived();
      const away = 'audit_bank_calls_away';
      const rename = (from: string, to: string) =>
        db.store().db.execute(db.backend === 'sqlite' ? `ALTER TABLE ${from} RENAME TO ${to}` : `RENAME TABLE ${from} TO ${to}`);
      bank.answer((req, res, body) => {
        if (!isTransfer(req)) return res.end();
        // The bank executes the transfer; meanwhile the gateway loses both places its bank legs
        // go to (the table, and the local journal that covers a database outage), so recording
        // the answer fails after the money moved.
        rmSync(spoolDir, { recursive: true, force: true });
        writeFileSync(spoolDir, 'not a folder');
        rename('audit_bank_calls', away).then(
          () => answerSuccess(body, res),
          () => answerSuccess(body, res),
        );
      });
      let first;
      try {
        first = await pay(transfer);
      } finally {
        await rename(away, 'audit_bank_calls').catch(() => undefined);
        rmSync(spoolDir, { force: true });
        mkdirSync(spoolDir, { recursive: true });
      }
      expect(transfersReceived() - before, 'the bank received the transfer once').to.equal(1);
      expect(first.status, first.text).to.equal(202);
      expect(first.body.status).to.equal('UNKNOWN');

      acceptTransfers();
      const resend = await pay(transfer);
      expect(resend.status, resend.text).to.be.oneOf([202, 409]);
      expect(transfersReceived() - before, 'the resend did not reach the bank').to.equal(1);
      const payment = await db.store().payments.find(clientId, transfer.transactionId as string);
      expect(payment?.state, 'the payment stays in doubt for the status inquiry').to.be.oneOf(['UNKNOWN', 'SENDING']);
    });

    it('takes an undocumented ESB-14 code as in doubt, never as a refusal before processing: the resend is not sent again', async () => {
      // ESB-14 holds timeouts too (-006, -007): a code of that family that no document names says
      // nothing about whether the core executed the transfer, which this bank did.
      await expectInDoubtNeverResent(400, 'ESB-14-099', 'Error');
    });
  });

  describe('when the bank answers "refused before processing" with a status it never sends that code with', () => {
    it('answers in doubt for maintenance (ESB-14-005) on HTTP 200, where only its documented 503 frees the transactionId for a resend', async () => {
      await expectInDoubtNeverResent(200, 'ESB-14-005', 'System under maintenance');

      const documented = sampleTransfer();
      const before = transfersReceived();
      answerTransfersEsb(503, 'ESB-14-005', 'System under maintenance');
      const refused = await pay(documented);
      expect(refused.status, refused.text).to.equal(503);
      acceptTransfers();
      const resent = await pay(documented);
      expect(resent.status, resent.text).to.equal(201);
      expect(transfersReceived() - before, 'the documented refusal let the same transactionId be sent again').to.equal(2);
    });

    it('answers in doubt for a token refusal (ESB-14-009) on HTTP 200, without renewing the token and sending again', async () => {
      const transfer = sampleTransfer();
      const before = transfersReceived();
      answerTransfersEsb(200, 'ESB-14-009', 'Unauthorized');
      expectInDoubt(await pay(transfer), 'ESB-14-009');
      expect(transfersReceived() - before, 'sent once, not again under a new token').to.equal(1);
    });
  });

  describe('when the resend after a token refusal (ESB-14-009) is answered "TransactionID must be unique" (ESB-82-003)', () => {
    it('answers in doubt, never FAILED: the bank holds the first send, which the status inquiry resolves', async () => {
      const transfer = sampleTransfer();
      const before = transfersReceived();
      let sends = 0;
      bank.answer((req, res) => {
        if (!isTransfer(req)) return res.end();
        sends += 1;
        if (sends === 1) answerEsb(res, 401, 'ESB-14-009', 'Unauthorized');
        else answerEsb(res, 400, 'ESB-82-003', 'TransactionID must be unique');
      });
      const answer = await pay(transfer);
      expect(transfersReceived() - before, 'sent, then resent once under a new token').to.equal(2);
      expectInDoubt(answer, 'ESB-82-003');
      expect(answer.body.guidance).to.match(/Do NOT pay again/);
      expect((await db.store().payments.find(clientId, transfer.transactionId as string))?.state).to.equal('UNKNOWN');
    });
  });
});
