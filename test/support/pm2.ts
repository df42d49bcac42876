import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The project's root: where ecosystem.config.js is, and PM2's CLI runs from. */
export const ROOT = join(__dirname, '..', '..', '..');
const PM2 = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');

/**
 * The project's own PM2 CLI with `env`, whose PM2_HOME (a temporary directory in a test) keeps
 * the daemon it starts apart from any other; the daemon takes `env` as its environment. A call
 * still running after `timeoutMs` (0: no limit) is killed, and fails with `killed` set.
 */
export function pm2With(env: NodeJS.ProcessEnv, timeoutMs = 30_000): (...args: string[]) => Promise<{ stdout: string; stderr: string }> {
  return (...args) => run(process.execPath, [PM2, ...args], { env, cwd: ROOT, timeout: timeoutMs, killSignal: 'SIGKILL' });
}
