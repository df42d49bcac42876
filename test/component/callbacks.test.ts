import { expect } from 'chai';
import { signatureOf, signedUnder, startReceiver } from '../support/callback-receiver.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';

forEachBackend('Callbacks to the ERP when a transfer becomes final', (db) => {
  let gw: TestGateway;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let client: TestClient;
  let auth: Record<string, string>;

  before(async () => {
    receiver = await startReceiver();
    gw = await TestGateway.start(db.url(), { GERBANG_CALLBACK_INTERVAL_MS: '50', GERBANG_CALLBACK_RETRY_BASE_MS: '200', GERBANG_BANK_HEADERS_TIMEOUT_MS: '500' });
    client = await gw.createClient();
    await gw.store.callbacks.setEndpoint(client.clientId, receiver.url, Date.now());
    auth = { authorization: `Bearer ${await gw.token(client)}` };
  });
  after(async () => {
    await gw?.close();
    receiver?.server.close();
  });

  const noticesFor = (transactionId: string) => receiver.received.filter((r) => JSON.parse(r.body).transfer.transactionId === transactionId);

  it('posts the final result, signed with the key the API publishes', async () => {
    const body = sampleTransfer();
    const paid = await gw.request('/v1/transfers', { json: body, headers: auth });
    expect(paid.status).to.equal(201);
    const [notice] = await eventually(async () => (noticesFor(body.transactionId as string).length > 0 ? noticesFor(body.transactionId as string) : null));
    expect(JSON.parse(notice.body)).to.deep.equal({ event: 'transfer.final', transfer: paid.body });

    const key = await gw.request('/v1/callbacks/public-key', { headers: auth });
    expect(key.status).to.equal(200);
    const parts = signatureOf(notice);
    expect(parts.kid).to.equal(key.body.keyId);
    expect(Math.abs(Date.now() / 1000 - Number(parts.t))).to.be.lessThan(60);
    expect(signedUnder(notice, key.body.publicKeyPem)).to.equal(true);
    expect(signedUnder(notice, key.body.publicKeyPem, notice.body.replace('SUCCESS', 'FAILED'))).to.equal(false);
  });

  it('posts a FAILED transfer too, once, and keeps retrying until the ERP accepts', async () => {
    receiver.answers.push(500, 503);
    const body = sampleTransfer({ remark: 'SIM ESB-82-019' });
    expect((await gw.request('/v1/transfers', { json: body, headers: auth })).status).to.equal(422);
    const notices = await eventually(async () => (noticesFor(body.transactionId as string).length >= 3 ? noticesFor(body.transactionId as string) : null), 10_000);
    expect(notices.map((n) => JSON.parse(n.body).transfer.status)).to.deep.equal(['FAILED', 'FAILED', 'FAILED']);
    // The delivery's state is written when the ERP's answer is back, just after the receiver saw the request.
    const row = await eventually(async () => {
      const [current] = await gw.store.db.query<{ state: string; attempts: number }>('SELECT state, attempts FROM callback_deliveries WHERE transaction_id = ?', [body.transactionId as string]);
      return current && current.state !== 'PENDING' ? current : null;
    });
    expect(row.state).to.equal('DELIVERED');
    expect(Number(row.attempts)).to.equal(3);
    // Each attempt is audited (the last one's record is written just after its delivery state).
    const audited = await eventually(async () => {
      const rows = (await gw.store.audit.list({ transactionId: body.transactionId as string })).filter((r) => r.method === 'CALLBACK' && r.completedAt !== null);
      return rows.length >= 3 ? rows : null;
    });
    expect(audited).to.have.length(3);
    // Each state change is recorded with the MAC it left (migration 038), and the delivery verifies as Gerbang's latest state of it.
    const changes = await gw.store.db.query<{ change_kind: string }>("SELECT change_kind FROM record_changes WHERE table_name = 'callback_deliveries' AND row_key = ? ORDER BY id", [
      JSON.stringify([client.clientId, body.transactionId]),
    ]);
    expect(changes.map((c) => c.change_kind)).to.deep.equal(['insert', 'update', 'update', 'update']);
    expect((await gw.store.audit.verify()).breaks).to.deep.equal([]);
  });

  it('says nothing while a transfer is in doubt, and posts it once the status inquiry settles it', async () => {
    const body = sampleTransfer({ remark: 'SIM TIMEOUT' });
    expect((await gw.request('/v1/transfers', { json: body, headers: auth })).body.status).to.equal('UNKNOWN');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(noticesFor(body.transactionId as string)).to.have.length(0);
    expect((await gw.request(`/v1/transfers/${body.transactionId}`, { headers: auth })).body.status).to.equal('SUCCESS');
    const [notice] = await eventually(async () => (noticesFor(body.transactionId as string).length > 0 ? noticesFor(body.transactionId as string) : null));
    expect(JSON.parse(notice.body).transfer.status).to.equal('SUCCESS');
  });

  it('sends nothing for a client with no callback registered', async () => {
    const other = await gw.createClient();
    const body = sampleTransfer();
    await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${await gw.token(other)}` } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(noticesFor(body.transactionId as string)).to.have.length(0);
    expect(await gw.store.db.query('SELECT id FROM callback_deliveries WHERE transaction_id = ?', [body.transactionId as string])).to.have.length(0);
  });
});
