import { expect } from 'chai';
import { enableSigning } from '../../src/domain/clients/index.js';
import { requestSignature } from '../../src/pipeline/request-signature/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { captureLogs } from '../support/log-capture.js';

/**
 * Runs the main flows (good and bad logins, transfers, refusals, bank errors) with every log
 * line captured, then searches the logs, every audit row and every answer for the secrets
 * that took part: client secret, Gerbang access token, JWT key, bank credentials, bank token,
 * a client's request-signing key.
 */
forEachBackend('Secret hygiene', (db) => {
  let gw: TestGateway;
  let logs: ReturnType<typeof captureLogs>;
  const answers: string[] = [];
  const secrets: Record<string, string> = {};

  before(async () => {
    logs = captureLogs('trace');
    gw = await TestGateway.start(db.url());
    const client = await gw.createClient();
    secrets.clientSecret = client.clientSecret;
    secrets.jwtSecret = gw.jwtSecret;
    const partner = gw.gateway.banks.simulator!.partner;
    secrets.bankClientSecret = partner.clientSecret;
    secrets.bankApiSecret = partner.apiSecret;
    secrets.bankApiKey = partner.apiKey;

    const token = await gw.token(client);
    secrets.accessToken = token;
    const auth = { authorization: `Bearer ${token}` };
    answers.push((await gw.request('/v1/auth/token', { json: { client_id: client.clientId, client_secret: `${client.clientSecret}x` }, localAddress: '127.0.0.9' })).text);
    answers.push((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).text);
    answers.push((await gw.request('/v1/transfers', { json: sampleTransfer({ remark: 'SIM ESB-82-019' }), headers: auth })).text);
    answers.push((await gw.request('/v1/transfers', { json: { ...sampleTransfer(), amount: 'x' }, headers: auth })).text);
    answers.push((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}tampered` } })).text);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    await gw.request('/v1/auth/token', { body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
    await gw.request('/v1/auth/token', { body: 'grant_type=client_credentials', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' } });
    // A client that signs its requests: accepted, wrongly signed and replayed requests.
    const signer = await gw.createClient();
    const enabled = await enableSigning(gw.store.clients, TEST_AUDIT_KEYS, signer.clientId, Date.now());
    if (!enabled.ok) throw new Error(enabled.reason);
    secrets.signingKey = enabled.signingKey;
    const signerToken = await gw.token(signer);
    const signedBody = JSON.stringify(sampleTransfer());
    const timestamp = new Date().toISOString();
    const { signature } = requestSignature(enabled.signingKey, { method: 'POST', pathWithQuery: '/v1/transfers', timestamp, body: signedBody });
    const signedHeaders = { authorization: `Bearer ${signerToken}`, 'content-type': 'application/json', 'x-gerbang-timestamp': timestamp, 'x-gerbang-signature': signature };
    answers.push((await gw.request('/v1/transfers', { body: signedBody, headers: signedHeaders })).text);
    answers.push((await gw.request('/v1/transfers', { body: signedBody, headers: signedHeaders })).text);
    answers.push((await gw.request('/v1/transfers', { body: signedBody.replace('100000.00', '100001.00'), headers: signedHeaders })).text);
    // The bank's own token, as the adapter cached it, must not appear in audit or logs either.
    const cached = (await gw.store.db.query<{ token: string }>('SELECT token FROM bank_tokens'))[0];
    if (cached) secrets.bankToken = cached.token;
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  after(async () => {
    logs?.stop();
    await gw?.close();
  });

  it('ran the flows it claims to check', () => {
    expect(secrets.bankToken, 'a bank token was fetched').to.be.a('string');
    expect(answers.filter((text) => text.includes('SIGNATURE_REPLAYED') || text.includes('SIGNATURE_INVALID')), 'signed requests refused').to.have.length(2);
    expect(logs.lines.length).to.be.greaterThan(5);
  });

  it('writes no secret into any log line', () => {
    const text = logs.text();
    for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} in logs`).to.equal(false);
  });

  it('writes no secret into any audit row', async () => {
    const rows = [
      ...(await gw.store.db.query('SELECT * FROM audit_exchanges')),
      ...(await gw.store.db.query('SELECT * FROM audit_bank_calls')),
    ];
    expect(rows.length).to.be.greaterThan(8);
    // Raw rows hold sealed bodies; the clear text the repository gives back must be clean too.
    const clear = await gw.store.audit.list({ limit: 1000 });
    const text = JSON.stringify(rows) + JSON.stringify(clear);
    for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} in audit`).to.equal(false);
    expect(JSON.stringify(clear)).to.contain('[REDACTED]');
  });

  it('answers no secret to the ERP outside the token endpoint', () => {
    const text = answers.join('\n');
    for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} in an answer`).to.equal(false);
  });
});
