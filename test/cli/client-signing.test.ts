import { expect } from 'chai';
import { requestSignature } from '../../src/pipeline/request-signature/index.js';
import { TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';

/** A transfer signed with `key`, as a signing ERP sends it. */
async function signedTransfer(gw: TestGateway, token: string, key: string) {
  const body = JSON.stringify(sampleTransfer());
  const timestamp = new Date().toISOString();
  const { signature } = requestSignature(key, { method: 'POST', pathWithQuery: '/v1/transfers', timestamp, body });
  return gw.request('/v1/transfers', {
    body,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-gerbang-timestamp': timestamp, 'x-gerbang-signature': signature },
  });
}

forEachBackend('gerbang client enable-signing / rotate-signing-key / disable-signing', (db) => {
  let gw: TestGateway;
  let client: TestClient;
  let token: string;
  const env = () => ({ GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });

  before(async () => {
    gw = await TestGateway.start(db.url());
    client = await gw.createClient();
    token = await gw.token(client);
  });
  after(async () => gw?.close());

  it('enable-signing prints the key once; from then on unsigned calls are refused and calls signed with it pay', async function () {
    this.timeout(90_000); // four CLI processes
    const enabled = await runCli(['client', 'enable-signing', '--id', client.clientId, '--json'], env());
    expect(enabled.code, enabled.stderr).to.equal(0);
    const { clientId, signingKey } = JSON.parse(enabled.stdout) as { clientId: string; signingKey: string };
    expect(clientId).to.equal(client.clientId);
    expect(signingKey).to.match(/^gbsk_[A-Za-z0-9_-]{43}$/);

    const unsigned = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
    expect(unsigned.status).to.equal(401);
    expect(unsigned.body.code).to.equal('SIGNATURE_MISSING');
    const signed = await signedTransfer(gw, token, signingKey);
    expect(signed.status, signed.text).to.equal(201);

    const stored = (await db.store().clients.findById(client.clientId))!;
    expect(stored.signing.required).to.equal(true);
    expect(stored.signing.sealedKey).to.match(/^gcm2\.test-run\./).and.not.contain(signingKey);

    const listed = await runCli(['client', 'list', '--json'], env());
    const entry = (JSON.parse(listed.stdout) as { id: string; signingRequired: boolean }[]).find((c) => c.id === client.clientId);
    expect(entry).to.include({ signingRequired: true });
    expect(listed.stdout).to.not.contain('gcm1.').and.not.contain(signingKey);
    expect((await runCli(['client', 'list'], env())).stdout).to.match(new RegExp(`${client.clientId} .*signing=required`));

    const again = await runCli(['client', 'enable-signing', '--id', client.clientId], env());
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('rotate-signing-key');
    expect((await db.store().clients.findById(client.clientId))!.signing.sealedKey, 'the key in use is kept').to.equal(stored.signing.sealedKey);
  });

  it('rotate-signing-key prints a new key: the old one is refused at once, the new one pays', async () => {
    const own = await gw.createClient();
    const ownToken = await gw.token(own);
    const enabled = JSON.parse((await runCli(['client', 'enable-signing', '--id', own.clientId, '--json'], env())).stdout) as { signingKey: string };
    const rotated = await runCli(['client', 'rotate-signing-key', '--id', own.clientId], env());
    expect(rotated.code, rotated.stderr).to.equal(0);
    const newKey = /Signing key for \S+: (gbsk_\S+)/.exec(rotated.stdout)![1];
    expect(rotated.stdout).to.contain('Shown only this once');
    expect(newKey).to.not.equal(enabled.signingKey);
    const withOld = await signedTransfer(gw, ownToken, enabled.signingKey);
    expect(withOld.status).to.equal(401);
    expect(withOld.body.code).to.equal('SIGNATURE_INVALID');
    expect((await signedTransfer(gw, ownToken, newKey)).status).to.equal(201);
  });

  it('disable-signing deletes the key: unsigned calls pay again', async () => {
    const own = await gw.createClient();
    const ownToken = await gw.token(own);
    expect((await runCli(['client', 'enable-signing', '--id', own.clientId], env())).code).to.equal(0);
    const disabled = await runCli(['client', 'disable-signing', '--id', own.clientId], env());
    expect(disabled.code, disabled.stderr).to.equal(0);
    expect((await db.store().clients.findById(own.clientId))!.signing).to.deep.equal({ required: false, sealedKey: null });
    const unsigned = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${ownToken}` } });
    expect(unsigned.status, unsigned.text).to.equal(201);
  });

  it('refuses clearly: an unknown client (1), rotating a client that does not sign (1), no audit key (2, naming the setting)', async function () {
    this.timeout(90_000); // five CLI processes
    const plain = await gw.createClient();
    // Four refusals that change nothing, so they may run side by side (each CLI call is its own process).
    const [unknown, notSigning, noKeys, noId] = await Promise.all([
      runCli(['client', 'enable-signing', '--id', 'gbc_nobody'], env()),
      runCli(['client', 'rotate-signing-key', '--id', plain.clientId], env()),
      runCli(['client', 'enable-signing', '--id', plain.clientId], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: '', GERBANG_AUDIT_KEY_FILES: '' }),
      runCli(['client', 'disable-signing'], env()),
    ]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.contain('No client with id gbc_nobody');
    expect(notSigning.code).to.equal(1);
    expect(notSigning.stderr).to.contain('enable-signing');
    expect(noKeys.code).to.equal(2);
    expect(noKeys.stderr).to.contain('GERBANG_AUDIT_KEYS');
    expect((await db.store().clients.findById(plain.clientId))!.signing.required).to.equal(false);
    expect(noId.code).to.equal(2);
    expect(noId.stderr).to.contain('--id is required');
  });
});

forEachBackend('gerbang keys rotate and client signing keys', (db) => {
  it('re-seals every signing key with the newest audit key; the gateway verifies with the new key alone', async function () {
    this.timeout(180_000); // a dozen CLI processes
    const OLD = testKeySpec('sk-old');
    const NEW = testKeySpec('sk-new');
    // Three signing clients, made side by side (each its own CLI processes).
    const enabled: { client: TestClient; key: string }[] = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const created = await runCli(['client', 'create', '--name', `signer ${i}`, '--cidr', '127.0.0.0/8', '--json'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: OLD });
        const client = JSON.parse(created.stdout) as TestClient;
        expect((await runCli(['client', 'grant-account', '--id', client.clientId, '--account', '0201245680'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: OLD })).code).to.equal(0);
        const result = await runCli(['client', 'enable-signing', '--id', client.clientId, '--json'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: OLD });
        expect(result.code, result.stderr).to.equal(0);
        return { client, key: (JSON.parse(result.stdout) as { signingKey: string }).signingKey };
      }),
    );
    expect((await db.store().db.query("SELECT id FROM clients WHERE key_id = 'sk-old'")).length).to.equal(3);
    // A client that does not sign holds nothing sealed: never walked, never counted as left behind.
    const plain = await runCli(['client', 'create', '--name', 'plain', '--cidr', '127.0.0.0/8', '--json'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: OLD });
    expect(plain.code, plain.stderr).to.equal(0);
    const rotation = await runCli(['keys', 'rotate'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: `${OLD},${NEW}` });
    expect(rotation.code, rotation.stderr).to.equal(0);
    expect(rotation.stdout).to.match(/ and 3 client signing keys re-encrypted to key sk-new in \d+ batches/);
    const rows = await db.store().db.query<{ id: string; signing_key: string; key_id: string }>('SELECT id, signing_key, key_id FROM clients WHERE signing_key IS NOT NULL');
    for (const row of rows) {
      expect(row.key_id, row.id).to.equal('sk-new');
      expect(row.signing_key).to.match(/^gcm2\.sk-new\./);
    }
    const again = await runCli(['keys', 'rotate'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: `${OLD},${NEW}` });
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.contain(' and 0 client signing keys re-encrypted to key sk-new in 0 batches');
    const [{ key_id: plainKeyId }] = await db.store().db.query<{ key_id: string | null }>('SELECT key_id FROM clients WHERE id = ?', [JSON.parse(plain.stdout).clientId]);
    expect(plainKeyId).to.equal(null);

    // The old audit key is gone from the configuration: the keys the ERPs hold still verify.
    const gw = await TestGateway.start(db.url(), { GERBANG_AUDIT_KEYS: NEW });
    try {
      for (const { client, key } of enabled) {
        const res = await signedTransfer(gw, await gw.token(client), key);
        expect(res.status, res.text).to.equal(201);
      }
    } finally {
      await gw.close();
    }
  }).timeout(60_000); // several CLI processes
});
