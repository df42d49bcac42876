import { createHash } from 'node:crypto';
import { KeyRingError, sameSecretText, type KeyRing } from '../../security/index.js';
import { IntegrityError } from '../../errors/index.js';
import { NotOneRowError, type AuditChainBreak, type AuditRepository, type ChainsAnswer, type AuditExchangeRow, type AuditPurgeSummary, type AuditVerifyOptions, type AuditVerifyReport, type ChainPiece, type ChainPosition, type ChainRemains, type Db, type RemainsPage, type Queryable, type SqlStatement, type SqlValue, type UnfinishedChain } from '../types.js';
import { CHAIN_PURPOSE, GENESIS, isLink, legacyLinkHash, linkHash, markProblem, RELINK_MARK_SEQ, relinkMarkHash, relinkMarkOf, relinkMarkStatement, relinkSeam, type LinkFields, type LinkKind, type RelinkMark } from './audit-chain.js';
import {
  BANK_CALL_SELECT,
  bankCallDigest,
  consoleAuditDigest,
  EXCHANGE_FROM,
  EXCHANGE_SELECT,
  finalDigest,
  openBankCall,
  openedDigest,
  openExchange,
  purgeDigest,
  type BankCallRow,
  type ExchangeRow,
  type PurgedExchange,
  type StoredBankCall,
} from './audit-records.js';
import { toNumber, toStringOrNull } from './row-values.js';
import { lastEventRows, missingHistoryProblem, openEvent, PAYMENT_EVENT_COLUMNS, paymentEventDigest, paymentEventProblem, RELEASED, snapshotOfRow, type PaymentEventRow } from './payment-events.js';
import { chainCoverage, type Coverage } from './chain-coverage.js';
import { linkBeforeTime } from './audit-chain-place.js';
import type { ConsoleAuditRow } from './console-audit-repository.js';
import { MACED_TABLES } from './maced-tables.js';
import { batchLineProblems } from './transfer-batch-repository.js';
import { runOfRow, verificationDigest, type RunRow } from './audit-verification-repository.js';
import { recordChangeDigests, rowHistoryProblems } from './record-history.js';
import { MACED_PAYMENT_COLUMNS, OTHER_CLOCKS_MS, PAYMENT_COLUMNS, paymentMacProblem, type MacedColumn, type PaymentRow } from './payment-repository.js';
import { paymentPlace } from './sealed-values.js';
import { placeInRow, rowColumns, SEALED_TABLES, type ValueOpener, type ValueSealer } from './sealed-values.js';
import { TimeSlices } from './time-slices.js';

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
  key_id: string | null;
}

interface WriterRow {
  writer_id: string;
  last_seq: number | string;
  last_hash: string;
}

const TABLE_OF: Record<LinkKind, 'audit_exchanges' | 'audit_completions' | 'audit_bank_calls' | 'audit_purges' | 'payment_events' | 'console_audit' | 'record_changes' | 'audit_verifications'> = {
  open: 'audit_exchanges',
  complete: 'audit_completions',
  record: 'audit_exchanges',
  bank_call: 'audit_bank_calls',
  purge: 'audit_purges',
  payment_event: 'payment_events',
  console_audit: 'console_audit',
  record_change: 'record_changes',
  verification: 'audit_verifications',
};

/**
 * Walks every writer's chain in seq order (again when `keys rotate` re-linked it meanwhile:
 * verifyChainAsItStands) and recomputes each link from the record it names
 * (decrypted: the content digest covers clear text, see audit-records.ts). Per chain it reports
 * the FIRST break: a missing seq or a missing record (deleted), a prev_hash that is not the
 * previous link's hash (reordered), a hash that does not match the record (altered), a chain
 * shorter than its head (newest records deleted). Then records no link covers (inserted, or
 * completed without a completion link). A link whose exchange is gone is intact only when a
 * purge (audit-purge.ts), itself covered by its own link, names that very link. A link or record
 * under a key the ring lacks cannot be checked and is named as a break (verification needs every
 * key still in use). A payment an operator accepted as lost (`options.acceptedPayments`) is listed
 * apart, not as a break.
 *
 * Every read is made on `db`, one snapshot the caller holds (AuditRepository.readingOn): the walk,
 * the stored values against their MACs and histories, and whatever the caller compares with them
 * (the checkpoints) describe one moment. Read apart, an attacker who toggles a row or a chain's
 * tail between two states could show each read a state that holds while the whole never did (H2).
 */
