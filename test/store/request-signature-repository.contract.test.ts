import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/index.js';
import { forEachBackend } from '../support/databases.js';

const digest = () => randomBytes(32).toString('hex');

forEachBackend('RequestSignatureRepository', (ctx) => {
  it('remembers a signature once: the second time it is a replay', async () => {
    const { requestSignatures } = ctx.store();
    const hash = digest();
    expect(await requestSignatures.remember('gbc_a', hash, 10_000)).to.equal(true);
    expect(await requestSignatures.remember('gbc_a', hash, 10_000)).to.equal(false);
    expect(await requestSignatures.remember('gbc_b', hash, 10_000), 'another client is another key').to.equal(true);
  });

  it('lets exactly one of two stores on the same database remember a signature sent to both at once', async () => {
    const other = await openStore(ctx.url());
    try {
      for (let i = 0; i < 20; i += 1) {
        const hash = digest();
        const results = await Promise.all([ctx.store().requestSignatures.remember('gbc_race', hash, 10_000), other.requestSignatures.remember('gbc_race', hash, 10_000)]);
        expect(results.filter(Boolean), `round ${i}`).to.have.length(1);
      }
    } finally {
      await other.close();
    }
  });

  it('purges the entries that expired, and only those', async () => {
    const { requestSignatures, db } = ctx.store();
    const expired = digest();
    const live = digest();
    await requestSignatures.remember('gbc_purge', expired, 5_000);
    await requestSignatures.remember('gbc_purge', live, 9_000_000_000_000);
    expect(await requestSignatures.purgeExpired(5_000)).to.be.at.least(1);
    const rows = await db.query<{ signature_hash: string }>("SELECT signature_hash FROM request_signatures WHERE client_id = 'gbc_purge'");
    expect(rows.map((r) => r.signature_hash)).to.deep.equal([live]);
    expect(await requestSignatures.remember('gbc_purge', expired, 20_000), 'forgotten once purged').to.equal(true);
  });
});
