import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from './process-alive.js';

/**
 * How a Node cluster primary shares a listening port with its workers. `rr`: it accepts each
 * connection itself and hands it to a worker, keeping its own copy until the worker confirms it;
 * a worker that dies first (SIGKILL, a crash, a stop before it took it) never confirms, and the
 * connection stays open, unread, for as long as the primary runs. `none`: the workers accept from
 * the shared socket themselves, so a connection is in no worker until one takes it.
 */
export type ClusterScheduling = 'rr' | 'none';

/**
 * The scheduling of the cluster primary `pid`, from the environment it was started with (Linux
 * /proc): Node reads NODE_CLUSTER_SCHED_POLICY once, when the primary first sets its cluster up
 * (PM2's daemon does at start), and otherwise uses `rr` except on Windows. Null when that
 * environment cannot be read (no such process, another user's, no /proc). A primary that sets
 * `cluster.schedulingPolicy` in code is not seen; PM2 does not.
 */
export function clusterSchedulingOf(pid: number): ClusterScheduling | null {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return null;
  }
  const name = 'NODE_CLUSTER_SCHED_POLICY=';
  const value = environ.split('\0').find((entry) => entry.startsWith(name))?.slice(name.length);
  if (value === 'rr' || value === 'none') return value;
  return process.platform === 'win32' ? 'none' : 'rr';
}

/**
 * Null when PM2's daemon `pid` lets its workers accept connections themselves (or cannot be
 * read), else the problem and its remedy, for the operator. `scheduling`: the daemon's, when
 * already read (clusterSchedulingOf).
 */
export function pm2SchedulingProblem(pid: number, scheduling = clusterSchedulingOf(pid)): string | null {
  if (scheduling !== 'rr') return null;
  return (
    `PM2's daemon (pid ${pid}, the cluster primary) was started without NODE_CLUSTER_SCHED_POLICY=none: it accepts ` +
    'each connection and hands it to a worker, and one handed to a worker that dies before taking it is never answered ' +
    '(the client waits until its own deadline). Restart the daemon with the setting: `NODE_CLUSTER_SCHED_POLICY=none pm2 update` ' +
    '(it restarts every process PM2 runs; docs/operator-guide.md, "PM2\'s daemon").'
  );
}

/**
 * The pid of the PM2 daemon running for `env`'s PM2_HOME (as PM2 resolves it: that variable, else
 * ~/.pm2), from the pm2.pid the daemon writes there. Null when there is none, or when it names a
 * process no longer running (a daemon killed by SIGKILL leaves its file behind).
 */
export function pm2DaemonPid(env: NodeJS.ProcessEnv): number | null {
  let text: string;
  try {
    text = readFileSync(join(pm2Home(env), 'pm2.pid'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : null;
}

/** PM2's home directory for `env`, as PM2 resolves it: PM2_HOME, else ~/.pm2. */
export function pm2Home(env: NodeJS.ProcessEnv): string {
  return env.PM2_HOME || join(env.HOME || homedir(), '.pm2');
}
