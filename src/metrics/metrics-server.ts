import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../config/index.js';
import { listenOn } from '../http/listen.js';
import { getLogger } from '../log/index.js';
import { directFrom, IpAllowlist } from '../security/index.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { MetricsPeers } from './metrics-peers.js';

const log = getLogger('metrics');

/** How often a process waiting for the metrics port tries to take it (its holder stopped or was replaced). */
const TAKE_OVER_EVERY_MS = 1_000;

export interface MetricsServerOptions {
  host: string;
  port: number;
  /** Who may scrape, by socket address (never X-Forwarded-For: nothing proxied is a scrape). */
  allowedCidrs: string[];
  /** The folder of the processes sharing this port (PM2 workers), summed into one answer; null: this process alone. */
  peersDir: string | null;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on a listener of its own, never on the public API port: the API is what nginx
 * exposes to the internet, this port is not. On top of that, fail closed: only callers whose
 * socket address is in `allowedCidrs` (loopback by default) get an answer; anyone else, and any
 * request carrying a proxy's forwarding header, gets 404 as if nothing were there.
 *
 * With `peersDir`, every process asks for the same port, bound `exclusive` (not shared through
 * the cluster primary, as PM2 would otherwise do): one gets it and answers with the sum of all
 * (see MetricsPeers); the others hand over their metrics through their socket and try for the
 * port every second, so when its holder stops, another takes over. A port held by a program that
 * is none of these processes stops the start, naming GERBANG_METRICS_PORT.
 */
export async function startMetricsServer(metrics: GatewayMetrics, options: MetricsServerOptions): Promise<MetricsServer> {
  const allowlist = new IpAllowlist(options.allowedCidrs);
  const peers = options.peersDir === null ? null : new MetricsPeers(options.peersDir, () => metrics.registry.getMetricsAsJSON());
  const render = async (): Promise<{ contentType: string; text: string }> => {
    if (!peers) return metrics.render();
    const registry = await peers.aggregate();
    return { contentType: registry.contentType, text: await registry.metrics() };
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (!directFrom(allowlist, req) || req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    render().then(
      ({ contentType, text }) => res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(text),
      (error: unknown) => {
        log.error({ err: error }, 'metrics could not be collected');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  const listen = () => listenOn(server, options.port, options.host, 'GERBANG_METRICS_PORT', { exclusive: true });
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  if (!peers) {
    await listen();
  } else {
    await peers.open();
    try {
      await listen();
    } catch (error) {
      if (!inUse(error) || !(await peers.anyOtherAlive())) {
        await peers.close();
        throw error;
      }
      log.info({ port: options.port }, 'metrics port held by another worker, which answers for this one too');
      let trying = false;
      retry = setInterval(() => {
        if (trying) return;
        trying = true;
        listen().then(
          () => {
            clearInterval(retry);
            // Taken while this process was stopping: let the next worker have it.
            if (closed) return void server.close();
            log.info({ port: options.port }, 'metrics port taken over: this worker now answers for all');
          },
          (refused: unknown) => {
            if (!inUse(refused)) log.error({ err: refused }, 'metrics port could not be taken over');
            trying = false;
          },
        );
      }, TAKE_OVER_EVERY_MS);
      retry.unref();
    }
  }
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = server.listening ? (server.address() as AddressInfo).port : options.port;
  return {
    url: `http://${host}:${port}/metrics`,
    close: async () => {
      closed = true;
      clearInterval(retry);
      if (server.listening) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
      await peers?.close();
    },
  };
}

function inUse(error: unknown): boolean {
  return error instanceof ConfigError && (error as Error & { cause?: NodeJS.ErrnoException }).cause?.code === 'EADDRINUSE';
}
