import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseIsoOption } from '../../src/cli/cli-io.js';
import { main } from '../../src/cli/main.js';
import { openStore } from '../../src/store/index.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { BIN, runCli } from '../support/cli.js';

const sh = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');

/** Runs main() in this process, collecting what it prints. */
async function inProcess(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), env });
  return { code, out, err };
}

/** Every `gerbang <command> [<subcommand>]` the usage names. */
async function everyCommand(): Promise<string[][]> {
  const { out } = await inProcess(['--help'], {});
  const commands = out
    .split('\n')
    .filter((line) => line.startsWith('gerbang '))
    .map((line) => line.split(/\s+/).slice(1).filter((word, i, all) => all.slice(0, i + 1).every((w) => /^[a-z][a-z-]*$/.test(w))))
    .filter((words) => words.length > 0 && words[0] !== 'help');
  return [...new Map(commands.map((words) => [words.join(' '), words])).values()];
}

describe('gerbang CLI conventions', function () {
  this.timeout(60_000);

  describe('--help and -h after any command or subcommand', () => {
    it('print its usage, exit 0 and change nothing: no database, no migration, no folder', async () => {
      const commands = await everyCommand();
      expect(commands.map((c) => c.join(' '))).to.include.members(['serve', 'sandbox', 'migrate', 'openapi write', 'client create', 'client enable', 'audit export', 'keys rotate', 'doctor', 'user create']);
      const work = mkdtempSync(join(tmpdir(), 'gerbang-help-'));
      const env = { GERBANG_DATABASE_URL: `sqlite:${join(work, 'store', 'g.sqlite')}`, GERBANG_JWT_SECRET: 'x'.repeat(40), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_SANDBOX: 'true', PORT: '0', CONSOLE_PORT: '0' };
      const cwd = process.cwd();
      process.chdir(work);
      try {
        for (const words of commands) {
          for (const flag of ['--help', '-h']) {
            const { code, out } = await inProcess([...words, flag], env);
            expect(code, `gerbang ${words.join(' ')} ${flag}`).to.equal(0);
            expect(out, `gerbang ${words.join(' ')} ${flag}`).to.contain(`gerbang ${words[0]}`);
          }
        }
      } finally {
        process.chdir(cwd);
      }
      expect(readdirSync(work), 'nothing was created (no store, no --help folder, no key file)').to.deep.equal([]);
    });
  });

  it('gerbang --version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result.code).to.equal(0);
    expect(result.stdout.trim()).to.equal(`gerbang ${version}`);
  });

  describe('dates in options', () => {
    it('take ISO-8601 dates and zoned timestamps', () => {
      expect(parseIsoOption('2026-12-04', '--from')).to.equal(Date.UTC(2026, 11, 4));
      expect(parseIsoOption('2026-12-04T08:00:00+07:00', '--from')).to.equal(Date.UTC(2026, 11, 4, 1));
    });

    it('refuse 04/12/2026, an impossible day and a timestamp without its zone, naming the option', async () => {
      const result = await runCli(['audit', 'export', '--format', 'jsonl', '--from', '04/12/2026'], { GERBANG_DATABASE_URL: 'sqlite::memory:', GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain('--from must be an ISO-8601 date');
      expect(result.stdout).to.equal('');
      expect(() => parseIsoOption('2026-02-30', '--to')).to.throw(/--to must be an ISO-8601/);
      expect(() => parseIsoOption('2026-12-04T08:00', '--to')).to.throw(/--to must be an ISO-8601/);
    });
  });

  describe('--json', () => {
    it('prints only JSON on stdout, the logs going to stderr', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-json-'));
      const env = { GERBANG_DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}`, GERBANG_LOG_LEVEL: 'debug', GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY };
      expect((await runCli(['migrate'], env)).code).to.equal(0);
      const created = await runCli(['client', 'create', '--name', 'erp', '--cidr', '10.0.0.0/8', '--json'], env);
      expect(created.code, created.stderr).to.equal(0);
      expect(JSON.parse(created.stdout)).to.have.keys('clientId', 'clientSecret');
      const ping = await runCli(['bank', 'ping', '--json'], env);
      expect(ping.code, ping.stderr).to.equal(0);
      expect(JSON.parse(ping.stdout)[0]).to.include({ partner: 'bca', ok: true });
      expect(ping.stderr, 'the debug logs went to stderr').to.match(/"level":\d+/);
    });
  });

  it('client enable lets a disabled client back in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-enable-'));
    // Every client action needs the audit keys: each client row carries a MAC of them.
    const env = { GERBANG_DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}`, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY };
    await runCli(['migrate'], env);
    const { clientId } = JSON.parse((await runCli(['client', 'create', '--name', 'erp', '--cidr', '10.0.0.0/8', '--json'], env)).stdout) as { clientId: string };
    const status = async () => (JSON.parse((await runCli(['client', 'list', '--json'], env)).stdout) as { id: string; status: string }[]).find((c) => c.id === clientId)!.status;
    expect((await runCli(['client', 'disable', '--id', clientId], env)).code).to.equal(0);
    expect(await status()).to.equal('disabled');
    const enabled = await runCli(['client', 'enable', '--id', clientId], env);
    expect(enabled.code).to.equal(0);
    expect(enabled.stdout).to.contain(`Client ${clientId} enabled`);
    expect(await status()).to.equal('active');
    expect((await runCli(['client', 'enable', '--id', 'gbc_nobody'], env)).code).to.equal(1);
  });

  it('`audit export | head` ends quietly when the reader goes away', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-epipe-'));
    const url = `sqlite:${join(dir, 'g.sqlite')}`;
    const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
    try {
      const { migrate } = await import('../../src/store/index.js');
      await migrate(store.db);
      // Far more than a pipe's 64 KiB buffer, so the writer is still writing when head exits.
      const body = JSON.stringify({ remark: 'x'.repeat(2000) });
      for (let n = 0; n < 300; n += 1) {
        await store.audit.record(
          { requestId: `req-${n}`, receivedAt: 1_000 + n, remoteIp: '203.0.113.7', origin: null, method: 'POST', path: '/v1/transfers', clientId: null, transactionId: `INV-${n}`, amount: '1.00', sourceAccount: null, requestHeaders: {}, requestBody: body },
          { outcome: 'completed', statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, beneficiaryAccount: null, responseBody: body, completedAt: 2_000 + n },
        );
      }
    } finally {
      await store.close();
    }
    const { stdout, stderr } = await sh('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" audit export --format jsonl | head -n 1 >/dev/null; echo "status=\${PIPESTATUS[0]}"`], {
      env: { ...process.env, GERBANG_DATABASE_URL: url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_LOG_LEVEL: 'silent' },
    }).catch((error: { stdout: string; stderr: string }) => error);
    expect(stderr).to.equal('');
    expect(stdout.trim()).to.equal('status=0');
  });

  it('the README lists every command', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    return everyCommand().then((commands) => {
      const missing = commands.map((words) => `gerbang ${words.join(' ')}`).filter((command) => !readme.includes(command));
      expect(missing).to.deep.equal([]);
    });
  });
});

