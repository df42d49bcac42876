import { expect } from 'chai';
import { RecentClients } from '../../../src/pipeline/auth/index.js';
import type { ClientRecord } from '../../../src/store/index.js';
import { forEachBackend } from '../../support/databases.js';

/** The store's own client repository, with its reads counted (the store itself is real). */
function counted(findById: (id: string) => Promise<ClientRecord | null>) {
  const reads: string[] = [];
  return {
    reads,
    findById: (id: string) => {
      reads.push(id);
      return findById(id);
    },
  };
}

forEachBackend('Client rows reused for at most the staleness bound', (ctx) => {
  let now = 1_000_000;
  const clock = () => now;

  async function newClient(): Promise<string> {
    const id = `gbc_${Math.random().toString(36).slice(2, 10)}`;
    await ctx.store().clients.create({ id, name: id, secretHash: 'x', allowedOrigins: [], allowedCidrs: ['127.0.0.0/8'] }, now);
    return id;
  }

  it('reads a row once per interval, however many requests ask, and again once it is as old as the bound', async () => {
    const id = await newClient();
    const store = counted((x) => ctx.store().clients.findById(x));
    const recent = new RecentClients(store, 1_000, clock);
    const answers = await Promise.all(Array.from({ length: 20 }, () => recent.findById(id)));
    expect(answers.every((c) => c?.id === id)).to.equal(true);
    now += 999;
    expect((await recent.findById(id))?.status).to.equal('active');
    expect(store.reads).to.have.length(1);

    await ctx.store().clients.setStatus(id, 'disabled', now);
    now += 1;
    expect((await recent.findById(id))?.status, 'a row as old as the bound is read again').to.equal('disabled');
    expect(store.reads).to.have.length(2);
  });

  it('never keeps an unknown id or a failed read: the next request asks the store again', async () => {
    const store = counted((x) => ctx.store().clients.findById(x));
    const recent = new RecentClients(store, 1_000, clock);
    expect(await recent.findById('gbc_nobody')).to.equal(null);
    expect(await recent.findById('gbc_nobody')).to.equal(null);
    expect(store.reads).to.have.length(2);

    const id = await newClient();
    let fail = true;
    const flaky = counted(async (x) => {
      if (fail) throw new Error('store unavailable');
      return ctx.store().clients.findById(x);
    });
    const afterFailure = new RecentClients(flaky, 1_000, clock);
    let failed: unknown = null;
    await afterFailure.findById(id).catch((error: unknown) => (failed = error));
    expect(failed).to.be.an('error');
    fail = false;
    expect((await afterFailure.findById(id))?.id).to.equal(id);
    expect(flaky.reads).to.have.length(2);
  });

  it('reads the store on every request with a bound of 0', async () => {
    const id = await newClient();
    const store = counted((x) => ctx.store().clients.findById(x));
    const recent = new RecentClients(store, 0, clock);
    await recent.findById(id);
    await recent.findById(id);
    expect(store.reads).to.have.length(2);
  });
});
