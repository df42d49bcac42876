/**
 * PM2 process file. `npm run build` first, then `pm2 start ecosystem.config.js`.
 * Configuration comes from the environment (or GERBANG_CONFIG_FILE); see docs/configuration.md.
 */
'use strict';

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
      env: {
        NODE_ENV: 'production',
      },
    },
  ],
};
