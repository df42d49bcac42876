import { expect } from 'chai';
import { createTokenProvider } from '../../src/banks/common/token-provider.js';
import { fetchTokenOnce } from '../../src/banks/shared-token-fetch.js';
import { storeTokenCache } from '../../src/gateway/bank-partners.js';
import { forEachBackend } from '../support/databases.js';

const LEASE_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two gateway processes sharing one store's bank tokens (each its own token cache over the real
 * repository), the claim's lease shortened so the bank's answer takes several of them.
 */
forEachBackend('One bank token fetch for every process, however slow the bank', (ctx) => {
  it('holds the claim while a fetch outlives its lease: the other process waits for that token instead of fetching its own', async () => {
    const partner = `slow-${Date.now().toString(36)}`;
    const fetched: string[] = [];
    const process = (name: string, answerMs: number) => {
      const tokens = storeTokenCache(ctx.store().bankTokens, Date.now);
      return () =>
        fetchTokenOnce(
          tokens,
          partner,
          (cached) => cached.expiresAt > Date.now(),
          async () => {
            fetched.push(name);
            await sleep(answerMs);
            await tokens.put(partner, `token-of-${name}`, Date.now() + 3_600_000);
            return `token-of-${name}`;
          },
          LEASE_MS,
        );
    };
    const slow = process('a', 4 * LEASE_MS)();
    await sleep(50);
    const waiting = process('b', 0)();
    expect(await Promise.all([slow, waiting])).to.deep.equal(['token-of-a', 'token-of-a']);
    expect(fetched, 'one token request to the bank').to.deep.equal(['a']);
  });

  it('keeps the token asked for last when two fetches overlap: an older one answered late does not replace it', async () => {
    const partner = `overlap-${Date.now().toString(36)}`;
    const provider = (name: string, answerMs: number) =>
      createTokenProvider({
        partner,
        tokens: storeTokenCache(ctx.store().bankTokens, Date.now),
        now: () => new Date(),
        request: async () => {
          await sleep(answerMs);
          return { accessToken: `token-of-${name}`, expiresInSeconds: 3600 };
        },
      });
    const ctxOf = { onCall: async () => undefined };
    const late = provider('first-asked', 400).fetch(ctxOf);
    await sleep(100);
    expect(await provider('asked-after', 0).fetch(ctxOf)).to.equal('token-of-asked-after');
    expect(await late).to.equal('token-of-first-asked');
    expect((await ctx.store().bankTokens.get(partner))?.token).to.equal('token-of-asked-after');
  });

  it('shares one wait among the requests of a process while a dead node holds the claim: one claim and one read per poll, not one each', async () => {
    const partner = `dead-${Date.now().toString(36)}`;
    const repository = ctx.store().bankTokens;
    let claims = 0;
    const counted: typeof repository = {
      get: (p) => repository.get(p),
      put: (record) => repository.put(record),
      invalidate: (p, token) => repository.invalidate(p, token),
      claimRefresh: (p, owner, now, leaseMs) => ((claims += 1), repository.claimRefresh(p, owner, now, leaseMs)),
      releaseRefresh: (p, owner) => repository.releaseRefresh(p, owner),
    };
    let requests = 0;
    const provider = createTokenProvider({
      partner,
      tokens: storeTokenCache(counted, Date.now),
      now: () => new Date(),
      request: async () => ((requests += 1), { accessToken: 'fresh', expiresInSeconds: 3600 }),
    });
    // A node claimed the refresh and died: its claim row, as claimRefresh writes it, a short lease.
    await repository.claimRefresh(partner, 'dead-node', Date.now(), LEASE_MS);
    const answers = await Promise.all(Array.from({ length: 50 }, () => provider.current({ onCall: async () => undefined })));
    expect(answers).to.deep.equal(Array(50).fill('fresh'));
    expect(requests).to.equal(1);
    // Each of 50 waiting requests claimed at least once on its own before; one shared wait polls
    // once per 50 ms, a few times over the lease.
    expect(claims).to.be.below(50);
  });
});
