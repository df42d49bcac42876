import type { KeyRing } from '../../security/index.js';
import type { AuditExchangeRow, Queryable } from '../types.js';
import { isLink, linkHolds, STORED_LINK_COLUMNS, type LinkKind, type StoredLink } from './audit-chain.js';
import type { BankCallRow, ExchangeRow, StoredBankCall } from './audit-records.js';
import { bankCallContent, exchangeContents, type Content } from './audit-verify.js';
import type { ValueOpener } from './sealed-values.js';
import { toNumber } from './row-values.js';

/** What was found of a page of exchanges and their bank calls, by id: absent when a record holds. */
export interface RecordLinkProblems {
  exchanges: Map<number, string>;
  bankCalls: Map<number, string>;
  /** The links read of the page's records (for their place in their chains, audit-chain-place.ts). */
  links: (StoredLink & { kind: LinkKind })[];
}

/** The records of the page the caller has opened already, by id (not opened again). */
export interface OpenedRecords {
  exchanges: Map<number, AuditExchangeRow>;
  bankCalls: Map<number, StoredBankCall>;
}

/**
 * Each exchange of a page (its opening and its completion) and each of its bank calls held to its
 * own chain links' MACs, as `audit verify` computes them (its place in its chain is what verify's
 * walk checks): a record changed in the database, or inserted there without a link the gateway
 * made, gets a problem in words. One query reads the links of the whole page.
 */
export async function recordLinkProblems(
  q: Queryable,
  ring: KeyRing,
  sealer: ValueOpener,
  exchanges: ExchangeRow[],
  calls: BankCallRow[],
  opened: OpenedRecords = { exchanges: new Map(), bankCalls: new Map() },
): Promise<RecordLinkProblems> {
  const found: RecordLinkProblems = { exchanges: new Map(), bankCalls: new Map(), links: [] };
  if (exchanges.length === 0 && calls.length === 0) return found;
  const exchangeIds = exchanges.map((row) => toNumber(row.id));
  const callIds = calls.map((row) => toNumber(row.id));
  const marks = (ids: number[]) => (ids.length === 0 ? 'NULL' : ids.map(() => '?').join(', '));
  const links = await q.query<StoredLink & { kind: LinkKind }>(
    `SELECT kind, ${STORED_LINK_COLUMNS} FROM audit_chain WHERE ${isLink()} AND ((kind IN ('open', 'complete', 'record') AND record_id IN (${marks(exchangeIds)})) ` +
      `OR (kind = 'bank_call' AND record_id IN (${marks(callIds)})))`,
    [...exchangeIds, ...callIds],
  );
  found.links = links;
  const linksOf = new Map<string, StoredLink[]>();
  for (const link of links) {
    const key = `${link.kind}:${toNumber(link.record_id)}`;
    linksOf.set(key, [...(linksOf.get(key) ?? []), link]);
  }
  // Held when one of the record's links of that kind holds: a second link (an id reused after a
  // purge, or one written in SQL) cannot hold for this content without the chain key.
  const holds = (kind: LinkKind, id: number, content: Content): boolean | string =>
    'error' in content ? content.error : (linksOf.get(`${kind}:${id}`) ?? []).some((link) => 'digest' in content && linkHolds(ring, kind, id, content.digest, link));
  for (const row of exchanges) {
    const id = toNumber(row.id);
    const problem = exchangeProblem(id, exchangeContents(row, sealer, opened.exchanges.get(id)), (kind) => linksOf.has(`${kind}:${id}`), (kind, content) => holds(kind, id, content));
    if (problem !== null) found.exchanges.set(id, problem);
  }
  for (const row of calls) {
    const id = toNumber(row.id);
    const held = holds('bank_call', id, bankCallContent(row, sealer, opened.bankCalls.get(id)));
    if (held === true) continue;
    found.bankCalls.set(
      id,
      typeof held === 'string'
        ? `audit_bank_calls id ${id} was altered: ${held}`
        : linksOf.has(`bank_call:${id}`)
          ? `audit_bank_calls id ${id} was altered or fabricated: its content does not match its chain link`
          : `audit_bank_calls id ${id} has no chain link: it was not written by Gerbang (inserted in the database)`,
    );
  }
  return found;
}

/** How an exchange fails its links, or null when it holds: recorded whole under one link, else opened under one and completed under another. */
function exchangeProblem(
  id: number,
  contents: ReturnType<typeof exchangeContents>,
  linked: (kind: LinkKind) => boolean,
  holds: (kind: LinkKind, content: Content) => boolean | string,
): string | null {
  const failed = (table: string, held: boolean | string) =>
    typeof held === 'string' ? `${table} id ${id} was altered: ${held}` : `${table} id ${id} was altered or fabricated: its content does not match its chain link`;
  if (linked('record')) {
    const held = holds('record', contents.final);
    return held === true ? null : failed('audit_exchanges', held);
  }
  if (!linked('open')) return `audit_exchanges id ${id} has no chain link: it was not written by Gerbang (inserted in the database)`;
  const opened = holds('open', contents.open);
  if (opened !== true) return failed('audit_exchanges', opened);
  if (!contents.finished) return linked('complete') ? `audit_completions id ${id} was deleted: the exchange has a completion link but no completion` : null;
  if (!linked('complete')) return `audit_exchanges id ${id} was finished outside Gerbang: its completion has no chain link`;
  const completed = holds('complete', contents.final);
  return completed === true ? null : failed('audit_completions', completed);
}
