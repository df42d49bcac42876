/**
 * Loaded by mocha before every test file (.mocharc.json). Keeps test output readable: the
 * gateway's JSON logs are silenced unless GERBANG_TEST_LOG_LEVEL asks for them.
 */
import { configureLogger } from '../../src/log/index.js';

configureLogger(process.env.GERBANG_TEST_LOG_LEVEL ?? 'silent');
