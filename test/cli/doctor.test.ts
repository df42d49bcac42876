import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/processes.js';
import { startTestBank, type TestBank } from '../support/test-bank.js';
import { TEST_AUDIT_KEY, testKeySpec } from '../support/audit-keys.js';
import { pm2With } from '../support/pm2.js';

/** The report line of one check: `ok|FAIL  <name>  <detail>`. */
function line(stdout: string, name: string): string {
  const found = stdout.split('\n').find((l) => new RegExp(`^(ok  |FAIL)  ${name.replace(/ /g, ' ')}\\s{2}`).test(l));
  if (!found) throw new Error(`no "${name}" line in:\n${stdout}`);
  return found;
}

describe('gerbang doctor', function () {
  this.timeout(60_000);
  let bank: TestBank;
  let database: Awaited<ReturnType<typeof createMariaDbDatabase>>;
  let env: Record<string, string>;

  before(async function () {
    database = await createMariaDbDatabase(this);
    bank = await startTestBank(['127.0.0.1']);
    env = {
      GERBANG_DATABASE_URL: database.url,
      GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
      GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
      // A PM2 home of its own, where no daemon runs (not the user's ~/.pm2).
      PM2_HOME: mkdtempSync(join(tmpdir(), 'gerbang-doctor-pm2-')),
      ...bank.env(),
    };
    const migrated = await runCli(['migrate'], env);
    expect(migrated.code, migrated.stderr).to.equal(0);
  });
  after(async () => {
    await bank?.simulator.close();
    await database?.drop();
  });

  describe('on a healthy installation (MariaDB migrated, the bank answering)', () => {
    it('reports every check ok, with the source address bank calls use, and exits 0', async () => {
      const result = await runCli(['doctor'], env);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      for (const name of ['configuration', 'store', 'migrations', 'keys', 'signing keys', 'bank', 'bank bca token', 'source address bca', 'pm2 daemon']) expect(line(result.stdout, name)).to.match(/^ok /);
      expect(line(result.stdout, 'pm2 daemon')).to.contain(`no PM2 daemon running for ${env.PM2_HOME}`);
      expect(line(result.stdout, 'source address bca')).to.match(/^ok\s+source address bca\s+127\.0\.0\.1 to 127\.0\.0\.1:\d+/);
      expect(result.stdout).to.contain('every check passed');
      const tokenCalls = bank.simulator.calls.filter((call) => call.path === '/api/oauth/token' && call.status === 200);
      expect(tokenCalls.length, 'the bank issued a token to the doctor').to.be.at.least(1);
    });

    it('prints no secret', async () => {
      const result = await runCli(['doctor'], env);
      for (const secret of [env.GERBANG_JWT_SECRET, env.GERBANG_BCA_CLIENT_SECRET, env.GERBANG_BCA_API_SECRET, env.GERBANG_BCA_API_KEY]) {
        expect(result.stdout + result.stderr).to.not.contain(secret);
      }
    });
  });

  describe("when a client's signing key is sealed with an audit key no longer configured", () => {
    it('names the client under the signing keys check, without the key, and exits non-zero', async () => {
      const created = await runCli(['client', 'create', '--name', 'signer', '--cidr', '127.0.0.1/32', '--json'], env);
      const { clientId } = JSON.parse(created.stdout) as { clientId: string };
      const gone = testKeySpec('k-gone');
      // Sealed (and the client's MAC made) with k-gone, then k-gone is dropped from the configuration.
      const enabled = await runCli(['client', 'enable-signing', '--id', clientId, '--json'], { ...env, GERBANG_AUDIT_KEYS: `${env.GERBANG_AUDIT_KEYS},${gone}` });
      const { signingKey } = JSON.parse(enabled.stdout) as { signingKey: string };
      try {
        const result = await runCli(['doctor'], env);
        expect(result.code).to.equal(1);
        expect(line(result.stdout, 'signing keys')).to.match(new RegExp(`^FAIL\\s+signing keys\\s+client ${clientId}: .*k-gone.*listed again.*keys rotate`));
        expect(result.stdout + result.stderr).to.not.contain(signingKey);
        // Listed again, older than the newest, then rotated: the client is under the newest key.
        const fixed = await runCli(['keys', 'rotate'], { ...env, GERBANG_AUDIT_KEYS: `${gone},${env.GERBANG_AUDIT_KEYS}` });
        expect(fixed.code, fixed.stderr).to.equal(0);
        expect(line((await runCli(['doctor'], env)).stdout, 'signing keys')).to.match(/^ok\s+signing keys\s+1 client request-signing key\(s\) open/);
      } finally {
        await runCli(['client', 'disable', '--id', clientId], env);
        await runCli(['client', 'disable-signing', '--id', clientId], env);
      }
    });
  });

  describe('when the database URL is broken', () => {
    it('names the store check as failed and exits non-zero', async () => {
      const port = await freePort();
      const result = await runCli(['doctor'], { ...env, GERBANG_DATABASE_URL: `mysql://root@127.0.0.1:${port}/gerbang` });
      expect(result.code).to.equal(1);
      expect(line(result.stdout, 'store')).to.match(/^FAIL\s+store\s+GERBANG_DATABASE_URL .*ECONNREFUSED/);
      expect(result.stderr).to.match(/failed: store/);
      // The other checks still ran: the bank is fine.
      expect(line(result.stdout, 'bank bca token')).to.match(/^ok /);
    });
  });

  describe('when the bank refuses the key', () => {
    it('names the bank token check with the bank\'s answer and exits non-zero', async () => {
      const result = await runCli(['doctor'], { ...env, GERBANG_BCA_CLIENT_SECRET: `${bank.partner.clientSecret}-wrong` });
      expect(result.code).to.equal(1);
      expect(line(result.stdout, 'bank bca token')).to.match(/^FAIL\s+bank bca token\s+.*The bank refused the token request/);
      expect(result.stderr).to.match(/failed: bank bca token$/m);
      expect(line(result.stdout, 'store')).to.match(/^ok /);
    });
  });

  describe('when a setting is invalid', () => {
    it('names the variable under the configuration check and exits non-zero', async () => {
      const result = await runCli(['doctor'], { ...env, GERBANG_BANK_CONNECT_TIMEOUT_MS: 'soon' });
      expect(result.code).to.equal(1);
      expect(line(result.stdout, 'configuration')).to.match(/^FAIL\s+configuration\s+GERBANG_BANK_CONNECT_TIMEOUT_MS/);
    });
  });

  describe("when PM2's daemon was started without NODE_CLUSTER_SCHED_POLICY=none", () => {
    const home = mkdtempSync(join(tmpdir(), 'gerbang-doctor-pm2-'));
    const shell: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: home };
    delete shell.NODE_CLUSTER_SCHED_POLICY;
    after(async () => {
      await pm2With(shell)('kill').catch(() => undefined);
    });

    it('names the daemon and the command that restarts it with the setting, exits non-zero, and passes once that command has run', async () => {
      await pm2With(shell)('ping'); // starts the daemon, as any pm2 command does
      const daemon = Number(readFileSync(join(home, 'pm2.pid'), 'utf8'));
      const result = await runCli(['doctor'], { ...env, PM2_HOME: home });
      expect(result.code).to.equal(1);
      expect(line(result.stdout, 'pm2 daemon')).to.match(new RegExp(`^FAIL\\s+pm2 daemon\\s+PM2's daemon \\(pid ${daemon}, .*was started without NODE_CLUSTER_SCHED_POLICY=none`));
      expect(line(result.stdout, 'pm2 daemon')).to.contain('`NODE_CLUSTER_SCHED_POLICY=none pm2 update`');
      expect(result.stderr).to.match(/failed: pm2 daemon$/m);

      // The remedy the report names, run as the operator would.
      await pm2With({ ...shell, NODE_CLUSTER_SCHED_POLICY: 'none' })('update');
      const restarted = Number(readFileSync(join(home, 'pm2.pid'), 'utf8'));
      expect(restarted).to.not.equal(daemon);
      const fixed = await runCli(['doctor'], { ...env, PM2_HOME: home });
      expect(fixed.code, fixed.stdout + fixed.stderr).to.equal(0);
      expect(line(fixed.stdout, 'pm2 daemon')).to.match(new RegExp(`^ok\\s+pm2 daemon\\s+PM2's daemon \\(pid ${restarted}, ${home}\\) runs with NODE_CLUSTER_SCHED_POLICY=none`));
    });
  });

  describe('in sandbox mode (no bank configured)', () => {
    it('checks the built-in simulator\'s token and exits 0', async () => {
      const sqlite = createSqliteDatabase();
      try {
        const result = await runCli(['doctor'], { GERBANG_DATABASE_URL: sqlite.url, GERBANG_JWT_SECRET: randomBytes(32).toString('hex'), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, PM2_HOME: env.PM2_HOME });
        expect(result.code, result.stdout + result.stderr).to.equal(0);
        expect(line(result.stdout, 'configuration')).to.contain('SANDBOX');
        expect(line(result.stdout, 'bank bca token')).to.match(/^ok .*the bank issued a token/);
      } finally {
        await sqlite.drop();
      }
    });
  });
});
