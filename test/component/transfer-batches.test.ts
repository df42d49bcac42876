import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type HttpAnswer } from '../support/gateway-harness.js';

forEachBackend('Payment runs: POST /v1/transfer-batches', (db) => {
  let gw: TestGateway;
  let auth: Record<string, string>;

  before(async () => {
    gw = await TestGateway.start(db.url(), { GERBANG_BATCH_MAX_LINES: '50', GERBANG_BANK_HEADERS_TIMEOUT_MS: '500' });
    auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
  });
  after(async () => gw?.close());

  const batchId = () => `RUN-${randomBytes(5).toString('hex')}`;
  const transferPosts = () => gw.simulator.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/banking/corporates/transfers')).length;
  const submit = (body: unknown, headers = auth) => gw.request('/v1/transfer-batches', { json: body, headers });
  const read = (id: string, query = '') => gw.request(`/v1/transfer-batches/${id}${query}`, { headers: auth });
  const done = (id: string) => eventually(async () => ((await read(id, '?limit=1000')).body.state === 'DONE' ? read(id, '?limit=1000') : null), 15_000);

  it('stores a run, answers 202 at once, pays every line under its own id, and reports each line', async () => {
    gw.simulator.setAccount({ number: '0201245680', name: 'PT RUN', balance: '100000000.00' });
    const lines = Array.from({ length: 20 }, () => sampleTransfer({ sourceAccountNumber: '0201245680', amount: '1000.00' }));
    lines[3] = sampleTransfer({ sourceAccountNumber: '0201245680', amount: '900000000.00' });
    lines[7] = sampleTransfer({ sourceAccountNumber: '0201245680', remark: 'SIM TIMEOUT' });
    lines[11] = sampleTransfer({ sourceAccountNumber: '0201245680', beneficiaryBankCode: '002', beneficiaryAccountNumber: '123456789012345' });
    const id = batchId();
    const before = transferPosts();
    const res = await submit({ batchId: id, transfers: lines });
    expect(res.status, res.text).to.equal(202);
    expect(res.headers.location).to.equal(`/v1/transfer-batches/${id}`);
    expect(res.body).to.include({ batchId: id, lineCount: 20 });

    const final = await done(id);
    expect(final.body.progress).to.deep.equal({ queued: 0, submitted: 19, rejected: 1 });
    const byLine = (n: number) => final.body.lines.find((l: { line: number }) => l.line === n);
    expect(byLine(1).result).to.include({ status: 'SUCCESS', transactionId: lines[0].transactionId });
    expect(byLine(4).result).to.include({ status: 'FAILED', bankResponseCode: 'ESB-82-019' });
    expect(['UNKNOWN', 'SUCCESS']).to.include(byLine(8).result.status);
    expect(byLine(12)).to.deep.include({ state: 'REJECTED', result: null });
    expect(byLine(12).error).to.include({ code: 'VALIDATION_FAILED' });
    // 19 lines reached the bank (the rejected one never did), each exactly once.
    expect(transferPosts() - before).to.equal(19);
    expect(gw.simulator.balanceOf('0201245680')).to.equal(String(100000000 - 17 * 1000 - 100000) + '.00');

    // Every line is its own audited exchange, with its bank leg.
    const rows = await eventually(async () => {
      const all = (await gw.store.audit.list({ limit: 1000 })).filter((r) => r.path.startsWith(`/v1/transfer-batches/${id}/lines/`) && r.completedAt);
      return all.length === 20 ? all : null;
    });
    expect(rows.filter((r) => r.bankCalls.some((c) => c.operation === 'transfer-intrabank'))).to.have.length(19);
  });

  it('names every bad line before storing anything', async () => {
    const id = batchId();
    const good = sampleTransfer();
    const res = await submit({ batchId: id, transfers: [good, sampleTransfer({ amount: '12' }), { ...good }, sampleTransfer({ currency: 'USD', extra: 1 })] });
    expect(res.status).to.equal(400);
    const fields = res.body.errors.map((e: { field: string; message: string }) => [e.field, e.message.split(':')[0]]);
    expect(fields).to.deep.include.members([
      ['transfers.1.amount', 'line 2'],
      ['transfers.2', 'line 3'],
      ['transfers.3.currency', 'line 4'],
      ['transfers.3.extra', 'line 4'],
    ]);
    expect((await read(id)).status).to.equal(404);
  });

  it('refuses a run over the configured size, and an empty one', async () => {
    const tooBig = await submit({ batchId: batchId(), transfers: Array.from({ length: 51 }, () => sampleTransfer()) });
    expect(tooBig.status).to.equal(400);
    expect(tooBig.body.errors[0].field).to.equal('transfers');
    expect((await submit({ batchId: batchId(), transfers: [] })).status).to.equal(400);
  });

  it('answers the same run again with its state, never paying twice; another run under the same id is 422', async () => {
    const id = batchId();
    const body = { batchId: id, transfers: [sampleTransfer(), sampleTransfer()] };
    expect((await submit(body)).status).to.equal(202);
    await done(id);
    const before = transferPosts();
    const again = await submit(body);
    expect(again.status).to.equal(202);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.body.state).to.equal('DONE');
    const other = await submit({ batchId: id, transfers: [sampleTransfer()] });
    expect(other.status).to.equal(422);
    expect(other.body.errors[0].field).to.equal('batchId');
    expect(transferPosts()).to.equal(before);
  });

  it('replays a line the ERP already paid on its own under the same transactionId', async () => {
    const line = sampleTransfer();
    const paid: HttpAnswer = await gw.request('/v1/transfers', { json: line, headers: auth });
    expect(paid.status).to.equal(201);
    const before = transferPosts();
    const id = batchId();
    await submit({ batchId: id, transfers: [line] });
    const final = await done(id);
    expect(final.body.lines[0].result).to.deep.equal(paid.body);
    expect(transferPosts()).to.equal(before);
  });

  it("keeps a client's runs to itself (404, as for one that does not exist)", async () => {
    const id = batchId();
    await submit({ batchId: id, transfers: [sampleTransfer()] });
    const stranger = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
    expect((await gw.request(`/v1/transfer-batches/${id}`, { headers: stranger })).status).to.equal(404);
  });

  it('pages the lines of a run', async () => {
    const id = batchId();
    await submit({ batchId: id, transfers: Array.from({ length: 5 }, () => sampleTransfer()) });
    await done(id);
    const first = await read(id, '?limit=2');
    expect(first.body.lines.map((l: { line: number }) => l.line)).to.deep.equal([1, 2]);
    expect(first.body.nextAfterLine).to.equal(2);
    const last = await read(id, '?afterLine=4&limit=2');
    expect(last.body.lines.map((l: { line: number }) => l.line)).to.deep.equal([5]);
    expect(last.body.nextAfterLine).to.equal(null);
  });
});

