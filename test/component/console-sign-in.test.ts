import { expect } from 'chai';
import { verifySecret } from '../../src/security/index.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';

/**
 * Console sign-in under attack: a flood from one address, a guesser locking a user out, and the
 * admin's way back (unlock, reset password). Each attacker and user has its own loopback address.
 */
forEachBackend('Finance console sign-in throttling and lockout', (db) => {
  let con: TestConsole;
  let admin: ConsoleClient;

  before(async () => {
    con = await TestConsole.start(db.url(), {
      GERBANG_LOG_LEVEL: 'silent',
      GERBANG_LOGIN_MAX_FAILURES: '3',
      GERBANG_CONSOLE_USER_MAX_FAILURES: '4',
      GERBANG_CONSOLE_SIGN_IN_PER_IP: '5',
    });
    const boss = await con.createUser('rina.admin', 'admin');
    admin = new ConsoleClient(con.origin, '127.0.0.30');
    expect((await admin.signIn(boss.username, boss.password)).status).to.equal(303);
    await admin.get('/console/admin');
  });
  after(() => con.close());

  const from = (address: string) => new ConsoleClient(con.origin, address);

  describe('a burst of sign-ins from one address', () => {
    it('is counted before any password is hashed: past the limit every attempt is refused at once, the right password too', async () => {
      const victim = await con.createUser('budi.burst', 'viewer');
      const attacker = from('127.0.0.21');
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => attacker.signIn(`nobody-${i}`, 'guess-guess-guess')));
      const statuses = answers.map((a) => a.status);
      // Exactly the allowance reached the password check, however many arrived at once.
      expect(statuses.filter((s) => s === 401)).to.have.length(5);
      expect(statuses.filter((s) => s === 429)).to.have.length(35);
      const throttled = answers.find((a) => a.status === 429)!;
      expect(Number(throttled.headers['retry-after'])).to.be.within(1, 60);
      expect(throttled.text).to.contain('Terlalu banyak percobaan masuk dari alamat ini');
      // The right password from that address is not even looked at; from another it is.
      expect((await attacker.signIn(victim.username, victim.password)).status).to.equal(429);
      expect((await from('127.0.0.22').signIn(victim.username, victim.password)).status).to.equal(303);
      const audited = await con.store.consoleAudit.list({ username: victim.username, action: 'sign_in_failed' });
      expect(audited.map((a) => a.detail)).to.deep.equal(['throttled: too many attempts from this address']);
    });
  });

  describe('a guesser at one address', () => {
    it('locks the user out at that address only: the user still signs in from their own', async () => {
      const victim = await con.createUser('sari.victim', 'admin');
      const attacker = from('127.0.0.23');
      for (let i = 0; i < 3; i += 1) await attacker.signIn(victim.username, `wrong-${i}-password`);
      const locked = await attacker.signIn(victim.username, victim.password);
      expect(locked.status).to.equal(429);
      expect(locked.text).to.contain('Akun terkunci');
      expect((await from('127.0.0.24').signIn(victim.username, victim.password)).status, 'from the user\'s own address').to.equal(303);
    });

    it('keeps the user-wide lock for many addresses together, which the admin lifts from the admin page', async () => {
      const victim = await con.createUser('tono.target', 'viewer');
      for (const address of ['127.0.0.25', '127.0.0.25', '127.0.0.26', '127.0.0.26']) await from(address).signIn(victim.username, 'wrong-password-x');
      const own = from('127.0.0.27');
      expect((await own.signIn(victim.username, victim.password)).status, 'locked for everyone after 4 failures').to.equal(429);
      const id = await userId(victim.username);
      expect((await admin.post(`/console/admin/users/${id}/unlock`, { _csrf: admin.csrf })).status).to.equal(303);
      const unlocked = await admin.get('/console/admin');
      expect(unlocked.text).to.contain('Kunci pengguna dibuka');
      expect((await own.signIn(victim.username, victim.password)).status).to.equal(303);
      const [entry] = await con.store.consoleAudit.list({ username: 'rina.admin', action: 'admin_user_unlock' });
      expect(entry.target).to.equal(`user:${victim.username}`);
    });
  });

  describe('the admin resets a password', () => {
    it('stores only the new hash, ends the user\'s sessions, and names a too-short password', async () => {
      const user = await con.createUser('wati.forgot', 'auditor');
      const session = from('127.0.0.28');
      expect((await session.signIn(user.username, user.password)).status).to.equal(303);
      const id = await userId(user.username);
      const short = await admin.post(`/console/admin/users/${id}/password`, { _csrf: admin.csrf, password: 'short' });
      expect(short.status).to.equal(400);
      expect(short.text).to.contain('data-field="password"');
      const reset = await admin.post(`/console/admin/users/${id}/password`, { _csrf: admin.csrf, password: 'a-new-long-password-2026' });
      expect(reset.status).to.equal(303);
      const stored = (await con.store.consoleUsers.findByUsername(user.username))!;
      expect(await verifySecret('a-new-long-password-2026', stored.passwordHash)).to.equal(true);
      expect((await session.get('/console/payments')).location, 'the old session ended').to.equal('/console/sign-in');
      expect((await from('127.0.0.29').signIn(user.username, user.password)).status, 'the old password').to.equal(401);
      expect((await from('127.0.0.29').signIn(user.username, 'a-new-long-password-2026')).status).to.equal(303);
      expect(reset.text).to.not.contain('a-new-long-password-2026');
      expect((await admin.get('/console/admin')).text).to.not.contain('a-new-long-password-2026');
    });
  });

  async function userId(username: string): Promise<number> {
    return (await con.store.consoleUsers.findByUsername(username))!.id;
  }
});
