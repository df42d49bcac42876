import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMariaDbBehindProxy } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

describe('POST /v1/transfers when the database is down (MariaDB)', function () {
  let database: Awaited<ReturnType<typeof createMariaDbBehindProxy>>;
  let proxy: TcpProxy;
  let gw: TestGateway;
  let token: string;
  const spoolDir = mkdtempSync(join(tmpdir(), 'gerbang-outage-spool-'));

  before(async function () {
    database = await createMariaDbBehindProxy(this);
    proxy = database.proxy;
    gw = await TestGateway.start(database.url, { GERBANG_AUDIT_SPOOL_DIR: spoolDir });
    const client = await gw.createClient();
    token = await gw.token(client);
  });

  after(async () => {
    await gw?.close().catch(() => undefined);
    await database?.drop();
  });

  const refused = sampleTransfer();
  let refusedRequestId = '';

  it('answers 503 with Retry-After and sends nothing to the bank', async () => {
    await proxy.cut();
    const before = gw.simulator.calls.length;
    const res = await gw.request('/v1/transfers', { json: refused, headers: { authorization: `Bearer ${token}` } });
    expect(res.status, res.text).to.equal(503);
    refusedRequestId = res.headers['x-request-id'];
    expect(res.body.code).to.equal('STORE_UNAVAILABLE');
    expect(res.headers['retry-after']).to.be.a('string');
    expect(res.text).to.not.match(/ECONNREFUSED|mysql|SELECT|INSERT/i);
    expect(gw.simulator.calls.length, 'the simulator saw no request').to.equal(before);
  });

  it('journals the refused request on disk sealed like the audit: no body, header or id in clear', () => {
    const journal = readdirSync(spoolDir).map((name) => readFileSync(join(spoolDir, name), 'utf8')).join('');
    const lines = journal.split('\n').filter((line) => line.length > 0);
    expect(lines.length).to.be.at.least(1);
    for (const line of lines) expect(line).to.match(/^gcm1\.test-run\./);
    for (const clear of [refused.transactionId as string, refused.remark as string, refusedRequestId, 'Bearer']) expect(journal).to.not.contain(clear);
  });

  it('reports itself unready on /readyz while /healthz still answers', async () => {
    const ready = await gw.request('/readyz');
    expect(ready.status).to.equal(503);
    expect(ready.body).to.deep.include({ status: 'unready' });
    expect(ready.body.checks.store).to.equal('unreachable');
    expect((await gw.request('/healthz')).status).to.equal(200);
  });

  it('is ready and serves payments again by itself once the database is back', async () => {
    await proxy.restore();
    const ready = await gw.request('/readyz');
    expect(ready.status, ready.text).to.equal(200);
    expect(ready.body.checks).to.deep.equal({ store: 'ok', migrations: 'ok', checkpoints: 'ok', keys: 'ok' });
    const res = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
    expect(res.status, res.text).to.equal(201);
  });

  it('writes the audit record of the refused request, journaled on disk meanwhile, once the database is back', async () => {
    const [row] = await eventually(async () => {
      await gw.gateway.replayAudit();
      const rows = await gw.store.audit.list({ requestId: refusedRequestId });
      return rows.length > 0 ? rows : null;
    }, 10_000);
    expect(row).to.include({ statusCode: 503, errorCode: 'STORE_UNAVAILABLE' });
    expect(row).to.include({ method: 'POST', path: '/v1/transfers' });
  });
});

describe('POST /v1/transfers when the database goes away while the bank holds the transfer (MariaDB)', function () {
  let database: Awaited<ReturnType<typeof createMariaDbBehindProxy>>;
  let gw: TestGateway;
  let token: string;
  let clientId = '';

  before(async function () {
    database = await createMariaDbBehindProxy(this);
    // No resolver: only the gateway's own later write can store the bank's answer here.
    gw = await TestGateway.start(database.url, { GERBANG_AUDIT_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'gerbang-outage-spool-')), GERBANG_RESOLVER_INTERVAL_MS: '0' });
    const client = await gw.createClient();
    clientId = client.clientId;
    token = await gw.token(client);
  });

  after(async () => {
    await gw?.close().catch(() => undefined);
    await database?.drop();
  });

  it("stores the bank's answer once the database is back, so the ERP's resend gets it instead of 409", async () => {
    const body = sampleTransfer();
    // The bank executes, then answers after 1.5 s; the database is cut meanwhile and back after the answer.
    gw.simulator.failNext({ delayMs: 1_500 });
    const first = gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    await eventually(async () => (gw.simulator.calls.some((call) => call.body.includes(String(body.transactionId))) ? true : null), 5_000);
    await database.proxy.cut();
    const answer = await first;
    await database.proxy.restore();
    const executed = gw.simulator.calls.filter((call) => call.path === '/banking/corporates/transfers' && call.body.includes(String(body.transactionId)));
    expect(executed, 'the bank was called once').to.have.length(1);
    // What the ERP was told reflects the bank's answer or the doubt, never a refusal.
    expect([201, 202], answer.text).to.include(answer.status);
    // The resend meets the stored answer within a second or two, not "in flight" until someone asks the bank.
    let resend = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    for (let tries = 0; resend.status === 409 && tries < 25; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      resend = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    }
    expect(resend.status, resend.text).to.be.oneOf([201, 202]);
    expect(resend.body.transactionId).to.equal(body.transactionId);
    const payment = await gw.store.payments.find(clientId, String(body.transactionId));
    expect(payment?.state, 'stored state').to.be.oneOf(['SUCCESS', 'UNKNOWN']);
    expect(gw.simulator.calls.filter((call) => call.path === '/banking/corporates/transfers' && call.body.includes(String(body.transactionId))), 'never sent again').to.have.length(1);
  });
});

describe('POST /v1/transfers when the database commits the reservation but its answer is lost (MariaDB)', function () {
  let database: Awaited<ReturnType<typeof createMariaDbBehindProxy>>;
  let gw: TestGateway;
  let token: string;

  before(async function () {
    database = await createMariaDbBehindProxy(this);
    // No resolver: a reservation left SENDING would answer every resend 409 for the test's length.
    gw = await TestGateway.start(database.url, { GERBANG_AUDIT_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'gerbang-outage-spool-')), GERBANG_RESOLVER_INTERVAL_MS: '0' });
    token = await gw.token(await gw.createClient());
  });

  after(async () => {
    await gw?.close().catch(() => undefined);
    await database?.drop();
  });

  it('takes its own reservation back (nothing was sent under its bank id), so the resend pays it once', async () => {
    const body = sampleTransfer();
    const lost = database.proxy.loseCommitAnswerAfter('INSERT INTO payments ');
    const first = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    await lost;
    const sent = () => gw.simulator.calls.filter((call) => call.path === '/banking/corporates/transfers' && call.body.includes(String(body.transactionId)));
    // Either the request went on with the row it found to be its own (201), or it was refused (503) and released it.
    expect([201, 503], first.text).to.include(first.status);
    let resend = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    for (let tries = 0; resend.status !== 201 && tries < 25; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      resend = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
    }
    expect(resend.status, resend.text).to.equal(201);
    expect(resend.body.status).to.equal('SUCCESS');
    expect(sent(), 'the bank executed it once').to.have.length(1);
  });
});
