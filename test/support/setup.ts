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

/**
 * In parallel mode (.mocharc.cjs) mocha loads this file in its own process first, then in each
 * worker it starts, which inherits that process's TMPDIR: a worker's run folder is inside the
 * main one, removed with it when the main process ends. A worker runs one file after another and
 * the root hooks below run around each file, so a worker must not remove its folder there.
 */
const inWorker = process.env.MOCHA_WORKER_ID !== undefined;

// Audit checkpoints (and `gerbang audit verify` in child processes) go to a file of this test run, never var/ of the checkout;
// a worker has its own, not the one the main process named (two files verifying at once would append to one file).
const checkpoints = (): string => join(mkdtempSync(join(runDir, 'gerbang-checkpoints-')), 'audit-checkpoints.jsonl');
if (inWorker) process.env.GERBANG_AUDIT_CHECKPOINT_FILE = checkpoints();
else process.env.GERBANG_AUDIT_CHECKPOINT_FILE ??= checkpoints();

/**
 * Root hooks: the Galera cluster the cluster suites share is stopped once (its datadirs are in the run's folder), then the folder goes.
 * (In a worker they run after each of its files: the cluster is stopped after the file that started it, and the folder stays.)
 */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedGaleraCluster();
    if (!inWorker) removeRunDir();
  },
};
