/**
 * Loaded by mocha before every test file (.mocharc.json). Keeps test output readable: the
 * gateway's JSON logs are silenced unless GERBANG_TEST_LOG_LEVEL asks for them.
 */
import { configureLogger } from '../../src/log/index.js';
import { stopSharedGaleraCluster } from './galera/shared-cluster.js';

configureLogger(process.env.GERBANG_TEST_LOG_LEVEL ?? 'silent');

/** Root hooks: the Galera cluster the cluster suites share is stopped once, after every suite. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedGaleraCluster();
  },
};
