/**
 * The processes a load run starts: the bank simulator, Gerbang (`bin/gerbang serve` on its own
 * database) and the requests each is sent. Used by `npm run bench` and test/load/cpu-compare.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { request } from 'undici';
import { bcaTimestamp, relativeUrl, sign, TRANSFER_PATH, TOKEN_PATH } from '../../src/banks/bca-legacy/index.js';
import { jakartaDate } from '../../src/time/index.js';
import type { LoadRequest } from './bench-load.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';

export const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'gerbang');
const ORIGIN = 'https://gerbang.sandbox';
export const MYSQL_URL = (process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');

/** Every process started here, stopped by `stopChildren` at the end of a run. */
export const children: ChildProcess[] = [];

/** Starts a node process and resolves with what it printed once `ready(output)` returns a value. */
export function startNode<T>(args: string[], env: Record<string, string>, ready: (output: string) => T | undefined): Promise<{ child: ChildProcess; value: T }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const value = ready(output);
      if (value !== undefined) {
        // Keep reading (and dropping) its output, so a full pipe never blocks the process.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ child, value });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before it was ready:\n${output}`)));
  });
}

/** The bank simulator (`bin/gerbang simulator`) in a process of its own, with its credentials. */
export function startSimulator(): Promise<{ child: ChildProcess; value: Bank }> {
  return startNode([BIN, 'simulator'], { GERBANG_LOG_LEVEL: 'warn' }, (out) => {
    try {
      return JSON.parse(out) as Bank;
    } catch {
      return undefined;
    }
  });
}

/** The baseline proxy (test/load/proxy-baseline.ts) in front of `bankUrl`, with its URL. */
export function startProxy(bankUrl: string): Promise<{ child: ChildProcess; value: string }> {
  return startNode([join(__dirname, 'proxy-baseline.js'), bankUrl], {}, (out) => (out.includes('\n') ? out.trim() : undefined));
}

/** Runs `bin/gerbang <args>` (of `bin`, this tree's by default) and returns what it printed. */
export function cli(args: string[], env: Record<string, string>, bin = BIN): string {
  const result = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, GERBANG_LOG_LEVEL: 'warn', ...env }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gerbang ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    try {
      const res = await request(url);
      await res.body.text();
      if (res.statusCode === 200) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never became ready`);
}

export interface Bank {
  url: string;
  clientId: string;
  clientSecret: string;
  apiKey: string;
  apiSecret: string;
  corporateId: string;
}

/** Signed BCA transfers straight to the bank, each with a fresh TransactionID, timestamp and signature. */
export async function bankTransfers(bank: Bank): Promise<(i: number) => LoadRequest> {
  const basic = Buffer.from(`${bank.clientId}:${bank.clientSecret}`).toString('base64');
  const res = await request(`${bank.url}${TOKEN_PATH}`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    body: 'grant_type=client_credentials',
  });
  const token = ((await res.body.json()) as { access_token: string }).access_token;
  // Far from the gateway's own ids (its store counter starts at 1): the bank refuses a reused id.
  let id = 50_000_000 + Math.floor(Math.random() * 10_000_000);
  return () => {
    const body = JSON.stringify({
      CorporateID: bank.corporateId,
      SourceAccountNumber: '0201245680',
      TransactionID: String((id += 1) % 100_000_000).padStart(8, '0'),
      TransactionDate: jakartaDate(Date.now()),
      ReferenceID: `BENCH-${id}`,
      CurrencyCode: 'IDR',
      Amount: '1.00',
      BeneficiaryAccountNumber: '0201245681',
      Remark1: 'bench',
      Remark2: '',
    });
    const path = relativeUrl(TRANSFER_PATH);
    const timestamp = bcaTimestamp(new Date());
    const { signature } = sign({ method: 'POST', relativeUrl: path, accessToken: token, body, timestamp, apiSecret: bank.apiSecret });
    return {
      method: 'POST',
      path,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        origin: ORIGIN,
        'x-bca-key': bank.apiKey,
        'x-bca-timestamp': timestamp,
        'x-bca-signature': signature,
      },
      body,
    };
  };
}

/** Gerbang's POST /v1/transfers, each with a new transactionId. */
export function gatewayTransfers(token: string): (i: number) => LoadRequest {
  const run = randomBytes(3).toString('hex');
  return (i) => ({
    method: 'POST',
    path: '/v1/transfers',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      transactionId: `BENCH-${run}-${i}-${randomUUID().slice(0, 8)}`,
      sourceAccountNumber: '0201245680',
      beneficiaryBankCode: '014',
      beneficiaryAccountNumber: '0201245681',
      amount: '1.00',
      currency: 'IDR',
      remark: 'Benchmark payment',
    }),
  });
}

export function gerbangEnv(bank: Bank, databaseUrl: string): Record<string, string> {
  return {
    GERBANG_DATABASE_URL: databaseUrl,
    GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
    GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
    GERBANG_BCA_BASE_URL: bank.url,
    GERBANG_BCA_CLIENT_ID: bank.clientId,
    GERBANG_BCA_CLIENT_SECRET: bank.clientSecret,
    GERBANG_BCA_API_KEY: bank.apiKey,
    GERBANG_BCA_API_SECRET: bank.apiSecret,
    GERBANG_BCA_CORPORATE_ID: bank.corporateId,
    GERBANG_BCA_ORIGIN: ORIGIN,
    GERBANG_BCA_ACCOUNTS: '0201245680',
    // The limiters run (and write to the store) as in production, set high enough not to refuse the load.
    GERBANG_RATE_LIMIT_PER_IP: '10000000',
    GERBANG_RATE_LIMIT_PER_CLIENT: '10000000',
    GERBANG_METRICS_PORT: '0',
    GERBANG_LOG_LEVEL: 'info',
    // As production runs once every node is upgraded (docs/operator-guide.md, Upgrading): the
    // payment sealed in its INSERT. BENCH_SEAL_PAYMENTS_AT_INSERT=false measures the default instead.
    GERBANG_SEAL_PAYMENTS_AT_INSERT: process.env.BENCH_SEAL_PAYMENTS_AT_INSERT ?? 'true',
  };
}

/**
 * Starts `bin/gerbang serve` (of `bin`, this tree's by default) with `env` on a free port and
 * returns it with a token for `client`. BENCH_CPU_PROF=<dir> runs it under node --cpu-prof;
 * `nodeFlags` are given to node before the script (e.g. a V8 heap setting to compare).
 */
export async function serveGerbang(env: Record<string, string>, client: { clientId: string; clientSecret: string }, bin = BIN, nodeFlags: string[] = []): Promise<{ origin: string; child: ChildProcess; token: string }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const gatewayArgs = [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), ...nodeFlags, bin, 'serve'];
  const child = spawn(process.execPath, gatewayArgs, { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(`${origin}/readyz`);
  const tokenRes = await request(`${origin}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret }),
  });
  const { access_token: token } = (await tokenRes.body.json()) as { access_token: string };
  return { origin, child, token };
}

