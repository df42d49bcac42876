import { expect } from 'chai';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cents, ConfigError, loadConfig, loadConsoleConfig } from '../../src/config/index.js';
import { testKeySpec } from '../support/audit-keys.js';
import { problemsOf } from '../support/config-problems.js';

const secret = 'x'.repeat(40);
const auditKey = testKeySpec('cfg');

describe('loadConfig', () => {
  describe('with only the token key, an audit key and GERBANG_SANDBOX=true', () => {
    it('runs in sandbox mode on the embedded store with documented defaults', () => {
      const config = loadConfig({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: auditKey, GERBANG_SANDBOX: 'true' });
      expect(config.bank.mode).to.equal('sandbox');
      expect(config.databaseUrl).to.equal('sqlite:var/gerbang.sqlite');
      expect(config.port).to.equal(8080);
      expect(config.jwt.ttlSeconds).to.equal(900);
      expect(config.trustProxy).to.deep.equal([]);
    });
  });

  describe('with a client-wide token lock one address alone could reach', () => {
    it('refuses to start, naming GERBANG_CLIENT_MAX_FAILURES and the per-address allowance', () => {
      const base = { GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: auditKey, GERBANG_SANDBOX: 'true' };
      expect(loadConfig(base).lockout).to.include({ maxFailures: 5, clientMaxFailures: 50 });
      const [equal] = problemsOf({ ...base, GERBANG_LOGIN_MAX_FAILURES: '5', GERBANG_CLIENT_MAX_FAILURES: '5' });
      expect(equal).to.match(/^GERBANG_CLIENT_MAX_FAILURES: 5 failures .* one address alone can make 5 \(GERBANG_LOGIN_MAX_FAILURES 5\); set it above 5$/);
      const short = { ...base, GERBANG_LOGIN_LOCKOUT_SECONDS: '60', GERBANG_LOGIN_FAILURE_WINDOW_SECONDS: '900', GERBANG_LOGIN_MAX_FAILURES: '3' };
      expect(problemsOf({ ...short, GERBANG_CLIENT_MAX_FAILURES: '6' })[0]).to.contain('can make 6');
      expect(loadConfig({ ...short, GERBANG_CLIENT_MAX_FAILURES: '7' }).lockout.clientMaxFailures).to.equal(7);
    });
  });

  describe('when a value is wrong', () => {
    it('names the variable, what is allowed and what it got', () => {
      const problems = problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: auditKey, GERBANG_SANDBOX: 'true', PORT: 'eighty' });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^PORT: "PORT" must be a number \(got "eighty"\)/);
    });

    it('reports every bad variable at once', () => {
      const problems = problemsOf({ PORT: '70000', GERBANG_DATABASE_URL: 'postgres://x', GERBANG_LOG_LEVEL: 'loud', GERBANG_SANDBOX: 'true' });
      expect(problems.map((p) => p.split(':')[0])).to.have.members(['PORT', 'GERBANG_DATABASE_URL', 'GERBANG_LOG_LEVEL', 'GERBANG_JWT_SECRET', 'GERBANG_AUDIT_KEYS']);
    });

    it('does not print a secret value it refuses', () => {
      const problems = problemsOf({ GERBANG_JWT_SECRET: 'too-short-secret', GERBANG_AUDIT_KEYS: auditKey });
      expect(problems[0]).to.match(/^GERBANG_JWT_SECRET/);
      expect(problems[0]).to.not.contain('too-short-secret');
    });
  });

  describe('when only some bank settings are given', () => {
    it('names the missing ones', () => {
      const problems = problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: auditKey, GERBANG_BCA_BASE_URL: 'https://devapi.klikbca.com' });
      expect(problems[0]).to.contain('GERBANG_BCA_CLIENT_ID');
      expect(problems[0]).to.contain('GERBANG_BCA_API_SECRET');
    });
  });

  describe('with every bank setting', () => {
    it('leaves sandbox mode', () => {
      const config = loadConfig({
        GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: auditKey,
        GERBANG_BCA_BASE_URL: 'https://devapi.klikbca.com',
        GERBANG_BCA_CLIENT_ID: 'id',
        GERBANG_BCA_CLIENT_SECRET: 's',
        GERBANG_BCA_API_KEY: 'k',
        GERBANG_BCA_API_SECRET: 'as',
        GERBANG_BCA_CORPORATE_ID: 'BCAAPI2016',
        GERBANG_BCA_ORIGIN: 'example.com',
      });
      expect(config.bank.mode).to.equal('live');
    });
  });

  describe('with GERBANG_CONFIG_FILE', () => {
    it('reads the file and lets the environment win', () => {
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-config-'));
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ PORT: 9000, GERBANG_TRUST_PROXY: ['127.0.0.1', '10.0.0.0/8'], GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: auditKey, GERBANG_SANDBOX: true }), { mode: 0o600 });
      const config = loadConfig({ GERBANG_CONFIG_FILE: file, PORT: '9100' });
      expect(config.port).to.equal(9100);
      expect(config.trustProxy).to.deep.equal(['127.0.0.1', '10.0.0.0/8']);
    });

    it('refuses a file holding secrets that others may read, naming the secrets and chmod 600', () => {
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-config-'));
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: auditKey }));
      chmodSync(file, 0o644);
      const problem = problemsOf({ GERBANG_CONFIG_FILE: file })[0];
      expect(problem).to.contain('GERBANG_CONFIG_FILE').and.to.contain('GERBANG_JWT_SECRET, GERBANG_AUDIT_KEYS').and.to.contain('chmod 600');
      expect(problem).to.not.contain(secret);
    });

    it('names an unknown key in the file', () => {
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-config-'));
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ PROT: 9000 }));
      expect(problemsOf({ GERBANG_CONFIG_FILE: file, GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: auditKey })[0]).to.contain('unknown setting "PROT"');
    });
  });
});

