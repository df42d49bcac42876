import { MAX_STATEMENT_DAYS, STATEMENT_MAX_LINES, type BankAdapter, type BankCallContext, type StatementEntry, type StatementQuery } from '../../banks/types.js';
import { cents } from '../../config/index.js';
import { isAppError } from '../../errors/index.js';
import { jakartaDate } from '../../time/index.js';
import type { PaymentRecord } from '../../store/types.js';

/**
 * What the paying account's statement says of a transfer in doubt (bank-apis.md §3): BCA answers
 * its in-doubt codes with "check your account statement", and "not found" at the status inquiry
 * alone never means "not executed".
 * - `debited`: exactly one debit of the amount that carries one of the transfer's references, on
 *   the transaction date or the next day: it was executed (the line is kept as evidence);
 * - `not-debited`: no debit of that amount at all on either day, read after the bank's day has
 *   closed: it was not executed;
 * - `too-early`: no such debit yet, but the day has not closed: ask again later;
 * - `inconclusive`: anything else (equal-amount debits without the reference, several matches,
 *   a pending line, no statement to be had, one that may have been cut at the bank's row cap):
 *   not proof either way, a person decides.
 */
export type StatementVerdict =
  | { kind: 'debited'; line: string }
  | { kind: 'not-debited'; detail: string }
  | { kind: 'too-early'; readableAt: number }
  | { kind: 'inconclusive'; reason: string; referenced?: string[] };

/**
 * The lines of an account's statement for [from, to], or why none could be had (the bank
 * unavailable or refusing, no way to reach it configured): the in-doubt resolver reads them from
 * the bank adapter (bankStatementLines), the review through Gerbang's own API.
 */
export type StatementLines = (query: StatementQuery) => Promise<readonly StatementEntry[] | { unreadable: string }>;

/** The statement lines as the bank adapter reads them; BANK_UNAVAILABLE and BANK_REFUSED say none could be had, anything else is thrown. */
export function bankStatementLines(adapter: BankAdapter, ctx: BankCallContext): StatementLines {
  return async (query) => {
    try {
      return (await adapter.statement(query, ctx)).entries;
    } catch (error) {
      if (!isAppError(error) || (error.code !== 'BANK_UNAVAILABLE' && error.code !== 'BANK_REFUSED')) throw error;
      return { unreadable: error.message };
    }
  };
}

const DAY_MS = 86_400_000;
const WIB_OFFSET_MS = 7 * 3_600_000;

/** The instant the statement can prove a transfer of `transactionDate` was not executed: the next day at `dayCloseWib`. */
export function proofReadableAt(transactionDate: string, dayCloseWib: string): number {
  const [hours, minutes] = dayCloseWib.split(':').map(Number);
  return Date.parse(`${transactionDate}T00:00:00Z`) + DAY_MS + (hours * 60 + minutes) * 60_000 - WIB_OFFSET_MS;
}

/**
 * Reads the statement of the payment's source account for its day and the next, and judges it.
 * The day is its transaction date unless `options.day` says otherwise (a reservation has none:
 * the review reads the day it was received).
 */
export async function readStatementProof(
  lines: StatementLines,
  payment: PaymentRecord,
  options: { now: number; dayCloseWib: string; day?: string | null },
): Promise<StatementVerdict> {
  const date = options.day === undefined ? payment.bankTransactionDate : options.day;
  if (!payment.sourceAccount || !date) return { kind: 'inconclusive', reason: 'the paying account is not recorded for this transfer, so its statement cannot be read' };
  const today = jakartaDate(options.now);
  if (date < jakartaDate(options.now - (MAX_STATEMENT_DAYS - 1) * DAY_MS)) return { kind: 'inconclusive', reason: `the bank keeps statements ${MAX_STATEMENT_DAYS} days only` };
  const nextDay = new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  const to = nextDay <= today ? nextDay : date;
  const entries = await lines({ accountNumber: payment.sourceAccount, from: date, to });
  if ('unreadable' in entries) return { kind: 'inconclusive', reason: `no statement could be read (${entries.unreadable})` };
  const verdict = judgeStatement(entries, { amount: payment.amount, references: [payment.transactionId, payment.bankTransactionId ?? ''], dates: [date, nextDay] });
  if (entries.length >= STATEMENT_MAX_LINES) return cutShort(entries.length, verdict);
  if (verdict.kind !== 'no-debit') return verdict;
  const readableAt = proofReadableAt(date, options.dayCloseWib);
  if (options.now < readableAt || to !== nextDay) return { kind: 'too-early', readableAt };
  return { kind: 'not-debited', detail: `No debit of ${payment.amount} on the statement of the paying account for ${date} and ${nextDay}, read ${new Date(options.now).toISOString()} (after the bank's day closed).` };
}

