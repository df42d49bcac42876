import type { Queryable } from '../types.js';
import { GENESIS, type LinkKind, type StoredLink } from './audit-chain.js';
import type { BankCallRow, ExchangeRow } from './audit-records.js';
import { toNumber } from './row-values.js';

/**
 * A page of exported exchanges held to its place in its chains, at the cost of the page: the
 * links of each chain the page's records are on, from the link before the page's first up to its
 * last, must follow one another (every seq there, each prev_hash the hash of the link before) and
 * every exchange, completion and bank call they link must still be in the database. A record and
 * its link deleted leave a gap; a record deleted alone leaves its link naming nothing, so a bank
 * call deleted in SQL is named though its exchange holds to its own links (audit-record-links.ts).
 * `audit verify` walks every chain whole; this walks only what lies between the page's records.
 *
 * A break is told to the exchanges that were in progress across it: those with a link on the same
 * chain before and after it, and, for a deleted bank call whose link is left, those of the same
 * gateway process open when the call was linked (its link may sit on another of the process's
 * chains, ChainLanes). When none was, the page's exchange linked next after it (or last before).
 */

/** A link as the page read it. */
export type PageLink = StoredLink & { kind: LinkKind };

/** A break of a chain between the page's records, and which exchanges it is told to. */
interface ChainBreak {
  writerId: string;
  seq: number;
  /** When the link is there (a record deleted alone), the time it was linked. */
  recordedAt: number | null;
  kind: LinkKind | null;
  detail: string;
}

/** The record each linked kind names. */
const TABLE_OF: Partial<Record<LinkKind, string>> = { open: 'audit_exchanges', record: 'audit_exchanges', complete: 'audit_completions', bank_call: 'audit_bank_calls' };

/** A ChainLanes lane of a process (`<base>-<i>`, at most 4 lanes) is of that process; a lone chain is its own. */
function processOf(writerId: string): string {
  return writerId.replace(/-[0-3]$/, '');
}

/**
 * The problem of each exchange of the page (by id) that a break of its chains between the page's
 * records is told to; absent when none. `links` are the page's records' own links (read by
 * recordLinkProblems), `calls` the page's bank calls.
 */
export async function chainPlaceProblems(q: Queryable, exchanges: ExchangeRow[], calls: BankCallRow[], links: PageLink[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (links.length === 0) return found;
  const exchangeIds = new Set(exchanges.map((row) => toNumber(row.id)));
  const callIds = new Set(calls.map((row) => toNumber(row.id)));
  const exchangeOfCall = new Map(calls.map((row) => [toNumber(row.id), row.exchange_id === null ? null : toNumber(row.exchange_id)]));
  // Each page link as (chain, seq, time) of the page exchange it belongs to.
  const owned = links
    .map((link) => ({ writerId: link.writer_id, seq: toNumber(link.seq), at: toNumber(link.recorded_at), kind: link.kind, exchange: link.kind === 'bank_call' ? exchangeOfCall.get(toNumber(link.record_id)) ?? null : toNumber(link.record_id) }))
    .filter((l): l is typeof l & { exchange: number } => l.exchange !== null && exchangeIds.has(l.exchange));

  const spans = new Map<string, { lo: number; hi: number }>();
  for (const l of owned) {
    const span = spans.get(l.writerId);
    spans.set(l.writerId, span ? { lo: Math.min(span.lo, l.seq), hi: Math.max(span.hi, l.seq) } : { lo: l.seq, hi: l.seq });
  }
  const chains = new Map<string, PageLink[]>();
  for (const [writerId, { lo, hi }] of spans) {
    chains.set(
      writerId,
      await q.query<PageLink>('SELECT writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id FROM audit_chain WHERE writer_id = ? AND seq >= ? AND seq <= ? ORDER BY seq', [
        writerId, Math.max(1, lo - 1), hi,
      ]),
    );
  }
  const missing = await missingRecords(q, [...chains.values()].flat(), { exchanges: exchangeIds, bankCalls: callIds });

  const breaks: ChainBreak[] = [];
  for (const [writerId, chain] of chains) {
    const first = Math.max(1, spans.get(writerId)!.lo - 1);
    let expected = first;
    let prevHash: string | null = first === 1 ? GENESIS : null;
    for (const link of chain) {
      const seq = toNumber(link.seq);
      const recordId = toNumber(link.record_id);
      const table = TABLE_OF[link.kind] ?? 'audit_chain';
      const state = missing.get(`${link.kind}:${recordId}`);
      if (seq !== expected) {
        breaks.push({ writerId, seq: expected, recordedAt: null, kind: null, detail: `link ${expected} of chain ${writerId} is missing (the next one is ${seq}): a record and its link were deleted` });
      } else if (prevHash !== null && link.prev_hash !== prevHash && state !== 'purged') {
        // A link a purge names is kept as the purge saw it (audit-verify.ts): it need not follow.
        breaks.push({ writerId, seq, recordedAt: null, kind: link.kind, detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}) does not follow the link before it: links were deleted, reordered or replaced` });
      }
      if (state === 'deleted') {
        breaks.push({ writerId, seq, recordedAt: toNumber(link.recorded_at), kind: link.kind, detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}, ${link.kind}) was deleted: its chain link is still there` });
      }
      prevHash = link.hash;
      expected = seq + 1;
    }
    const hi = spans.get(writerId)!.hi;
    if (expected <= hi) breaks.push({ writerId, seq: expected, recordedAt: null, kind: null, detail: `links ${expected} to ${hi} of chain ${writerId} are missing: records and their links were deleted` });
  }

  for (const b of breaks) {
    for (const exchange of toldTo(b, owned)) {
      const before = found.get(exchange);
      found.set(exchange, before === undefined ? b.detail : `${before}; ${b.detail}`);
    }
  }
  return found;
}