describe('cents', () => {
  /** The rule cents has always had: the amount as Number reads it, times 100, rounded. */
  const asNumberReads = (amount: string) => Math.round(Number(amount) * 100);
  const same = (amount: string) => expect(Object.is(cents(amount), asNumberReads(amount)), `cents(${JSON.stringify(amount)})`).to.equal(true);

  it('reads plain amounts digit by digit to the very number Number gives, up to 15 characters', () => {
    for (const amount of ['0', '1', '12.5', '12.50', '12.05', '0.01', '007.10', '15000', '250000000.00', '99999999999.99', '999999999999.9', '999999999999999', '123456789012.34']) same(amount);
    // A fixed walk of amounts of every length and shape (not Math.random: the same every run).
    let seed = 7;
    const next = () => (seed = (seed * 48_271) % 2_147_483_647);
    for (let i = 0; i < 20_000; i += 1) {
      const whole = String(next()) + String(next());
      const decimals = next() % 4;
      const amount = `${whole.slice(0, 1 + (next() % 13))}${decimals === 0 ? '' : `.${String(next()).padStart(decimals, '0').slice(0, decimals)}`}`;
      same(amount);
    }
  });

  it('reads anything else as Number does: a sign, spaces, an exponent, a trailing or leading point, more than 15 characters, nothing', () => {
    for (const amount of ['-12.50', '+12.50', ' 12.50', '12.50 ', '1e3', '1.', '.5', '12.345', '1,234.50', '', 'abc', '1234567890123456', '12345678901234.56', '0x10', '1_000']) same(amount);
  });

  it('reads a value that is not a string after all (a number from JSON past its schema) as Number does', () => {
    for (const amount of [12.5, 0, 250000000, null]) same(amount as unknown as string);
  });
});

describe('loadConsoleConfig', () => {
  const consoleProblems = (env: Record<string, string>): string[] => {
    try {
      loadConsoleConfig({ GERBANG_AUDIT_KEYS: auditKey, ...env });
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    return [];
  };

  it('refuses a user-wide sign-in lock that one address alone could reach', () => {
    expect(consoleProblems({})).to.deep.equal([]);
    expect(consoleProblems({ GERBANG_LOGIN_MAX_FAILURES: '3', GERBANG_CONSOLE_USER_MAX_FAILURES: '4' })).to.deep.equal([]);
    const [equal] = consoleProblems({ GERBANG_LOGIN_MAX_FAILURES: '5', GERBANG_CONSOLE_USER_MAX_FAILURES: '5' });
    expect(equal).to.match(/^GERBANG_CONSOLE_USER_MAX_FAILURES: 5 failures .* one address alone can make 5 \(GERBANG_LOGIN_MAX_FAILURES 5\); set it above 5$/);
    // A lock shorter than the window lets an address count again in the same window of the user's count.
    const short = { GERBANG_LOGIN_LOCKOUT_SECONDS: '60', GERBANG_LOGIN_FAILURE_WINDOW_SECONDS: '900', GERBANG_LOGIN_MAX_FAILURES: '3' };
    expect(consoleProblems({ ...short, GERBANG_CONSOLE_USER_MAX_FAILURES: '6' })[0]).to.contain('can make 6').and.to.contain('GERBANG_LOGIN_LOCKOUT_SECONDS is shorter');
    expect(consoleProblems({ ...short, GERBANG_CONSOLE_USER_MAX_FAILURES: '7' })).to.deep.equal([]);
  });
});
