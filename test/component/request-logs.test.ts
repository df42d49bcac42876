import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createMariaDbBehindProxy, createSqliteDatabase } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { captureLogs } from '../support/log-capture.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

type Line = Record<string, unknown>;

/** One request of a wave: its id, and what it sends. */
interface Sent {
  requestId: string;
  method: 'GET' | 'POST';
  path: string;
  body?: Record<string, unknown>;
  transactionId?: string;
  traceparent?: string;
}

for (const backend of ['sqlite', 'mariadb'] as const) {
  describe(`Request logs [${backend}]`, () => {
    let gw: TestGateway;
    let logs: ReturnType<typeof captureLogs>;
    let database: { url: string; drop: () => Promise<void>; proxy?: TcpProxy };
    let token: string;

    before(async function () {
      logs = captureLogs('trace');
      database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbBehindProxy(this);
      // No background work of the gateway's own while the requests run: every line is theirs.
      gw = await TestGateway.start(database.url, { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_AUDIT_SCRUB_MS: '0' });
      token = await gw.token(await gw.createClient());
      // The gateway holds a bank token from here on (expired below, so the adapter renews it).
      const warm = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
      expect(warm.status).to.equal(201);
    });
    after(async () => {
      logs?.stop();
      await gw?.close();
      await database?.drop();
    });

    /** Sends the wave at once and returns every line written until each request's access line is out. */
    async function wave(requests: Sent[]): Promise<Line[]> {
      const firstLine = logs.lines.length;
      const answers = await Promise.all(
        requests.map(({ requestId, method, path, body, traceparent }) =>
          gw.request(path, {
            method,
            json: body,
            headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId, ...(traceparent ? { traceparent } : {}) },
          }),
        ),
      );
      answers.forEach((answer, i) => expect(answer.headers['x-request-id']).to.equal(requests[i].requestId));
      const parsed = () => logs.lines.slice(firstLine).map((line) => JSON.parse(line) as Line);
      // The access line is written when the answer is done, just after the client has it.
      await eventually(async () => requests.every(({ requestId }) => parsed().some((line) => line.component === 'access' && line.requestId === requestId)));
      return parsed();
    }

    /**
     * Every line carries the id of one of `requests`, and a line naming a transfer carries the id of
     * a request about it. A database connection's own error (its socket closed) belongs to no
     * request, whichever opened the connection: it carries none; so does a background pass's (its
     * timer may fire while the database is cut for the wave).
     */
    function expectEachLineOwned(lines: Line[], requests: Sent[]): void {
      const ids = new Set(requests.map((sent) => sent.requestId));
      for (const line of lines) {
        if ((line.component === 'store' && /^database (session|connection) error/.test(String(line.msg))) || (line.component === 'background' && line.msg === 'background pass failed')) {
          expect(line.requestId, `a line of no request with a request id: ${JSON.stringify(line)}`).to.equal(undefined);
          continue;
        }
        expect(ids.has(String(line.requestId)), `a line without one of the wave's request ids: ${JSON.stringify(line)}`).to.equal(true);
        const about = requests.filter((sent) => sent.transactionId !== undefined && JSON.stringify(line).includes(sent.transactionId));
        if (about.length > 0) expect(about.map((sent) => sent.requestId), JSON.stringify(line)).to.include(line.requestId);
      }
    }

    function linesOf(lines: Line[], sent: Sent): Line[] {
      return lines.filter((line) => line.requestId === sent.requestId);
    }

    function transfer(remark: string, traceparent?: string): Sent {
      const body = sampleTransfer({ remark });
      return { requestId: `req-${randomBytes(8).toString('hex')}`, method: 'POST', path: '/v1/transfers', body, transactionId: String(body.transactionId), traceparent };
    }

    describe('when several transfers run at the same time', () => {
      it('writes JSON lines that each carry the id of the request they belong to, never another one: pipeline, use case, bank adapter and error handler lines', async () => {
        // Mixed outcomes so more code paths log: success (one with a W3C trace), a bank refusal, a
        // bank reset and a bank 503 (both in doubt). The bank's tokens are expired first, so the adapter of
        // every transfer is refused its token and renews it (a bank adapter line per request).
        const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
        const [traced, reset] = [transfer('Invoice a', traceparent), transfer('SIM RESET')];
        const first = [traced, transfer('SIM ESB-82-019'), reset, transfer('Invoice b'), transfer('SIM HTTP-503')];
        gw.simulator.expireTokens();
        const lines = await wave(first);
        expectEachLineOwned(lines, first);

        for (const sent of first) {
          const mine = linesOf(lines, sent);
          expect(mine.map((line) => line.msg), sent.requestId).to.include.members(['request', 'transfer routed', 'bank call']);
        }
        expect(lines.filter((line) => line.component === 'banks').map((line) => line.requestId), 'token renewals').to.not.be.empty;
        expect(linesOf(lines, reset).map((line) => line.bankResponseCode), 'the bank call cut off').to.include('BANK_CONNECTION_RESET');
        for (const line of linesOf(lines, traced)) {
          expect(line.traceId, JSON.stringify(line)).to.equal(traceparent.split('-')[1]);
          expect(line.parentSpanId, JSON.stringify(line)).to.equal(traceparent.split('-')[2]);
        }

        // Then the in-doubt one's status (a status inquiry at the bank, which settles it) beside a
        // new transfer and a refused one: each of their lines is theirs too.
        const status: Sent = { requestId: `req-${randomBytes(8).toString('hex')}`, method: 'GET', path: `/v1/transfers/${reset.transactionId}`, transactionId: reset.transactionId };
        const invalid: Sent = { requestId: `req-${randomBytes(8).toString('hex')}`, method: 'POST', path: '/v1/transfers', body: { transactionId: 'x' } };
        const second = [status, transfer('Invoice c'), invalid];
        const later = await wave(second);
        expectEachLineOwned(later, second);
        expect(linesOf(later, status).map((line) => line.msg)).to.include('in-doubt transfer resolved by status inquiry');
        expect(linesOf(later, invalid).map((line) => line.msg)).to.include('request refused');
      });
    });

    if (backend === 'mariadb') {
      describe('when the database refuses several transfers at the same time', () => {
        after(async () => database.proxy?.restore());

        it('writes the audit journal\'s and the error handler\'s lines each with the id of its request, and the connections\' with none', async () => {
          await database.proxy!.cut();
          const refused = [transfer('Invoice d'), transfer('Invoice e')];
          const lines = await wave(refused);
          expectEachLineOwned(lines, refused);
          for (const sent of refused) {
            const mine = linesOf(lines, sent);
            expect(mine.map((line) => line.msg), JSON.stringify(mine)).to.include.members(['audit write spooled to disk: the database refused it', 'request']);
            expect(mine.some((line) => line.component === 'http' && line.code === 'STORE_UNAVAILABLE'), 'the error handler\'s line').to.equal(true);
          }
        });
      });
    }
  });
}
