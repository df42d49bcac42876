import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { loadStoreConfig } from '../../config/index.js';
import { openStore } from '../../store/index.js';
import type { AuditExchangeRow, AuditRepository } from '../../store/types.js';
import { parseIsoOption, parseOptions, UsageError, type CliIo } from '../cli-io.js';

export const AUDIT_USAGE = `gerbang audit export --format jsonl|csv [--from ISO] [--to ISO]
  One record per inbound exchange with its bank calls, oldest first, to stdout.`;

const CSV_COLUMNS = [
  'id', 'requestId', 'receivedAt', 'completedAt', 'remoteIp', 'origin', 'method', 'path', 'clientId', 'transactionId', 'amount',
  'outcome', 'statusCode', 'errorCode', 'requestBody', 'responseBody', 'bankCallCount', 'bankCalls',
];

const PAGE = 500;

/** Walks the audit in id order, a page at a time, so an export of any size stays in bounded memory. */
export async function* auditRows(audit: AuditRepository, from?: number, to?: number): AsyncGenerator<AuditExchangeRow> {
  let afterId: number | undefined;
  for (;;) {
    const page = await audit.list({ from, to, afterId, limit: PAGE });
    yield* page;
    if (page.length < PAGE) return;
    afterId = page[page.length - 1].id;
  }
}

function exportRecord(row: AuditExchangeRow) {
  return {
    ...row,
    receivedAt: new Date(row.receivedAt).toISOString(),
    completedAt: row.completedAt === null ? null : new Date(row.completedAt).toISOString(),
    bankCalls: row.bankCalls.map((call) => ({ ...call, startedAt: new Date(call.startedAt).toISOString() })),
  };
}

async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

export async function auditCommand(args: string[], io: CliIo, stdout: Writable = process.stdout): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'export') throw new UsageError(`unknown action ${JSON.stringify(action ?? '')}; expected export`);
  const { values } = parseOptions(rest, { format: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } });
  if (values.format !== 'jsonl' && values.format !== 'csv') throw new UsageError('--format must be jsonl or csv');
  const from = parseIsoOption(values.from, '--from');
  const to = parseIsoOption(values.to, '--to');
  const store = await openStore(loadStoreConfig(io.env).databaseUrl);
  try {
    if (values.format === 'jsonl') {
      for await (const row of auditRows(store.audit, from, to)) await write(stdout, `${JSON.stringify(exportRecord(row))}\n`);
      return 0;
    }
    // csv-stringify does RFC 4180 quoting (commas, quotes, newlines inside JSON bodies) correctly.
    const csv = stringify({ header: true, columns: CSV_COLUMNS, bom: true });
    csv.pipe(stdout, { end: false });
    for await (const row of auditRows(store.audit, from, to)) {
      const record = exportRecord(row);
      const line = { ...record, bankCallCount: row.bankCalls.length, bankCalls: JSON.stringify(record.bankCalls) };
      if (!csv.write(line)) await once(csv, 'drain');
    }
    csv.end();
    await once(csv, 'end');
    return 0;
  } finally {
    await store.close();
  }
}
