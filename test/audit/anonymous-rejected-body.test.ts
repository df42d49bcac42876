import { expect } from 'chai';
import { ANONYMOUS_REJECTED_BODY_CHARS } from '../../src/audit/audit-trail.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * An anonymous rejected request (no client identified) is audited like any other, in bounded form:
 * its body is kept up to ANONYMOUS_REJECTED_BODY_CHARS characters, the rest said as
 * `…[truncated N chars]`, so a caller with no credentials cannot make each refusal cost the audit a
 * whole body up to the parser's limit. A client's rejected request keeps its whole body.
 */
forEachBackend('The audit of an anonymous rejected request', (db) => {
  let gw: TestGateway;

  before(async () => {
    gw = await TestGateway.start(db.url(), { GERBANG_LOG_LEVEL: 'silent' });
  });
  after(() => gw?.close());

  const recorded = (requestId: string) =>
    eventually(async () => {
      const [row] = await gw.store.audit.list({ requestId });
      return row?.completedAt ? row : null;
    });

  it(`keeps ${ANONYMOUS_REJECTED_BODY_CHARS} characters of its body and says how many more it had, the request itself recorded`, async () => {
    // A token request for no client (the body is read before anything is known of the caller).
    const sent = { client_id: 'gbc_nobody', client_secret: 'not-a-secret', padding: 'x'.repeat(60_000) };
    const res = await gw.request('/v1/auth/token', { json: sent, headers: { 'content-type': 'application/json' } });
    // As stored: the secret redacted, then cut.
    const text = JSON.stringify({ ...sent, client_secret: '[REDACTED]' });
    expect(res.status, res.text).to.be.within(400, 401);
    const row = await recorded(res.headers['x-request-id']);
    expect(row).to.include({ method: 'POST', path: '/v1/auth/token', statusCode: res.status, clientId: null });
    expect(row.requestBody).to.equal(`${text.slice(0, ANONYMOUS_REJECTED_BODY_CHARS)}…[truncated ${text.length - ANONYMOUS_REJECTED_BODY_CHARS} chars]`);
    expect(Buffer.byteLength(row.requestBody!)).to.be.at.most(ANONYMOUS_REJECTED_BODY_CHARS + 40);
    const [stored] = await gw.store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_exchanges WHERE request_id = ?', [res.headers['x-request-id']]);
    expect(Number(stored.n)).to.equal(1);
  });

  it('keeps a small anonymous body whole, and a client\'s rejected body whole however large', async () => {
    const small = JSON.stringify({ client_id: 'gbc_nobody', client_secret: 'not-a-secret' });
    const anonymous = await gw.request('/v1/auth/token', { method: 'POST', body: small, headers: { 'content-type': 'application/json' } });
    expect(anonymous.status).to.equal(401);
    expect(JSON.parse((await recorded(anonymous.headers['x-request-id'])).requestBody!)).to.deep.equal({ client_id: 'gbc_nobody', client_secret: '[REDACTED]' });
    const auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
    const large = { ...sampleTransfer(), remark: 'y'.repeat(20_000) };
    const refused = await gw.request('/v1/transfers', { json: large, headers: auth });
    expect(refused.status, refused.text).to.equal(400);
    const row = await recorded(refused.headers['x-request-id']);
    expect(row.clientId).to.not.equal(null);
    expect(JSON.parse(row.requestBody!).remark).to.equal(large.remark);
  });
});
