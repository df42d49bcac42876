/**
 * PM2 process file. `npm run build` first, then `pm2 start ecosystem.config.js`.
 * Configuration comes from the environment (or GERBANG_CONFIG_FILE); see docs/configuration.md.
 *
 * Secrets (GERBANG_JWT_SECRET, GERBANG_AUDIT_KEYS, GERBANG_DATABASE_URL, the GERBANG_BCA_* credentials…)
 * are filtered out of the environment PM2 records for its processes: PM2 keeps that environment in
 * `pm2 jlist`/`pm2 env` and, after `pm2 save`, in its dump file ~/.pm2/dump.pm2. Put them in the
 * JSON file named by GERBANG_CONFIG_FILE instead (mode 0600, or the processes refuse it); the
 * audit keys may also come from GERBANG_AUDIT_KEY_FILES. See docs/operator-guide.md.
 *
 * PM2's daemon must run with NODE_CLUSTER_SCHED_POLICY=none, set in the shell that starts it
 * (`NODE_CLUSTER_SCHED_POLICY=none pm2 start ecosystem.config.js`): the API workers then accept
 * connections themselves, and PM2 holds none that a dying worker would leave unanswered. This
 * file is read after the daemon has started, so it cannot set it; it refuses a daemon without it.
 */
'use strict';

let secretNames;
let pm2DaemonPid;
let pm2SchedulingProblem;
try {
  // The one list of secret settings, from the compiled configuration schema.
  ({ SECRET_ENV_NAMES: secretNames } = require('./dist/src/config/index.js'));
  ({ pm2DaemonPid, pm2SchedulingProblem } = require('./dist/src/host/index.js'));
} catch (error) {
  throw new Error(`ecosystem.config.js: run \`npm run build\` first (${error.message})`);
}

// The daemon PM2 runs this file for (PM2_HOME as PM2 resolves it); none yet when another tool reads it.
const daemonPid = pm2DaemonPid(process.env);
const scheduling = daemonPid === null ? null : pm2SchedulingProblem(daemonPid);
if (scheduling) throw new Error(`ecosystem.config.js: ${scheduling}`);

const instances = process.env.GERBANG_API_INSTANCES || 'max';
// PM2 must wait longer than the gateway's own drain deadline before it sends SIGKILL.
const shutdownMs = Number(process.env.GERBANG_SHUTDOWN_TIMEOUT_MS || 15000);

module.exports = {
  apps: [
    {
      name: 'gerbang-api',
      script: 'bin/gerbang',
      args: 'serve',
      cwd: __dirname,
      exec_mode: 'cluster',
      instances,
      // The worker calls process.send('ready') once it listens: `pm2 reload` replaces workers
      // one by one and only stops the old one after the new one serves, so no request is lost.
      wait_ready: true,
      listen_timeout: 20000,
      kill_timeout: shutdownMs + 5000,
      max_memory_restart: '512M',
      merge_logs: true,
      time: false,
      filter_env: secretNames,
      env: {
        NODE_ENV: 'production',
      },
    },
    {
      // The finance console: its own process on CONSOLE_PORT, never served by the API port.
      // One instance is plenty for a finance team; sessions live in the store, so a restart
      // signs nobody out.
      name: 'gerbang-console',
      script: 'bin/gerbang',
      args: 'console',
      cwd: __dirname,
      exec_mode: 'fork',
      instances: 1,
      wait_ready: true,
      listen_timeout: 20000,
      kill_timeout: shutdownMs + 5000,
      max_memory_restart: '256M',
      merge_logs: true,
      time: false,
      filter_env: secretNames,
      env: {
        NODE_ENV: 'production',
      },
    },
  ],
};