export async function verifyAudit(db: Queryable, sealer: ValueSealer, options: AuditVerifyOptions = {}): Promise<AuditVerifyReport> {
  const breaks: AuditChainBreak[] = [];
  let links = 0;
  const writers = await db.query<WriterRow>('SELECT writer_id, last_seq, last_hash FROM audit_writers ORDER BY started_at, writer_id');
  const known = new Set(writers.map((w) => w.writer_id));
  const check = keyedLinks(sealer);
  for (const orphan of await db.query<{ writer_id: string }>('SELECT DISTINCT writer_id FROM audit_chain ORDER BY writer_id')) {
    if (!known.has(orphan.writer_id)) {
      breaks.push({ writerId: orphan.writer_id, seq: null, table: 'audit_writers', recordId: null, problem: 'deleted', detail: `the head of chain ${orphan.writer_id} was deleted from audit_writers` });
    }
  }
  for (const writer of writers) {
    const result = await verifyChainAsItStands(db, sealer, writer, check, WHOLE_CHAIN);
    links += result.links;
    if (result.break) breaks.push(result.break);
    // Its row at seq 0, read with the links it names (a rotation moves it a page at a time).
    const mark = await markBreak(db, sealer.keyRing, writer.writer_id);
    if (mark !== null) breaks.push(mark);
  }
  // Who may lack a history (chain_coverage) is itself under a MAC: a row moved or deleted is named
  // and excuses nothing, so the records it would have excused are named too.
  const coverage = await chainCoverage(db, sealer);
  const coverageProblems = [coverage.payments.problem, coverage.console_audit.problem].flatMap((p) => p ?? []);
  if (coverageProblems.length > 0) breaks.push(storedBreak('chain_coverage', coverageProblems));
  breaks.push(...(await unchainedRecords(db, coverage.console_audit.since)));
  const acceptedPayments: AuditVerifyReport['acceptedPayments'] = [];
  breaks.push(...(await storedValueBreaks(db, sealer, coverage.payments, options.acceptedPayments ?? new Map(), acceptedPayments)));
  const [{ n: exchanges }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_exchanges');
  const [{ n: bankCalls }] = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_bank_calls');
  const heads = writers.map((w) => ({ writerId: w.writer_id, seq: toNumber(w.last_seq), hash: w.last_hash }));
  return { chains: writers.length, links, exchanges: toNumber(exchanges), bankCalls: toNumber(bankCalls), heads, breaks, acceptedPayments, purged: await purgeSummary(db) };
}

/** How many exchanges purges deleted, and the latest purge (its own link is checked with its chain). */
async function purgeSummary(db: Queryable): Promise<AuditVerifyReport['purged']> {
  const [{ n, records }] = await db.query<{ n: number | string; records: number | string | null }>('SELECT COUNT(*) AS n, SUM(records) AS records FROM audit_purges');
  const [latest] = await db.query<{ purged_at: number | string; received_before: number | string; retention_days: number | string; purged_by: string; records: number | string }>(
    'SELECT purged_at, received_before, retention_days, purged_by, records FROM audit_purges ORDER BY purged_at DESC, id DESC LIMIT 1',
  );
  const summary: AuditPurgeSummary | null = latest
    ? { purgedAt: toNumber(latest.purged_at), receivedBefore: toNumber(latest.received_before), retentionDays: toNumber(latest.retention_days), purgedBy: latest.purged_by, records: toNumber(latest.records) }
    : null;
  return { purges: toNumber(n), records: records === null ? 0 : toNumber(records), latest: summary };
}

/**
 * The hash a link should carry, or a reason it cannot be checked (a link without a ring key).
 * `strict`: a link or record under a key the ring lacks throws KeyRingError instead (a walk whose
 * caller answers "cannot prove now", or re-links the chain).
 */
type LinkCheck = ((fields: LinkFields, keyId: string | null) => string | { unverifiable: string }) & { strict?: boolean };

/** Links made by the gateway since 012: an HMAC under the ring key the link names. */
function keyedLinks(sealer: ValueSealer, strict = false): LinkCheck {
  const keys = new Map<string, Buffer>();
  const check: LinkCheck = (fields, keyId) => {
    if (keyId === null) return { unverifiable: 'it carries no key id: it was not made by the gateway with a ring key (written directly, or a pre-012 link left un-keyed)' };
    let key = keys.get(keyId);
    if (!key) {
      const known = strict ? { value: sealer.keyRing.macKey(CHAIN_PURPOSE, keyId).key } : attempt(() => sealer.keyRing.macKey(CHAIN_PURPOSE, keyId).key);
      // A key the ring lacks: the link cannot be checked, and is named (written directly, or a key left out of the ring).
      if ('error' in known) return { unverifiable: `it cannot be checked: ${known.error}` };
      keys.set(keyId, (key = known.value));
    }
    return linkHash(fields, key);
  };
  check.strict = strict;
  return check;
}

/** Where a walk of a chain begins (its link `seq`, after `prevHash`: null when taken as that link says) and ends (`through`: its end when absent). */
interface ChainStart {
  seq: number;
  prevHash: string | null;
  through?: number;
}

const WHOLE_CHAIN: ChainStart = { seq: 1, prevHash: GENESIS };

/**
 * The first chain holding links (after `writer_id` ?), one seek of the primary key read from the
 * index alone. Asked once a chain by chainsToWalk rather than in one recursive statement: MariaDB
 * plans a recursive statement's MIN(writer_id) > ? as a scan of a whole index for each chain
 * (9-12 s for 10 chains at 2M links), and neither engine makes a loose scan of a DISTINCT by itself.
 */
const FIRST_CHAIN = 'SELECT writer_id FROM audit_chain ORDER BY writer_id LIMIT 1';
const NEXT_CHAIN = 'SELECT writer_id FROM audit_chain WHERE writer_id > ? ORDER BY writer_id LIMIT 1';

/**
 * Proves that no link was deleted from any chain since time `since`: every chain's links from the
 * last one linked before it (that one included: its MAC says when it was linked) up to the chain's
 * head as read are walked as `audit verify` walks them (each seq there, each prev_hash the link
 * before's hash, each MAC over its record: a record deleted while its link stays, or a link put in
 * a deleted one's place, breaks the walk). A chain whose head link was linked before `since` is
 * proved by that link alone (its MAC over its record and its time, the head row carrying it); a
 * chain whose head row was deleted or emptied while its links remain is named. `excluded`: per
 * chain, links an operator accepted as broken (src/audit's acceptedLinks), not walked (the walk
 * resumes after them, taking the next link as it says it follows); a chain excluded whole is not
 * looked at. `gone`: chains accepted as gone (their head row deleted): their missing head is not
 * named, but what remains of them is walked as any chain's up to its newest link (goneWalks): the
 * acceptance excused the head, not a record that stops matching its link since. At most
 * `maxLinks` links are read: `beyond` (the links it would take) when the walk would be longer, and
 * nothing is walked then (`breaks`: the headless chains, found without a walk). A chain cut at its
 * tail with its head moved back is the checkpoints' to name (storeAgainstCheckpoints).
 * `strictKeys`: a link or record under a key the ring lacks throws KeyRingError (else it is named
 * a break).
 */
export async function verifyChainsSince(
  db: Queryable,
  sealer: ValueSealer,
  since: number,
  maxLinks: number,
  options: { strictKeys?: boolean; excluded?: ReadonlyMap<string, readonly ExcludedLinks[]>; gone?: ReadonlySet<string> } = {},
): Promise<{ links: number; breaks: AuditChainBreak[] } | { beyond: number; breaks: AuditChainBreak[] }> {
  const { chains, heads, breaks } = await chainsAndHeads(db);
  const excluded = options.excluded ?? new Map<string, readonly ExcludedLinks[]>();
  const isExcluded = (writerId: string, seq: number) => (excluded.get(writerId) ?? []).some((r) => seq >= r.from && seq <= r.to);
  // A chain idle since `since` is proved by its head link (all of them checked together); the others walked from the link before it.
  const idle: HeadWithLink[] = [];
  const walks: { writer: WriterRow; from: ChainStart }[] = [];
  for (const writerId of chains) {
    const head = heads.get(writerId);
    const last = head ? toNumber(head.last_seq) : 0;
    if (!head || last === 0) {
      if (options.gone?.has(writerId)) walks.push(...(await goneWalks(db, writerId, since, excluded.get(writerId) ?? [])));
      else if (!isExcluded(writerId, 1)) breaks.push(headlessBreak(writerId, head !== undefined));
    } else if (head.link !== null && toNumber(head.link.recorded_at) < since && !isExcluded(writerId, last)) {
      idle.push(head);
    } else {
      const start = await linkBeforeTime(db, writerId, last, since);
      walks.push(...walkedPieces(head, start, excluded.get(writerId) ?? []));
    }
  }
  const links = idle.length + walks.reduce((n, w) => n + (w.from.through! - w.from.seq + 1), 0);
  if (links > maxLinks) return { beyond: links, breaks };
  const check = keyedLinks(sealer, options.strictKeys);
  breaks.push(...(await headLinkBreaks(db, sealer, idle, check)));
  for (const { writer, from } of walks) {
    const result = await verifyChainAsItStands(db, sealer, writer, check, from);
    if (result.break) breaks.push(result.break);
  }
  return { links, breaks };
}

/**
 * The walks proving chain `head` from link `start` (0: from link 1) to its head, around the links
 * `excluded` (accepted as broken): one piece before each accepted range, and one after the last
 * up to the head; a piece after a range takes its first link as it says it follows.
 */
function walkedPieces(head: WriterRow, start: number, excluded: readonly ExcludedLinks[]): { writer: WriterRow; from: ChainStart }[] {
  const last = toNumber(head.last_seq);
  const pieces: { writer: WriterRow; from: ChainStart }[] = [];
  let seq = Math.max(1, start);
  let prevHash: string | null = start === 0 ? GENESIS : null;
  for (const range of [...excluded].sort((a, b) => a.from - b.from)) {
    if (range.to < seq) continue;
    if (range.from > last) break;
    if (range.from > seq) pieces.push({ writer: head, from: { seq, prevHash, through: range.from - 1 } });
    seq = range.to + 1;
    prevHash = null;
  }
  if (seq <= last) pieces.push({ writer: head, from: { seq, prevHash, through: last } });
  return pieces;
}

/**
 * The walks proving what remains of chain `writerId`, accepted as gone (no head row), from the
 * link before `since` up to its newest link taken as its head, around the links `excluded` (none
 * when nothing remains). A link deleted from its tail since is verify's to name (its remains
 * against what remained when it was accepted).
 */
async function goneWalks(db: Queryable, writerId: string, since: number, excluded: readonly ExcludedLinks[]): Promise<{ writer: WriterRow; from: ChainStart }[]> {
  const [newest] = await db.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_chain WHERE writer_id = ? AND seq > 0 ORDER BY seq DESC LIMIT 1', [writerId]);
  if (!newest) return [];
  const head: WriterRow = { writer_id: writerId, last_seq: newest.seq, last_hash: newest.hash };
  return walkedPieces(head, await linkBeforeTime(db, writerId, toNumber(newest.seq), since), excluded);
}

/** A head row with the link at its seq (null: that link is gone). */
type HeadWithLink = WriterRow & { link: LinkRow | null };

/**
 * Every head row with the link at its seq (by writer id, in the database's order), then the
 * chains holding links whose head row is gone or records no link (headlessChains), each of those
 * read again among the head rows: one that has a head now (a writer begun after the rows were
 * read, or a head row switched back and forth) is walked up to it, like any chain whose head was
 * read at a link (its links must all be there up to it); one still without is named. Then each
 * chain holding links past its head as read (headsBehind). `chains`: every chain to prove, those
 * with a head at a link and the headless ones, in writer order; `breaks`: heads found set back.
 */
async function chainsAndHeads(db: Queryable): Promise<{ chains: string[]; heads: Map<string, HeadWithLink>; breaks: AuditChainBreak[] }> {
  const rows = await db.query<WriterRow & Omit<LinkRow, 'writer_id'> & { linked: string | null }>(
    'SELECT w.writer_id, w.last_seq, w.last_hash, c.writer_id AS linked, c.seq, c.kind, c.record_id, c.recorded_at, c.prev_hash, c.hash, c.key_id ' +
      'FROM audit_writers w LEFT JOIN audit_chain c ON c.writer_id = w.writer_id AND c.seq = w.last_seq ORDER BY w.writer_id',
  );
  const heads = new Map(
    rows.map(({ writer_id, last_seq, last_hash, linked, ...link }): [string, HeadWithLink] => [writer_id, { writer_id, last_seq, last_hash, link: linked === null ? null : { ...link, writer_id: linked } }]),
  );
  const headless = await headlessChains(db, [...heads.values()]);
  for (const now of await headRows(db, headless)) if (toNumber(now.last_seq) > 0) heads.set(now.writer_id, { ...now, link: null });
  const breaks = await headsBehind(db, heads);
  const linked = [...heads.values()].filter((h) => toNumber(h.last_seq) > 0).map((h) => h.writer_id);
  return { chains: [...new Set([...linked, ...headless])], heads, breaks };
}

/** The head rows of chains `writerIds` as they stand now, GAP_SEEKS a statement (a chain without one left out). */
async function headRows(db: Queryable, writerIds: readonly string[]): Promise<WriterRow[]> {
  const found: WriterRow[] = [];
  for (let i = 0; i < writerIds.length; i += GAP_SEEKS) {
    const some = writerIds.slice(i, i + GAP_SEEKS);
    found.push(...(await db.query<WriterRow>(`SELECT writer_id, last_seq, last_hash FROM audit_writers WHERE writer_id IN (${some.map(() => '?').join(', ')})`, some)));
  }
  return found;
}

/**
 * The chains of `heads` (each at a link) holding links past the head read: one index seek each,
 * GAP_SEEKS a statement. Such a head is read again: one its writer moved on since up to them
 * (headMovedOn) replaces it in `heads` (walked up to it); any other was set back behind the links
 * the chain holds (an older link's head, written in SQL, proves nothing of the links after it),
 * and is a break naming its chain.
 */
async function headsBehind(db: Queryable, heads: Map<string, HeadWithLink>): Promise<AuditChainBreak[]> {
  const linked = [...heads.values()].filter((h) => toNumber(h.last_seq) > 0);
  const past = new Map<string, number>();
  for (let i = 0; i < linked.length; i += GAP_SEEKS) {
    const some = linked.slice(i, i + GAP_SEEKS);
    const rows = await db.query<{ m: number | string | null }>(some.map(() => 'SELECT (SELECT MAX(seq) FROM audit_chain WHERE writer_id = ?) AS m').join(' UNION ALL '), some.map((h) => h.writer_id));
    rows.forEach((row, k) => {
      if (row.m !== null && toNumber(row.m) > toNumber(some[k].last_seq)) past.set(some[k].writer_id, toNumber(row.m));
    });
  }
  const breaks: AuditChainBreak[] = [];
  const now = new Map((await headRows(db, [...past.keys()])).map((h) => [h.writer_id, h]));
  for (const [writerId, newest] of past) {
    const was = heads.get(writerId)!;
    const head = now.get(writerId);
    if (head !== undefined && toNumber(head.last_seq) >= newest && (await headMovedOn(db, was, head))) {
      heads.set(writerId, { ...head, link: null });
      continue;
    }
    const last = toNumber(was.last_seq);
    breaks.push({ writerId, seq: last, table: 'audit_writers', recordId: null, problem: 'altered', detail: `the head of chain ${writerId} records link ${last} while the chain holds links up to link ${newest}: the head was set back` });
  }
  return breaks;
}

/** Index seeks a statement of headlessChains (SQLite takes at most 500 terms of a compound SELECT). */
const GAP_SEEKS = 200;

/**
 * The chains holding links whose head row is gone (deleted from audit_writers) or records no link
 * (`heads`, in the database's order of writer ids, those at link 0 among them): one index seek on
 * audit_chain's primary key between each two head rows (the lowest writer id there, if any) and
 * one for each head at link 0, GAP_SEEKS a statement; a gap holding one is looked in again past
 * it. A store of C chains costs C seeks, whatever its links (a recursive walk of DISTINCT writer
 * ids took MariaDB 20 s over two million links).
 */
async function headlessChains(db: Queryable, heads: readonly WriterRow[]): Promise<string[]> {
  const found: string[] = [];
  // Each gap between two head rows' writer ids (null: open at that end).
  let gaps: { after: string | null; before: string | null }[] = [];
  for (let i = 0; i <= heads.length; i += 1) gaps.push({ after: i === 0 ? null : heads[i - 1].writer_id, before: i === heads.length ? null : heads[i].writer_id });
  const empty = heads.filter((h) => toNumber(h.last_seq) === 0).map((h) => h.writer_id);
  for (let i = 0; i < empty.length; i += GAP_SEEKS) {
    const some = empty.slice(i, i + GAP_SEEKS);
    const rows = await db.query<{ w: string | null }>(some.map(() => 'SELECT (SELECT writer_id FROM audit_chain WHERE writer_id = ? LIMIT 1) AS w').join(' UNION ALL '), some);
    for (const row of rows) if (row.w !== null) found.push(row.w);
  }
  while (gaps.length > 0) {
    const next: typeof gaps = [];
    for (let i = 0; i < gaps.length; i += GAP_SEEKS) {
      const some = gaps.slice(i, i + GAP_SEEKS);
      const parts = some.map((g) => `SELECT (SELECT MIN(writer_id) FROM audit_chain WHERE 1 = 1${g.after === null ? '' : ' AND writer_id > ?'}${g.before === null ? '' : ' AND writer_id < ?'}) AS w`);
      const rows = await db.query<{ w: string | null }>(parts.join(' UNION ALL '), some.flatMap((g) => [g.after, g.before].filter((v): v is string => v !== null)));
      rows.forEach((row, k) => {
        if (row.w === null) return;
        found.push(row.w);
        next.push({ after: row.w, before: some[k].before });
      });
    }
    gaps = next;
  }
  return found;
}

/** A chain holding links whose head row is gone (`recordsNone`: there, at link 0). */
function headlessBreak(writerId: string, recordsNone: boolean): AuditChainBreak {
  return { writerId, seq: null, table: 'audit_writers', recordId: null, problem: 'deleted', detail: `the head of chain ${writerId} was deleted from audit_writers${recordsNone ? ' (it records no link)' : ''} while its links remain` };
}

/**
 * Each head row held to the link at its seq: that link there, its MAC over its record holding
 * (taken as it says it follows: its place is the count's or the walk's), and the head row carrying
 * that very MAC. Read PAGE links' records a statement.
 */
async function headLinkBreaks(db: Queryable, sealer: ValueSealer, heads: readonly HeadWithLink[], check: LinkCheck): Promise<AuditChainBreak[]> {
  const breaks: AuditChainBreak[] = [];
  for (const head of heads) {
    if (head.link === null) {
      const last = toNumber(head.last_seq);
      breaks.push({ writerId: head.writer_id, seq: last, table: 'audit_chain', recordId: null, problem: 'truncated', detail: `link ${last} of chain ${head.writer_id}, its head, is missing: its newest records were deleted or the head was altered` });
    }
  }
  const linked = heads.filter((h): h is HeadWithLink & { link: LinkRow } => h.link !== null);
  for (let i = 0; i < linked.length; i += PAGE) {
    const page = linked.slice(i, i + PAGE);
    const digests = await contentDigests(db, sealer, page.map((one) => one.link));
    const slices = new TimeSlices();
    for (const head of page) {
      if (slices.due()) await slices.next();
      const { link } = head;
      const checked = checkLink(link, null, digests.get(`${link.kind}:${toNumber(link.record_id)}`), check);
      if ('break' in checked) breaks.push(checked.break);
      else if (link.hash !== head.last_hash) breaks.push({ writerId: head.writer_id, seq: toNumber(head.last_seq), table: 'audit_writers', recordId: null, problem: 'altered', detail: `the head of chain ${head.writer_id} is not its link ${toNumber(head.last_seq)}: the head was altered` });
    }
  }
  return breaks;
}

/** Breaks named in chainProblem's words at most (the rest counted). */
const NAMED_BREAKS = 3;

/**
 * Breaks found by chainGaps (and the checkpoints: src/audit's ChainGuard) as one problem in words,
 * or null when there are none. A walk left undone (`unwalked`) is a problem here too (fail closed):
 * a caller that may be told so apart asks chainsAnswer.
 */
export function chainProblem(breaks: readonly AuditChainBreak[]): string | null {
  if (breaks.length === 0) return null;
  const named = breaks.slice(0, NAMED_BREAKS).map((b) => b.detail);
  const more = breaks.length > NAMED_BREAKS ? ` (and ${breaks.length - NAMED_BREAKS} more)` : '';
  return `the audit chains do not hold as a whole: ${named.join('; ')}${more}; run \`gerbang audit verify\``;
}

/**
 * Breaks found by a walk bounded by `maxLinks` (chainGaps, and the checkpoints) as a guard's
 * answer (ChainsAnswer): a break found, the walk left undone or not, is the problem; else the walk
 * left undone (`unwalked`) is `left`, in chainGaps' words; else null.
 */
export function chainsAnswer(breaks: readonly AuditChainBreak[]): ChainsAnswer {
  const found = breaks.filter((b) => b.problem !== 'unwalked');
  if (found.length > 0) return chainProblem(found);
  const unwalked = breaks.find((b) => b.problem === 'unwalked');
  return unwalked === undefined ? null : { left: unwalked.detail };
}

/** A guard's answer as a problem or null, a walk left undone a problem too (fail closed): for a reader that must know now. */
export function answerProblem(answer: ChainsAnswer): string | null {
  return answer !== null && typeof answer === 'object' ? answer.left : answer;
}

/**
 * The chain guard of the database alone (no checkpoints outside it: src/audit's ChainGuard adds
 * them): chainGaps from `since` on, at most `maxLinks` links walked, as a guard's answer. What the
 * store's seals ask until the console gives its ChainGuard (guardSeals), and what the console asks
 * before a notification is queued again without one.
 */
export async function databaseChains(audit: Pick<AuditRepository, 'chainGaps'>, since: number, maxLinks?: number): Promise<ChainsAnswer> {
  return chainsAnswer(await audit.chainGaps({ since, maxLinks }));
}

/** Links of each chain an operator accepted as broken, both ends included (`to` Infinity: to its head): not walked. */
export interface ExcludedLinks {
  from: number;
  to: number;
}

/**
 * Whether the chains hold as a whole from time `since` on (`since` absent: from link 1), as
 * `audit verify` would prove it for those links: verifyChainsSince with `since` less
 * OTHER_CLOCKS_MS (another node's clock behind) walks every chain's links linked since then, each
 * with its MAC over its record, and proves a chain idle since then by its head link alone.
 * `excluded`: links accepted as broken, not walked; `gone`: chains accepted as gone, whose missing
 * head is accepted while what remains of them is walked. A link or record under a key the ring lacks
 * (written by a process given a newer key first, or forged under a made-up key id) cannot be
 * proved: it is named a break (fail closed) asking for the key. `maxLinks`: at most that many
 * links are read; a longer walk is not made and named by one `unwalked` break (beside the headless
 * chains, found without a walk): a reading that would seal a day too old to prove cheaply leaves
 * it to the seal sweep, which walks the chains whole (chainsAnswer tells it apart). Not the
 * checkpoints outside the database (a tail cut with its head set back, a chain deleted whole:
 * src/audit's ChainGuard adds them).
 * Returns the breaks found, each named.
 */
export async function chainGaps(db: Queryable, sealer: ValueSealer, options: { since?: number; excluded?: ReadonlyMap<string, readonly ExcludedLinks[]>; gone?: ReadonlySet<string>; maxLinks?: number } = {}): Promise<AuditChainBreak[]> {
  const since = options.since === undefined ? 0 : options.since - OTHER_CLOCKS_MS;
  const maxLinks = options.maxLinks ?? Number.POSITIVE_INFINITY;
  let proved: Awaited<ReturnType<typeof verifyChainsSince>>;
  try {
    proved = await verifyChainsSince(db, sealer, since, maxLinks, { strictKeys: true, excluded: options.excluded, gone: options.gone });
  } catch (error) {
    if (!(error instanceof KeyRingError)) throw error;
    return [{ writerId: null, seq: null, table: 'audit_chain', recordId: null, problem: 'forged', detail: `a link or record since then is under a key this process's ring lacks, so it cannot be proved (${error.message}): give the console the key (GERBANG_AUDIT_KEYS) if it was rotated in` }];
  }
  if ('beyond' in proved) {
    const detail = `the audit chains since ${new Date(since).toISOString()} are not proved yet: that walks ${proved.beyond} links, more than the ${maxLinks} a reading walks, so it is left to the seal sweep, which proves them on its next run`;
    return [...proved.breaks, { writerId: null, seq: null, table: 'audit_chain', recordId: null, problem: 'unwalked', detail }];
  }
  return proved.breaks;
}

/** Links of one chain read a statement at a time by chainRemains. */
const REMAINS_PAGE = 5_000;

/**
 * What the database holds of chain `writerId` (AuditRepository.chainRemains): its head row and a
 * digest of every link row, read a page at a time. A chain accepted as gone is compared with it
 * (checkpoints.ts GoneChain): a link added under its writer id, altered or removed, or its head row
 * back, is a new break.
 */
export async function chainRemains(db: Queryable, writerId: string): Promise<ChainRemains> {
  const [head] = await db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writerId]);
  const digest = createHash('sha256');
  let links = 0;
  let maxSeq = 0;
  for (;;) {
    const page = await remainsPage(db, writerId, maxSeq + 1, REMAINS_PAGE);
    for (const row of page.rows) digest.update(row);
    links += page.links;
    maxSeq = page.maxSeq ?? maxSeq;
    if (page.next === null) break;
  }
  return { head: head ? { seq: toNumber(head.last_seq), hash: head.last_hash } : null, links, maxSeq, digest: digest.digest('hex') };
}

