/**
 * Loaded by mocha before every test file (.mocharc.cjs). Keeps test output readable: the
 * gateway's JSON logs are silenced unless GERBANG_TEST_LOG_LEVEL asks for them. And keeps the
 * machine clean: every temporary file or folder a test (or a process it starts) makes lands in
 * one folder of this run, removed when the run ends.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureLogger } from '../../src/log/index.js';
import { stopSharedGaleraCluster } from './galera/shared-cluster.js';

configureLogger(process.env.GERBANG_TEST_LOG_LEVEL ?? 'silent');

const runDir = mkdtempSync(join(tmpdir(), 'gerbang-test-run-'));
// Like /tmp itself (sticky, writable by all): the services a suite starts under their own user
// (mariadbd as mysql) inherit TMPDIR and write their temporary files here. Each test's own folders
// inside stay 0700.
chmodSync(runDir, 0o1777);
// os.tmpdir() reads TMPDIR on every call, and child processes inherit it.
process.env.TMPDIR = runDir;

const removeRunDir = (): void => rmSync(runDir, { recursive: true, force: true });
process.once('exit', removeRunDir);

// Audit checkpoints (and `gerbang audit verify` in child processes) go to a file of this test run, never var/ of the checkout.
process.env.GERBANG_AUDIT_CHECKPOINT_FILE ??= join(mkdtempSync(join(runDir, 'gerbang-checkpoints-')), 'audit-checkpoints.jsonl');

/** Root hooks: the Galera cluster the cluster suites share is stopped once (its datadirs are in the run's folder), then the folder goes. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedGaleraCluster();
    removeRunDir();
  },
};
