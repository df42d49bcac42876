/**
 * A separate OS process doing store work, for tests of what several PM2 workers (or nodes) do
 * at once on one database. Usage: node store-worker.js <url> <migrate|sequence|bank-ids|increment> [name] [count]
 * Prints one JSON value on stdout. `migrate` migrates with the key ring of GERBANG_AUDIT_KEYS when it is set.
 */
import { BankIdBlocks } from '../../src/domain/transfers/index.js';
import { migrate, openStore } from '../../src/store/index.js';
import { ringOf } from './audit-keys.js';

async function main(): Promise<void> {
  const [url, action, name = '', countText = '0'] = process.argv.slice(2);
  const count = Number(countText);
  const store = await openStore(url);
  try {
    if (action === 'migrate') {
      const keys = process.env.GERBANG_AUDIT_KEYS ? ringOf(...process.env.GERBANG_AUDIT_KEYS.split(',')) : null;
      process.stdout.write(JSON.stringify((await migrate(store.db, { keys })).applied));
    } else if (action === 'sequence') {
      const values = await Promise.all(Array.from({ length: count }, () => store.sequences.next(name)));
      process.stdout.write(JSON.stringify(values));
    } else if (action === 'bank-ids') {
      // A gateway process's bank ids: handed out from blocks of 16 taken from the shared counter.
      const ids = new BankIdBlocks(store.sequences);
      const values = await Promise.all(Array.from({ length: count }, () => ids.next(name)));
      process.stdout.write(JSON.stringify(values));
    } else if (action === 'increment') {
      const results = await Promise.all(Array.from({ length: count }, () => store.rateLimits.increment(name, 600_000, 1)));
      process.stdout.write(JSON.stringify(results.map((r) => r.hits)));
    } else {
      throw new Error(`unknown action ${action}`);
    }
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
