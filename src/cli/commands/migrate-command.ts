import { loadAuditKeys, loadStoreConfig } from '../../config/index.js';
import { describeDatabaseUrl, migrate, openStore } from '../../store/index.js';
import type { CliIo } from '../cli-io.js';

/** `gerbang migrate`: applies the pending numbered migrations of sql/ to GERBANG_DATABASE_URL. */
export async function migrateCommand(_args: string[], io: CliIo): Promise<number> {
  const { databaseUrl } = loadStoreConfig(io.env);
  const store = await openStore(databaseUrl);
  try {
    // Migration 012 seals and signs what is already stored: it needs the keys when there is data.
    const { applied } = await migrate(store.db, { keys: loadAuditKeys(io.env, { optional: true }) });
    io.out(applied.length === 0 ? `${describeDatabaseUrl(databaseUrl)}: up to date` : `${describeDatabaseUrl(databaseUrl)}: applied ${applied.join(', ')}`);
    return 0;
  } finally {
    await store.close();
  }
}
