import { connect } from 'node:net';

export interface SourceAddressProbe {
  /** Our end of the connection: the address the peer sees (unless `via` is a proxy). */
  localAddress: string;
  /** `host:port` actually connected to: the bank, or the egress proxy. */
  peer: string;
  via: 'direct' | 'proxy';
}

/**
 * Opens (and at once closes) a TCP connection the way bank calls do — bound to `localAddress`
 * when set, to the proxy when one is configured — and reports the local address the OS chose.
 * That is the address the bank must have whitelisted (with a proxy: the proxy's own egress
 * address, which this cannot see). Rejects with the socket error, or after `timeoutMs`.
 */
export function probeSourceAddress(options: { baseUrl: string; localAddress?: string; proxyUrl?: string; timeoutMs: number }): Promise<SourceAddressProbe> {
  const target = new URL(options.proxyUrl ?? options.baseUrl);
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress: options.localAddress, timeout: options.timeoutMs });
    socket.once('connect', () => {
      const localAddress = socket.localAddress ?? 'unknown';
      socket.destroy();
      resolve({ localAddress, peer: `${host}:${port}`, via: options.proxyUrl ? 'proxy' : 'direct' });
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no connection to ${host}:${port} within ${options.timeoutMs} ms`));
    });
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}
