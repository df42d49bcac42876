import { readFileSync } from 'node:fs';
import type { Db } from '../../src/store/index.js';

// For the perf scripts: the CPU the MariaDB server process spent, read from /proc (other work on the server counts too).

const TICK_MS = 1000 / 100; // /proc's clock ticks (USER_HZ 100)

/** The CPU so far of the server process `pid`, in ms (user and system), or NaN when it is not on this host. */
export function serverCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

/** The pid of the server `db` talks to, from its pid file (other mariadbd processes may run beside it). */
export async function serverPid(db: Db): Promise<number> {
  const [row] = await db.query<{ file: string }>('SELECT @@pid_file AS file');
  try {
    return Number(readFileSync(row.file, 'utf8').trim());
  } catch {
    return Number.NaN;
  }
}
