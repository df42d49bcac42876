import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { RecentClients } from '../../../src/pipeline/auth/index.js';
import type { ClientRecord, Store } from '../../../src/store/index.js';
import { forEachBackend, storedClient } from '../../support/databases.js';

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

/** The store's own account grants, with their reads counted. */
function countedGrants(store: Store) {
  const reads: string[] = [];
  return {
    reads,
    isGranted: (clientId: string, accountNumber: string) => {
      reads.push(accountNumber);
      return store.accountGrants.isGranted(clientId, accountNumber);
    },
  };
}

forEachBackend('Client rows reused for at most the staleness bound', (ctx) => {
  let now = 1_000_000;
  const clock = () => now;

  const newClient = () => storedClient(ctx.store(), now);

  it('reads a row once per interval, however many requests ask, and again once it is as old as the bound', async () => {
    const id = await newClient();
    const store = counted((x) => ctx.store().clients.findById(x));
    const recent = new RecentClients({ clients: store, accountGrants: ctx.store().accountGrants }, 1_000, clock);
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

  it('reads the row again when the clock its ages are measured on goes back: a negative age is not young', async () => {
    const id = await newClient();
    const store = counted((x) => ctx.store().clients.findById(x));
    const recent = new RecentClients({ clients: store, accountGrants: ctx.store().accountGrants }, 1_000, clock);
    await recent.findById(id);
    await ctx.store().clients.setStatus(id, 'disabled', now);
    now -= 3_600_000;
    expect((await recent.findById(id))?.status, 'a row read "in the future" is not kept').to.equal('disabled');
    expect(store.reads).to.have.length(2);
    now += 3_600_000;
  });

  it('never keeps an unknown id or a failed read: the next request asks the store again', async () => {
    const store = counted((x) => ctx.store().clients.findById(x));
    const recent = new RecentClients({ clients: store, accountGrants: ctx.store().accountGrants }, 1_000, clock);
    expect(await recent.findById('gbc_nobody')).to.equal(null);
    expect(await recent.findById('gbc_nobody')).to.equal(null);
    expect(store.reads).to.have.length(2);

    const id = await newClient();
    let fail = true;
    const flaky = counted(async (x) => {
      if (fail) throw new Error('store unavailable');
      return ctx.store().clients.findById(x);
    });
    const afterFailure = new RecentClients({ clients: flaky, accountGrants: ctx.store().accountGrants }, 1_000, clock);
    let failed: unknown = null;
    await afterFailure.findById(id).catch((error: unknown) => (failed = error));
    expect(failed).to.be.an('error');
    fail = false;
    expect((await afterFailure.findById(id))?.id).to.equal(id);
    expect(flaky.reads).to.have.length(2);
  });

  it('keeps a row under its exact id: the id padded with a space, or in other case, is another id and reads the store (no client)', async () => {
    const id = await newClient();
    const store = counted((x) => ctx.store().clients.findById(x));
    const recent = new RecentClients({ clients: store, accountGrants: ctx.store().accountGrants }, 1_000, clock);
    expect((await recent.findById(id))?.id).to.equal(id);
    // MariaDB's PAD SPACE collation and a case-insensitive one match these in SQL; the cache must not.
    for (const other of [`${id} `, ` ${id}`, id.toUpperCase()]) expect(await recent.findById(other), JSON.stringify(other)).to.equal(null);
    expect(store.reads).to.deep.equal([id, `${id} `, ` ${id}`, id.toUpperCase()]);
  });

  it('reads the store on every request with a bound of 0', async () => {
    const id = await newClient();
    const store = counted((x) => ctx.store().clients.findById(x));
    const recent = new RecentClients({ clients: store, accountGrants: ctx.store().accountGrants }, 0, clock);
    await recent.findById(id);
    await recent.findById(id);
    expect(store.reads).to.have.length(2);
  });

  describe('account grants', () => {
    const account = '0201245680';

    it('reads a grant once per interval and refuses a revoked one once the read is as old as the bound', async () => {
      const id = await newClient();
      await ctx.store().accountGrants.grant(id, account, now);
      const grants = countedGrants(ctx.store());
      const recent = new RecentClients({ clients: ctx.store().clients, accountGrants: grants }, 1_000, clock);
      const answers = await Promise.all(Array.from({ length: 20 }, () => recent.isGranted(id, account)));
      expect(answers.every((granted) => granted)).to.equal(true);
      await ctx.store().accountGrants.revoke(id, account);
      now += 999;
      expect(await recent.isGranted(id, account), 'reused within the bound').to.equal(true);
      expect(grants.reads).to.have.length(1);
      now += 1;
      expect(await recent.isGranted(id, account), 'read again once as old as the bound').to.equal(false);
      expect(grants.reads).to.have.length(2);
    });

    it('never keeps an account that is not granted: a grant made is honoured at once', async () => {
      const id = await newClient();
      const grants = countedGrants(ctx.store());
      const recent = new RecentClients({ clients: ctx.store().clients, accountGrants: grants }, 1_000, clock);
      expect(await recent.isGranted(id, account)).to.equal(false);
      await ctx.store().accountGrants.grant(id, account, now);
      expect(await recent.isGranted(id, account)).to.equal(true);
      expect(grants.reads).to.have.length(2);
    });

    it('keeps no grant whose row fails its MAC: each request is refused by the store again', async () => {
      const id = await newClient();
      await ctx.store().accountGrants.grant(id, '0201245681', now);
      // An attacker with SQL access and no keys copies a genuine row's MAC onto a grant of their own.
      const digest = createHash('sha256').update(`${id}:${account}`).digest('hex');
      await ctx.store().db.execute(
        "INSERT INTO client_account_grants (client_id, account_digest, account_masked, granted_at, mac_key_id, mac) SELECT client_id, ?, '******5680', granted_at, mac_key_id, mac FROM client_account_grants WHERE client_id = ?",
        [digest, id],
      );
      const grants = countedGrants(ctx.store());
      const recent = new RecentClients({ clients: ctx.store().clients, accountGrants: grants }, 1_000, clock);
      for (let i = 0; i < 2; i += 1) {
        const refused = await recent.isGranted(id, account).then(
          () => null,
          (error: unknown) => error,
        );
        expect((refused as { code?: string } | null)?.code).to.equal('AUDIT_INTEGRITY');
      }
      expect(grants.reads).to.have.length(2);
    });
  });
});
