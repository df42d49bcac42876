import { GaleraCluster, galeraMissing } from './galera-cluster.js';

let shared: Promise<GaleraCluster> | undefined;
let warned = false;

/**
 * The one Galera cluster of a test run, started by the first cluster suite that asks for it and
 * stopped once after every suite (the root hook in test/support/setup.ts). A node an earlier
 * suite killed is started again (it rejoins by incremental state transfer). Without Galera on
 * the machine: under CI=true the suite fails; otherwise it is skipped, loudly.
 */
export async function sharedGaleraCluster(ctx: Mocha.Context): Promise<GaleraCluster> {
  const missing = galeraMissing();
  if (missing !== null) {
    if (process.env.CI === 'true') throw new Error(`Galera cluster suites need ${missing}; under CI=true they must run (.ci/run installs galera-4 and rsync)`);
    if (!warned) {
      warned = true;
      console.warn(`\n*** SKIPPED: Galera cluster suites (missing ${missing}). Install galera-4 and rsync, run as root; CI=true makes this a failure. ***\n`);
    }
    ctx.skip();
  }
  shared ??= GaleraCluster.start();
  const cluster = await shared;
  for (const node of cluster.nodes) if (!node.running) await cluster.startNode(node.index);
  return cluster;
}

/** Stops the shared cluster if one was started (mocha root afterAll hook). */
export async function stopSharedGaleraCluster(): Promise<void> {
  if (!shared) return;
  const cluster = await shared.catch(() => undefined);
  shared = undefined;
  await cluster?.stop();
}
