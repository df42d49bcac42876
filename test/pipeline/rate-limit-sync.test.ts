import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Options } from 'express-rate-limit';
import { SharedRateLimitStore } from '../../src/pipeline/rate-limit/store-adapter.js';
import type { CounterResult, RateLimitRepository } from '../../src/store/index.js';
import { forEachBackend } from '../support/databases.js';

const WINDOW_MS = 60_000;
const SYNC_MS = 100;
const settle = () => new Promise((resolve) => setTimeout(resolve, SYNC_MS * 3));

forEachBackend('Rate limits counted in the process, synchronised with the store', (ctx) => {
  /** The store's own repository, its statements counted, and able to fail on demand. */
  function counted() {
    const repository = ctx.store().rateLimits;
    const calls: number[] = [];
    let failing = false;
    const wrapped: RateLimitRepository = {
      increment: async (key: string, windowMs: number, now: number, by = 1): Promise<CounterResult> => {
        calls.push(by);
        if (failing) throw new Error('store unavailable');
        return repository.increment(key, windowMs, now, by);
      },
      decrement: (key) => repository.decrement(key),
      reset: (key) => repository.reset(key),
      purgeExpired: (now) => repository.purgeExpired(now),
    };
    return { wrapped, calls, fail: (on: boolean) => (failing = on) };
  }

  function limiter(repository: RateLimitRepository, clock: () => number = Date.now, maxWindows?: number): SharedRateLimitStore {
    const store = new SharedRateLimitStore(repository, 'sync-test:', clock, SYNC_MS, { maxWindows });
    store.init({ windowMs: WINDOW_MS } as Options);
    return store;
  }

  const key = () => `k-${randomBytes(4).toString('hex')}`;
  const storedHits = async (k: string) => (await ctx.store().rateLimits.increment(`sync-test:${k}`, WINDOW_MS, Date.now())).hits - 1;

  it('counts every hit of one process exactly, with one statement for the window and one per interval after', async () => {
    const repo = counted();
    const a = limiter(repo.wrapped);
    const k = key();
    const totals: number[] = [];
    for (let i = 0; i < 50; i += 1) totals.push((await a.increment(k)).totalHits);
    expect(totals).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    await settle();
    expect(repo.calls.length, `statements: ${repo.calls.join(', ')}`).to.be.at.most(3);
    expect(repo.calls.reduce((x, y) => x + y, 0)).to.equal(50);
    expect(await storedHits(k)).to.equal(50);
  });

  it('counts a burst of concurrent hits on a new or quiet key with one statement, then locally, and loses none', async () => {
    const repo = counted();
    const a = limiter(repo.wrapped);
    const k = key();
    const burst = async () => (await Promise.all(Array.from({ length: 20 }, () => a.increment(k)))).map((info) => info.totalHits).sort((x, y) => x - y);
    expect(await burst(), 'the first of a window').to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(repo.calls, 'one hit in the store, the 19 that waited for it counted here').to.deep.equal([1]);
    await settle();
    expect(repo.calls).to.deep.equal([1, 19]);
    // Quiet for longer than the interval: the next burst reads the store again, once.
    await settle();
    expect(await burst()).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 21));
    expect(repo.calls).to.deep.equal([1, 19, 1]);
    await a.flush();
    expect(await storedHits(k)).to.equal(40);
  });

  it("sees another process's hits within the interval, and both add up in the store", async () => {
    const k = key();
    const [a, b] = [limiter(counted().wrapped), limiter(counted().wrapped)];
    for (let i = 0; i < 30; i += 1) await a.increment(k);
    await settle();
    expect((await b.increment(k)).totalHits, 'b starts from what a added').to.equal(31);
    for (let i = 0; i < 29; i += 1) await b.increment(k);
    await settle();
    expect((await a.increment(k)).totalHits).to.be.at.most(61);
    await settle();
    expect((await a.increment(k)).totalHits, 'after a synchronisation a sees b\'s hits').to.equal(62);
    await Promise.all([a.flush(), b.flush()]);
    expect(await storedHits(k)).to.equal(62);
  });

  it('fails closed when the store cannot take the counts: the next hit goes to the store, carrying those not yet added', async () => {
    const repo = counted();
    const a = limiter(repo.wrapped);
    const k = key();
    await a.increment(k);
    repo.fail(true);
    for (let i = 0; i < 4; i += 1) await a.increment(k);
    await settle();
    let refused: unknown = null;
    await a.increment(k).catch((error: unknown) => (refused = error));
    expect(String(refused)).to.contain('store unavailable');
    repo.fail(false);
    // The first, the 4 counted here meanwhile, and this one (the refused request was not served).
    expect((await a.increment(k)).totalHits).to.equal(6);
    expect(await storedHits(k)).to.equal(6);
  });

  it('does not take a quiet view for a young one when the wall clock steps back: the next burst reads the store, and the limit holds', async () => {
    const LIMIT = 12;
    let stepMs = 0;
    const [a, b] = [limiter(counted().wrapped, () => Date.now() + stepMs), limiter(counted().wrapped)];
    const k = key();
    const admitted = async (store: SharedRateLimitStore, n: number) => {
      let ok = 0;
      for (let i = 0; i < n; i += 1) if ((await store.increment(k)).totalHits <= LIMIT) ok += 1;
      return ok;
    };
    const first = await admitted(a, 1);
    await settle();
    const second = await admitted(b, 20);
    await settle();
    await settle();
    // a's view is older than the interval; its wall clock steps back 5 s (an NTP step).
    stepMs = -5_000;
    const third = await admitted(a, 20);
    expect(first + second + third, `admitted ${first} + ${second} + ${third}`).to.equal(LIMIT);
    await Promise.all([a.close(), b.close()]);
  });

  it('tries a refused synchronisation again: the hits counted here reach the store once it answers, though the key gets no more hits here', async () => {
    const LIMIT = 12;
    const flaky = counted();
    const [a, b] = [limiter(flaky.wrapped), limiter(counted().wrapped)];
    const k = key();
    let admitted = 0;
    // a: the window's first hit in the store, then 7 counted here within the interval.
    for (let i = 0; i < 8; i += 1) if ((await a.increment(k)).totalHits <= LIMIT) admitted += 1;
    flaky.fail(true);
    await settle();
    flaky.fail(false);
    await new Promise((resolve) => setTimeout(resolve, 20 * SYNC_MS));
    for (let i = 0; i < 20; i += 1) if ((await b.increment(k)).totalHits <= LIMIT) admitted += 1;
    expect(admitted, 'a counted 8, b no more than the rest of the limit').to.equal(LIMIT);
    await Promise.all([a.close(), b.close()]);
    expect(await storedHits(k)).to.equal(28);
  });

  it("does not carry the hits of an ended window into the next", async () => {
    let now = Date.now();
    const a = limiter(counted().wrapped, () => now);
    const k = key();
    for (let i = 0; i < 5; i += 1) await a.increment(k);
    now += WINDOW_MS;
    await settle();
    expect((await a.increment(k)).totalHits).to.equal(1);
  });

  it('adds the pending hits at close, and schedules nothing after it', async () => {
    const repo = counted();
    const a = new SharedRateLimitStore(repo.wrapped, 'sync-test:', Date.now, 3_600_000);
    a.init({ windowMs: WINDOW_MS } as Options);
    const k = key();
    for (let i = 0; i < 5; i += 1) await a.increment(k);
    expect(repo.calls, 'only the first hit reached the store before close').to.deep.equal([1]);
    await a.close();
    expect(repo.calls).to.deep.equal([1, 4]);
    expect(await storedHits(k)).to.equal(5);
    await a.increment(k);
    await settle();
    expect(repo.calls, 'a hit after close is not scheduled for a store that is closing').to.deep.equal([1, 4]);
  });

  describe('with more distinct keys than windows it may keep', () => {
    const BOUND = 50;

    it('refuses each of 200 keys exactly at its limit, counting those past the bound in the store, and never keeps more than the bound', async () => {
      const LIMIT = 3;
      const a = limiter(counted().wrapped, Date.now, BOUND);
      const keys = Array.from({ length: 200 }, () => key());
      const admitted = new Map(keys.map((k) => [k, 0]));
      let largest = 0;
      // Five rounds; in each, every key's hit at once (the first round opens 200 windows together).
      for (let round = 0; round < LIMIT + 2; round += 1) {
        await Promise.all(
          keys.map(async (k) => {
            if ((await a.increment(k)).totalHits <= LIMIT) admitted.set(k, admitted.get(k)! + 1);
            largest = Math.max(largest, a.localWindows);
          }),
        );
      }
      expect([...admitted.values()].filter((n) => n !== LIMIT), 'keys admitted other than exactly the limit').to.deep.equal([]);
      expect(largest, 'windows kept at most').to.equal(BOUND);
      await a.close();
      for (const k of [keys[0], keys[199]]) expect(await storedHits(k), `${k} in the store`).to.equal(LIMIT + 2);
    });

    it('drops windows that ended to make room, and keeps none that still count', async () => {
      let now = Date.now();
      const repo = counted();
      const a = limiter(repo.wrapped, () => now, BOUND);
      const hitTwice = async (k: string) => {
        const before = repo.calls.length;
        await a.increment(k);
        await a.increment(k);
        return repo.calls.length - before;
      };
      const first = Array.from({ length: BOUND }, () => key());
      for (const k of first) await a.increment(k);
      expect(await hitTwice(key()), 'a key past the bound: both hits in the store').to.equal(2);
      now += WINDOW_MS;
      expect(await hitTwice(key()), 'the windows ended: room for a new key, its second hit counted here').to.equal(1);
      expect(a.localWindows).to.be.at.most(BOUND);
      await a.close();
    });
  });
});
