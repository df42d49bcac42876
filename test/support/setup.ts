/**
 * Loaded by mocha before every test file (.mocharc.json). Keeps test output readable: the
 * gateway's JSON logs are silenced unless GERBANG_TEST_LOG_LEVEL asks for them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureLogger } from '../../src/log/index.js';

configureLogger(process.env.GERBANG_TEST_LOG_LEVEL ?? 'silent');

// Audit checkpoints (and `gerbang audit verify` in child processes) go to a file of this test run, never var/ of the checkout.
process.env.GERBANG_AUDIT_CHECKPOINT_FILE ??= join(mkdtempSync(join(tmpdir(), 'gerbang-checkpoints-')), 'audit-checkpoints.jsonl');
