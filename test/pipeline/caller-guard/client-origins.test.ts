import { expect } from 'chai';
import { clientOriginsCache } from '../../../src/pipeline/caller-guard/index.js';
import type { ClientRepository } from '../../../src/store/index.js';
import { forEachBackend, storedClient } from '../../support/databases.js';

const TTL_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

forEachBackend('Origins allowed before authentication, read for at most the staleness bound', (ctx) => {
  /** The store's own client repository; `delayNext` holds the next read's answer back (its SELECT runs at once). */
  function slowable() {
    const state = { lists: 0, delayNext: 0 };
    const clients = {
      list: async () => {
        state.lists += 1;
        const delay = state.delayNext;
        state.delayNext = 0;
        const rows = await ctx.store().clients.list();
        if (delay > 0) await sleep(delay);
        return rows;
      },
    } as unknown as ClientRepository;
    return { clients, state };
  }

  async function clientWithOrigin(): Promise<{ id: string; origin: string }> {
    const id = await storedClient(ctx.store(), Date.now());
    const origin = `https://${id.replace('_', '-')}.example`;
    await ctx.store().clients.setAllowlists(id, { allowedOrigins: [origin], allowedCidrs: ['127.0.0.0/8'] }, Date.now());
    return { id, origin };
  }

  it('refuses a removed origin once the bound has passed, though a read made before the removal is answered late', async () => {
    const { id, origin } = await clientWithOrigin();
    const { clients, state } = slowable();
    const origins = clientOriginsCache(clients, TTL_MS);
    expect(await origins.allows(origin)).to.equal(true);
    await sleep(TTL_MS + 50);
    state.delayNext = 2 * TTL_MS;
    const late = origins.allows(origin);
    await sleep(30);
    const removed = Date.now();
    await ctx.store().clients.setAllowlists(id, { allowedOrigins: [], allowedCidrs: ['127.0.0.0/8'] }, removed);
    await sleep(30);
    await origins.allows(origin);
    await late;
    const allowedPastBound: number[] = [];
    while (Date.now() - removed < 4 * TTL_MS) {
      const asked = Date.now() - removed;
      if ((await origins.allows(origin)) && asked > TTL_MS) allowedPastBound.push(asked);
      await sleep(25);
    }
    expect(allowedPastBound, 'ms after the removal at which the origin was still allowed').to.deep.equal([]);
  });

  it('reads the clients once for a flood of unknown origins, concurrent or one after the other, not once each', async () => {
    const { clients, state } = slowable();
    const now = 50_000;
    const origins = clientOriginsCache(clients, 1_000, () => now);
    const unknown = (i: number) => `https://made-up-${i}.example`;
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => origins.allows(unknown(i))));
    expect(answers.every((allowed) => !allowed)).to.equal(true);
    // The first read, then one re-read sent after every one of them came, shared.
    expect(state.lists).to.equal(2);
    for (let i = 100; i < 200; i += 1) expect(await origins.allows(unknown(i))).to.equal(false);
    expect(state.lists, 'requests that came no later than the last re-read was sent share it').to.equal(2);
  });

  it('serves the origin of a client created a moment ago, by another process, at once', async () => {
    const origins = clientOriginsCache(ctx.store().clients, 1_000);
    expect(await origins.allows('https://not-yet.example')).to.equal(false);
    for (let i = 0; i < 3; i += 1) {
      const { origin } = await clientWithOrigin();
      expect(await origins.allows(origin), origin).to.equal(true);
    }
  });
});
