import { expect } from 'chai';
import { verifySecret } from '../../src/security/index.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';

forEachBackend('gerbang user', (db) => {
  it('creates a console user from a password on stdin, storing only its scrypt hash', async () => {
    const env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY };
    const result = await runCli(['user', 'create', '--username', 'sari.finance', '--role', 'auditor', '--password-stdin'], env, 'correct horse battery\n');
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('sari.finance (auditor)');
    const user = (await db.store().consoleUsers.findByUsername('sari.finance'))!;
    expect(user.role).to.equal('auditor');
    expect(user.passwordHash).to.match(/^scrypt\$/);
    expect(await verifySecret('correct horse battery', user.passwordHash)).to.equal(true);
    const listed = await runCli(['user', 'list'], env);
    expect(listed.stdout).to.match(/sari\.finance +auditor +active/);
  });

  it('lists a user whose role was raised in SQL with what was found on stderr, exit 1', async () => {
    const env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY };
    expect((await runCli(['user', 'create', '--username', 'raised.viewer', '--role', 'viewer', '--password-stdin'], env, 'a-long-enough-password')).code).to.equal(0);
    await db.store().db.execute("UPDATE console_users SET role = 'admin' WHERE username = 'raised.viewer'");
    const listed = await runCli(['user', 'list'], env);
    expect(listed.code).to.equal(1);
    expect(listed.stderr).to.contain('console user raised.viewer was changed outside Gerbang').and.to.contain('console_users id').and.to.contain('was altered');
  });

  it('names the role and the password when they are not acceptable, exit 1, and creates nobody', async () => {
    const env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY };
    const result = await runCli(['user', 'create', '--username', 'bad.user', '--role', 'boss', '--password-stdin'], env, 'short');
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('role must be one of viewer, auditor, admin').and.to.contain('password must be at least 12 characters');
    expect(await db.store().consoleUsers.findByUsername('bad.user')).to.equal(null);
  });

  it('refuses a taken username', async () => {
    const env = { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY };
    await runCli(['user', 'create', '--username', 'twice', '--role', 'viewer', '--password-stdin'], env, 'first-password-long');
    const again = await runCli(['user', 'create', '--username', 'twice', '--role', 'viewer', '--password-stdin'], env, 'second-password-long');
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('already taken');
  });

  it('creates a user only with the audit keys (each user is signed with them), naming the setting otherwise, exit 2', async () => {
    const result = await runCli(['user', 'create', '--username', 'nokeys', '--role', 'viewer', '--password-stdin'], { GERBANG_DATABASE_URL: db.url() }, 'a-long-enough-password');
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('GERBANG_AUDIT_KEYS');
    expect((await db.store().db.query('SELECT id FROM console_users WHERE username = ?', ['nokeys']))).to.have.length(0);
  });

  it('asks for --password-stdin when there is no terminal to prompt on, exit 2', async () => {
    const result = await runCli(['user', 'create', '--username', 'nopw', '--role', 'viewer'], { GERBANG_DATABASE_URL: db.url() });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--password-stdin');
  });

  describe('unlock and reset-password', () => {
    let con: TestConsole;
    before(async () => {
      con = await TestConsole.start(db.url(), { GERBANG_LOG_LEVEL: 'silent', GERBANG_LOGIN_MAX_FAILURES: '2', GERBANG_CONSOLE_USER_MAX_FAILURES: '3' });
    });
    after(() => con.close());
    const from = (address: string) => new ConsoleClient(con.origin, address);

    it('unlock lifts a user\'s lockouts from every address and overall, and is written to the console audit', async () => {
      const user = await con.createUser('lina.locked', 'admin');
      for (const address of ['127.0.0.41', '127.0.0.41', '127.0.0.42']) await from(address).signIn(user.username, 'not-the-password');
      expect((await from('127.0.0.41').signIn(user.username, user.password)).status, 'locked at .41').to.equal(429);
      expect((await from('127.0.0.43').signIn(user.username, user.password)).status, 'locked overall').to.equal(429);
      const result = await runCli(['user', 'unlock', '--username', user.username], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.contain(`Console user unlocked: ${user.username}`);
      expect((await from('127.0.0.41').signIn(user.username, user.password)).status).to.equal(303);
      const [entry] = await con.store.consoleAudit.list({ action: 'admin_user_unlock' });
      expect(entry).to.include({ username: '(cli)', target: `user:${user.username}` });
    });

    it('reset-password sets a new password from stdin, ends the user\'s sessions and unlocks them', async () => {
      const user = await con.createUser('rudi.reset', 'viewer');
      const session = from('127.0.0.44');
      expect((await session.signIn(user.username, user.password)).status).to.equal(303);
      for (let i = 0; i < 2; i += 1) await from('127.0.0.45').signIn(user.username, 'not-the-password');
      const result = await runCli(['user', 'reset-password', '--username', user.username, '--password-stdin'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY }, 'brand-new-password-2026\n');
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.not.contain('brand-new-password-2026');
      expect((await session.get('/console/payments')).location, 'the old session ended').to.equal('/console/sign-in');
      expect((await from('127.0.0.45').signIn(user.username, user.password)).status, 'old password').to.equal(401);
      expect((await from('127.0.0.46').signIn(user.username, 'brand-new-password-2026')).status).to.equal(303);
    });

    it('names an unknown user (exit 1) and a too-short password (exit 1), changing nothing', async () => {
      const unknown = await runCli(['user', 'unlock', '--username', 'nobody.here'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.contain('no console user "nobody.here"');
      const user = await con.createUser('sinta.short', 'viewer');
      const short = await runCli(['user', 'reset-password', '--username', user.username, '--password-stdin'], { GERBANG_DATABASE_URL: db.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY }, 'short');
      expect(short.code).to.equal(1);
      expect(short.stderr).to.contain('password must be at least 12 characters');
      expect((await from('127.0.0.47').signIn(user.username, user.password)).status).to.equal(303);
    });
  });
});
