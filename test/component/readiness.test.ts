import { expect } from 'chai';
import express from 'express';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { apiRoutes } from '../../src/http/api/index.js';
import { healthRoutes } from '../../src/http/routes/health-routes.js';
import { AccessTokens } from '../../src/pipeline/auth/index.js';
import { checkKeys } from '../../src/security/index.js';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openStore, pendingMigrations, pendingMigrationsCheck, type Store } from '../../src/store/index.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, TestGateway } from '../support/gateway-harness.js';

const jwt = { secret: randomBytes(32).toString('hex'), issuer: 'gerbang', audience: 'gerbang-api', ttlSeconds: 300 };

/** /readyz of a real HTTP server over `store`, checking the keys as the gateway does. */
async function readiness(store: Store, tokens = new AccessTokens(jwt)): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const app = express();
  app.use(healthRoutes(apiRoutes({ batchMaxLines: 10 }), { mode: 'live', db: store.db, pendingMigrations: () => pendingMigrations(store.db), checkKeys: () => checkKeys(tokens, () => store.audit.checkKeys()), held: () => null, detail: true }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
    return { status: res.statusCode, body: (await res.body.json()) as { status: string; checks: Record<string, string> } };
  } finally {
    server.close();
  }
}

forEachBackend('GET /readyz keys check', (ctx) => {
  it('is ready when an access token signs and verifies and an audit value seals and opens', async () => {
    const answer = await readiness(ctx.store());
    expect(answer.status).to.equal(200);
    expect(answer.body).to.deep.equal({ status: 'ready', mode: 'live', checks: { store: 'ok', migrations: 'ok', checkpoints: 'ok', keys: 'ok' } });
  });

  it('is unready, naming GERBANG_AUDIT_KEYS, when the store has no audit key to seal with', async () => {
    const keyless = await openStore(ctx.url());
    try {
      const answer = await readiness(keyless);
      expect(answer.status).to.equal(503);
      expect(answer.body.status).to.equal('unready');
      expect(answer.body.checks).to.include({ store: 'ok', migrations: 'ok' });
      expect(answer.body.checks.keys).to.match(/^GERBANG_AUDIT_KEYS: no audit key is configured/);
    } finally {
      await keyless.close();
    }
  });

  it('is unready, naming GERBANG_JWT_SECRET, when access tokens do not verify', async () => {
    const signer = new AccessTokens(jwt);
    const other = new AccessTokens({ ...jwt, secret: randomBytes(32).toString('hex') });
    const mismatched = { issue: (id: string, version: number) => signer.issue(id, version), verify: (token: string) => other.verify(token) };
    const answer = await readiness(ctx.store(), mismatched as unknown as AccessTokens);
    expect(answer.status).to.equal(503);
    expect(answer.body.checks.keys).to.equal('GERBANG_JWT_SECRET: an access token did not verify');
  });
});

forEachBackend('GET /readyz migrations check', (ctx) => {
  it('reads the migration files once, when built: later answers read only the ledger', async () => {
    const store = ctx.store();
    const directory = mkdtempSync(join(tmpdir(), 'gerbang-migrations-'));
    cpSync(join('sql', store.db.dialect), directory, { recursive: true });
    await migrate(store.db, { directory });
    const pending = pendingMigrationsCheck(store.db, { directory });
    // The files gone (as they never are while a process runs): the check does not look for them again.
    rmSync(directory, { recursive: true, force: true });
    expect(await pending()).to.deep.equal([]);
    expect(await pending()).to.deep.equal([]);
  });
});

forEachBackend('Health probes and who asks them', (db) => {
  const LIMIT = 5;
  let gw: TestGateway;

  before(async () => {
    // Only the loopback address 127.0.0.1 is the operator's (GERBANG_METRICS_ALLOWED_CIDRS's default).
    gw = await TestGateway.start(db.url(), { GERBANG_RATE_LIMIT_PER_IP: String(LIMIT), GERBANG_ALLOWED_CIDRS: '127.0.0.0/24' });
  });
  after(async () => gw?.close());

  describe('from the operator\'s own address (PM2, a local monitor)', () => {
    it('/readyz names the mode and every check, and neither probe counts against the per-IP limit', async () => {
      for (let i = 0; i < LIMIT + 3; i += 1) {
        expect((await gw.request('/healthz')).status).to.equal(200);
        const res = await gw.request('/readyz');
        expect(res.status, res.text).to.equal(200);
        expect(res.body).to.deep.include({ status: 'ready', mode: 'sandbox' });
        expect(res.body.checks).to.deep.equal({ store: 'ok', migrations: 'ok', checkpoints: 'ok', keys: 'ok' });
      }
    });
  });

  describe('from any other address, or through a proxy', () => {
    it('/readyz says ready and nothing more', async () => {
      for (const [localAddress, headers] of [['127.0.0.2', {}], ['127.0.1.2', {}], ['127.0.0.1', { 'x-forwarded-for': '127.0.0.1' }]] as const) {
        const res = await gw.request('/readyz', { localAddress, headers });
        expect(res.status, res.text).to.equal(200);
        expect(res.body).to.deep.equal({ status: 'ready' });
      }
    });

    it('counts each probe against the per-IP limit: past it 429 with Retry-After, audited as rejected', async () => {
      const answers = [];
      for (let i = 0; i < LIMIT + 2; i += 1) answers.push(await gw.request(i % 2 === 0 ? '/healthz' : '/readyz', { localAddress: '127.0.0.3' }));
      expect(answers.map((res) => res.status)).to.deep.equal([...Array<number>(LIMIT).fill(200), 429, 429]);
      const last = answers[answers.length - 1];
      expect(last.body.code).to.equal('RATE_LIMITED');
      expect(Number(last.headers['retry-after'])).to.be.greaterThan(0);
      const row = await eventually(async () => (await gw.store.audit.list({ requestId: last.headers['x-request-id'] }))[0]);
      expect(row).to.deep.include({ statusCode: 429, errorCode: 'RATE_LIMITED', outcome: 'rejected', remoteIp: '127.0.0.3' });
      // The operator's probe still answers.
      expect((await gw.request('/healthz')).status).to.equal(200);
    });
  });
});
