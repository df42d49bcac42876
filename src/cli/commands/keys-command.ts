import { checkpointer } from '../../audit/index.js';
import { loadAuditCheckpointFile, loadAuditKeys } from '../../config/index.js';
import { newKeySpec } from '../../security/index.js';
import type { KeyRotationReport } from '../../store/index.js';
import { parseOptions, UsageError, type CliIo } from '../cli-io.js';
import { openAuditStore } from './audit-command.js';


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
  if (action === 'reindex-search') return reindexSearch(io);
  if (action === 'seal-payments-by-id') return sealPaymentsById(batchSizeOf(rest), io);
  if (action !== 'rotate') throw new UsageError(`unknown action ${JSON.stringify(action ?? '')}; expected generate, rotate, reindex-search or seal-payments-by-id`);
  const batchSize = batchSizeOf(rest);
  const keys = loadAuditKeys(io.env);
  const store = await openAuditStore(io, keys);
  // A chain re-linked whole has a new MAC at its head: checkpointed at once, so a checkpoint of its head
  // before (signed with the new key by a process that had it already) is not taken for a chain rewritten.
  const checkpoint = checkpointer(loadAuditCheckpointFile(io.env), keys, `keys rotate ${process.pid}`);
  try {
    let shown = 0;
    const report = await store.keyRotation.rotate({
      batchSize,
      onChainRelinked: (head) => checkpoint(store.db.description, [head]),
      onBatch: (records) => {
        // One progress line per ~10 batches keeps a big rotation's output readable.
        const done = Object.values(records).reduce((a, b) => a + b, 0);
        if (done - shown >= batchSize * 10) {
          shown = done;
          io.err(`keys rotate: ${tally(records)} re-encrypted so far`);
        }
      },
    });
    io.out(`keys rotate: ${tally(report.records)} re-encrypted to key ${report.keyId} in ${report.batches} batches`);
    // A chain left half re-linked still needs its older key: the rotation is not done while one is.
    const unfinished = report.unfinishedChains ?? [];
    for (const chain of unfinished) io.err(`keys rotate: ${chain.problem}`);
    if (unfinished.length > 0) {
      io.err(
        `keys rotate: ${unfinished.length} audit chain(s) are not re-linked whole under key ${report.keyId}: keep every older key in GERBANG_AUDIT_KEYS ` +
          '(put back, before the new one, a key named above as not configured) and run this again; `gerbang audit verify` names a chain that breaks. Retire no key before this exits 0.',
      );
    }
    if (report.remaining > 0) {
      io.err(
        `keys rotate: ${report.remaining} rows are still under an older key: a gateway without key ${report.keyId} keeps writing them. ` +
          'Give every process (gateways and the console) the new key (last in GERBANG_AUDIT_KEYS), reload, and run this again.',
      );
    }
    return report.remaining === 0 && unfinished.length === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** `--batch-size N` (1-5000, default 200); UsageError otherwise. */
function batchSizeOf(args: string[]): number {
  const { values } = parseOptions(args, { 'batch-size': { type: 'string' } });
  const batchSize = values['batch-size'] === undefined ? DEFAULT_BATCH : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5_000) throw new UsageError('--batch-size must be an integer from 1 to 5000');
  return batchSize;
}

/**
 * Every payment sealed in its INSERT (GERBANG_SEAL_PAYMENTS_AT_INSERT) sealed again for its id,
 * so a release before that setting reads it: the step before rolling back to one. Exit 1 while a
 * process with the setting on still writes such payments.
 */
async function sealPaymentsById(batchSize: number, io: CliIo): Promise<number> {
  const store = await openAuditStore(io);
  try {
    const { resealed, remaining } = await store.keyRotation.sealPaymentsById({ batchSize });
    io.out(`keys seal-payments-by-id: ${resealed} payments sealed again for their id`);
    if (remaining === 0) return 0;
    io.err(
      `keys seal-payments-by-id: ${remaining} payments are still sealed in their INSERT: a process with GERBANG_SEAL_PAYMENTS_AT_INSERT=true keeps writing them. ` +
        'Turn it off on every node, reload, and run this again.',
    );
    return 1;
  } finally {
    await store.close();
  }
}

async function reindexSearch(io: CliIo): Promise<number> {
  const store = await openAuditStore(io);
  try {
    let shown = 0;
    const indexed = await store.keyRotation.reindexSearch({
      onBatch: (done) => {
        if (done - shown >= 10_000) {
          shown = done;
          io.err(`keys reindex-search: ${done} payments indexed so far`);
        }
      },
    });
    io.out(`keys reindex-search: ${indexed} payments indexed for the console search`);
    return 0;
  } finally {
    await store.close();
  }
}

const LABELS: Record<string, string> = {
  audit_exchanges: 'exchanges',
  audit_completions: 'exchange completions',
  audit_bank_calls: 'bank calls',
  payments: 'payments',
  payment_events: 'payment events',
  transfer_batch_lines: 'payment-run lines',
  callback_deliveries: 'callbacks',
  clients: 'client signing keys',
};

/** `3 exchanges, 2 exchange completions, 2 bank calls, 1 payments, 0 payment-run lines, 0 callbacks and 1 client signing keys`. */
function tally(records: KeyRotationReport['records']): string {
  const parts = Object.entries(records).map(([table, n]) => `${n} ${LABELS[table] ?? table}`);
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts.join('');
}