/**
 * At most `maxLinks` links of chain `writerId` from link `fromSeq` on (a page of REMAINS_PAGE at
 * most), as the rows stand (AuditRepository.remainsPage): each row as chainRemains digests it
 * (`rows`, in seq order), the record ids of the payment events among them, the seq of the last one
 * read (null: none) and the seq after it (`next`, null: none is left).
 */
export async function remainsPage(db: Queryable, writerId: string, fromSeq: number, maxLinks: number): Promise<RemainsPage> {
  const limit = Math.min(REMAINS_PAGE, Math.max(1, Math.floor(maxLinks)));
  const rows = await db.query<{ seq: number | string; kind: string; record_id: number | string; recorded_at: number | string; prev_hash: string; hash: string; key_id: string | null }>(
    'SELECT seq, kind, record_id, recorded_at, prev_hash, hash, key_id FROM audit_chain WHERE writer_id = ? AND seq >= ? ORDER BY seq LIMIT ?',
    [writerId, fromSeq, limit],
  );
  const paymentEvents = rows.filter((r) => r.kind === 'payment_event').map((r) => toNumber(r.record_id));
  const maxSeq = rows.length === 0 ? null : toNumber(rows[rows.length - 1].seq);
  return {
    links: rows.length,
    rows: rows.map((r) => `${JSON.stringify([toNumber(r.seq), r.kind, toNumber(r.record_id), toNumber(r.recorded_at), r.prev_hash, r.hash, r.key_id])}\n`),
    paymentEvents,
    maxSeq,
    next: rows.length < limit || maxSeq === null ? null : maxSeq + 1,
  };
}

