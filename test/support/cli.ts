import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { acceptRollback, whatToAccept } from '../../src/audit/index.js';
import type { Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from './audit-keys.js';

export const BIN = join(__dirname, '..', '..', '..', 'bin', 'gerbang');

/**
 * GERBANG_SANDBOX=true unless `env` configures a bank: most tests run against the built-in
 * simulator, which production refuses without that setting. A test of the refusal passes
 * GERBANG_SANDBOX: '' (unset).
 */
export function sandboxUnlessBank(env: Record<string, string>): Record<string, string> {
  const bank = ['GERBANG_BCA_BASE_URL', 'GERBANG_BANK_PARTNERS_FILE'].some((name) => env[name]);
  return bank ? env : { GERBANG_SANDBOX: 'true', ...env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `bin/gerbang` in a child process with the given environment additions (under `wrap`, a command that runs the rest: `unshare --pid --fork`).
 * `bin`: another build's launcher (a benchmark's run of the release before).
 */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string, wrap: string[] = [], bin = BIN): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [command, ...rest] = [...wrap, process.execPath, bin, ...args];
    const child = spawn(command, rest, {
      env: { ...process.env, GERBANG_LOG_LEVEL: 'silent', GERBANG_METRICS_PORT: '0', ...sandboxUnlessBank(env) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** What `audit verify --format json` reports of breaks, as the tests read it. */
export interface VerifyReport {
  breaks: { writerId: string | null; recordId: number | null; problem: string; detail: string }[];
  accepted: { recordId: number | null; how: string; detail: string }[];
  acceptDigest?: string | null;
  /** The reconciliation days operators accepted (gerbang audit accept-day), as held under their chain links. */
  acceptedDays?: { account: string; day: string; entryId: number; at: number; username: string; reason: string; deletedIds: number[]; sealChanged: boolean; cut: boolean }[];
}

/** `gerbang audit verify` run as text and as JSON: its exit (the two must agree, or it throws), the text, and the report. */
export async function auditVerify(env: Record<string, string>): Promise<{ code: number | null; text: string; report: VerifyReport }> {
  const text = await runCli(['audit', 'verify'], env);
  const json = await runCli(['audit', 'verify', '--format', 'json'], env);
  if (json.code !== text.code) throw new Error(`audit verify exits ${text.code} as text and ${json.code} as JSON`);
  return { code: text.code, text: text.stdout, report: JSON.parse(json.stdout) as VerifyReport };
}

/**
 * What an operator does to accept a database found broken: `audit verify`, then `audit
 * accept-rollback --expect` the digest it printed (accept-rollback accepts nothing without one).
 * When verify names nothing to accept, accept-rollback alone (it says so). `meanwhile`: what
 * happens while the operator reads verify's report (gateways link on, an attacker deletes more).
 */
export async function acceptAsVerified(env: Record<string, string>, reason: string, meanwhile?: () => Promise<void>): Promise<CliResult> {
  const verified = await runCli(['audit', 'verify', '--format', 'json'], env);
  const digest = verified.code === 0 ? undefined : (JSON.parse(verified.stdout) as VerifyReport).acceptDigest;
  await meanwhile?.();
  return runCli(['audit', 'accept-rollback', ...(digest ? ['--expect', digest] : []), '--reason', reason], env);
}

/**
 * What acceptAsVerified does (verify's digest, then the acceptance of exactly that), in this
 * process and without the acceptance's confirmation wait (2 s, its second walk right after the
 * first): for a test's cleanup, where a store left broken is accepted so that the next test starts
 * from an intact one and the CLI is not what the test looks at. Throws unless what verify named
 * was accepted (the CLI's exit 1).
 */
export async function acceptInProcess(store: Store, checkpointFile: string, reason: string): Promise<void> {
  const { digest } = await whatToAccept(store, TEST_AUDIT_KEYS, checkpointFile);
  if (digest === null) return;
  const result = await acceptRollback(store, TEST_AUDIT_KEYS, checkpointFile, reason, Date.now, { confirmMs: 0, expect: digest });
  if (result.differs !== undefined || result.unconfirmed.length > 0) throw new Error(`not accepted: digest ${result.differs ?? digest}, found by one walk only: ${JSON.stringify(result.unconfirmed)}`);
}
