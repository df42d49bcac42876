import { KeyRingError } from '../../security/index.js';
import type { AuditChainBreak, AuditVerifyReport, Db } from '../types.js';
import { GENESIS, linkHash, type LinkKind } from './audit-chain.js';
import {
  BANK_CALL_SELECT,
  bankCallDigest,
  EXCHANGE_SELECT,
  finalDigest,
  openBankCall,
  openedDigest,
  openExchange,
  type BankCallRow,
  type ExchangeRow,
} from './audit-records.js';
import { toNumber } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

const PAGE = 500;
/** Unchained records listed per kind (the count is always given). */
const UNCHAINED_SHOWN = 5;

interface LinkRow {
  writer_id: string;
  seq: number | string;
  kind: LinkKind;
  record_id: number | string;
  recorded_at: number | string;
  prev_hash: string;
  hash: string;
}

interface WriterRow {
  writer_id: string;
  last_seq: number | string;
  last_hash: string;
}

const TABLE_OF: Record<LinkKind, 'audit_exchanges' | 'audit_bank_calls'> = {
  open: 'audit_exchanges',
  complete: 'audit_exchanges',
  record: 'audit_exchanges',
  bank_call: 'audit_bank_calls',
};

/**
 * Walks every writer's chain in seq order and recomputes each link from the record it names
 * (decrypted: the content digest covers clear text, see audit-records.ts). Per chain it reports
 * the FIRST break: a missing seq or a missing record (deleted), a prev_hash that is not the
 * previous link's hash (reordered), a hash that does not match the record (altered), a chain
 * shorter than its head (newest records deleted). Then records no link covers (inserted, or
 * completed without a completion link). Throws KeyRingError when a value's key is not configured
 * (verification needs every key still in use).
 */
export async function verifyAudit(db: Db, sealer: ValueSealer): Promise<AuditVerifyReport> {
  const breaks: AuditChainBreak[] = [];
  let links = 0;
  const writers = await db.query<WriterRow>('SELECT writer_id, last_seq, last_hash FROM audit_writers ORDER BY started_at, writer_id');
  const known = new Set(writers.map((w) => w.writer_id));
  for (const orphan of await db.query<{ writer_id: string }>('SELECT DISTINCT writer_id FROM audit_chain ORDER BY writer_id')) {
    if (!known.has(orphan.writer_id)) {
      breaks.push({ writerId: orphan.writer_id, seq: null, table: 'audit_writers', recordId: null, problem: 'deleted', detail: `the head of chain ${orphan.writer_id} was deleted from audit_writers` });
    }
  }
  for (const writer of writers) {
    const result = await verifyChain(db, sealer, writer);
    links += result.links;
    if (result.break) breaks.push(result.break);
  }
  breaks.push(...(await unchainedRecords(db)));
  const [{ n: exchanges }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_exchanges');
  const [{ n: bankCalls }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_bank_calls');
  const heads = writers.map((w) => ({ writerId: w.writer_id, seq: toNumber(w.last_seq), hash: w.last_hash }));
  return { chains: writers.length, links, exchanges: toNumber(exchanges), bankCalls: toNumber(bankCalls), heads, breaks };
}

async function verifyChain(db: Db, sealer: ValueSealer, writer: WriterRow): Promise<{ links: number; break?: AuditChainBreak }> {
  const writerId = writer.writer_id;
  let prevHash = GENESIS;
  let expected = 1;
  for (;;) {
    const page = await db.query<LinkRow>(
      'SELECT writer_id, seq, kind, record_id, recorded_at, prev_hash, hash FROM audit_chain WHERE writer_id = ? AND seq >= ? ORDER BY seq LIMIT ?',
      [writerId, expected, PAGE],
    );
    const digests = await contentDigests(db, sealer, page);
    for (const link of page) {
      const seq = toNumber(link.seq);
      const recordId = toNumber(link.record_id);
      const table = TABLE_OF[link.kind] ?? 'audit_chain';
      const at = { writerId, seq, table, recordId } as const;
      if (seq !== expected) {
        return { links: expected - 1, break: { ...at, seq: expected, recordId: null, table: 'audit_chain', problem: 'deleted', detail: `link ${expected} of chain ${writerId} is missing (the next one is ${seq}): a record and its link were deleted` } };
      }
      if (link.prev_hash !== prevHash) {
        return { links: expected - 1, break: { ...at, problem: 'reordered', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}) does not follow the link before it: links were reordered or replaced` } };
      }
      const content = digests.get(`${link.kind}:${recordId}`);
      if (content === undefined) {
        return { links: expected - 1, break: { ...at, problem: 'deleted', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}, ${link.kind}) was deleted` } };
      }
      if ('error' in content) {
        return { links: expected - 1, break: { ...at, problem: 'altered', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}) was altered: ${content.error}` } };
      }
      const hash = linkHash({ prevHash, writerId, seq, kind: link.kind, recordId, recordedAt: toNumber(link.recorded_at), contentDigest: content.digest });
      if (hash !== link.hash) {
        return { links: expected - 1, break: { ...at, problem: 'altered', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}, ${link.kind}) was altered: its content no longer matches its hash` } };
      }
      prevHash = link.hash;
      expected += 1;
    }
    if (page.length < PAGE) break;
  }
  const last = expected - 1;
  if (last !== toNumber(writer.last_seq) || prevHash !== writer.last_hash) {
    return {
      links: last,
      break: {
        writerId,
        seq: last + 1,
        table: 'audit_chain',
        recordId: null,
        problem: 'truncated',
        detail: `chain ${writerId} ends at link ${last} but its head records link ${toNumber(writer.last_seq)}: its newest records were deleted or the head was altered`,
      },
    };
  }
  return { links: last };
}

