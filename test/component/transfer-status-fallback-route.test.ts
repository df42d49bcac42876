import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startHostileBank, type HostileBank } from '../support/hostile-bank.js';
import { snapCredentials, snapPartnerBlock } from '../support/snap-bank.js';
import { writePartnersFile } from '../support/test-bank.js';

/**
 * A SNAP bank (BCA profile) refuses a BI-FAST transfer as "not permitted" (4031815): Gerbang
 * sends it again by online switching at the same partner, under a new bank id, on the same
 * payment row. The bank logs the refusal, so its status inquiry reports the BI-FAST id failed
 * (06). A status read meanwhile (the ERP's GET, or the resolver) asks about the BI-FAST id: the
 * bank's word about it must never be stored on the row once the row holds the online id, which
 * the bank executes. The test holds each leg of the bank and releases it when it says.
 */
interface Gate {
  arrived: Promise<string>;
  release: () => void;
  arrive: (what: string) => Promise<void>;
}

/** A leg of the bank held until the test releases it; `arrived` tells what came in. */
function gate(): Gate {
  let arrive!: (what: string) => void;
  let release!: () => void;
  const arrived = new Promise<string>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return { arrived, release, arrive: async (what) => { arrive(what); await released; } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

/** One bank call at most 3.2 s (connect + headers + body below); a send through one route at most four of them. */
const ONE_CALL_MS = 3_200;
/** How far the gateway's clock is stepped to make a live send look interrupted: past four calls. */
const STALLED_MS = 4 * ONE_CALL_MS + 2_000;

forEachBackend('GET /v1/transfers/{id} and the resolver while the fallback route is sent', (db) => {
  let bank: HostileBank;
  let gw: TestGateway;
  let auth: Record<string, string>;
  /** Added to the gateway's clock: a sending request stalled that long (a paused VM, a slow commit). Only ever grows. */
  let stepMs = 0;
  /** Legs held until released; `unauthorized`: the next BI-FAST transfer, answered "invalid token" (401xx01) once released. */
  let held: { unauthorized?: Gate; bifast?: Gate; online?: Gate; status?: Gate };
  let executed: string[];
  let refused: Set<string>;
  let asked: string[];
  /** The bank's latestTransactionStatus for an id (null: not found). */
  let statusOf: (id: string) => string | null;

  before(async () => {
    bank = await startHostileBank();
    bank.answer(async (req, res, text) => {
      const body = text ? JSON.parse(text) : {};
      if (req.url === '/openapi/v1.0/access-token/b2b') {
        return json(res, 200, { responseCode: '2007300', responseMessage: 'Successful', accessToken: randomBytes(16).toString('hex'), tokenType: 'Bearer', expiresIn: '61' });
      }
      if (req.url === '/openapi/v2.0/transfer-interbank') {
        const id = body.partnerReferenceNo as string;
        if (body.additionalInfo?.transferType === '2') {
          const unauthorized = held.unauthorized;
          held.unauthorized = undefined;
          if (unauthorized) {
            await unauthorized.arrive(id);
            return json(res, 401, { responseCode: '4011801', responseMessage: 'Unauthorized. Invalid Token (B2B)' });
          }
          // Refused and logged at once; the answer comes when the test releases it.
          refused.add(id);
          await held.bifast?.arrive(id);
          return json(res, 403, { responseCode: '4031815', responseMessage: 'Transaction Not Permitted' });
        }
        await held.online?.arrive(id);
        executed.push(id);
        return json(res, 200, { responseCode: '2001800', responseMessage: 'Successful', referenceNo: `R${id}`, partnerReferenceNo: id });
      }
      if (req.url === '/openapi/v1.0/transfer/status') {
        const id = body.originalPartnerReferenceNo as string;
        asked.push(id);
        await held.status?.arrive(id);
        const status = statusOf(id);
        if (status === null) return json(res, 404, { responseCode: '4043601', responseMessage: 'Transaction Not Found' });
        return json(res, 200, { responseCode: '2003600', responseMessage: 'Successful', originalPartnerReferenceNo: id, latestTransactionStatus: status, transactionStatusDesc: status });
      }
      json(res, 404, { responseCode: '4040000', responseMessage: 'not here' });
    });
    const file = writePartnersFile([snapPartnerBlock('bca-snap', '014', 1, bank.url, snapCredentials(), { accounts: ['0201558001'] })]);
    gw = await TestGateway.start(
      db.url(),
      {
        GERBANG_BANK_PARTNERS_FILE: file,
        GERBANG_RESOLVER_INTERVAL_MS: '0',
        GERBANG_BANK_CONNECT_TIMEOUT_MS: '100',
        GERBANG_BANK_HEADERS_TIMEOUT_MS: '3000',
        GERBANG_BANK_BODY_TIMEOUT_MS: '100',
      },
      { clock: () => Date.now() + stepMs },
    );
    auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
  });
  after(async () => {
    await gw?.close();
    await bank?.close();
  });
  beforeEach(() => {
    held = {};
    executed = [];
    refused = new Set();
    asked = [];
    statusOf = (id) => (refused.has(id) ? '06' : executed.includes(id) ? '00' : null);
  });
  // A test that failed half-way leaves no leg of the bank held for the next.
  afterEach(() => Object.values(held).forEach((leg) => leg?.release()));

  /** POSTs a new transfer to another bank's account with the bank's `legs` held: the POST's answer, and the gates to release them. */
  const postHolding = <L extends keyof typeof held>(...legs: L[]) => {
    const gates = {} as Record<L, Gate>;
    for (const leg of legs) held[leg] = gates[leg] = gate();
    const body = sampleTransfer({ sourceAccountNumber: '0201558001', beneficiaryBankCode: '542', beneficiaryAccountNumber: '100200300400', beneficiaryName: 'CV JAGO VENDOR', amount: '1500.00' });
    return { body, txId: body.transactionId as string, post: gw.request('/v1/transfers', { json: body, headers: auth }), gates };
  };
  /** The payment's state and bank id as stored, and the checks the resolver recorded on it. */
  const stored = async (transactionId: string) => {
    const [row] = await gw.store.db.query<{ state: string; bank_transaction_id: string; check_attempts: number | string }>(
      'SELECT state, bank_transaction_id, check_attempts FROM payments WHERE transaction_id = ?',
      [transactionId],
    );
    return row && { state: row.state, bankTransactionId: row.bank_transaction_id, checks: Number(row.check_attempts) };
  };

  /**
   * Sends a transfer whose BI-FAST leg the bank refuses, with `read` (a GET, a resolver pass) asking
   * about the BI-FAST id once the sender stalled past the stale time; the bank's answer to it
   * arrives after the sender moved the row to the online id and sent it (held at the bank).
   */
  const readRacingTheFallback = async <T>(read: (transactionId: string) => Promise<T>) => {
    const { txId, post, gates } = postHolding('bifast', 'online', 'status');
    const bifastId = await gates.bifast.arrived;
    expect(await stored(txId)).to.deep.include({ state: 'SENDING', bankTransactionId: bifastId });

    stepMs += STALLED_MS;
    const reading = read(txId);
    expect(await gates.status.arrived).to.equal(bifastId);
    // The bank's refusal reaches the sender, which moves the row to the online id and sends it.
    gates.bifast.release();
    const onlineId = await gates.online.arrived;
    expect(await stored(txId)).to.deep.include({ state: 'SENDING', bankTransactionId: onlineId });
    gates.status.release();
    const answer = await reading;
    /** The bank executes the online transfer: the POST answers SUCCESS and the row keeps it. */
    const executeOnline = async () => {
      gates.online.release();
      const posted = await post;
      expect([posted.status, posted.body.status], posted.text).to.deep.equal([201, 'SUCCESS']);
      expect(executed).to.deep.equal([onlineId]);
      expect(await stored(txId)).to.deep.include({ state: 'SUCCESS', bankTransactionId: onlineId });
    };
    return { txId, onlineId, answer, executeOnline };
  };

  for (const reader of ['GET', 'resolver'] as const) {
    describe(`when the ${reader} asked about the refused BI-FAST id before the online id was sent, and the bank answers "failed" after`, () => {
      it('stores nothing of it: the transfer the online route executed is SUCCESS, in the row, the POST and every later read', async function () {
        this.timeout(20_000);
        const poll = (txId: string) => gw.request(`/v1/transfers/${txId}`, { headers: auth }).then((answer) => answer.body.status as string);
        const { txId, onlineId, answer, executeOnline } = await readRacingTheFallback<unknown>((txId) => (reader === 'GET' ? poll(txId) : gw.gateway.resolver.runOnce()));
        // The ERP polling is told what the row holds now: being sent, never FAILED; the resolver counts nothing settled.
        if (reader === 'GET') expect(answer).to.equal('PENDING');
        else expect(answer).to.deep.include({ settled: 0 });
        expect(await stored(txId)).to.deep.include({ state: 'SENDING', bankTransactionId: onlineId });
        await executeOnline();
        expect(await poll(txId)).to.equal('SUCCESS');
      });
    });
  }

  describe('when a status read settled the BI-FAST id FAILED before the sender turned to the online route', () => {
    it('sends nothing more: 409 to the POST, nothing executed, and the ERP is told FAILED from then on', async function () {
      this.timeout(20_000);
      const { body, txId, post, gates } = postHolding('bifast');
      const bifastId = await gates.bifast.arrived;

      stepMs += STALLED_MS;
      const polled = await gw.request(`/v1/transfers/${txId}`, { headers: auth });
      expect(polled.body.status).to.equal('FAILED');
      expect(await stored(txId)).to.deep.include({ state: 'FAILED', bankTransactionId: bifastId });

      // The refusal reaches the sender: the row is no longer what it wrote, so it stops.
      gates.bifast.release();
      const posted = await post;
      expect([posted.status, posted.body.code], posted.text).to.deep.equal([409, 'IDEMPOTENCY_IN_FLIGHT']);
      expect(executed).to.deep.equal([]);
      expect(await stored(txId)).to.deep.include({ state: 'FAILED', bankTransactionId: bifastId });
      const resent = await gw.request('/v1/transfers', { json: body, headers: auth });
      expect([resent.status, resent.body.status]).to.deep.equal([422, 'FAILED']);
      expect(executed).to.deep.equal([]);
    });
  });

  describe('when the resolver asked about the BI-FAST id and the bank answers "pending" after the row moved to the online id', () => {
    it('records no check on the row: it stays SENDING under the online id, unchecked, until its outcome is stored', async function () {
      this.timeout(20_000);
      statusOf = () => '03';
      const { txId, onlineId, executeOnline } = await readRacingTheFallback(() => gw.gateway.resolver.runOnce());
      expect(await stored(txId)).to.deep.equal({ state: 'SENDING', bankTransactionId: onlineId, checks: 0 });
      await executeOnline();
    });
  });

  describe('when a live send takes longer than one bank call (refused for its token, sent again with a renewed one) but less than a whole send', () => {
    it('is not taken for interrupted: the GET answers PENDING without asking the bank, and the transfer is SUCCESS', async function () {
      this.timeout(20_000);
      const { txId, post, gates } = postHolding('unauthorized', 'bifast');

      // Each leg under the headers timeout, both together past one call's 3.2 s.
      await gates.unauthorized.arrived;
      await sleep(1_700);
      gates.unauthorized.release();
      await gates.bifast.arrived;
      await sleep(1_800);
      const polled = await gw.request(`/v1/transfers/${txId}`, { headers: auth });
      expect({ status: polled.body.status, asked }).to.deep.equal({ status: 'PENDING', asked: [] });

      gates.bifast.release();
      const posted = await post;
      expect([posted.status, posted.body.status], posted.text).to.deep.equal([201, 'SUCCESS']);
      expect(await stored(txId)).to.deep.include({ state: 'SUCCESS', bankTransactionId: executed[0] });
    });
  });
});