/** The page exchanges a break is told to (see chainPlaceProblems). */
function toldTo(b: ChainBreak, owned: { writerId: string; seq: number; at: number; kind: LinkKind; exchange: number }[]): Set<number> {
  const told = new Set<number>();
  const onChain = owned.filter((l) => l.writerId === b.writerId);
  const exchanges = new Set(owned.map((l) => l.exchange));
  for (const exchange of exchanges) {
    const own = onChain.filter((l) => l.exchange === exchange);
    if (own.some((l) => l.seq < b.seq) && own.some((l) => l.seq > b.seq)) told.add(exchange);
    if (b.recordedAt !== null && b.kind === 'bank_call') {
      // In progress on the same process when the call was linked: opened before it, completed after it (or not yet).
      const mine = owned.filter((l) => l.exchange === exchange && processOf(l.writerId) === processOf(b.writerId));
      const opened = mine.find((l) => l.kind === 'open');
      const done = mine.find((l) => l.kind === 'complete');
      if (opened && opened.at <= b.recordedAt && (!done || done.at >= b.recordedAt)) told.add(exchange);
    }
  }
  if (told.size > 0) return told;
  const after = onChain.filter((l) => l.seq > b.seq).sort((x, y) => x.seq - y.seq)[0];
  const before = onChain.filter((l) => l.seq < b.seq).sort((x, y) => y.seq - x.seq)[0];
  const nearest = after ?? before;
  return new Set(nearest ? [nearest.exchange] : []);
}

/**
 * The linked records of `links` that are not in the database, by `kind:id`: 'deleted', or 'purged'
 * when a purge names that very link (writer, seq, hash; the purge's own link is verify's to check).
 * Records of the page (`page`) are there; the others are looked up by id, one statement per table.
 */
async function missingRecords(
  q: Queryable,
  links: PageLink[],
  page: { exchanges: Set<number>; bankCalls: Set<number> },
): Promise<Map<string, 'deleted' | 'purged'>> {
  const wanted = (kinds: LinkKind[], have: Set<number>) => new Set(links.filter((l) => kinds.includes(l.kind)).map((l) => toNumber(l.record_id)).filter((id) => !have.has(id)));
  const present = async (sql: string, ids: Set<number>) =>
    ids.size === 0 ? new Set<number>() : new Set((await q.query<{ id: number | string }>(`${sql} (${[...ids].map(() => '?').join(', ')})`, [...ids])).map((row) => toNumber(row.id)));
  const exchangeIds = wanted(['open', 'record'], page.exchanges);
  // A page exchange's own completion is recordLinkProblems' to name.
  const completionIds = wanted(['complete'], page.exchanges);
  const callIds = wanted(['bank_call'], page.bankCalls);
  const [exchanges, completions, bankCalls] = await Promise.all([
    present('SELECT id FROM audit_exchanges WHERE id IN', exchangeIds),
    present('SELECT exchange_id AS id FROM audit_completions WHERE exchange_id IN', completionIds),
    present('SELECT id FROM audit_bank_calls WHERE id IN', callIds),
  ]);
  const gone = [...exchangeIds].filter((id) => !exchanges.has(id));
  const purges =
    gone.length === 0
      ? []
      : await q.query<{ exchange_id: number | string; writer_id: string; seq: number | string; link_hash: string }>(
          `SELECT exchange_id, writer_id, seq, link_hash FROM audit_purged_exchanges WHERE exchange_id IN (${gone.map(() => '?').join(', ')})`,
          gone,
        );
  const purged = new Set(purges.map((p) => `${toNumber(p.exchange_id)} ${p.writer_id} ${toNumber(p.seq)} ${p.link_hash}`));
  const out = new Map<string, 'deleted' | 'purged'>();
  for (const link of links) {
    const id = toNumber(link.record_id);
    const key = `${link.kind}:${id}`;
    if ((link.kind === 'open' || link.kind === 'record') && exchangeIds.has(id) && !exchanges.has(id)) {
      out.set(key, link.kind === 'record' && purged.has(`${id} ${link.writer_id} ${toNumber(link.seq)} ${link.hash}`) ? 'purged' : 'deleted');
    }
    if (link.kind === 'complete' && completionIds.has(id) && !completions.has(id)) out.set(key, 'deleted');
    if (link.kind === 'bank_call' && callIds.has(id) && !bankCalls.has(id)) out.set(key, 'deleted');
  }
  return out;
}
