import { newKeySpec } from '../../security/index.js';
import { parseOptions, UsageError, type CliIo } from '../cli-io.js';
import { openAuditStore } from './audit-command.js';

export const KEYS_USAGE = `gerbang keys generate [--id ID]
  Prints a new audit key line \`ID:base64key\` for GERBANG_AUDIT_KEYS or a key file.
gerbang keys rotate [--batch-size N]
  Re-encrypts every audit record to the newest key (the last in GERBANG_AUDIT_KEYS /
  GERBANG_AUDIT_KEY_FILES), N records per transaction (default 200), while gateways keep serving.
  Exit status 0 when no record is left under an older key.`;

const DEFAULT_BATCH = 200;

export async function keysCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'generate') {
    const { values } = parseOptions(rest, { id: { type: 'string' } });
    const id = values.id ?? `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new UsageError('--id must be 1-32 of A-Z a-z 0-9 _ -');
    io.out(newKeySpec(id));
    return 0;
  }
  if (action !== 'rotate') throw new UsageError(`unknown action ${JSON.stringify(action ?? '')}; expected generate or rotate`);
  const { values } = parseOptions(rest, { 'batch-size': { type: 'string' } });
  const batchSize = values['batch-size'] === undefined ? DEFAULT_BATCH : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5_000) throw new UsageError('--batch-size must be an integer from 1 to 5000');
  const store = await openAuditStore(io);
  try {
    let shown = 0;
    const report = await store.audit.rotate({
      batchSize,
      onBatch: ({ exchanges, bankCalls }) => {
        // One progress line per ~10 batches keeps a big rotation's output readable.
        if (exchanges + bankCalls - shown >= batchSize * 10) {
          shown = exchanges + bankCalls;
          io.err(`keys rotate: ${exchanges} exchanges and ${bankCalls} bank calls re-encrypted so far`);
        }
      },
    });
    io.out(`keys rotate: ${report.exchanges} exchanges and ${report.bankCalls} bank calls re-encrypted to key ${report.keyId} in ${report.batches} batches`);
    if (report.remaining === 0) return 0;
    io.err(
      `keys rotate: ${report.remaining} records are still under an older key: a gateway without key ${report.keyId} keeps writing them. ` +
        'Give every process the new key (last in GERBANG_AUDIT_KEYS), reload, and run this again.',
    );
    return 1;
  } finally {
    await store.close();
  }
}