/**
 * A Gerbang process (`bin/gerbang serve` of `bin`, this tree's by default) on its own fresh
 * database, over the server's Unix socket when `socket` is given, with a client and its token.
 * `bankIdsAhead`: how far above the clock's floor its BCA TransactionIDs start (the one simulator
 * refuses an id it has seen today, and gateways measured in turn would take the same ids).
 */
export async function startGerbang(
  admin: mysql.Connection,
  bank: Bank,
  options: { name: string; socket?: string; bin?: string; bankIdsAhead?: number; nodeFlags?: string[] },
): Promise<{ name: string; origin: string; child: ChildProcess; token: string; dbName: string }> {
  const { socket, bin = BIN } = options;
  const dbName = `gerbang_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const databaseUrl = socket ? `mysql://${new URL(MYSQL_URL).username || 'root'}@localhost/${dbName}?socketPath=${encodeURIComponent(socket)}` : `${MYSQL_URL}/${dbName}`;
  const env = gerbangEnv(bank, databaseUrl);
  cli(['migrate'], env, bin);
  if (options.bankIdsAhead) {
    // The day's counter of BCA TransactionIDs (src/domain/transfers/bank-transaction-id.ts), which
    // never goes below the second of the (Jakarta) day × 1000: set this far above that.
    const now = Date.now();
    const secondOfDay = Math.floor(now / 1000 + 7 * 3600) % 86_400;
    const name = `ids:CENAIDJA:${bank.corporateId}:${jakartaDate(now).replaceAll('-', '')}`;
    await admin.query(`INSERT INTO ${dbName}.sequences (name, value) VALUES (?, ?)`, [name, secondOfDay * 1000 + options.bankIdsAhead]);
  }
  const client = JSON.parse(cli(['client', 'create', '--name', 'bench', '--cidr', '127.0.0.1/32', '--json'], env, bin)) as { clientId: string; clientSecret: string };
  cli(['client', 'grant-account', '--id', client.clientId, '--account', '0201245680'], env, bin);
  const { origin, child, token } = await serveGerbang(env, client, bin, options.nodeFlags);
  return { name: options.name, origin, child, token, dbName };
}

/** Stops every process still running that this module started. */
export function stopChildren(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}
