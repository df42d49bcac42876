import { rmSync } from 'node:fs';
import { openDb } from '../../src/store/index.js';
import { GaleraNode, installedDataDir, serverArgs } from './galera/galera-cluster.js';
import { freePort } from './processes.js';

/**
 * A MariaDB server of the test's own, not the shared one, started with `settings` added to its
 * arguments (a server setting an operator may choose, e.g. `--sql-mode=`); it needs what a Galera
 * node needs (galeraMissing). Its URL (root, empty password) and stop(), which removes its data.
 */
export async function startPrivateMariaDb(settings: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const { base, template } = installedDataDir('gerbang-mariadb-');
  const port = await freePort();
  const server = new GaleraNode(0, template, { sql: port, group: 0, ist: 0, sst: 0 });
  const stop = async () => {
    if (server.running) {
      server.signal('SIGKILL');
      await server.exited;
    }
    rmSync(base, { recursive: true, force: true });
  };
  server.start([...serverArgs(template, port), ...settings]);
  const url = `mysql://root@${server.address}`;
  const until = Date.now() + 60_000;
  for (;;) {
    const db = openDb(url);
    try {
      await db.query('SELECT 1');
      return { url, stop };
    } catch (error) {
      if (!server.running || Date.now() > until) {
        const log = server.logTail();
        await stop();
        throw new Error(`the test's MariaDB server did not start: ${String(error)}\n${log}`);
      }
    } finally {
      await db.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
