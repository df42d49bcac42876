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
  const urlExchanges: string[] = [];

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
    // Secrets put in the URL by a careless or hostile caller: under a secret's name, under any name, and bare.
    for (const url of [
      `/v1/transfers?access_token=${token}`,
      `/v1/auth/token?client_id=${client.clientId}&client_secret=${encodeURIComponent(client.clientSecret)}`,
      `/v1/transfers/INV-1?t=${token}`,
      `/v1/accounts/0201245681/balance?key=${client.clientSecret}&from=2026-01-01`,
      `/v1/transfers/INV-2?${token}`,
    ]) {
      const res = await gw.request(url, { json: url.startsWith('/v1/auth') ? { client_id: client.clientId, client_secret: 'x' } : undefined, headers: auth });
      urlExchanges.push(res.headers['x-request-id']);
    }
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
      ...(await gw.store.db.query('SELECT * FROM audit_completions')),
      ...(await gw.store.db.query('SELECT * FROM audit_bank_calls')),
    ];
    expect(rows.length).to.be.greaterThan(8);
    // Raw rows hold sealed bodies; the clear text the repository gives back must be clean too.
    const clear = await gw.store.audit.list({ limit: 1000 });
    const text = JSON.stringify(rows) + JSON.stringify(clear);
    for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} in audit`).to.equal(false);
    expect(JSON.stringify(clear)).to.contain('[REDACTED]');
  });

  it('stores the URL of a request with a secret in its query redacted, the rest of it kept', async () => {
    const paths = [];
    for (const requestId of urlExchanges) paths.push((await gw.store.audit.list({ requestId }))[0]?.path);
    expect(paths).to.have.length(5);
    expect(paths[0]).to.equal('/v1/transfers?access_token=[REDACTED]');
    expect(paths[1]).to.match(/^\/v1\/auth\/token\?client_id=gbc_[0-9a-f]+&client_secret=\[REDACTED\]$/);
    expect(paths[2]).to.equal('/v1/transfers/INV-1?t=[REDACTED]');
    expect(paths[3]).to.equal('/v1/accounts/******5681/balance?key=[REDACTED]&from=2026-01-01');
    expect(paths[4]).to.equal('/v1/transfers/INV-2?[REDACTED]');
  });

  it('answers no secret to the ERP outside the token endpoint', () => {
    const text = answers.join('\n');
    for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} in an answer`).to.equal(false);
  });
});
