import { expect } from 'chai';
import express from 'express';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { apiRoutes } from '../../src/http/api/index.js';
import { healthRoutes } from '../../src/http/routes/health-routes.js';
import { AccessTokens } from '../../src/pipeline/auth/index.js';
import { checkKeys } from '../../src/security/index.js';
import { openStore, pendingMigrations, type Store } from '../../src/store/index.js';
import { forEachBackend } from '../support/databases.js';

const jwt = { secret: randomBytes(32).toString('hex'), issuer: 'gerbang', audience: 'gerbang-api', ttlSeconds: 300 };

/** /readyz of a real HTTP server over `store`, checking the keys as the gateway does. */
async function readiness(store: Store, tokens = new AccessTokens(jwt)): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const app = express();
  app.use(healthRoutes(apiRoutes({ batchMaxLines: 10 }), { mode: 'live', db: store.db, pendingMigrations: () => pendingMigrations(store.db), checkKeys: () => checkKeys(tokens, () => store.audit.checkKeys()), held: () => null }));
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
