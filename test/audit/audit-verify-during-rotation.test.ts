import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/index.js';
import { ringOf, TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { watchChainWalks } from '../support/chain-walks.js';
import { runCli, type CliResult } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';

/**
 * `audit verify` while `gerbang keys rotate` re-links the chains (each chain's links and head in
 * one transaction): a chain re-linked after verify read the heads and before it walked that chain
 * is walked again up to its head as it stands, not named cut. The rotation is the real CLI in its
 * own process, run at that moment (verify's database handle waits for it before its first page of links).
 */
forEachBackend('audit verify while keys rotate re-links the chains', (ctx) => {
  it('names nothing: every chain re-linked meanwhile is walked again and holds', async function () {
    this.timeout(120_000);
    const gw = await TestGateway.start(ctx.url());
    const auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
    for (let i = 0; i < 3; i += 1) expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers: auth })).status).to.equal(201);
    await gw.close();
    const NEW = testKeySpec(`k${randomBytes(3).toString('hex')}`);
    const store = await openStore(ctx.url(), { auditKeys: ringOf(TEST_AUDIT_KEY, NEW) });
    try {
      let rotation: CliResult | undefined;
      watchChainWalks(store.db, async () => {
        rotation ??= await runCli(['keys', 'rotate'], { GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: `${TEST_AUDIT_KEY},${NEW}` });
      });
      const report = await store.audit.verify();
      expect(rotation?.code, rotation?.stderr).to.equal(0);
      expect(report.breaks.map((b) => b.detail)).to.deep.equal([]);
      const [{ n }] = await store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain WHERE key_id <> ?', [NEW.split(':')[0]]);
      expect(Number(n), 'every link re-linked under the new key').to.equal(0);
    } finally {
      await store.close();
    }
  });
});
