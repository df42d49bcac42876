import { expect } from 'chai';
import { verifySecret } from '../../src/security/index.js';
import { runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';

forEachBackend('gerbang user', (db) => {
  it('creates a console user from a password on stdin, storing only its scrypt hash', async () => {
    const env = { GERBANG_DATABASE_URL: db.url() };
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

  it('names the role and the password when they are not acceptable, exit 1, and creates nobody', async () => {
    const env = { GERBANG_DATABASE_URL: db.url() };
    const result = await runCli(['user', 'create', '--username', 'bad.user', '--role', 'boss', '--password-stdin'], env, 'short');
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('role must be one of viewer, auditor, admin').and.to.contain('password must be at least 12 characters');
    expect(await db.store().consoleUsers.findByUsername('bad.user')).to.equal(null);
  });

  it('refuses a taken username', async () => {
    const env = { GERBANG_DATABASE_URL: db.url() };
    await runCli(['user', 'create', '--username', 'twice', '--role', 'viewer', '--password-stdin'], env, 'first-password-long');
    const again = await runCli(['user', 'create', '--username', 'twice', '--role', 'viewer', '--password-stdin'], env, 'second-password-long');
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('already taken');
  });

  it('asks for --password-stdin when there is no terminal to prompt on, exit 2', async () => {
    const result = await runCli(['user', 'create', '--username', 'nopw', '--role', 'viewer'], { GERBANG_DATABASE_URL: db.url() });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--password-stdin');
  });
});
