import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';

/**
 * Which of `pids` holds the server end of `socket`, a connected TCP socket of this test process,
 * as the kernel sees it (Linux /proc). Under cluster mode a listener is shared through the
 * primary, so the address a client reached says nothing of the process that answered; the
 * accepted socket, though, lives in exactly one worker.
 */
export function pidsHoldingServerEnd(socket: Socket, pids: number[]): number[] {
  const inode = serverEndInode(socket);
  return pids.filter((pid) => {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return false;
    }
    return fds.some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`;
      } catch {
        return false; // closed while we looked
      }
    });
  });
}

/** The inode of the server end (local port = our remote port, remote port = our local port). */
function serverEndInode(socket: Socket): string {
  const hexPort = (port: number | undefined) => `:${(port ?? -1).toString(16).toUpperCase().padStart(4, '0')}`;
  const local = hexPort(socket.remotePort);
  const remote = hexPort(socket.localPort);
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    // "sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode …", addresses as HEXIP:HEXPORT.
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[1].endsWith(local) && fields[2].endsWith(remote)) return fields[9];
    }
  }
  throw new Error(`no server end of ${socket.localAddress}:${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort} in /proc/net/tcp`);
}
