import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startHostileBank, type HostileBank } from '../support/hostile-bank.js';
import { snapCredentials, snapPartnerBlock } from '../support/snap-bank.js';
import { writePartnersFile } from '../support/test-bank.js';

/** A line of SNAP's bank statement (14) as the bank writes it. */
interface StatementRow {
  amount: { value: string; currency: string };
  transactionDate: string;
  remark?: string;
  type: string;
}

const DAY_MS = 86_400_000;

/**
 * What the in-doubt resolver takes from a paying account's statement when the bank writes it its
 * own way (bank-apis.md §2, §3). The bank, a raw HTTP server speaking SNAP, executes every
 * transfer and then times out (504, in doubt); its status inquiry answers "not found", which alone
 * never means "not executed". Whatever the statement says is then all the resolver has, read after
 * the bank's day closed (the gateway's clock moved on by hand).
 */
forEachBackend('In-doubt resolver, reading the statement a SNAP bank writes', (db) => {
  const account = '0201559001';
  let bank: HostileBank;
  let gw: TestGateway;
  let auth: Record<string, string>;
  let offset = 0;
  /** The lines the bank answers for a statement starting on `day` (yyyy-MM-dd, Jakarta). */
  let statement: (day: string) => StatementRow[] = () => [];

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };

  before(async function () {
    this.timeout(30_000);
    bank = await startHostileBank();
    bank.answer((req, res, text) => {
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      if (req.url === '/openapi/v1.0/access-token/b2b') {
        return send(res, 200, { responseCode: '2007300', responseMessage: 'Successful', accessToken: randomBytes(16).toString('hex'), tokenType: 'Bearer', expiresIn: '900' });
      }
      // Executed, then the bank's gateway timed out.
      if (req.url === '/openapi/v1.0/transfer-intrabank') return send(res, 504, { responseCode: '5041700', responseMessage: 'Timeout' });
      if (req.url === '/openapi/v1.0/transfer/status') return send(res, 404, { responseCode: '4043601', responseMessage: 'Transaction Not Found' });
      if (req.url === '/openapi/v1.0/bank-statement') {
        return send(res, 200, { responseCode: '2001400', responseMessage: 'Successful', detailData: statement(String(body.fromDateTime).slice(0, 10)) });
      }
      send(res, 404, { responseCode: '4040000', responseMessage: 'not here' });
    });
    const file = writePartnersFile([snapPartnerBlock('bca-snap', '014', 1, bank.url, snapCredentials(), { accounts: [account] })]);
    gw = await TestGateway.start(db.url(), { GERBANG_BANK_PARTNERS_FILE: file, GERBANG_RESOLVER_INTERVAL_MS: '0' }, { clock: () => Date.now() + offset });
    auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
  });
  after(async () => {
    await gw?.close();
    await bank?.close();
  });

  /** A transfer of `amount` from the account at this bank. */
  const transferOf = (amount: string) => sampleTransfer({ sourceAccountNumber: account, beneficiaryAccountNumber: '0201559002', amount });

  /** Pays `body` (the bank answers in doubt), lets two days pass and runs the resolver: the payment as then stored. */
  async function payAndResolveAfterDayClose(body: Record<string, unknown>) {
    const posted = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(posted.status, posted.text).to.equal(202);
    const clientId = (await gw.store.db.query<{ client_id: string }>('SELECT client_id FROM payments WHERE transaction_id = ?', [body.transactionId as string]))[0].client_id;
    offset += 2 * DAY_MS;
    await gw.gateway.resolver.runOnce();
    const payment = (await gw.store.payments.find(clientId, body.transactionId as string))!;
    const checks = (await gw.store.audit.list({ transactionId: body.transactionId as string })).filter((r) => r.method === 'RESOLVE');
    return { payment, lastCheck: JSON.parse(checks.at(-1)?.responseBody ?? '{}') as Record<string, unknown> };
  }

  /** `count` debits of other, small amounts on `day`, written short: 9000 of them stay under the 1 MiB the gateway reads of an answer. */
  const otherDebits = (day: string, count: number): StatementRow[] =>
    Array.from({ length: count }, (_, i) => ({ amount: { value: `${(i % 9) + 1}.00`, currency: 'IDR' }, transactionDate: `${day}T08:00:00+07:00`, type: 'DEBIT' }));

  describe('when the statement holds exactly the 9000 lines the bank gives at most, none of them the debit', () => {
    it('keeps the payment in doubt (the debit may be past the cut), never FAILED', async function () {
      this.timeout(20_000);
      statement = (day) => otherDebits(day, 9000);
      const { payment, lastCheck } = await payAndResolveAfterDayClose(transferOf('777777.00'));
      expect(payment.state, 'a statement cut at the bank\'s row cap proves nothing').to.equal('UNKNOWN');
      expect(lastCheck.unresolved).to.match(/9000 lines.*cut short/);
    });
  });

  describe('when the statement holds one line fewer than the cap, none of them the debit', () => {
    it('settles FAILED, confirmed by the statement: it is complete', async function () {
      this.timeout(20_000);
      statement = (day) => otherDebits(day, 8999);
      const { payment } = await payAndResolveAfterDayClose(transferOf('777778.00'));
      expect(payment.state).to.equal('FAILED');
      expect(JSON.parse(payment.resultJson!)).to.include({ failureConfirmedBy: 'STATEMENT' });
    });
  });

  describe('when the statement\'s lines, written in full as the bank writes them, take more than 1 MiB (5000 lines), the debit among the last', () => {
    it('reads the whole answer and settles SUCCESS (a statement is not cut at the 1 MiB any other answer is)', async function () {
      this.timeout(30_000);
      const transfer = transferOf('777780.00');
      // A line with what SNAP's statement (14) gives beside the four fields read: balances, the origin amount, ids, a status.
      const full = (row: StatementRow, i: number) => ({
        detailBalance: { startAmount: [{ amount: { value: '150000000.00', currency: 'IDR' } }], endAmount: [{ amount: { value: '149999000.00', currency: 'IDR' } }] },
        originAmount: row.amount,
        transactionId: `2026120700${String(i).padStart(8, '0')}`,
        transactionDetailStatus: 'SUCCESS',
        detailInfo: { channel: 'KBB', branchCode: '0938', trailer: `0712/FTSCY/WS95051 ${row.amount.value} PT SUMBER MAKMUR SENTOSA ABADI JAYA` },
        remark: row.remark ?? `TRSF E-BANKING DB 0712/FTSCY/WS95051 PEMBAYARAN INV-${i}`,
        ...row,
      });
      statement = (day) => [
        ...otherDebits(day, 4999),
        { amount: { value: '777780.00', currency: 'IDR' }, transactionDate: `${day}T09:00:00+07:00`, remark: `TRF ${transfer.transactionId as string}`, type: 'DEBIT' },
      ].map(full);
      expect(Buffer.byteLength(JSON.stringify(statement('2026-12-07'))), 'more than the 1 MiB of any other answer').to.be.above(1024 * 1024);
      const { payment } = await payAndResolveAfterDayClose(transfer);
      expect(payment.state).to.equal('SUCCESS');
    });
  });

  describe('when the bank writes the debit\'s time in UTC, on the UTC day before the transfer\'s Jakarta day', () => {
    it('finds the debit on its Jakarta day and settles SUCCESS, never FAILED', async function () {
      this.timeout(20_000);
      const transfer = transferOf('777779.00');
      // 00:30 in Jakarta on the statement's first day is 17:30 UTC the day before.
      statement = (day) => [
        {
          amount: { value: '777779.00', currency: 'IDR' },
          transactionDate: `${new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10)}T17:30:00Z`,
          remark: `TRF ${transfer.transactionId as string}`,
          type: 'DEBIT',
        },
      ];
      const { payment } = await payAndResolveAfterDayClose(transfer);
      expect(payment.state).to.equal('SUCCESS');
    });
  });
});