/**
 * A statement holding as many lines as the bank gives at most (STATEMENT_MAX_LINES) may have been
 * cut there: the debit, or a second one, may be past the cut. It proves nothing either way; the
 * debits it does show under the transfer's reference are kept for the person who decides.
 */
function cutShort(lines: number, verdict: ReturnType<typeof judgeStatement>): StatementVerdict {
  const referenced = verdict.kind === 'debited' ? [verdict.line] : verdict.kind === 'inconclusive' ? verdict.referenced : undefined;
  const reason = `the statement holds ${lines} lines, the most the bank gives in one answer: it may have been cut short, so it proves no debit absent or single`;
  return referenced ? { kind: 'inconclusive', reason, referenced } : { kind: 'inconclusive', reason };
}

/**
 * Judges statement lines against a transfer: matching needs the amount AND a reference the
 * transfer carried, on one of `dates` (or pending). Conservative: several matches, or an
 * equal-amount debit without a reference, prove nothing either way. An inconclusive verdict lists
 * the debits that do carry the reference (pending, or several) in `referenced`: no proof of one
 * execution, but money left the account under this transfer's name.
 */
export function judgeStatement(
  entries: readonly StatementEntry[],
  transfer: { amount: string; references: string[]; dates: string[] },
): { kind: 'debited'; line: string } | { kind: 'no-debit' } | { kind: 'inconclusive'; reason: string; referenced?: string[] } {
  const sameAmount = entries.filter((e) => e.type === 'DEBIT' && sameMoney(e.amount, transfer.amount) && (e.pending || transfer.dates.includes(e.date)));
  if (sameAmount.length === 0) return { kind: 'no-debit' };
  const referenced = sameAmount.filter((e) => transfer.references.some((ref) => mentions(`${e.description} ${e.reference ?? ''}`, ref)));
  if (referenced.length === 1 && !referenced[0].pending) return { kind: 'debited', line: describeLine(referenced[0]) };
  if (referenced.length > 1) return { kind: 'inconclusive', reason: `${referenced.length} debits of ${transfer.amount} carry this transfer's reference`, referenced: referenced.map(describeLine) };
  if (referenced.length === 1) return { kind: 'inconclusive', reason: `a pending debit of ${transfer.amount} carries this transfer's reference (not booked yet)`, referenced: [describeLine(referenced[0])] };
  return { kind: 'inconclusive', reason: `${sameAmount.length} debit(s) of ${transfer.amount} without this transfer's reference` };
}

/** The statement line as kept in the evidence. */
function describeLine(entry: StatementEntry): string {
  return [entry.date, entry.type, entry.amount, entry.description, entry.reference ?? ''].filter((part) => part !== '').join(' | ');
}

/** Equal amounts, in cents (a debit may be written with a minus sign). */
export function sameMoney(a: string, b: string): boolean {
  return cents(a.replace(/^-/, '')) === cents(b);
}

const ASCII = /^[\x00-\x7f]*$/;

/** Whether the character code is one of [A-Za-z0-9]. */
function isWordCode(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** Whether `text` holds `needle` at some place with no letter or digit of [A-Za-z0-9] either side. */
function asWord(text: string, needle: string): boolean {
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const before = at === 0 || !isWordCode(text.charCodeAt(at - 1));
    const after = at + needle.length === text.length || !isWordCode(text.charCodeAt(at + needle.length));
    if (before && after) return true;
  }
  return false;
}

/**
 * Whether `text` carries `reference` as a whole word (not inside a longer number or word), letters
 * compared without case. A reconciliation asks it for every payment of a month against its
 * debits: the reference as written is looked for first (banks copy it as the transfer carried it;
 * no copy of either made), then ASCII text and references (what banks and ERPs write) are
 * compared in lower case without building a regular expression each time; anything else takes
 * the regular expression. A character outside ASCII never matches [A-Za-z0-9] without case (the
 * expression has no `u` flag), so a whole word as written is one without case too.
 */
export function mentions(text: string, reference: string): boolean {
  if (reference.length < 4) return false;
  if (asWord(text, reference)) return true;
  if (ASCII.test(text) && ASCII.test(reference)) return asWord(text.toLowerCase(), reference.toLowerCase());
  const escaped = reference.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9])${escaped}($|[^A-Za-z0-9])`, 'i').test(text);
}
