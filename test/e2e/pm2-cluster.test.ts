import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForHttp } from '../support/processes.js';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const PM2 = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');

/**
 * The real PM2 runs ecosystem.config.js: the compiled API in cluster mode with wait_ready. Its
 * own PM2_HOME keeps the test's daemon apart from any other.
 */
describe('ecosystem.config.js under PM2', function () {
  this.timeout(120_000);
  let env: NodeJS.ProcessEnv;
  let base: string;

  const pm2 = (...args: string[]) => run(process.execPath, [PM2, ...args], { env, cwd: ROOT });

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      PM2_HOME: mkdtempSync(join(tmpdir(), 'gerbang-pm2-')),
      PORT: String(port),
      GERBANG_API_INSTANCES: '2',
      GERBANG_DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-pm2-db-')), 'g.sqlite')}`,
      GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
      GERBANG_LOG_LEVEL: 'warn',
    };
    await pm2('start', join(ROOT, 'ecosystem.config.js'));
    await waitForHttp(`${base}/healthz`, 30_000);
  });

  after(async () => {
    await pm2('kill').catch(() => undefined);
  });

  it('runs two API workers in cluster mode', async () => {
    const { stdout } = await pm2('jlist');
    const apps = (JSON.parse(stdout) as { name: string; pm2_env: { status: string; exec_mode: string } }[]).filter((a) => a.name === 'gerbang-api');
    expect(apps).to.have.length(2);
    for (const app of apps) {
      expect(app.pm2_env.exec_mode).to.equal('cluster_mode');
      expect(app.pm2_env.status).to.equal('online');
    }
  });

  it('keeps answering through `pm2 reload` (workers signal ready before the old ones stop)', async () => {
    let failures = 0;
    let served = 0;
    let done = false;
    const load = (async () => {
      while (!done) {
        try {
          const res = await fetch(`${base}/readyz`);
          await res.arrayBuffer();
          if (res.status === 200) served += 1;
          else failures += 1;
        } catch {
          failures += 1;
        }
      }
    })();
    await pm2('reload', 'gerbang-api');
    done = true;
    await load;
    expect(served).to.be.greaterThan(10);
    expect(failures).to.equal(0);
  });
});
