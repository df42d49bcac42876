import type { KeyRing } from '../../security/index.js';
import type { Queryable } from '../types.js';
import { GENESIS, isLink, relinkSeam, type LinkKind, type StoredLink } from './audit-chain.js';
import type { BankCallRow, ExchangeRow } from './audit-records.js';
import { toNumber } from './row-values.js';

/**
 * A page of exported exchanges held to its place in its chains, at the cost of the page: the
 * links of each chain of each gateway process the page's records are on, from the link before the
 * process's first page record to the link after its last (by the time they were linked), must
 * follow one another (every seq there, each prev_hash the hash of the link before; read to a
 * chain's end, as far as its head says) and every exchange, completion and bank call linked in
 * that time (or on a chain between the page's own links) must still be in the database. A record and its link deleted leave a gap; a record deleted alone
 * leaves its link naming nothing, so a bank call deleted in SQL is named though its exchange holds
 * to its own links (audit-record-links.ts), even when the process linked it on a chain of its own
 * that holds nothing else of the page (ChainLanes). `audit verify` walks every chain whole; this
 * walks only what the page's records span; a chain cut at its end and its head moved back is seen
 * against the checkpoints outside the database (the export compares with them once, at its end).
 *
 * A break is told to the exchanges that were in progress across it: those with a link on the same
 * chain before and after it, and, for a deleted bank call whose link is left, those of the same
 * gateway process open when the call was linked. When none was, those of the process in progress
 * between the links either side of it; when none was either, the page's exchange linked next after
 * it on that chain (or last before, or of that process nearest in time).
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
  /** When the link is gone, the times of the links either side of the gap (the later one absent at a chain's end). */
  between: { from: number; to: number } | null;
  detail: string;
}

/** A page exchange's own link: on which chain, where, when, and of which exchange. */
interface OwnedLink {
  writerId: string;
  seq: number;
  at: number;
  kind: LinkKind;
  exchange: number;
}

/** The record each linked kind names. */
const TABLE_OF: Partial<Record<LinkKind, string>> = { open: 'audit_exchanges', record: 'audit_exchanges', complete: 'audit_completions', bank_call: 'audit_bank_calls' };

/** Lanes of one process (ChainLanes: `<base>-<i>`, at most 4); a lone chain is its own base. */
const LANES = 4;

/** A ChainLanes lane of a process (`<base>-<i>`, at most 4 lanes) is of that process; a lone chain is its own. */
function processOf(writerId: string): string {
  return writerId.replace(/-[0-3]$/, '');
}

/**
 * The problem of each exchange of the page (by id) that a break of its chains between the page's
 * records is told to; absent when none. `links` are the page's records' own links (read by
 * recordLinkProblems), `calls` the page's bank calls.
 *
 * Each chain of a process the page's records are on is read over the time those records span
 * (from the link before the process's first to the link after its last), whether or not it holds
 * one of them: a process links an exchange's bank call on whichever of its chains is free, so a
 * bank call deleted with or without its link may sit on a chain that holds nothing else of the page.
 * Where `keys rotate` stopped half-way through a chain, the link after its mark follows the MAC
 * the link before had: that seam is crossed where (and only where) the mark holds under `ring`
 * (relinkSeam, as `audit verify` crosses it).
 */
