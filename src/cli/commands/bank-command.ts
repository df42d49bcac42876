import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config/index.js';
import { newKeySpec } from '../../security/index.js';
import { pingPartners } from '../../gateway/bank-ping.js';
import { startBankPartners } from '../../gateway/bank-partners.js';
import { migrate, openStore } from '../../store/index.js';
import { UsageError, type CliIo } from '../cli-io.js';


/** `gerbang bank ping`: proves each partner's address, credentials and whitelisted source address. */
export async function bankCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'ping' || rest.some((arg) => arg !== '--json')) throw new UsageError('expected: gerbang bank ping [--json]');
  // The bank commands sign no access tokens: a missing GERBANG_JWT_SECRET is no reason to refuse.
  // Nor does it write the audit: a missing audit key is no reason either (the store gets none).
  const noAuditKey = !io.env.GERBANG_AUDIT_KEYS && !io.env.GERBANG_AUDIT_KEY_FILES;
  const config = loadConfig(io.env, {
    GERBANG_JWT_SECRET: io.env.GERBANG_JWT_SECRET || randomBytes(32).toString('hex'),
    ...(noAuditKey ? { GERBANG_AUDIT_KEYS: newKeySpec('unused') } : {}),
  });
  const store = await openStore(config.databaseUrl);
  try {
    // Tokens are shared through the store's bank_tokens table, so it must be migrated.
    await migrate(store.db);
    const partners = await startBankPartners(config, store, Date.now);
    try {
      const reports = await pingPartners(partners.router);
      if (rest.includes('--json')) io.out(JSON.stringify(reports, null, 2));
      else {
        for (const r of reports) {
          io.out(r.ok ? `${r.partner} (${r.protocol}): OK, token in ${r.durationMs} ms from ${r.url}` : `${r.partner} (${r.protocol}): FAILED ${r.error}`);
        }
      }
      return reports.every((r) => r.ok) ? 0 : 1;
    } finally {
      await partners.close();
    }
  } finally {
    await store.close();
  }
}