type Content = { digest: string } | { error: string };

/** The content digest of every record a page of links names, keyed `kind:id`; absent when the record is gone. */
async function contentDigests(db: Db, sealer: ValueSealer, page: LinkRow[]): Promise<Map<string, Content>> {
  const out = new Map<string, Content>();
  const exchangeIds = [...new Set(page.filter((l) => l.kind !== 'bank_call').map((l) => toNumber(l.record_id)))];
  const callIds = [...new Set(page.filter((l) => l.kind === 'bank_call').map((l) => toNumber(l.record_id)))];
  const exchanges = exchangeIds.length === 0 ? [] : await db.query<ExchangeRow>(`SELECT ${EXCHANGE_SELECT} FROM audit_exchanges WHERE id IN (${exchangeIds.map(() => '?').join(', ')})`, exchangeIds);
  const calls = callIds.length === 0 ? [] : await db.query<BankCallRow>(`SELECT ${BANK_CALL_SELECT} FROM audit_bank_calls WHERE id IN (${callIds.map(() => '?').join(', ')})`, callIds);
  for (const row of exchanges) {
    const id = toNumber(row.id);
    const opened = attempt(() => openExchange(row, sealer));
    if ('error' in opened) {
      for (const kind of ['open', 'complete', 'record']) out.set(`${kind}:${id}`, opened);
      continue;
    }
    out.set(`open:${id}`, { digest: openedDigest(opened.value) });
    out.set(`complete:${id}`, { digest: finalDigest(opened.value) });
    out.set(`record:${id}`, { digest: finalDigest(opened.value) });
  }
  for (const row of calls) {
    const opened = attempt(() => openBankCall(row, sealer));
    out.set(`bank_call:${toNumber(row.id)}`, 'error' in opened ? opened : { digest: bankCallDigest(opened.value) });
  }
  return out;
}

/** A value that does not decrypt is an altered record; a key the ring lacks is a configuration error. */
function attempt<T>(fn: () => T): { value: T } | { error: string } {
  try {
    return { value: fn() };
  } catch (error) {
    if (error instanceof KeyRingError && error.reason === 'corrupt') return { error: 'a sealed value does not decrypt' };
    throw error;
  }
}

/** Records no link covers: inserted behind the gateway's back, or completed without a completion link. */
async function unchainedRecords(db: Db): Promise<AuditChainBreak[]> {
  const checks = [
    {
      table: 'audit_exchanges' as const,
      what: 'exchanges without an open or record link (inserted directly)',
      sql: "FROM audit_exchanges e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.kind IN ('open', 'record') AND c.record_id = e.id)",
    },
    {
      table: 'audit_exchanges' as const,
      what: 'finished exchanges without a completion link (outcome changed directly)',
      sql: "FROM audit_exchanges e WHERE e.outcome <> 'in_progress' AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.kind IN ('complete', 'record') AND c.record_id = e.id)",
    },
    {
      table: 'audit_bank_calls' as const,
      what: 'bank calls without a link (inserted directly)',
      sql: "FROM audit_bank_calls e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.kind = 'bank_call' AND c.record_id = e.id)",
    },
  ];
  const breaks: AuditChainBreak[] = [];
  for (const check of checks) {
    const [{ n }] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n ${check.sql}`);
    if (toNumber(n) === 0) continue;
    const ids = (await db.query<{ id: number | string }>(`SELECT e.id AS id ${check.sql} ORDER BY e.id LIMIT ${UNCHAINED_SHOWN}`)).map((r) => toNumber(r.id));
    breaks.push({
      writerId: null,
      seq: null,
      table: check.table,
      recordId: ids[0],
      problem: 'unchained',
      detail: `${toNumber(n)} ${check.what}, first ids: ${ids.join(', ')}`,
    });
  }
  return breaks;
}
