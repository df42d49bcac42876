import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createSqliteDatabase } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { captureLogs } from '../support/log-capture.js';

describe('Request logs', () => {
  let gw: TestGateway;
  let logs: ReturnType<typeof captureLogs>;
  let database: ReturnType<typeof createSqliteDatabase>;

  before(async () => {
    logs = captureLogs('trace');
    database = createSqliteDatabase();
    gw = await TestGateway.start(database.url, { GERBANG_RESOLVER_INTERVAL_MS: '0' });
  });
  after(async () => {
    logs?.stop();
    await gw?.close();
    await database?.drop();
  });

  describe('when several transfers run at the same time', () => {
    it('writes JSON lines that each carry the id of the request they belong to, never another one', async () => {
      const token = await gw.token(await gw.createClient());
      // Mixed outcomes so more code paths log: success, a bank refusal, a bank reset (in doubt).
      const remarks = ['Invoice a', 'SIM ESB-82-019', 'SIM RESET', 'Invoice b', 'SIM HTTP-503'];
      const requests = remarks.map((remark) => ({ requestId: `req-${randomBytes(8).toString('hex')}`, body: sampleTransfer({ remark }) }));
      const firstLine = logs.lines.length;
      const answers = await Promise.all(
        requests.map(({ requestId, body }) =>
          gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId } }),
        ),
      );
      answers.forEach((answer, i) => expect(answer.headers['x-request-id']).to.equal(requests[i].requestId));

      const lines = logs.lines.slice(firstLine).map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const { requestId, body } of requests) {
        const mine = lines.filter((line) => JSON.stringify(line).includes(String(body.transactionId)));
        expect(mine.length, `log lines of ${requestId}`).to.be.at.least(1);
        for (const line of mine) expect(line.requestId, JSON.stringify(line)).to.equal(requestId);
      }
      // Every line written while the requests ran has a request id: nothing else was running.
      expect(lines.length).to.be.at.least(requests.length);
      for (const line of lines) expect(line.requestId, JSON.stringify(line)).to.be.a('string');
    });
  });
});
