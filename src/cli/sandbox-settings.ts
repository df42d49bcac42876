import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadStoreConfig } from '../config/index.js';
import { ensureKeyFile } from '../security/index.js';
import { parseDatabaseUrl } from '../store/index.js';
import type { CliIo } from './cli-io.js';

type Env = Record<string, string | undefined>;

/** Where a sandbox keeps its files: beside its embedded database (var/ for an in-memory or MySQL store). */
function sandboxFolder(databaseUrl: string): string {
  const target = parseDatabaseUrl(databaseUrl);
  return target.kind === 'sqlite' && target.path !== ':memory:' ? dirname(target.path) : resolve('var');
}

/** The sandbox's audit key file, created (0600) on first start so a restarted sandbox still reads its own audit. */
export function sandboxKeyFile(databaseUrl: string): { path: string; created: boolean } {
  return ensureKeyFile(resolve(sandboxFolder(databaseUrl), 'gerbang.audit-key'));
}

/**
 * A note beside the sandbox's store (`sandbox.json`, no secret in it) saying which settings it
 * runs with, so the CLI commands it prints work without being told (see withSandboxSettings).
 */
export function writeSandboxNote(databaseUrl: string, keyFile: string | null): void {
  const settings: Env = { GERBANG_SANDBOX: 'true', ...(keyFile ? { GERBANG_AUDIT_KEY_FILES: keyFile } : {}) };
  writeFileSync(join(sandboxFolder(databaseUrl), 'sandbox.json'), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
}

/**
 * The environment a CLI command reads, completed with what the sandbox on this store left in
 * its `sandbox.json` (its audit key file, sandbox mode) when the environment names no audit key
 * and no bank itself. This is how `audit verify`, `audit export` and `doctor` work as printed
 * after `npm start`. `serve` never uses it: production reads its environment only.
 */
export function withSandboxSettings(io: CliIo): CliIo {
  const env = io.env;
  const configured = ['GERBANG_AUDIT_KEYS', 'GERBANG_AUDIT_KEY_FILES', 'GERBANG_BANK_PARTNERS_FILE', 'GERBANG_BCA_BASE_URL'].some((name) => env[name]);
  if (configured) return io;
  let note: string;
  try {
    note = join(sandboxFolder(loadStoreConfig(env).databaseUrl), 'sandbox.json');
  } catch {
    return io; // the command itself reports the bad GERBANG_DATABASE_URL
  }
  if (!existsSync(note)) return io;
  let settings: Env;
  try {
    settings = JSON.parse(readFileSync(note, 'utf8')) as Env;
  } catch {
    return io;
  }
  const allowed = Object.fromEntries(Object.entries(settings).filter(([name, value]) => ['GERBANG_SANDBOX', 'GERBANG_AUDIT_KEY_FILES'].includes(name) && typeof value === 'string'));
  io.err(`(using the sandbox's settings from ${note})`);
  return { ...io, env: { ...env, ...allowed } };
}
