import { expect } from 'chai';
import { recentEndpoints, type OutboxStore } from '../../../src/domain/callbacks/index.js';
import { RecentReads, type Store } from '../../../src/store/index.js';
import { forEachBackend, storedClient } from '../../support/databases.js';

/** The store's own callback repository, with its endpoint reads counted (the store itself is real). */
function counted(store: Store): OutboxStore & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    endpointOf: (clientId) => {
      reads.push(clientId);
      return store.callbacks.endpointOf(clientId);
    },
    enqueue: (delivery, now) => store.callbacks.enqueue(delivery, now),
  };
}

forEachBackend('Callback endpoints reused by the outbox for at most the staleness bound', (ctx) => {
  let now = 1_000_000;
  const clock = () => now;

  const newClient = () => storedClient(ctx.store(), now);

  it('reads a client without an endpoint once per interval, and uses one registered once the read is as old as the bound', async () => {
    const id = await newClient();
    const store = counted(ctx.store());
    const outbox = recentEndpoints(store, new RecentReads(1_000, clock));
    const answers = await Promise.all(Array.from({ length: 20 }, () => outbox.endpointOf(id)));
    expect(answers.every((url) => url === null)).to.equal(true);
    // Registered by the CLI (another process): this one sees it once its read is as old as the bound.
    await ctx.store().callbacks.setEndpoint(id, 'https://erp.example/callbacks', now);
    now += 999;
    expect(await outbox.endpointOf(id), 'reused within the bound').to.equal(null);
    expect(store.reads).to.have.length(1);
    now += 1;
    expect(await outbox.endpointOf(id)).to.equal('https://erp.example/callbacks');
    await ctx.store().callbacks.setEndpoint(id, null, now);
    now += 1_000;
    expect(await outbox.endpointOf(id), 'a removed endpoint is gone once the read is as old as the bound').to.equal(null);
    expect(store.reads).to.have.length(3);
  });

  it('keeps no endpoint whose row fails its MAC: each final transfer is refused by the store again', async () => {
    const id = await newClient();
    await ctx.store().callbacks.setEndpoint(id, 'https://erp.example/callbacks', now);
    // An attacker with SQL access and no keys points the endpoint at their own server.
    await ctx.store().db.execute('UPDATE client_callbacks SET url = ? WHERE client_id = ?', ['https://evil.example/', id]);
    const store = counted(ctx.store());
    const outbox = recentEndpoints(store, new RecentReads(1_000, clock));
    for (let i = 0; i < 2; i += 1) {
      const refused = await outbox.endpointOf(id).then(
        () => null,
        (error: unknown) => error,
      );
      expect((refused as { code?: string } | null)?.code).to.equal('AUDIT_INTEGRITY');
    }
    expect(store.reads).to.have.length(2);
  });

  it('reads the store for every final transfer with a bound of 0', async () => {
    const id = await newClient();
    const store = counted(ctx.store());
    const outbox = recentEndpoints(store, new RecentReads(0, clock));
    await outbox.endpointOf(id);
    await outbox.endpointOf(id);
    expect(store.reads).to.have.length(2);
  });
});