export async function chainPlaceProblems(q: Queryable, ring: KeyRing, exchanges: ExchangeRow[], calls: BankCallRow[], links: PageLink[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (links.length === 0) return found;
  const exchangeIds = new Set(exchanges.map((row) => toNumber(row.id)));
  const callIds = new Set(calls.map((row) => toNumber(row.id)));
  const exchangeOfCall = new Map(calls.map((row) => [toNumber(row.id), row.exchange_id === null ? null : toNumber(row.exchange_id)]));
  // Each page link as (chain, seq, time) of the page exchange it belongs to.
  const owned = links
    .map((link) => ({ writerId: link.writer_id, seq: toNumber(link.seq), at: toNumber(link.recorded_at), kind: link.kind, exchange: link.kind === 'bank_call' ? exchangeOfCall.get(toNumber(link.record_id)) ?? null : toNumber(link.record_id) }))
    .filter((l): l is OwnedLink => l.exchange !== null && exchangeIds.has(l.exchange));

  // The chains one beside the other (each a few statements in turn).
  const lanes = await pageLanes(q, owned);
  const read = await Promise.all(
    lanes.map(async (lane) => {
      const from = lane.span ? await linkBefore(q, lane.writerId, lane.span.lo, lane.during.from) : await linkBeforeTime(q, lane.writerId, lane.head ?? 0, lane.during.from);
      const to = await linkAfter(q, lane.writerId, Math.max(from, lane.span?.hi ?? 0), lane.during.to);
      const links = await q.query<PageLink>(
        `SELECT writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id FROM audit_chain WHERE writer_id = ? AND seq >= ?${to === null ? '' : ' AND seq <= ?'} ORDER BY seq`,
        to === null ? [lane.writerId, Math.max(1, from)] : [lane.writerId, Math.max(1, from), to],
      );
      // Read to the chain's end: its head says how far it reaches.
      return [lane.writerId, { from: Math.max(1, from), links, head: to === null ? lane.head : null }] as const;
    }),
  );
  const chains = new Map(read);
  // The records the page answers for: linked while its process's page records were, or between the
  // page's own links on that chain (from the one before its first); the links either side of the
  // time are read for the chain's continuity only (their records are their own pages').
  const laneOf = new Map(lanes.map((lane) => [lane.writerId, lane]));
  const answered = [...chains.values()].flatMap((c) =>
    c.links.filter((link) => {
      const { span, during } = laneOf.get(link.writer_id)!;
      const seq = toNumber(link.seq);
      const at = toNumber(link.recorded_at);
      return (span !== null && seq >= span.lo - 1 && seq <= span.hi) || (at >= during.from && at <= during.to);
    }),
  );
  const missing = await missingRecords(q, answered, { exchanges: exchangeIds, bankCalls: callIds });

  const breaks: ChainBreak[] = [];
  for (const [writerId, { from: first, links: chain, head }] of chains) {
    let expected = first;
    let prevHash: string | null = first === 1 ? GENESIS : null;
    let prevAt: number | null = null;
    for (const link of chain) {
      const seq = toNumber(link.seq);
      const at = toNumber(link.recorded_at);
      const recordId = toNumber(link.record_id);
      const table = TABLE_OF[link.kind] ?? 'audit_chain';
      const state = missing.get(`${link.kind}:${recordId}`);
      if (seq !== expected) {
        breaks.push({ writerId, seq: expected, recordedAt: null, kind: null, between: { from: prevAt ?? at, to: at }, detail: `link ${expected} of chain ${writerId} is missing (the next one is ${seq}): a record and its link were deleted` });
      } else if (prevHash !== null && link.prev_hash !== prevHash && state !== 'purged') {
        // A link a purge names is kept as the purge saw it (audit-verify.ts): it need not follow.
        const seam = await relinkSeam(q, ring, writerId, seq - 1, prevHash, link.prev_hash);
        if (seam !== true) {
          const why = seam === false ? '' : `: ${seam}`;
          breaks.push({ writerId, seq, recordedAt: null, kind: link.kind, between: { from: prevAt ?? at, to: at }, detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}) does not follow the link before it: links were deleted, reordered or replaced${why}` });
        }
      }
      if (state === 'deleted') {
        breaks.push({ writerId, seq, recordedAt: at, kind: link.kind, between: { from: at, to: at }, detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}, ${link.kind}) was deleted: its chain link is still there` });
      }
      prevHash = link.hash;
      prevAt = at;
      expected = seq + 1;
    }
    if (head !== null && expected <= head) {
      breaks.push({ writerId, seq: expected, recordedAt: null, kind: null, between: { from: prevAt ?? 0, to: Number.MAX_SAFE_INTEGER }, detail: `links ${expected} to ${head} of chain ${writerId} are missing: records and their links were deleted` });
    }
  }

  for (const b of breaks) {
    for (const exchange of toldTo(b, owned)) {
      const before = found.get(exchange);
      found.set(exchange, before === undefined ? b.detail : `${before}; ${b.detail}`);
    }
  }
  return found;
}

/** A chain to read for the page: the span of the page's links on it (when any), the time its process's page links span, its head (null when its head row is gone). */
interface PageLane {
  writerId: string;
  span: { lo: number; hi: number } | null;
  during: { from: number; to: number };
  head: number | null;
}

/** Every chain of every process the page's links are on (the ones named in audit_writers, and the page's own). */
async function pageLanes(q: Queryable, owned: OwnedLink[]): Promise<PageLane[]> {
  const during = new Map<string, { from: number; to: number }>();
  const spans = new Map<string, { lo: number; hi: number }>();
  for (const l of owned) {
    const span = spans.get(l.writerId);
    spans.set(l.writerId, span ? { lo: Math.min(span.lo, l.seq), hi: Math.max(span.hi, l.seq) } : { lo: l.seq, hi: l.seq });
    const base = processOf(l.writerId);
    const time = during.get(base);
    during.set(base, time ? { from: Math.min(time.from, l.at), to: Math.max(time.to, l.at) } : { from: l.at, to: l.at });
  }
  const candidates = [...during.keys()].flatMap((base) => [base, ...Array.from({ length: LANES }, (_, i) => `${base}-${i}`)]);
  const heads = new Map(
    (await q.query<{ writer_id: string; last_seq: number | string }>(`SELECT writer_id, last_seq FROM audit_writers WHERE writer_id IN (${candidates.map(() => '?').join(', ')})`, candidates)).map((row) => [
      row.writer_id,
      toNumber(row.last_seq),
    ]),
  );
  const writers = new Set([...spans.keys(), ...[...heads.keys()].filter((writerId) => during.has(processOf(writerId)))]);
  return [...writers].map((writerId) => ({ writerId, span: spans.get(writerId) ?? null, during: during.get(processOf(writerId))!, head: heads.get(writerId) ?? null }));
}