forEachBackend('Payment runs when the process paying them stops', (db) => {
  it('are taken over by another process once its lease runs out, and no line is paid twice', async () => {
    const first = await TestGateway.start(db.url(), { GERBANG_BATCH_INTERVAL_MS: '0' });
    try {
      // The first process never pays (as if it died right after storing the run and claiming it).
      await first.gateway.batches.stop();
      const client = await first.createClient();
      const lines = Array.from({ length: 6 }, () => sampleTransfer());
      const id = `RUN-${randomBytes(5).toString('hex')}`;
      const stored = await first.request('/v1/transfer-batches', { json: { batchId: id, transfers: lines }, headers: { authorization: `Bearer ${await first.token(client)}` } });
      expect(stored.status).to.equal(202);
      const [claimed] = await first.store.batches.claimDue({ owner: 'stopped-process', now: Date.now(), leaseMs: 300, limit: 10 });
      expect(claimed.batchId).to.equal(id);

      const taker = await TestGateway.start(db.url(), { GERBANG_BATCH_INTERVAL_MS: '100' });
      try {
        const auth = { authorization: `Bearer ${await taker.token(client)}` };
        const final = await eventually(async () => {
          const res = await taker.request(`/v1/transfer-batches/${id}?limit=100`, { headers: auth });
          return res.body.state === 'DONE' ? res : null;
        }, 10_000);
        expect(final.body.progress).to.deep.equal({ queued: 0, submitted: 6, rejected: 0 });
        const paid = taker.simulator.calls.filter((c) => c.method === 'POST' && c.path === '/banking/corporates/transfers');
        expect(paid).to.have.length(6);
      } finally {
        await taker.close();
      }
    } finally {
      await first.close();
    }
  });
});
