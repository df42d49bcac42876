import { expect } from 'chai';
import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { linkEntraApp, revokeApiKey, rotateApiKey } from '../../src/domain/clients/index.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { LocalEntraIssuer } from '../support/entra-issuer.js';
import { sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';

const AUDIENCE = 'api://gerbang-test';
const APP = '11111111-2222-3333-4444-555555555555';
const OTHER_APP = '99999999-8888-7777-6666-555555555555';
/** Short, so the test can watch the rate limit on JWKS refetches without a long wait. */
const COOLDOWN_MS = 2_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

forEachBackend('Microsoft Entra ID access tokens and API keys', (db) => {
  let issuer: LocalEntraIssuer;
  let gw: TestGateway;
  let client: TestClient;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const readTransfer = (headers: Record<string, string>) => gw.request('/v1/transfers/INV-nothing-here', { headers });

  before(async () => {
    issuer = await LocalEntraIssuer.start();
    gw = await TestGateway.start(db.url(), {
      GERBANG_ENTRA_METADATA_URL: issuer.metadataUrl,
      GERBANG_ENTRA_AUDIENCE: AUDIENCE,
      GERBANG_ENTRA_KEYS_COOLDOWN_MS: String(COOLDOWN_MS),
    });
    client = await gw.createClient();
    expect(await linkEntraApp(gw.store, client.clientId, APP.toUpperCase(), Date.now())).to.equal(true);
  });
  after(async () => {
    await gw?.close();
    await issuer?.close();
  });

  describe('a Bearer access token from the Entra ID tenant', function () {
    this.timeout(30_000);
    it("pays as the client its application is linked to (azp), and the audit names that client", async () => {
      const token = await issuer.token(APP, AUDIENCE);
      const transfer = sampleTransfer();
      const paid = await gw.request('/v1/transfers', { json: transfer, headers: bearer(token) });
      expect(paid.status, paid.text).to.equal(201);
      const payment = await gw.store.payments.find(client.clientId, transfer.transactionId as string);
      expect(payment?.clientId).to.equal(client.clientId);
    });

    it('accepts a v1 token that names its application in appid', async () => {
      const token = await issuer.token('', AUDIENCE, { claims: { azp: undefined, appid: APP, ver: '1.0' } });
      expect((await readTransfer(bearer(token))).status).to.equal(404);
    });

    it('refuses (401) a token of an application linked to no client, naming it', async () => {
      const res = await readTransfer(bearer(await issuer.token(OTHER_APP, AUDIENCE)));
      expect(res.status).to.equal(401);
      expect(res.body.code).to.equal('INVALID_TOKEN');
      expect(res.body.detail).to.contain(OTHER_APP);
    });

    it('refuses (401) a wrong audience, a wrong issuer, an expired token, a token not yet valid, and one without exp or nbf', async () => {
      const now = Math.floor(Date.now() / 1000);
      const bad = [
        await issuer.token(APP, 'api://someone-else'),
        await issuer.token(APP, AUDIENCE, { claims: { iss: `https://login.microsoftonline.com/${issuer.tenantId}/v2.0` } }),
        await issuer.token(APP, AUDIENCE, { claims: { exp: now - 120, iat: now - 3600, nbf: now - 3600 } }),
        await issuer.token(APP, AUDIENCE, { claims: { nbf: now + 600 } }),
        await issuer.token(APP, AUDIENCE, { claims: { exp: undefined } }),
        await issuer.token(APP, AUDIENCE, { claims: { nbf: undefined } }),
      ];
      for (const [i, token] of bad.entries()) {
        const res = await readTransfer(bearer(token));
        expect(res.status, `token ${i}: ${res.text}`).to.equal(401);
        expect(res.body.code).to.equal('INVALID_TOKEN');
      }
    });

    it("refuses (401) a token signed by another key under the tenant's kid, an HS256 token keyed with the public key (algorithm pinned to RS256), and alg none", async () => {
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const forged = await issuer.token(APP, AUDIENCE, { key: stranger });
      const jwks = (await (await fetch(`${issuer.origin}/${issuer.tenantId}/discovery/v2.0/keys`)).json()) as { keys: { n: string }[] };
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: issuer.issuer, aud: AUDIENCE, azp: APP, iat: now, nbf: now, exp: now + 600 };
      const confused = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: issuer.currentKid })
        .sign(createSecretKey(Buffer.from(jwks.keys[0].n)));
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: issuer.currentKid })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
      for (const token of [forged, confused, none]) {
        const res = await readTransfer(bearer(token));
        expect(res.status, res.text).to.equal(401);
      }
    });

    it('follows a key rotation: a new kid refetches the JWKS, at most once per cooldown however many unknown kids arrive; the retired key is refused', async () => {
      const oldToken = await issuer.token(APP, AUDIENCE);
      expect((await readTransfer(bearer(oldToken))).status).to.equal(404);
      await pause(COOLDOWN_MS + 100);
      const fetchesBefore = issuer.jwksFetches;
      await issuer.rotate();
      const newToken = await issuer.token(APP, AUDIENCE);
      expect((await readTransfer(bearer(newToken))).status, 'token signed with the new key').to.equal(404);
      expect(issuer.jwksFetches).to.equal(fetchesBefore + 1);

      // A flood of tokens under made-up key ids, within the cooldown: refused, and no refetch.
      const made = await Promise.all(Array.from({ length: 8 }, (_, i) => issuer.token(APP, AUDIENCE, { kid: `made-up-${i}` })));
      const answers = await Promise.all(made.map((token) => readTransfer(bearer(token))));
      expect(answers.map((res) => res.status)).to.deep.equal(made.map(() => 401));
      expect(issuer.jwksFetches).to.equal(fetchesBefore + 1);

      // The retired key is no longer published: its tokens stop working.
      expect((await readTransfer(bearer(oldToken))).status).to.equal(401);
      expect((await readTransfer(bearer(newToken))).status).to.equal(404);
    });

    it("keeps the client's own address list: a linked application calling from elsewhere is refused (403)", async () => {
      const far = await gw.createClient({ cidrs: ['10.9.8.0/24'] });
      const app = '22222222-3333-4444-5555-666666666666';
      await linkEntraApp(gw.store, far.clientId, app, Date.now());
      const res = await readTransfer(bearer(await issuer.token(app, AUDIENCE)));
      expect(res.status).to.equal(403);
      expect(res.body.code).to.equal('IP_NOT_ALLOWED');
    });

    it("still accepts Gerbang's own tokens beside Entra ID's", async () => {
      expect((await readTransfer(bearer(await gw.token(client)))).status).to.equal(404);
    });
  });

  describe('when the tenant cannot be reached', () => {
    it('answers 503 AUTH_UNAVAILABLE (neither accepted nor called invalid) and recovers when it is back', async () => {
      const lone = await LocalEntraIssuer.start();
      const other = await TestGateway.start(db.url(), { GERBANG_ENTRA_METADATA_URL: lone.metadataUrl, GERBANG_ENTRA_AUDIENCE: AUDIENCE, GERBANG_ENTRA_KEYS_COOLDOWN_MS: String(COOLDOWN_MS) });
      try {
        lone.failWith = 500;
        const token = await lone.token(APP, AUDIENCE);
        const res = await other.request('/v1/transfers', { json: sampleTransfer(), headers: bearer(token) });
        expect(res.status, res.text).to.equal(503);
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(res.body.code).to.equal('AUTH_UNAVAILABLE');
        lone.failWith = null;
        await pause(COOLDOWN_MS + 100);
        expect((await other.request('/v1/transfers/INV-x', { headers: bearer(token) })).status).to.equal(404);
      } finally {
        await other.close();
        await lone.close();
      }
    });
  });

  describe('X-API-Key', () => {
    it('pays with the key printed once; a rotation ends the old key at once; a revoked key is refused', async () => {
      const key = (await rotateApiKey(gw.store, client.clientId, Date.now()))!;
      expect(key).to.match(/^gbk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      const paid = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { 'x-api-key': key } });
      expect(paid.status, paid.text).to.equal(201);
      expect((await readTransfer({ 'x-api-key': key })).status, 'again (remembered, still checked)').to.equal(404);

      const stored = await gw.store.clientCredentials.listFor(client.clientId);
      expect(JSON.stringify(stored)).to.not.contain(key.slice(21));

      const rotated = (await rotateApiKey(gw.store, client.clientId, Date.now()))!;
      expect((await readTransfer({ 'x-api-key': key })).status, 'old key').to.equal(401);
      expect((await readTransfer({ 'x-api-key': rotated })).status, 'new key').to.equal(404);

      expect(await revokeApiKey(gw.store, client.clientId)).to.equal(true);
      expect((await readTransfer({ 'x-api-key': rotated })).status, 'revoked key').to.equal(401);
    });

    it('refuses (401) a wrong secret under a real key id, a malformed key, and a key sent with an Authorization header', async () => {
      const key = (await rotateApiKey(gw.store, client.clientId, Date.now()))!;
      const wrongSecret = `${key.slice(0, 21)}${'A'.repeat(43)}`;
      const cases: Record<string, string>[] = [{ 'x-api-key': wrongSecret }, { 'x-api-key': 'gerbang' }, { 'x-api-key': key, authorization: `Bearer ${await gw.token(client)}` }];
      for (const headers of cases) {
        const res = await readTransfer(headers);
        expect(res.status, JSON.stringify(headers)).to.equal(401);
        expect(res.body.code).to.equal('INVALID_TOKEN');
      }
    });

    it("is still subject to the caller guard (the client's CIDRs) and to the client's status", async () => {
      const far = await gw.createClient({ cidrs: ['10.9.8.0/24'] });
      const farKey = (await rotateApiKey(gw.store, far.clientId, Date.now()))!;
      const res = await readTransfer({ 'x-api-key': farKey });
      expect(res.status).to.equal(403);
      expect(res.body.code).to.equal('IP_NOT_ALLOWED');

      const gone = await gw.createClient();
      const goneKey = (await rotateApiKey(gw.store, gone.clientId, Date.now()))!;
      await gw.store.clients.setStatus(gone.clientId, 'disabled', Date.now());
      expect((await readTransfer({ 'x-api-key': goneKey })).status).to.equal(401);
    });
  });

  describe('gerbang client rotate-api-key / link-entra-app', function () {
    // Each test starts the CLI several times (a process each).
    this.timeout(90_000);
    const env = () => ({ GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });

    it('rotate-api-key prints the key once (--json too) and it works; list shows the key and the linked applications, never the key', async () => {
      const own = await gw.createClient();
      const printed = await runCli(['client', 'rotate-api-key', '--id', own.clientId, '--json'], env());
      expect(printed.code, printed.stderr).to.equal(0);
      const { apiKey } = JSON.parse(printed.stdout) as { apiKey: string };
      expect((await readTransfer({ 'x-api-key': apiKey })).status).to.equal(404);
      const linked = await runCli(['client', 'link-entra-app', '--id', own.clientId, '--app-id', '33333333-4444-5555-6666-777777777777'], env());
      expect(linked.code, linked.stderr).to.equal(0);
      const listed = JSON.parse((await runCli(['client', 'list', '--json'], env())).stdout) as { id: string; apiKey: boolean; entraApps: string[] }[];
      expect(listed.find((c) => c.id === own.clientId)).to.include({ apiKey: true }).and.to.have.deep.property('entraApps', ['33333333-4444-5555-6666-777777777777']);
      expect(JSON.stringify(listed)).to.not.contain(apiKey.slice(21));
    });

    it('link-entra-app refuses a value that is not a GUID and an application already linked elsewhere, naming --app-id; unknown client exits 1', async () => {
      const notGuid = await runCli(['client', 'link-entra-app', '--id', client.clientId, '--app-id', 'my-app'], env());
      expect(notGuid.code).to.equal(2);
      expect(notGuid.stderr).to.contain("--app-id \"my-app\" is not an application (client) id");
      const taken = await runCli(['client', 'link-entra-app', '--id', (await gw.createClient()).clientId, '--app-id', APP], env());
      expect(taken.code).to.equal(2);
      expect(taken.stderr).to.contain('--app-id').and.contain(client.clientId);
      const nobody = await runCli(['client', 'rotate-api-key', '--id', 'gbc_nobody'], env());
      expect(nobody.code).to.equal(1);
    });
  });
});
