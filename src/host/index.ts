export { processAlive } from './process-alive.js';
export { clusterSchedulingOf, pm2DaemonPid, pm2Home, pm2SchedulingProblem, type ClusterScheduling } from './cluster-scheduling.js';
