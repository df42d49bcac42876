import { checkpointer } from '../../audit/index.js';
import { loadAuditCheckpointFile, loadAuditKeys, loadStoreConfig } from '../../config/index.js';
import { describeDatabaseUrl, migrate, openStore } from '../../store/index.js';
import type { CliIo } from '../cli-io.js';

/** `gerbang migrate`: applies the pending numbered migrations of sql/ to GERBANG_DATABASE_URL. */
export async function migrateCommand(_args: string[], io: CliIo): Promise<number> {
  const { databaseUrl } = loadStoreConfig(io.env);
  const store = await openStore(databaseUrl);
  try {
    // Migration 012 seals and signs what is already stored: it needs the keys when there is data.
    const keys = loadAuditKeys(io.env, { optional: true });
    // The chains of 027 and 037 (stored data recorded as it stood) vouched for outside the database, as the gateway's start does.
    const checkpoint = keys === null ? undefined : checkpointer(loadAuditCheckpointFile(io.env), keys, `migrate ${process.pid}`);
    const { applied } = await migrate(store.db, { keys, checkpoint });
    io.out(applied.length === 0 ? `${describeDatabaseUrl(databaseUrl)}: up to date` : `${describeDatabaseUrl(databaseUrl)}: applied ${applied.join(', ')}`);
    return 0;
  } finally {
    await store.close();
  }
}
