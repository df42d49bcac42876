import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { forEachBackend } from '../support/databases.js';

forEachBackend('Console sessions: the one-time flash', (ctx) => {
  async function newSession(): Promise<string> {
    const store = ctx.store();
    const { id } = await store.consoleUsers.create({ username: `u-${randomBytes(4).toString('hex')}`, passwordHash: 'x', role: 'admin' }, Date.now());
    const idHash = randomBytes(32).toString('hex');
    await store.consoleSessions.create({ idHash, userId: id, csrfToken: 'c'.repeat(43), createdAt: Date.now(), lastSeenAt: Date.now() });
    return idHash;
  }

  it('keeps a message sealed for the session and gives it once', async () => {
    const store = ctx.store();
    const idHash = await newSession();
    const other = await newSession();
    await store.consoleSessions.setFlash(idHash, 'admin', 'client_secret: s3cr3t-value');
    const [row] = await store.db.query<{ flash: string }>('SELECT flash FROM console_sessions WHERE id_hash = ?', [idHash]);
    expect(row.flash).to.match(/^gcm2\./).and.not.contain('s3cr3t-value');
    expect(await store.consoleSessions.takeFlash(other, 'admin')).to.equal(null);
    expect(await store.consoleSessions.takeFlash(idHash, 'admin')).to.equal('client_secret: s3cr3t-value');
    expect(await store.consoleSessions.takeFlash(idHash, 'admin')).to.equal(null);
  });

  it('gives a message to one of two requests racing for it', async () => {
    const store = ctx.store();
    const idHash = await newSession();
    await store.consoleSessions.setFlash(idHash, 'admin', 'once');
    const taken = await Promise.all([store.consoleSessions.takeFlash(idHash, 'admin'), store.consoleSessions.takeFlash(idHash, 'admin'), store.consoleSessions.takeFlash(idHash, 'admin')]);
    expect(taken.filter((t) => t === 'once')).to.have.length(1);
  });

  it('keeps each purpose its own message: a page takes only its own, the others wait for their pages', async () => {
    const store = ctx.store();
    const idHash = await newSession();
    await store.consoleSessions.setFlash(idHash, 'admin', 'client_secret: s3cr3t-value');
    await store.consoleSessions.setFlash(idHash, 'requeue', 'requeued');
    expect(await store.consoleSessions.takeFlash(idHash, 'requeue')).to.equal('requeued');
    expect(await store.consoleSessions.takeFlash(idHash, 'requeue'), 'taken once').to.equal(null);
    expect(await store.consoleSessions.takeFlash(idHash, 'admin'), 'the secret still waits for its page').to.equal('client_secret: s3cr3t-value');
    expect(await store.consoleSessions.takeFlash(idHash, 'admin')).to.equal(null);
    const [row] = await store.db.query<{ flash: string | null }>('SELECT flash FROM console_sessions WHERE id_hash = ?', [idHash]);
    expect(row.flash, 'nothing left').to.equal(null);
  });

  it('does not open a message moved to another session', async () => {
    const store = ctx.store();
    const from = await newSession();
    const to = await newSession();
    await store.consoleSessions.setFlash(from, 'admin', 'secret for one session');
    const [{ flash }] = await store.db.query<{ flash: string }>('SELECT flash FROM console_sessions WHERE id_hash = ?', [from]);
    await store.db.execute('UPDATE console_sessions SET flash = ? WHERE id_hash = ?', [flash, to]);
    let error: unknown = null;
    await store.consoleSessions.takeFlash(to, 'admin').catch((e: unknown) => (error = e));
    expect((error as { code?: string } | null)?.code).to.equal('AUDIT_INTEGRITY');
  });
});
