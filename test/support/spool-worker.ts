/**
 * A separate OS process that writes an audit spool back into its database, as a gateway
 * worker does at start and every few seconds, for the crash-safety test of the spool.
 * Usage: node spool-worker.js <database url> <spool dir>; the audit key in GERBANG_AUDIT_KEYS.
 * Prints how many lines it wrote back.
 */
import { AuditSpool, openStore } from '../../src/store/index.js';
import { ringOf } from './audit-keys.js';

async function main(): Promise<void> {
  const [url, dir] = process.argv.slice(2);
  const keys = ringOf(...(process.env.GERBANG_AUDIT_KEYS ?? '').split(','));
  const store = await openStore(url, { auditKeys: keys });
  try {
    process.stdout.write(String(await new AuditSpool(dir, url, keys).replay(store.audit)));
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
