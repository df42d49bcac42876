import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn } from '../http/listen.js';
import { getLogger } from '../log/index.js';
import { IpAllowlist } from '../security/index.js';
import type { GatewayMetrics } from './gateway-metrics.js';

const log = getLogger('metrics');

export interface MetricsServerOptions {
  host: string;
  port: number;
  /** Who may scrape, by socket address (never X-Forwarded-For: nothing proxied is a scrape). */
  allowedCidrs: string[];
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
 */
export async function startMetricsServer(metrics: GatewayMetrics, options: MetricsServerOptions): Promise<MetricsServer> {
  const allowlist = new IpAllowlist(options.allowedCidrs);
  const server: Server = createServer((req, res) => {
    const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
    const path = (req.url ?? '').split('?')[0];
    if (proxied || !allowlist.allows(req.socket.remoteAddress) || req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    metrics.render().then(
      ({ contentType, text }) => res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(text),
      (error: unknown) => {
        log.error({ err: error }, 'metrics could not be collected');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  await listenOn(server, options.port, options.host, 'GERBANG_METRICS_PORT');
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
