import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { parseTraceparent } from '../../src/pipeline/request-id/index.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { captureLogs } from '../support/log-capture.js';

describe('Access log and W3C traceparent', () => {
  let gw: TestGateway;
  let logs: ReturnType<typeof captureLogs>;

  before(async () => {
    logs = captureLogs('info');
    gw = await TestGateway.start('sqlite::memory:', { GERBANG_RESOLVER_INTERVAL_MS: '0' });
  });
  after(async () => {
    logs?.stop();
    await gw?.close();
  });

  const parsed = () => logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('writes one access line per request, refusals included, with route, status, duration and request id', async () => {
    const requestId = `req-${randomBytes(8).toString('hex')}`;
    const answer = await gw.request('/v1/transfers/INV-1?secret=x', { headers: { 'x-request-id': requestId } });
    expect(answer.status).to.equal(401);
    const line = await eventually(async () => parsed().find((l) => l.msg === 'request' && l.requestId === requestId));
    expect(line).to.include({ component: 'access', method: 'GET', path: '/v1/transfers/INV-1', status: 401, aborted: false });
    expect(line.durationMs).to.be.a('number');
    expect(JSON.stringify(line)).to.not.contain('secret=x');
  });

  it("carries the caller's trace id on its lines, the bank call's line included", async () => {
    const traceId = randomBytes(16).toString('hex');
    const token = await gw.token(await gw.createClient());
    const answer = await gw.request('/v1/transfers', {
      json: sampleTransfer(),
      headers: { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    expect(answer.status).to.equal(201);
    const access = await eventually(async () => parsed().find((l) => l.msg === 'request' && l.traceId === traceId));
    expect(access).to.include({ route: '/v1/transfers', status: 201 });
    const bank = parsed().filter((l) => l.msg === 'bank call' && l.traceId === traceId);
    expect(bank.map((l) => l.operation)).to.include('transfer-intrabank');
  });

  it('ignores a malformed or all-zero traceparent', () => {
    expect(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).to.deep.equal({ traceId: '0af7651916cd43dd8448eb211c80319c', parentSpanId: 'b7ad6b7169203331' });
    expect(parseTraceparent(`00-${'0'.repeat(32)}-b7ad6b7169203331-01`)).to.equal(null);
    expect(parseTraceparent('00-XYZ-b7ad6b7169203331-01')).to.equal(null);
    expect(parseTraceparent('{"$gt":""}')).to.equal(null);
  });
});