/** A digest of a payment row as it stands (every column): what an acceptance of it as altered records, and later compares. */
export function paymentRowDigest(row: PaymentRow): string {
  return createHash('sha256')
    .update(JSON.stringify(PAYMENT_COLUMNS.split(', ').map((c) => String((row as unknown as Record<string, unknown>)[c] ?? null))))
    .digest('hex');
}

/**
 * Every chain the scrub walks: each with a head row, and each holding links whose head row was
 * deleted (its walk names that), sorted. The chains holding links are found one after the other,
 * one seek of the primary key each (FIRST_CHAIN, NEXT_CHAIN: a round trip a chain, however many
 * links each holds), before the heads are read.
 */
export async function chainsToWalk(db: Queryable): Promise<string[]> {
  const withLinks: { writer_id: string }[] = [];
  let next = await db.query<{ writer_id: string }>(FIRST_CHAIN);
  while (next.length > 0) {
    withLinks.push(next[0]);
    next = await db.query<{ writer_id: string }>(NEXT_CHAIN, [next[0].writer_id]);
  }
  // A head that records no link and holds none (a process that linked nothing, or rows inserted to
  // stretch the cycle) has nothing to walk; one that records no link while its chain holds links is
  // among those with links, and breaks.
  const withHeads = await db.query<{ writer_id: string }>('SELECT writer_id FROM audit_writers WHERE last_seq > 0');
  return [...new Set([...withHeads, ...withLinks].map((r) => r.writer_id))].sort();
}

/**
 * Walks at most `maxLinks` links of chain `writerId` from `from`, as `audit verify` walks a chain
 * (verifyChainAsItStands: each seq there, each prev_hash the link before's MAC, each link's MAC
 * over its record, a purged record's link as its purge saw it), up to the chain's head as read
 * now. A chain walked in pieces, each piece carrying the previous one's last MAC, is walked as a
 * whole: a link missing or altered anywhere breaks the piece that holds it. A chain whose head row
 * is gone while its links remain breaks, at its head once what remains was walked (headlessPiece).
 * A piece that breaks after `keys rotate` re-linked the chain under the walk (its carried MAC is an
 * old one) is told apart by walking it again from the link before it (AuditScrub's confirmation).
 */
export async function verifyChainPiece(db: Queryable, sealer: ValueSealer, writerId: string, from: ChainPosition, maxLinks: number): Promise<ChainPiece> {
  const head = await headRow(db, writerId);
  const last = head ? toNumber(head.last_seq) : 0;
  if (head === undefined || last === 0) return headlessPiece(db, sealer, writerId, head !== undefined, from, maxLinks);
  return walkPiece(db, sealer, head, from, maxLinks);
}

/**
 * A chain with no head row, or one that records no link (`emptied`), whose links remain: what
 * remains is walked as a chain up to its newest link, so that a link missing there (where a
 * payment deleted whole with its links was) or altered is named as any chain's, and the chain then
 * breaks at its head. One holding no link has nothing to walk.
 */
async function headlessPiece(db: Queryable, sealer: ValueSealer, writerId: string, emptied: boolean, from: ChainPosition, maxLinks: number): Promise<ChainPiece> {
  const [newest] = await db.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_chain WHERE writer_id = ? ORDER BY seq DESC LIMIT 1', [writerId]);
  if (!newest) return { links: 0, behind: true };
  const what = emptied ? 'records no link while its links remain: it was emptied' : 'was deleted from audit_writers while its links remain';
  const gone = { links: 0, resume: null, break: { writerId, seq: null, table: 'audit_writers' as const, recordId: null, problem: 'deleted' as const, detail: `the head of chain ${writerId} ${what}` } };
  if (from.seq > toNumber(newest.seq)) return gone;
  const piece = await walkPiece(db, sealer, { writer_id: writerId, last_seq: newest.seq, last_hash: newest.hash }, from, maxLinks);
  return 'next' in piece && piece.next === null ? { ...gone, links: piece.links, paymentEvents: piece.paymentEvents } : piece;
}

/** verifyChainPiece of a chain whose head is `head`. */
async function walkPiece(db: Queryable, sealer: ValueSealer, head: WriterRow, from: ChainPosition, maxLinks: number): Promise<ChainPiece> {
  const last = toNumber(head.last_seq);
  if (from.seq > last) return { links: 0, behind: true };
  const through = Math.min(last, from.seq + Math.max(1, Math.floor(maxLinks)) - 1);
  // The payment events whose links held (the scrub remembers their payments: AuditScrub's memory).
  let paymentEvents: number[] = [];
  const onLink = (link: LinkFields | null) => (link === null ? (paymentEvents = []) : link.kind === 'payment_event' && paymentEvents.push(link.recordId));
  const result = await verifyChainAsItStands(db, sealer, head, keyedLinks(sealer), { ...from, through }, onLink);
  if (result.break) {
    const at = result.break.seq;
    const resume = at === null ? null : await resumeAfterBreak(db, result.head, at);
    return { links: Math.max(0, result.links - from.seq + 1), break: result.break, resume, paymentEvents };
  }
  const links = through - from.seq + 1;
  const after = { seq: result.reached.seq + 1, prevHash: result.reached.hash };
  return { links, next: result.reached.seq >= toNumber(result.head.last_seq) ? null : after, after, paymentEvents };
}

/**
 * Where a walk that broke at link `at` of a chain whose head is `head` goes on: the first link
 * after it, when at or below the head (headReaches); null when none is.
 */
async function resumeAfterBreak(db: Queryable, head: WriterRow, at: number): Promise<number | null> {
  const [after] = await db.query<{ seq: number | string | null }>('SELECT MIN(seq) AS seq FROM audit_chain WHERE writer_id = ? AND seq > ?', [head.writer_id, at]);
  const resume = after?.seq == null ? null : toNumber(after.seq);
  return resume !== null && (await headReaches(db, head, resume)) ? resume : null;
}

/** resumeAfterBreak of chain `writerId` against its head as it stands now (null: no head row, or no link after). */
export async function resumeAfterBreakNow(db: Queryable, writerId: string, at: number): Promise<number | null> {
  const head = await headRow(db, writerId);
  return head === undefined ? null : resumeAfterBreak(db, head, at);
}

/** Chain `writerId`'s head row as it stands now (undefined: none). */
async function headRow(db: Queryable, writerId: string): Promise<WriterRow | undefined> {
  const [row] = await db.query<WriterRow>('SELECT writer_id, last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writerId]);
  return row;
}

/**
 * Whether link `seq` is at or below the chain's head: the head as the walk read it, or, when the
 * writer appended since (the link after a break is looked for after the head was read), as it
 * stands now. A link past the head the chain records is no link of it.
 */
async function headReaches(db: Queryable, head: WriterRow, seq: number): Promise<boolean> {
  if (seq <= toNumber(head.last_seq)) return true;
  const now = await headRow(db, head.writer_id);
  return now !== undefined && seq <= toNumber(now.last_seq);
}

/** How many times a chain re-linked while it was walked is walked again (`keys rotate` re-links each chain once). */
const REWALKS = 2;

/**
 * verifyChain from `from` up to `writer`, its head as read before; when that walk breaks and the
 * chain's head has been rewritten since (`keys rotate` re-linked the chain's last page between the
 * head's read and its links' read, or between two pages of links: its MACs, prev_hashes and head
 * change at once), or the chain holds a rotation's mark (RelinkMark: a rotation re-linking it a page
 * a transaction moved on under the walk), the chain is walked again up to its head as it stands, at most
 * REWALKS times (headMovedOn). A chain deleted from, altered or forged breaks again, since its head
 * did not move on: a head row set back (to an older link of the chain, or to link 0), gone, or
 * moved on from a link that is no longer there as it was, keeps the break; only a walk that holds
 * from `from` to a head read before it proves the chain.
 */
async function verifyChainAsItStands(
  db: Queryable,
  sealer: ValueSealer,
  writer: WriterRow,
  check: LinkCheck,
  from: ChainStart,
  // Each link proved; null before a walk again (the links of the walk before are not proved by it).
  onLink?: (link: LinkFields | null) => void,
): Promise<ChainWalk & { head: WriterRow }> {
  let head = writer;
  let result = await verifyChain(db, sealer, head, check, onLink, from);
  // A piece ending before the head (verifyChainPiece) keeps its end; a walk to the head follows it.
  const piece = from.through !== undefined && from.through < toNumber(writer.last_seq);
  for (let again = 0; result.break && again < REWALKS; again += 1) {
    const now = await headRow(db, head.writer_id);
    if (!now || !(await headMovedOn(db, head, now))) break;
    head = now;
    onLink?.(null);
    result = await verifyChain(db, sealer, head, check, onLink, { ...from, through: piece ? Math.min(from.through!, toNumber(now.last_seq)) : toNumber(now.last_seq) });
  }
  return { ...result, head };
}

/**
 * Whether chain head `now` moved on from `was` (read before it) as only its writer or `keys rotate`
 * moves it, so that a walk up to `now` covers every link up to `was`: on to a later link while the
 * link at `was` is still there with the MAC `was` carried (its writer appended), or re-linked at
 * the same link or later (a rotation: its mark at seq 0 there, or the head's MAC changed at the
 * same link). A head set back (to an older link or to link 0, whose all-zero MAC is GENESIS) never
 * moved on: the links between are not walked up to it, so a break among them stays a break.
 */
async function headMovedOn(db: Queryable, was: WriterRow, now: WriterRow): Promise<boolean> {
  const before = toNumber(was.last_seq);
  const after = toNumber(now.last_seq);
  if (after < before) return false;
  // A head at link 0 vouched for no link: a walk up to any later head covers all it did.
  if (before === 0) return after > 0;
  // A rotation re-linking the chain a page at a time moves its mark, not its head, until its last page.
  const relinking = async () => (await relinkMarkOf(db, was.writer_id)) !== null;
  if (after === before) return now.last_hash !== was.last_hash || (await relinking());
  const [link] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [was.writer_id, before]);
  return (link !== undefined && link.hash === was.last_hash) || (await relinking());
}