/** How many links a probe reads at first (then eight times more each time, when the time lies further). */
const PROBE = 8;

/** The seq of the last link of `writerId` before seq `below` linked before `time` (0: none, the chain's start). */
async function linkBefore(q: Queryable, writerId: string, below: number, time: number): Promise<number> {
  for (let limit = PROBE; ; limit *= 8) {
    const rows = await q.query<{ seq: number | string; recorded_at: number | string }>(`SELECT seq, recorded_at FROM audit_chain WHERE writer_id = ? AND seq < ? AND ${isLink()} ORDER BY seq DESC LIMIT ?`, [writerId, below, limit]);
    const earlier = rows.find((row) => toNumber(row.recorded_at) < time);
    if (earlier) return toNumber(earlier.seq);
    if (rows.length < limit) return 0;
    below = toNumber(rows[rows.length - 1].seq);
  }
}

/** The seq of the first link of `writerId` after seq `above` linked after `time` (null: none, the chain ends before). */
async function linkAfter(q: Queryable, writerId: string, above: number, time: number): Promise<number | null> {
  for (let limit = PROBE; ; limit *= 8) {
    const rows = await q.query<{ seq: number | string; recorded_at: number | string }>('SELECT seq, recorded_at FROM audit_chain WHERE writer_id = ? AND seq > ? ORDER BY seq LIMIT ?', [writerId, above, limit]);
    const later = rows.find((row) => toNumber(row.recorded_at) > time);
    if (later) return toNumber(later.seq);
    if (rows.length < limit) return null;
    above = toNumber(rows[rows.length - 1].seq);
  }
}

/**
 * The seq of the last link of a chain holding none of the page's links that was linked before
 * `time` (0: none), found by halving its seqs up to `head` (a chain's links are linked in time order;
 * a link whose time was changed in SQL can mislead it, so a caller walks from the link it returns).
 */
export async function linkBeforeTime(q: Queryable, writerId: string, head: number, time: number): Promise<number> {
  // The link at or after `mid` (a deleted one skipped) linked before `time` holds for every mid up to the answer.
  let lo = 0;
  let hi = head + 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const [next] = await q.query<{ recorded_at: number | string }>('SELECT recorded_at FROM audit_chain WHERE writer_id = ? AND seq >= ? ORDER BY seq LIMIT 1', [writerId, mid]);
    if (next && toNumber(next.recorded_at) < time) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The page exchanges a break is told to (see chainPlaceProblems). */
function toldTo(b: ChainBreak, owned: OwnedLink[]): Set<number> {
  const told = new Set<number>();
  const onChain = owned.filter((l) => l.writerId === b.writerId);
  const ofProcess = owned.filter((l) => processOf(l.writerId) === processOf(b.writerId));
  const exchanges = new Set(owned.map((l) => l.exchange));
  // In progress on the same process between `from` and `to`: opened before `to`, completed after `from` (or not yet).
  const inProgress = (exchange: number, from: number, to: number) => {
    const mine = ofProcess.filter((l) => l.exchange === exchange);
    const opened = mine.find((l) => l.kind === 'open');
    const done = mine.find((l) => l.kind === 'complete');
    return opened !== undefined && opened.at <= to && (!done || done.at >= from);
  };
  for (const exchange of exchanges) {
    const own = onChain.filter((l) => l.exchange === exchange);
    if (own.some((l) => l.seq < b.seq) && own.some((l) => l.seq > b.seq)) told.add(exchange);
    if (b.recordedAt !== null && b.kind === 'bank_call' && inProgress(exchange, b.recordedAt, b.recordedAt)) told.add(exchange);
  }
  if (told.size > 0) return told;
  // A break where none of the page's exchanges has a link either side: those of the process in progress then.
  if (b.between) for (const exchange of exchanges) if (inProgress(exchange, b.between.from, b.between.to)) told.add(exchange);
  if (told.size > 0) return told;
  const after = onChain.filter((l) => l.seq > b.seq).sort((x, y) => x.seq - y.seq)[0];
  const before = onChain.filter((l) => l.seq < b.seq).sort((x, y) => y.seq - x.seq)[0];
  const at = b.between?.from ?? 0;
  const nearest = after ?? before ?? [...ofProcess].sort((x, y) => Math.abs(x.at - at) - Math.abs(y.at - at))[0];
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
