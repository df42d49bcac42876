export { processAlive } from './process-alive.js';
export { clusterSchedulingOf, pm2DaemonPid, pm2Home, pm2SchedulingProblem, type ClusterScheduling } from './cluster-scheduling.js';
export { isPm2ClusterWorker } from './pm2-worker.js';