/** A walk's end: links up to the last one proved (counted from link 1), and that link with its MAC; or the first break. */
type ChainWalk = { links: number; reached: { seq: number; hash: string | null }; break?: undefined } | { links: number; break: AuditChainBreak };

/**
 * `onLink` gets each verified link; `purged` is set for a link whose record a purge deleted: its
 * MAC cannot be made again (the content is gone), so it is kept as the purge saw it.
 */
async function verifyChain(
  db: Queryable,
  sealer: ValueSealer,
  writer: WriterRow,
  check: LinkCheck,
  onLink?: (link: LinkFields, purged?: { hash: string }) => void,
  from: ChainStart = WHOLE_CHAIN,
): Promise<ChainWalk> {
  const writerId = writer.writer_id;
  // null: the first link walked is taken as it says it follows (a walk begun inside the chain; its own MAC is checked).
  let prevHash: string | null = from.seq === 1 ? GENESIS : from.prevHash;
  let expected = from.seq;
  for (;;) {
    // Up to the head as read (`writer`): links appended since are the next walk's.
    const page = await db.query<LinkRow>(
      'SELECT writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id FROM audit_chain WHERE writer_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?',
      [writerId, expected, from.through ?? Number.MAX_SAFE_INTEGER, PAGE],
    );
    const digests = await contentDigests(db, sealer, page);
    const slices = new TimeSlices();
    for (const link of page) {
      if (slices.due()) await slices.next();
      const seq = toNumber(link.seq);
      if (seq !== expected) {
        return { links: expected - 1, break: { writerId, seq: expected, recordId: null, table: 'audit_chain', problem: 'deleted', detail: `link ${expected} of chain ${writerId} is missing (the next one is ${seq}): a record and its link were deleted` } };
      }
      const content = digests.get(`${link.kind}:${toNumber(link.record_id)}`);
      let checked = checkLink(link, prevHash, content, check);
      if ('break' in checked && checked.break.problem === 'reordered' && prevHash !== null) {
        // Where a rotation stopped half-way (RelinkMark), the link after its mark follows the MAC the link before had.
        const seam = await relinkSeam(db, sealer.keyRing, writerId, expected - 1, prevHash, link.prev_hash);
        if (seam === true) checked = checkLink(link, link.prev_hash, content, check);
        else if (seam !== false) checked = { break: { ...checked.break, detail: `${checked.break.detail}: ${seam}` } };
      }
      if ('break' in checked) return { links: expected - 1, break: checked.break };
      onLink?.(checked.fields, checked.purged);
      prevHash = link.hash;
      expected += 1;
    }
    if (page.length < PAGE) break;
  }
  const last = expected - 1;
  if (from.through !== undefined && from.through < toNumber(writer.last_seq)) {
    // A piece of the chain (verifyChainPiece): every link up to its end must be there.
    if (last === from.through) return { links: last, reached: { seq: last, hash: prevHash } };
    return { links: last, break: { writerId, seq: expected, recordId: null, table: 'audit_chain', problem: 'deleted', detail: `link ${expected} of chain ${writerId} is missing (the chain goes on to link ${toNumber(writer.last_seq)}): a record and its link were deleted` } };
  }
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
  return { links: last, reached: { seq: last, hash: prevHash } };
}


/**
 * Link `link` where it stands: after `prevHash` (null: taken as it says), over its record's
 * `content` (absent: the record is gone). The fields its MAC was made from (`purged`: a link kept
 * as the purge that deleted its record saw it), or the break it makes.
 */
function checkLink(link: LinkRow, prevHash: string | null, content: Content | undefined, check: LinkCheck): { fields: LinkFields; purged?: { hash: string } } | { break: AuditChainBreak } {
  const writerId = link.writer_id;
  const seq = toNumber(link.seq);
  const recordId = toNumber(link.record_id);
  const table = TABLE_OF[link.kind] ?? 'audit_chain';
  const at = { writerId, seq, table, recordId } as const;
  const fields = { prevHash: prevHash ?? link.prev_hash, writerId, seq, kind: link.kind, recordId, recordedAt: toNumber(link.recorded_at) };
  if (content !== undefined && 'purged' in content) {
    // The record is gone by a purge that names this very link (writer, seq, MAC), and the
    // purge's own link covers that list, so the link stands as the purge verified it. Its
    // prev_hash is not required to follow: `keys rotate` re-MACs the links before it but
    // cannot re-MAC this one (its content is gone); the link after it still covers its MAC.
    const p = content.purged;
    if (link.kind !== 'record' || p.writerId !== writerId || p.seq !== seq || !sameSecretText(p.linkHash, link.hash)) {
      return { break: { ...at, problem: 'deleted', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}, ${link.kind}) was deleted: the purge that names it names another link` } };
    }
    return { fields: { ...fields, contentDigest: '' }, purged: { hash: link.hash } };
  }
  if (prevHash !== null && link.prev_hash !== prevHash) {
    return { break: { ...at, problem: 'reordered', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}) does not follow the link before it: links were reordered or replaced` } };
  }
  if (content === undefined) {
    return { break: { ...at, problem: 'deleted', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}, ${link.kind}) was deleted` } };
  }
  if ('error' in content) {
    if (content.unknownKey && check.strict) throw content.unknownKey;
    return { break: { ...at, problem: 'altered', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}) was altered: ${content.error}` } };
  }
  const hash = check({ ...fields, contentDigest: content.digest }, toStringOrNull(link.key_id));
  if (typeof hash !== 'string') {
    return { break: { ...at, problem: 'forged', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}, ${link.kind}) has a link the gateway did not make: ${hash.unverifiable}` } };
  }
  if (!sameSecretText(hash, link.hash)) {
    return { break: { ...at, problem: 'altered', detail: `${table} id ${recordId} (chain ${writerId} seq ${seq}, ${link.kind}) was altered or fabricated: its content and link do not match the link's MAC` } };
  }
  return { fields: { ...fields, contentDigest: content.digest } };
}

/**
 * Re-links chains with the ring's newest chain key, so a chain intact before verifies after:
 * - `legacy` (migration 012): chains of plain SHA-256 links (no key id), on the migration's
 *   connection;
 * - otherwise (`keys rotate`): chains with links under an older ring key, each page in its own
 *   transaction (`transaction`).
 * A chain is re-linked `pageSize` links at a time in seq order (relinkChain), each link checked
 * with the key it was made with before its new MAC is written, so memory and each transaction stay
 * bounded however long a chain grows (a transaction a chain was a write-set as large as the chain:
 * on Galera, past wsrep_max_ws_size, and a long certification for every node). A chain broken before
 * stays as it is from its break on (verify names it). `relinked` is given the new head of each
 * chain re-linked whole, as it commits. Returns the number of chains re-linked whole (`relinked`)
 * and each chain it could not finish with why (`unfinished`: how far it stands, and a link or mark
 * under a key the ring lacks, named; the chain broken, where; its mark not holding; its writer
 * appending under its last page each time it was tried; another run moving its mark): such a chain
 * is left as it stands, its mark saying how far it is re-linked, for a later run to go on from. The
 * migration (no `transaction`) throws instead.
 */
export async function relinkChains(
  db: Queryable,
  sealer: ValueSealer,
  options: { legacy: boolean; transaction?: Db['withTransaction']; pageSize?: number; relinked?: (head: { writerId: string; seq: number; hash: string }) => void },
): Promise<{ relinked: number; unfinished: UnfinishedChain[] }> {
  const newest = options.legacy ? null : sealer.keyRing.currentKeyId; // the migration needs no key when there is no chain
  const condition = options.legacy ? 'c.key_id IS NULL' : 'c.key_id IS NOT NULL AND c.key_id <> ?';
  const stale = await db.query<{ writer_id: string }>(
    `SELECT w.writer_id FROM audit_writers w WHERE EXISTS (SELECT 1 FROM audit_chain c WHERE c.writer_id = w.writer_id AND ${condition}) ORDER BY w.writer_id`,
    options.legacy ? [] : [newest],
  );
  const check: LinkCheck = options.legacy ? (fields) => legacyLinkHash(fields) : keyedLinks(sealer, true);
  const transaction = options.transaction ?? ((fn: (q: Queryable) => Promise<unknown>) => fn(db));
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? RELINK_PAGE));
  let relinked = 0;
  const unfinished: UnfinishedChain[] = [];
  for (const { writer_id: writerId } of stale) {
    let done: RelinkEnd;
    try {
      // A mark of a rotation to another key that stopped half-way: that one is finished first, under its key.
      const mark = await relinkMarkOf(db, writerId);
      done = mark !== null && mark.keyId !== sealer.keyRing.currentKeyId ? await relinkChain(db, sealer, writerId, check, mark.keyId, transaction, pageSize) : { seq: 0, hash: '' };
      if (!('unfinished' in done)) done = await relinkChain(db, sealer, writerId, check, sealer.keyRing.currentKeyId, transaction, pageSize);
    } catch (error) {
      if (!options.transaction) throw error;
      // What committed stands (the mark says where): the next run goes on from there.
      done = { unfinished: whyStopped(error) };
    }
    if ('unfinished' in done) {
      unfinished.push({ writerId, problem: `${await howFar(db, writerId)}: ${done.unfinished}` });
      continue;
    }
    relinked += 1;
    options.relinked?.({ writerId, ...done });
  }
  return { relinked, unfinished };
}

/**
 * Chain `writerId`'s row at seq 0, when it has one, held to what only a rotation stopped half-way
 * leaves there (RelinkMark): a mark holding over the link it names as that link stands
 * (markProblem: its kind, its MAC for this chain and link), followed by a link not re-linked yet,
 * one still carrying the MAC the link at the mark had under its older key (a mark the rotation's
 * last page deleted, written back in SQL, is left behind: the link after it follows that link's
 * new MAC). Anything else there is named: no link has seq 0, and a reader looking up a record's
 * link must never take one for it (isLink).
 */
