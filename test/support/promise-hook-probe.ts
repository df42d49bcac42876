import { executionAsyncId } from 'node:async_hooks';

/**
 * Preloaded into a process under test (NODE_OPTIONS=--require <this file>): on SIGUSR2 it prints
 * `promise hooks: on` or `promise hooks: off` on stderr, whether async_hooks' promise hooks are
 * installed in that process now. With them, a promise's reaction runs under an async id of its
 * own; without them, under none (0). An AsyncLocalStorage that has run a function installs them
 * for good on Node 20 and 22 (not on 24, where AsyncContextFrame carries it).
 */
process.on('SIGUSR2', () => {
  void Promise.resolve().then(() => process.stderr.write(`promise hooks: ${executionAsyncId() === 0 ? 'off' : 'on'}\n`));
});
