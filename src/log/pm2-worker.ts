import cluster from 'node:cluster';

/**
 * True in a process PM2 runs in cluster mode. PM2's wrapper (pm2/lib/ProcessContainer.js) copies
 * the app's PM2 environment, `pm_id` and `exec_mode` among it, into process.env before it loads
 * the app; `cluster.isWorker` leaves out a process merely started from such a worker, which
 * inherits that environment but not the wrapper (Node does not pass NODE_UNIQUE_ID on).
 */
export function isPm2ClusterWorker(): boolean {
  return cluster.isWorker && process.env.pm_id !== undefined && process.env.exec_mode === 'cluster_mode';
}