async function markBreak(q: Queryable, ring: KeyRing, writerId: string): Promise<AuditChainBreak | null> {
  const mark = await relinkMarkOf(q, writerId);
  if (mark === null) return null;
  const named = mark.seq >= 1 ? await q.query<{ seq: number | string; prev_hash: string; hash: string; key_id: string | null }>('SELECT seq, prev_hash, hash, key_id FROM audit_chain WHERE writer_id = ? AND seq IN (?, ?)', [writerId, mark.seq, mark.seq + 1]) : [];
  const at = named.find((l) => toNumber(l.seq) === mark.seq);
  const after = named.find((l) => toNumber(l.seq) === mark.seq + 1);
  const problem =
    at === undefined
      ? `it names link ${mark.seq}, which the chain does not hold`
      : (markProblem(ring, writerId, mark, at.hash) ??
        (after !== undefined && after.prev_hash === mark.was && (mark.was !== at.hash || after.key_id !== mark.keyId)
          ? null
          : `it is left behind: no link after link ${mark.seq} still follows the MAC it had under its older key (the rotation that left it has re-linked them, and deletes its mark as it ends): written back in SQL`));
  if (problem === null) return null;
  return { writerId, seq: RELINK_MARK_SEQ, table: 'audit_chain', recordId: null, problem: 'forged', detail: `the row at seq ${RELINK_MARK_SEQ} of chain ${writerId} (kind ${mark.kind}), where a key rotation keeps its mark: ${problem}` };
}

/** How relinkChain ended: the chain's new head, or why it stopped (with what to do). */
type RelinkEnd = { seq: number; hash: string } | { unfinished: string };

/** What to do about an error that stopped a chain's re-linking, in words. */
function whyStopped(error: unknown): string {
  if (error instanceof KeyRingError && error.reason === 'unknown-key') {
    return `${error.message}: put that key back in GERBANG_AUDIT_KEYS (before the new one) and run keys rotate again`;
  }
  return `re-linking it stopped: ${error instanceof Error ? error.message : String(error)}; run keys rotate again once no other run is going on`;
}

/** How far chain `writerId` is re-linked as it stands (its RelinkMark), in words. */
async function howFar(db: Queryable, writerId: string): Promise<string> {
  const mark = await relinkMarkOf(db, writerId);
  if (mark === null) return `chain ${writerId} still has links under older keys`;
  return `chain ${writerId} is re-linked up to its link ${mark.seq} under key ${mark.keyId} (the rotation's mark at seq 0 says so), its links after it still under older keys`;
}

/** Links re-linked a transaction at most by relinkChains, unless told otherwise (`keys rotate --batch-size`). */
const RELINK_PAGE = 2_000;

/** How many times the last page of a chain is tried again when its writer appended meanwhile. */
const LAST_PAGE_TRIES = 3;

/**
 * Re-links chain `writerId` under key `keyId`, `pageSize` links a transaction from where its
 * RelinkMark says an earlier run stopped (from link 1 when none did). Each page's links are
 * walked as verifyChain walks them (each seq there, each prev_hash the link before's old MAC,
 * each MAC over its record under its own key) and written with their new MACs, and the mark moved
 * to the page's last link (its old and new MAC bound by the mark's own), in one transaction. A
 * process killed between two pages leaves links under the new key up to the mark and under their
 * old key after it, which `audit verify` walks across the mark, and a later run goes on from it.
 * The last page moves the chain's head, guarded by the head read in its transaction (a writer
 * appending meanwhile makes it roll back and be read again, at most LAST_PAGE_TRIES times), and
 * deletes the mark. Its new head when the chain is re-linked whole; else why not (it breaks: left
 * as it is from the page that breaks; its mark does not hold; its writer kept appending; another
 * run moved its mark). Throws KeyRingError for a link under a key the ring lacks.
 */
async function relinkChain(
  db: Queryable,
  sealer: ValueSealer,
  writerId: string,
  check: LinkCheck,
  keyId: string,
  transaction: (fn: (q: Queryable) => Promise<unknown>) => Promise<unknown>,
  pageSize: number,
): Promise<RelinkEnd> {
  const { key } = sealer.keyRing.macKey(CHAIN_PURPOSE, keyId);
  const broken = (why: string) => ({ unfinished: `${why}: run \`gerbang audit verify\`, which names the break` });
  const stored = await relinkMarkOf(db, writerId);
  let mark: RelinkMark | null = stored;
  let at = { seq: 1, was: GENESIS, now: GENESIS };
  if (stored !== null) {
    const [link] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, stored.seq]);
    if (!link) return broken(`link ${stored.seq} of chain ${writerId}, where the rotation's mark is, is missing`);
    const problem = stored.keyId === keyId ? markProblem(sealer.keyRing, writerId, stored, link.hash) : `the mark a key rotation left at link ${stored.seq} is under key ${stored.keyId}, not ${keyId}`;
    if (problem !== null) return broken(problem);
    at = { seq: stored.seq + 1, was: stored.was, now: link.hash };
  }
  for (let lastPageTries = 0; ; ) {
    let lastPage = false;
    const page = await transaction(async (q) => {
      const head = await headRow(q, writerId);
      if (!head) return broken(`the head of chain ${writerId} was deleted from audit_writers`);
      const last = toNumber(head.last_seq);
      const through = Math.min(last, at.seq + pageSize - 1);
      lastPage = through === last;
      const links = await q.query<LinkRow>(
        'SELECT writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id FROM audit_chain WHERE writer_id = ? AND seq >= ? AND seq <= ? ORDER BY seq',
        [writerId, at.seq, through],
      );
      const digests = await contentDigests(q, sealer, links);
      const updates: SqlStatement[] = [];
      let { was, now } = at;
      let expected = at.seq;
      for (const link of links) {
        if (toNumber(link.seq) !== expected) return broken(`link ${expected} of chain ${writerId} is missing`);
        const checked = checkLink(link, was, digests.get(`${link.kind}:${toNumber(link.record_id)}`), check);
        if ('break' in checked) return broken(checked.break.detail);
        if (checked.purged) {
          // A purged record's link keeps its MAC (audit_purged_exchanges names it); the next link follows it.
          was = now = checked.purged.hash;
        } else {
          const hash = linkHash({ ...checked.fields, prevHash: now }, key);
          updates.push({ sql: 'UPDATE audit_chain SET prev_hash = ?, hash = ?, key_id = ? WHERE writer_id = ? AND seq = ? AND hash = ?', params: [now, hash, keyId, writerId, expected, link.hash], onlyOneRow: true });
          was = link.hash;
          now = hash;
        }
        expected += 1;
      }
      if (expected - 1 !== through) return broken(`link ${expected} of chain ${writerId} is missing (its head records link ${last})`);
      const moved = { seq: through, was, mac: relinkMarkHash(key, writerId, through, was, now), keyId };
      if (lastPage) {
        if (was !== head.last_hash) return broken(`the head of chain ${writerId} is not its link ${last}`);
        updates.push({ sql: 'UPDATE audit_writers SET last_hash = ? WHERE writer_id = ? AND last_seq = ? AND last_hash = ?', params: [now, writerId, last, head.last_hash], onlyOneRow: true });
        if (mark !== null) updates.push({ sql: 'DELETE FROM audit_chain WHERE writer_id = ? AND seq = ? AND record_id = ? AND hash = ?', params: [writerId, RELINK_MARK_SEQ, mark.seq, mark.mac], onlyOneRow: true });
      } else updates.push(relinkMarkStatement(writerId, moved, mark, Date.now()));
      // A gateway that appended after the head was read moved it: the last page rolls back (NotOneRowError) and is read again.
      await q.executeAll(updates);
      return { at: { seq: through + 1, was, now }, mark: lastPage ? null : moved };
    }).catch((error: unknown) => {
      if (!(error instanceof NotOneRowError)) throw error;
      if (!lastPage) return { unfinished: 'another keys rotate moved its mark or re-linked its links meanwhile: run keys rotate again once that one has ended' };
      if ((lastPageTries += 1) < LAST_PAGE_TRIES) return 'again';
      return { unfinished: `its writer appended to it each of the ${LAST_PAGE_TRIES} times its last page was re-linked: run keys rotate again (at a quieter time)` };
    });
    if (page === 'again') continue;
    if (typeof page === 'object' && page !== null && 'unfinished' in page) return page as { unfinished: string };
    const done = page as { at: typeof at; mark: RelinkMark | null };
    if (done.mark === null) return { seq: done.at.seq - 1, hash: done.at.now };
    at = done.at;
    mark = done.mark;
  }
}

export type Content = { digest: string } | { error: string; unknownKey?: KeyRingError } | { purged: PurgedExchange };

