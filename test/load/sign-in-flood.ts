/**
 * `npm run bench:sign-in-flood`: does a flood of anonymous console sign-ins slow the API's token
 * endpoint? Runs the real API (`gerbang serve`) and console (`gerbang console`) as two processes on
 * one embedded store, measures token requests alone, then while 160 anonymous sign-ins at a time
 * hit the console from one address, twice: with the per-address sign-in throttle off (every
 * attempt costs an scrypt, as before it existed) and at its default (20 a minute).
 *
 *   GERBANG_FLOOD_TOKENS  token requests per measurement (default 20)
 *   GERBANG_FLOOD_CONCURRENCY  sign-ins in flight (default 160)
 *   GERBANG_FLOOD_ONLY    `off` or `on`: only that half
 *
 * A measurement, not a test: it prints figures and never fails on a slow answer.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli } from '../support/cli.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { freePort, spawnGerbang, waitForHttp } from '../support/processes.js';

const TOKENS = Number(process.env.GERBANG_FLOOD_TOKENS ?? 20);
const CONCURRENCY = Number(process.env.GERBANG_FLOOD_CONCURRENCY ?? 160);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function tokenTimes(api: string, client: { clientId: string; clientSecret: string }): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < TOKENS; i += 1) {
    const started = performance.now();
    const res = await request(`${api}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret }),
    });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`token request answered ${res.statusCode}`);
    times.push(performance.now() - started);
  }
  return times;
}

async function measure(label: string, perIp: string): Promise<{ alone: number; flooded: number; hashed: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gerbang-flood-'));
  const [apiPort, consolePort] = [await freePort(), await freePort()];
  const env = {
    GERBANG_DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}`,
    GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
    GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
    GERBANG_LOG_LEVEL: 'error',
    GERBANG_RATE_LIMIT_TOKEN_PER_IP: '1000000',
    GERBANG_RATE_LIMIT_PER_IP: '1000000',
    GERBANG_CONSOLE_SIGN_IN_PER_IP: perIp,
    PORT: String(apiPort),
    CONSOLE_PORT: String(consolePort),
  };
  await runCli(['migrate'], env);
  const client = JSON.parse((await runCli(['client', 'create', '--name', 'bench', '--cidr', '127.0.0.1/32', '--json'], env)).stdout) as { clientId: string; clientSecret: string };
  const api = spawnGerbang(['serve'], env);
  const con = spawnGerbang(['console'], env);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const consoleUrl = `http://127.0.0.1:${consolePort}`;
  try {
    await waitForHttp(`${apiUrl}/healthz`, 60_000);
    await waitForHttp(`${consoleUrl}/console/sign-in`, 60_000);
    await tokenTimes(apiUrl, client); // warm-up
    const alone = median(await tokenTimes(apiUrl, client));
    let flooding = true;
    let refusedEarly = 0;
    let checked = 0;
    let dropped = 0;
    const signer = async () => {
      while (flooding) {
        try {
          const res = await request(`${consoleUrl}/console/sign-in`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: `username=nobody-${randomBytes(4).toString('hex')}&password=guess-guess-guess`,
          });
          await res.body.dump();
          if (res.statusCode === 429) refusedEarly += 1;
          else checked += 1;
        } catch {
          dropped += 1; // a connection reset under the flood: the attacker's problem, counted
        }
      }
    };
    const flood = Promise.all(Array.from({ length: CONCURRENCY }, signer));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const flooded = median(await tokenTimes(apiUrl, client));
    flooding = false;
    await flood;
    console.log(
      `${label.padEnd(34)} token p50 alone ${alone.toFixed(1).padStart(7)} ms, during the flood ${flooded.toFixed(1).padStart(7)} ms ` +
        `(${(flooded / alone).toFixed(1)}×); sign-ins hashed ${checked}, refused before hashing ${refusedEarly}, connections dropped ${dropped}`,
    );
    return { alone, flooded, hashed: checked };
  } finally {
    api.child.kill('SIGTERM');
    con.child.kill('SIGTERM');
    await Promise.all([api.exited, con.exited]);
  }
}

async function main(): Promise<void> {
  console.log(`${CONCURRENCY} anonymous console sign-ins in flight from one address; ${TOKENS} token requests per figure`);
  // GERBANG_FLOOD_ONLY=on|off runs one of the two.
  const only = process.env.GERBANG_FLOOD_ONLY;
  if (only !== 'on') await measure('throttle off (every try hashed)', '1000000');
  if (only !== 'off') await measure('throttle on (20 a minute, default)', '20');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
