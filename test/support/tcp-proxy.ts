import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A commit whose answer is to be lost (loseCommitAnswerAfter). */
interface CommitLoss {
  marker: string;
  lost: () => void;
}

/**
 * A TCP forwarder on 127.0.0.1:0 in front of a real server (MariaDB). `cut()` drops every
 * connection and refuses new ones — to the gateway, the database is down — and `restore()`
 * brings it back. `loseCommitAnswerAfter()` lets one COMMIT reach the server and drops the
 * client's connection before the answer: the database node dying as it commits. `commands`
 * counts the clients' round trips. The shared
 * MariaDB itself is never stopped, so other suites are unaffected.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private commitLoss: CommitLoss | null = null;
  port = 0;
  /**
   * Commands the clients have sent (MySQL packets that begin a command: sequence id 0): one a
   * round trip, however many statements a query holds.
   */
  commands = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((inbound) => {
      const outbound = connect(this.targetPort, this.targetHost);
      for (const socket of [inbound, outbound]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      // The statements a connection sent since its last COMMIT carried the marker.
      let marked = false;
      let answering = true;
      // The client's stream cut into packets (3 bytes of length, 1 of sequence id, the payload).
      let pending = Buffer.alloc(0);
      inbound.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 4 && pending.length >= 4 + pending.readUIntLE(0, 3)) {
          if (pending[3] === 0) this.commands += 1;
          pending = pending.subarray(4 + pending.readUIntLE(0, 3));
        }
        const loss = this.commitLoss;
        const text = loss ? chunk.toString('latin1') : '';
        if (loss && text.includes(loss.marker)) marked = true;
        outbound.write(chunk);
        if (loss && marked && /\bCOMMIT\b/i.test(text)) {
          this.commitLoss = null;
          // The server gets the COMMIT and carries it out; its answer never reaches the client.
          answering = false;
          inbound.destroy();
          setTimeout(() => outbound.destroy(), 500).unref();
          loss.lost();
        }
      });
      outbound.on('data', (chunk: Buffer) => {
        if (answering) inbound.write(chunk);
      });
      inbound.on('end', () => outbound.end());
      outbound.on('end', () => inbound.end());
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /**
   * The next COMMIT on a connection that sent `marker` (a statement's text, as a prepared
   * statement carries it) since its last COMMIT reaches the server, and the client's connection
   * is dropped before the answer. Resolves once that happened.
   */
  loseCommitAnswerAfter(marker: string): Promise<void> {
    return new Promise((resolve) => {
      this.commitLoss = { marker, lost: resolve };
    });
  }

  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }
}