/** The content digest of every record a page of links names, keyed `kind:id`; absent when the record is gone. */
async function contentDigests(db: Queryable, sealer: ValueSealer, page: LinkRow[]): Promise<Map<string, Content>> {
  const out = new Map<string, Content>();
  const exchangeIds = [...new Set(page.filter((l) => l.kind === 'open' || l.kind === 'complete' || l.kind === 'record').map((l) => toNumber(l.record_id)))];
  const callIds = [...new Set(page.filter((l) => l.kind === 'bank_call').map((l) => toNumber(l.record_id)))];
  const purgeIds = [...new Set(page.filter((l) => l.kind === 'purge').map((l) => toNumber(l.record_id)))];
  const eventIds = [...new Set(page.filter((l) => l.kind === 'payment_event').map((l) => toNumber(l.record_id)))];
  const events = eventIds.length === 0 ? [] : await db.query<PaymentEventRow>(`SELECT ${PAYMENT_EVENT_COLUMNS} FROM payment_events WHERE id IN (${eventIds.map(() => '?').join(', ')})`, eventIds);
  const entryIds = [...new Set(page.filter((l) => l.kind === 'console_audit').map((l) => toNumber(l.record_id)))];
  const entries = entryIds.length === 0 ? [] : await db.query<ConsoleAuditRow>(`SELECT id, at, username, action, target, detail, remote_ip FROM console_audit WHERE id IN (${entryIds.map(() => '?').join(', ')})`, entryIds);
  for (const row of entries) {
    const id = toNumber(row.id);
    out.set(`console_audit:${id}`, { digest: consoleAuditDigest({ id, at: toNumber(row.at), username: row.username, action: row.action, target: toStringOrNull(row.target), detail: toStringOrNull(row.detail), remoteIp: row.remote_ip }) });
  }
  const changeIds = [...new Set(page.filter((l) => l.kind === 'record_change').map((l) => toNumber(l.record_id)))];
  for (const [id, changeDigest] of await recordChangeDigests(db, changeIds)) out.set(`record_change:${id}`, { digest: changeDigest });
  const runIds = [...new Set(page.filter((l) => l.kind === 'verification').map((l) => toNumber(l.record_id)))];
  const runs = runIds.length === 0 ? [] : await db.query<RunRow & { id: number | string }>(`SELECT id, checked_at, ok, links, breaks, first_break FROM audit_verifications WHERE id IN (${runIds.map(() => '?').join(', ')})`, runIds);
  for (const row of runs) out.set(`verification:${toNumber(row.id)}`, { digest: verificationDigest(toNumber(row.id), runOfRow(row)) });
  let slices = new TimeSlices();
  for (const row of events) {
    if (slices.due()) await slices.next();
    const opened = attempt(() => openEvent(row, sealer));
    out.set(`payment_event:${toNumber(row.id)}`, 'error' in opened ? opened : { digest: paymentEventDigest(opened.value) });
  }
  const exchanges = exchangeIds.length === 0 ? [] : await db.query<ExchangeRow>(`SELECT ${EXCHANGE_SELECT} FROM ${EXCHANGE_FROM} WHERE e.id IN (${exchangeIds.map(() => '?').join(', ')})`, exchangeIds);
  const calls = callIds.length === 0 ? [] : await db.query<BankCallRow>(`SELECT ${BANK_CALL_SELECT} FROM audit_bank_calls WHERE id IN (${callIds.map(() => '?').join(', ')})`, callIds);
  slices = new TimeSlices();
  for (const row of exchanges) {
    if (slices.due()) await slices.next();
    const id = toNumber(row.id);
    const { open, final, finished } = exchangeContents(row, sealer);
    out.set(`open:${id}`, open);
    out.set(`record:${id}`, final);
    if (finished) out.set(`complete:${id}`, final);
  }
  for (const row of calls) {
    if (slices.due()) await slices.next();
    out.set(`bank_call:${toNumber(row.id)}`, bankCallContent(row, sealer));
  }
  const gone = exchangeIds.filter((id) => !out.has(`open:${id}`));
  for (const entry of await purgedEntries(db, 'exchange_id', gone)) {
    for (const kind of ['open', 'complete', 'record']) out.set(`${kind}:${entry.exchangeId}`, { purged: entry });
  }
  if (purgeIds.length > 0) {
    const purges = await db.query<PurgeRow>(`SELECT id, purged_at, received_before, retention_days, purged_by, records FROM audit_purges WHERE id IN (${purgeIds.map(() => '?').join(', ')})`, purgeIds);
    const entries = await purgedEntries(db, 'purge_id', purgeIds);
    for (const row of purges) {
      const id = toNumber(row.id);
      const record = { id, purgedAt: toNumber(row.purged_at), receivedBefore: toNumber(row.received_before), retentionDays: toNumber(row.retention_days), purgedBy: row.purged_by, records: toNumber(row.records) };
      out.set(`purge:${id}`, { digest: purgeDigest(record, entries.filter((e) => e.purgeId === id)) });
    }
  }
  return out;
}

/**
 * What the links of an exchange cover, from its row as it stands: `open` its own request fields,
 * `record` and `complete` the whole exchange; `finished` when it has a completion (since 023 its
 * completion row; before, an UPDATE of the exchange left its outcome its own), so an exchange still
 * in progress under a completion link lost its completion row.
 */
export function exchangeContents(row: ExchangeRow, sealer: ValueOpener, opened?: AuditExchangeRow): { open: Content; final: Content; finished: boolean } {
  const finished = row.completion_id !== null || row.outcome !== 'in_progress';
  const whole = opened ? { value: opened } : attempt(() => openExchange(row, sealer));
  // The opening covers the exchange's own request fields only, which the whole holds as they are.
  if (!('error' in whole)) return { open: { digest: openedDigest(whole.value) }, final: { digest: finalDigest(whole.value) }, finished };
  // A completion that does not open is the completion's break, not the opening's.
  const own = attempt(() => openExchange({ ...row, response_body: null, completion_id: null }, sealer));
  return { open: 'error' in own ? own : { digest: openedDigest(own.value) }, final: whole, finished };
}

/** What a bank call's link covers, from its row as it stands (`opened`: that row already opened). */
export function bankCallContent(row: BankCallRow, sealer: ValueOpener, opened?: StoredBankCall): Content {
  const call = opened ? { value: opened } : attempt(() => openBankCall(row, sealer));
  return 'error' in call ? call : { digest: bankCallDigest(call.value) };
}

interface PurgeRow {
  id: number | string;
  purged_at: number | string;
  received_before: number | string;
  retention_days: number | string;
  purged_by: string;
  records: number | string;
}

/** audit_purged_exchanges rows whose `column` is one of `ids`. */
async function purgedEntries(db: Queryable, column: 'exchange_id' | 'purge_id', ids: number[]): Promise<(PurgedExchange & { purgeId: number })[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ exchange_id: number | string; purge_id: number | string; received_at: number | string; writer_id: string; seq: number | string; link_hash: string }>(
    `SELECT exchange_id, purge_id, received_at, writer_id, seq, link_hash FROM audit_purged_exchanges WHERE ${column} IN (${ids.map(() => '?').join(', ')}) ORDER BY exchange_id`,
    ids,
  );
  return rows.map((r) => ({ exchangeId: toNumber(r.exchange_id), purgeId: toNumber(r.purge_id), receivedAt: toNumber(r.received_at), writerId: r.writer_id, seq: toNumber(r.seq), linkHash: r.link_hash }));
}

/**
 * A value that does not open where it is is an altered record; one under a key the ring lacks
 * cannot be checked, and is named as such (a walk that threw there would stop before the links
 * after it: a link or value re-keyed in SQL would silence the scrub). Other key ring errors
 * (the ring itself misconfigured) are thrown; a strict walk (LinkCheck.strict) throws `unknownKey`.
 */
export function attempt<T>(fn: () => T): { value: T } | { error: string; unknownKey?: KeyRingError } {
  try {
    return { value: fn() };
  } catch (error) {
    if (error instanceof IntegrityError) return { error: error.where };
    if (error instanceof KeyRingError && error.reason === 'unknown-key') return { error: error.message, unknownKey: error };
    throw error;
  }
}

/**
 * Records no link covers: inserted behind the gateway's back, or completed without a completion
 * link. Console audit entries from `consoleAuditSince` on must have one (chainCoverage).
 */
