import type { Server } from 'node:net';
import { ConfigError } from '../config/index.js';

/**
 * `server.listen(port, host)` as a promise. A port that cannot be had (in use, not allowed,
 * an address this machine does not have) is the operator's setting: it becomes a ConfigError
 * naming `setting` (PORT, CONSOLE_PORT…) and what is wrong, so the process says so and exits
 * instead of staying half-started.
 *
 * `exclusive`: bind the port in this process even in a cluster worker (PM2 cluster mode), whose
 * listen otherwise goes through the cluster primary, which shares one socket among all workers.
 */
export function listenOn(server: Server, port: number, host: string, setting: string, options: { exclusive?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException) => reject(listenError(error, port, host, setting));
    server.once('error', refused);
    server.listen({ port, host, exclusive: options.exclusive ?? false }, () => {
      server.off('error', refused);
      resolve();
    });
  });
}

/** A listen failure as the ConfigError that names the setting; the system error stays its `cause` (its `code`). */
export function listenError(error: NodeJS.ErrnoException, port: number, host: string, setting: string): ConfigError {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const why =
    error.code === 'EADDRINUSE'
      ? `${where} is already in use by another process (another Gerbang, or another program): stop it or choose another ${setting}`
      : error.code === 'EACCES'
        ? `${where} needs privileges this user does not have (ports below 1024): choose a port above 1023 and let the reverse proxy listen on 443`
        : error.code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this machine`
          : `cannot listen on ${where} (${error.code ?? error.message})`;
  const refused = new ConfigError([`${setting}: ${why}`]);
  (refused as Error & { cause?: unknown }).cause = error;
  return refused;
}
