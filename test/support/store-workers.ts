import { spawn } from 'node:child_process';
import { join } from 'node:path';

const WORKER = join(__dirname, 'store-worker.js');

/** Runs `processes` store workers at once (see store-worker.ts), with `env` added to this process's, and returns their JSON outputs. */
export async function runStoreWorkers<T>(processes: number, args: string[], env: Record<string, string> = {}): Promise<T[]> {
  return Promise.all(
    Array.from(
      { length: processes },
      () =>
        new Promise<T>((resolve, reject) => {
          const child = spawn(process.execPath, [WORKER, ...args], { env: { ...process.env, GERBANG_LOG_LEVEL: 'silent', ...env } });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('error', reject);
          child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout) as T) : reject(new Error(`store worker exited ${code}: ${stderr}`))));
        }),
    ),
  );
}