async function unchainedRecords(db: Queryable, consoleAuditSince: number): Promise<AuditChainBreak[]> {
  const checks: { table: AuditChainBreak['table']; what: string; sql: string; params?: SqlValue[] }[] = [
    {
      table: 'audit_exchanges' as const,
      what: 'exchanges without an open or record link (inserted directly)',
      sql: `FROM audit_exchanges e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind IN ('open', 'record') AND c.record_id = e.id)`,
    },
    {
      table: 'audit_exchanges' as const,
      what: 'finished exchanges without a completion link (outcome changed directly)',
      sql: `FROM audit_exchanges e WHERE e.outcome <> 'in_progress' AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind IN ('complete', 'record') AND c.record_id = e.id)`,
    },
    {
      table: 'audit_completions' as const,
      what: 'exchange completions without a completion link (inserted directly)',
      sql: `FROM (SELECT exchange_id AS id FROM audit_completions) e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind = 'complete' AND c.record_id = e.id)`,
    },
    {
      table: 'payment_events' as const,
      what: 'payment events without a link (inserted directly)',
      sql: `FROM payment_events e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind = 'payment_event' AND c.record_id = e.id)`,
    },
    {
      table: 'console_audit' as const,
      what: 'console audit entries without a link (inserted directly)',
      // Entries from before migration 024 have none (chain_coverage).
      sql: `FROM console_audit e WHERE e.id >= ? AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind = 'console_audit' AND c.record_id = e.id)`,
      params: [consoleAuditSince],
    },
    {
      table: 'record_changes' as const,
      what: 'change records of console users, clients, credentials, grants or callback endpoints without a link (inserted directly)',
      sql: `FROM record_changes e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind = 'record_change' AND c.record_id = e.id)`,
    },
    {
      table: 'audit_verifications' as const,
      what: 'verification results without a link (inserted directly)',
      // Results recorded before they were chained have none: those older than the first with a link.
      sql: `FROM audit_verifications e WHERE e.id > (SELECT COALESCE(MIN(c0.record_id), e.id) FROM audit_chain c0 WHERE ${isLink('c0.')} AND c0.kind = 'verification') AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind = 'verification' AND c.record_id = e.id)`,
    },
    {
      table: 'audit_bank_calls' as const,
      what: 'bank calls without a link (inserted directly)',
      sql: `FROM audit_bank_calls e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind = 'bank_call' AND c.record_id = e.id)`,
    },
    {
      table: 'audit_purges' as const,
      what: 'purges without a link (inserted directly)',
      sql: `FROM audit_purges e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind = 'purge' AND c.record_id = e.id)`,
    },
    {
      table: 'audit_purged_exchanges' as const,
      what: 'purged exchanges named by no purge with a link (deletions passed off as a purge)',
      sql: `FROM (SELECT exchange_id AS id, purge_id FROM audit_purged_exchanges) e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE ${isLink('c.')} AND c.kind = 'purge' AND c.record_id = e.purge_id)`,
    },
  ];
  const breaks: AuditChainBreak[] = [];
  for (const check of checks) {
    const [{ n }] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n ${check.sql}`, check.params);
    if (toNumber(n) === 0) continue;
    const ids = (await db.query<{ id: number | string }>(`SELECT e.id AS id ${check.sql} ORDER BY e.id LIMIT ${UNCHAINED_SHOWN}`, check.params)).map((r) => toNumber(r.id));
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

/** Problems listed per table beyond the count (the count is always given). */
const STORED_SHOWN = 5;

/**
 * The rest of the store the API reports from: every payment's MAC (its fixed fields), and every
 * sealed value outside the audit (payment answers, payment-run lines, queued callbacks, client
 * signing keys) opened where it lies. Names the first few of each table. A payment in `accepted`
 * (accepted as lost by an operator) whose row fails its MAC or was deleted goes to `acceptedOut`.
 */
async function storedValueBreaks(db: Queryable, sealer: ValueSealer, coverage: Coverage, accepted: NonNullable<AuditVerifyOptions['acceptedPayments']>, acceptedOut: AuditVerifyReport['acceptedPayments']): Promise<AuditChainBreak[]> {
  const breaks: AuditChainBreak[] = [];
  const payments: string[] = [];
  let after = 0;
  for (;;) {
    const rows = await db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id > ? ORDER BY id LIMIT ?`, [after, PAGE]);
    const last = await lastEventRows(db, rows.map((row) => toNumber(row.id)));
    for (const row of rows) {
      const macProblem = paymentMacProblem(sealer.keyRing, row);
      const acceptance = accepted.get(toNumber(row.id));
      if (macProblem !== null && acceptance !== undefined) {
        const as = acceptedAs(acceptance, 'altered', paymentRowDigest(row));
        if (as === 'another') payments.push(`${macProblem} (an operator accepted it ${acceptance.kind === 'deleted' ? 'as deleted' : 'altered, as its row stood then'}; it is not so now)`);
        else acceptedOut.push({ paymentId: toNumber(row.id), problem: 'altered', detail: macProblem, ...(as === 'unproven' ? { unproven: true as const } : {}) });
        continue;
      }
      // The page and its last events read in the one snapshot: a payment the gateway moved on meanwhile is seen as it was, whole.
      const problem = macProblem ?? historyProblem(row, last.get(toNumber(row.id)), coverage, sealer);
      if (problem !== null) payments.push(problem);
    }
    if (rows.length < PAGE) break;
    after = toNumber(rows[rows.length - 1].id);
  }
  // Each payment's MAC was checked above: the deleted ones are named here.
  // As many more as were accepted: those shown are the first not accepted.
  for (const gone of await lostPayments(db, sealer.keyRing, { fromId: 1, toId: Number.MAX_SAFE_INTEGER }, STORED_SHOWN + accepted.size)) {
    if (gone.kind !== 'deleted') continue;
    const acceptance = accepted.get(gone.paymentId);
    const as = acceptance === undefined ? 'another' : acceptedAs(acceptance, 'deleted');
    if (as === 'another') payments.push(acceptance === undefined ? gone.detail : `${gone.detail} (an operator accepted it as altered, not deleted)`);
    else acceptedOut.push({ paymentId: gone.paymentId, problem: 'deleted', detail: gone.detail, ...(as === 'unproven' ? { unproven: true as const } : {}) });
  }
  if (payments.length > 0) breaks.push(storedBreak('payments', payments));
  // Console users, clients, their credentials, grants and callback endpoints: each row's MAC, and
  // that it is the row's latest state as its change records say (record-changes.ts). Rows and
  // records read in the one snapshot: a row the gateway changes meanwhile is not mistaken for one
  // written back.
  for (const table of MACED_TABLES) {
    const { altered, deleted } = await rowHistoryProblems(db, table, sealer);
    if (altered.length > 0) breaks.push(storedBreak(table.table, altered));
    if (deleted.length > 0) breaks.push(storedBreak(table.table, deleted, 'deleted'));
  }
  // Payment-run lines: each against its MAC (its run, place, transaction id and outcome), each run against its count.
  const lines = await batchLineProblems(db, sealer);
  if (lines.altered.length > 0) breaks.push(storedBreak('transfer_batch_lines', lines.altered));
  if (lines.deleted.length > 0) breaks.push(storedBreak('transfer_batch_lines', lines.deleted, 'deleted'));
  for (const table of SEALED_TABLES.filter((t) => !t.table.startsWith('audit_'))) {
    const problems: string[] = [];
    const columns = [...new Set([...table.key, ...rowColumns(table)])];
    let position: SqlValue[] = [];
    for (;;) {
      const where = position.length === 0 ? '' : table.key.length === 1 ? `WHERE ${table.key[0]} > ?` : `WHERE (${table.key[0]} > ? OR (${table.key[0]} = ? AND ${table.key[1]} > ?))`;
      const params = position.length === 0 ? [] : table.key.length === 1 ? position : [position[0], position[0], position[1]];
      const rows = await db.query<Record<string, string | number | null>>(
        `SELECT ${columns.join(', ')}, ${table.sealed.join(', ')} FROM ${table.table} ${where} ORDER BY ${table.key.join(', ')} LIMIT ?`,
        [...params, PAGE],
      );
      for (const row of rows) {
        for (const column of table.sealed) {
          const opened = attempt(() => sealer.open(row[column] as string | null, placeInRow(table, column, row)));
          if ('error' in opened) problems.push(opened.error);
        }
      }
      if (rows.length < PAGE) break;
      const last = rows[rows.length - 1];
      position = table.key.map((c) => last[c]);
    }
    if (problems.length > 0) breaks.push(storedBreak(table.table as AuditChainBreak['table'], problems));
  }
  return breaks;
}

/**
 * A payment the ERP's resend would not find, so that it would be paid again: its row deleted while
 * its history does not end in its release, or its row altered away from its MAC (moved to another
 * transactionId or client).
 */
export interface LostPayment {
  paymentId: number;
  /** Its last event: its id, seq and state. */
  eventId: number;
  seq: number;
  state: string;
  kind: 'deleted' | 'altered';
  /** For `altered`: paymentRowDigest of its row as it stands. */
  digest?: string;
  detail: string;
}

/**
 * The payments among those whose last event's id is in `range` (each payment has one last event, so
 * ranges that cover every event id cover every payment once) whose row is gone though their history
 * does not end in their release (deleted in SQL), or whose row no longer matches its MAC; at most
 * `limit` of each, by payment id. A reservation released and deleted with its release event is not one.
 */
export async function lostPayments(db: Queryable, ring: KeyRing, range: { fromId: number; toId: number }, limit: number): Promise<LostPayment[]> {
  const last = 'e.id >= ? AND e.id <= ? AND e.seq = (SELECT MAX(x.seq) FROM payment_events x WHERE x.payment_id = e.payment_id)';
  const gone = await db.query<{ payment_id: number | string; id: number | string; seq: number | string; state: string }>(
    `SELECT e.payment_id, e.id, e.seq, e.state FROM payment_events e WHERE ${last} AND e.state <> '${RELEASED}' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = e.payment_id) ORDER BY e.payment_id LIMIT ?`,
    [range.fromId, range.toId, limit],
  );
  const lost: LostPayment[] = gone.map((r) => {
    const paymentId = toNumber(r.payment_id);
    const seq = toNumber(r.seq);
    return { paymentId, eventId: toNumber(r.id), seq, state: r.state, kind: 'deleted', detail: `payments id ${paymentId} was deleted: its history (last event seq ${seq}, ${r.state}) does not end in its release` };
  });
  // The columns its MAC covers only (not its sealed result and details): every pass checks thousands
  // of rows; the whole row is read again for those that do not hold (their digest, and the check again).
  const rows = await db.query<Pick<PaymentRow, 'id' | MacedColumn> & { event_id: number | string; event_seq: number | string; event_state: string }>(
    `SELECT ${MACED_PAYMENT_COLUMNS.map((c) => `p.${c}`).join(', ')}, e.id AS event_id, e.seq AS event_seq, e.state AS event_state FROM payment_events e JOIN payments p ON p.id = e.payment_id WHERE ${last} ORDER BY e.payment_id`,
    [range.fromId, range.toId],
  );
  const slices = new TimeSlices();
  const suspects: typeof rows = [];
  for (const row of rows) {
    if (lost.length + suspects.length >= limit * 2) break;
    if (slices.due()) await slices.next();
    const checked = attempt(() => paymentMacProblem(ring, row));
    if ('error' in checked || checked.value !== null) suspects.push(row);
  }
  const whole = suspects.length === 0 ? [] : await db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id IN (${suspects.map(() => '?').join(', ')})`, suspects.map((r) => toNumber(r.id)));
  const byId = new Map(whole.map((row) => [toNumber(row.id), row]));
  for (const suspect of suspects) {
    // Gone since (the next pass finds it deleted, if it was), or holding again: not one.
    const row = byId.get(toNumber(suspect.id));
    if (row === undefined) continue;
    const checked = attempt(() => paymentMacProblem(ring, row));
    const problem = 'error' in checked ? `payments id ${toNumber(row.id)} cannot be checked: ${checked.error}` : checked.value;
    if (problem !== null) lost.push({ paymentId: toNumber(row.id), eventId: toNumber(suspect.event_id), seq: toNumber(suspect.event_seq), state: suspect.event_state, kind: 'altered', digest: paymentRowDigest(row), detail: problem });
  }
  return lost;
}

/** The newest payment event's id (0 when there is none). */
export async function lastPaymentEventId(db: Queryable): Promise<number> {
  const [{ n }] = await db.query<{ n: number | string | null }>('SELECT MAX(id) AS n FROM payment_events');
  return n === null ? 0 : toNumber(n);
}

/**
 * How a payment differs from its last event (whose own link the chain walk checks), or null. A
 * payment without events is one from before migration 024 (created before `coverage.since`) or not the gateway's.
 */
function historyProblem(row: PaymentRow, last: PaymentEventRow | undefined, coverage: Coverage, sealer: ValueSealer): string | null {
  const id = toNumber(row.id);
  if (last === undefined) return missingHistoryProblem({ id, clientId: row.client_id, transactionId: row.transaction_id, createdAt: toNumber(row.created_at) }, coverage);
  const opened = attempt(() => ({ event: openEvent(last, sealer), result: sealer.open(toStringOrNull(row.result_json), paymentPlace('result_json', row)) }));
  if ('error' in opened) return opened.error;
  return paymentEventProblem({ id, clientId: row.client_id, transactionId: row.transaction_id, snapshot: snapshotOfRow(row, opened.value.result) }, opened.value.event);
}

/**
 * Whether a payment found lost `kind` (with the digest of its row, for altered) is the one an
 * operator accepted: `exactly`, `another` (accepted as something else: a new finding), or
 * `unproven` (accepted by a line written before acceptances said what they saw).
 */
export function acceptedAs(acceptance: { kind?: 'deleted' | 'altered'; digest?: string }, kind: 'deleted' | 'altered', digest?: string): 'exactly' | 'another' | 'unproven' {
  if (acceptance.kind === undefined) return 'unproven';
  return acceptance.kind === kind && (kind === 'deleted' || acceptance.digest === digest) ? 'exactly' : 'another';
}

function storedBreak(table: AuditChainBreak['table'], problems: string[], problem: 'altered' | 'deleted' = 'altered'): AuditChainBreak {
  return {
    writerId: null,
    seq: null,
    table,
    recordId: null,
    problem,
    detail: `${problems.length} record(s) of ${table} ${problem === 'deleted' ? 'were deleted' : 'failed their integrity check'}: ${problems.slice(0, STORED_SHOWN).join('; ')}`,
  };
}
