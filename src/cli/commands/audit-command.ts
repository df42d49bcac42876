import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { acceptRollback, ChainGuard, describeLostPayment, purgeAnonymousExchanges, RESEND_WARNING, readCheckpoints, RetentionError, storeAgainstCheckpoints, verifyAudit, vouchingOptions, type AcceptedChainBreak, type CheckedAuditReport } from '../../audit/index.js';
import { loadAuditAnonymousRetentionDays, loadAuditCheckpointFile, loadAuditKeys, loadStoreConfig } from '../../config/index.js';
import { FORGED_STATUS, formulaSafeCsv } from '../../export/index.js';
import type { KeyRing } from '../../security/index.js';
import { openStore } from '../../store/index.js';
import { visibleText } from '../../banks/common/bank-text.js';
import type { AuditChainBreak, AuditExchangeRow, AuditRepository, LostPaymentFacts, Store } from '../../store/types.js';
import { acceptReconciliationDay, DAY_ACCEPTED_ACTION, describeAlert, isDigest } from '../../console/accept-day-use-case.js';
import { ACCEPTED_DAYS_LISTED, everyAcceptedDay, type DayAcceptanceNote } from '../../console/day-acceptances.js';
import { reasonProblem } from '../../domain/operator-reason.js';
import { jakartaTimestamp } from '../../time/index.js';
import { ACCEPT_DAY_USAGE } from '../usage.js';
import { CLI_ACTOR, parseIsoOption, parseOptions, UsageError, type CliIo } from '../cli-io.js';


const CSV_COLUMNS = [
  'id', 'requestId', 'receivedAt', 'completedAt', 'remoteIp', 'origin', 'method', 'path', 'clientId', 'transactionId', 'amount',
  'sourceAccount', 'beneficiaryAccount', 'outcome', 'statusCode', 'errorCode', 'requestBody', 'responseBody', 'bankCallCount', 'bankCalls',
  'integrityProblem',
];

const PAGE = 500;

/** Walks the audit in id order, a page at a time, so an export of any size stays in bounded memory. */
export async function* auditRows(audit: AuditRepository, from?: number, to?: number): AsyncGenerator<AuditExchangeRow> {
  let afterId: number | undefined;
  for (;;) {
    const page = await audit.list({ from, to, afterId, limit: PAGE, inChain: true });
    yield* page;
    if (page.length < PAGE) return;
    afterId = page[page.length - 1].id;
  }
}

type ExportedCall = AuditExchangeRow['bankCalls'][number];

/**
 * One exchange as exported. `integrityProblem` (null when it holds) names what was found of it and
 * of its bank calls when one does not hold to its chain link (changed or inserted in the database);
 * a record that does not hold keeps only what identifies it (its ids), its outcome
 * CHANGED_OUTSIDE_GERBANG and every other value empty, as the console's payment export does, so no
 * count, sum or match takes it for the gateway's.
 */
function exportRecord(row: AuditExchangeRow) {
  const problems = [row.integrityProblem, ...row.bankCalls.map((call) => call.integrityProblem)].filter((p) => p !== undefined);
  const bankCalls = row.bankCalls.map((call) => (call.integrityProblem === undefined ? { ...call, startedAt: new Date(call.startedAt).toISOString() } : forgedCall(call)));
  const values =
    row.integrityProblem === undefined
      ? { ...row, receivedAt: new Date(row.receivedAt).toISOString(), completedAt: row.completedAt === null ? null : new Date(row.completedAt).toISOString() }
      : forgedExchange(row);
  return { ...values, bankCalls, integrityProblem: problems.length === 0 ? null : problems.join('; ') };
}

function forgedExchange(row: AuditExchangeRow) {
  // Its digest as found is the dispatcher's and the requeue's, not a value of the exchange.
  const empty = Object.fromEntries(Object.keys(row).filter((key) => key !== 'asFound').map((key) => [key, null]));
  return { ...empty, id: row.id, requestId: row.requestId, outcome: FORGED_STATUS };
}

function forgedCall(call: ExportedCall) {
  const empty = Object.fromEntries(Object.keys(call).map((key) => [key, null]));
  return { ...empty, id: call.id, exchangeId: call.exchangeId, requestId: call.requestId, integrityProblem: call.integrityProblem };
}

async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/**
 * A store that can read and append to the audit: GERBANG_DATABASE_URL and the audit keys
 * (ConfigError names what is wrong). What the command appends is checkpointed outside the
 * database (GERBANG_AUDIT_CHECKPOINT_FILE): a change of who may do what as it commits, the rest
 * when the store closes.
 */
export async function openAuditStore(io: CliIo, keys: KeyRing = loadAuditKeys(io.env)): Promise<Store> {
  const { databaseUrl } = loadStoreConfig(io.env);
  const store = await openStore(databaseUrl, { auditKeys: keys, ...vouchingOptions(loadAuditCheckpointFile(io.env), keys, `cli ${process.pid}`) });
  // A day accepted here is sealed only while the chains hold, as the console seals one.
  const guard = chainGuardOf(io, store, keys);
  store.paymentSearch.guardSeals(() => {
    const vouched = guard.vouched();
    return (since, maxLinks, q) => vouched(since, maxLinks, store.audit.readingOn(q));
  });
  return store;
}

/** The chain guard of `store` (ChainGuard): its database and the checkpoints of GERBANG_AUDIT_CHECKPOINT_FILE. */
export function chainGuardOf(io: CliIo, store: Store, keys: KeyRing = loadAuditKeys(io.env)): ChainGuard {
  return new ChainGuard(store.audit, keys, loadAuditCheckpointFile(io.env), store.db.description);
}

export async function auditCommand(args: string[], io: CliIo, stdout: Writable = process.stdout): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'verify') return verifyCommand(rest, io);
  if (action === 'purge-anonymous') return purgeCommand(rest, io);
  if (action === 'accept-rollback') return acceptRollbackCommand(rest, io);
  if (action === 'accept-day') return acceptDayCommand(rest, io);
  if (action !== 'export') throw new UsageError(`unknown action ${JSON.stringify(action ?? '')}; expected export, verify, purge-anonymous, accept-rollback or accept-day`);
  const { values } = parseOptions(rest, { format: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } });
  if (values.format !== 'jsonl' && values.format !== 'csv') throw new UsageError('--format must be jsonl or csv');
  const from = parseIsoOption(values.from, '--from');
  const to = parseIsoOption(values.to, '--to');
  const checkpointFile = loadAuditCheckpointFile(io.env);
  const keys = loadAuditKeys(io.env);
  const store = await openAuditStore(io, keys);
  // The first marked exchanges (named on stderr) and how many in all: bounded memory whatever the export's size.
  const marked = { shown: [] as string[], count: 0 };
  const exported = (row: AuditExchangeRow) => {
    const record = exportRecord(row);
    if (record.integrityProblem !== null && ++marked.count <= MARKED_SHOWN) marked.shown.push(`  - exchange id ${row.id}: ${visibleText(record.integrityProblem)}`);
    return record;
  };
  let lacking: AuditChainBreak[] = [];
  try {
    if (values.format === 'jsonl') {
      for await (const row of auditRows(store.audit, from, to)) await write(stdout, `${JSON.stringify(exported(row))}\n`);
    } else {
      // Formula-safe cells: Origin, path and client_id come from anonymous callers.
      const csv = formulaSafeCsv({ header: true, columns: CSV_COLUMNS, bom: true });
      csv.pipe(stdout, { end: false });
      for await (const row of auditRows(store.audit, from, to)) {
        const record = exported(row);
        const line = { ...record, bankCallCount: row.bankCalls.length, bankCalls: JSON.stringify(record.bankCalls) };
        if (!csv.write(line)) await once(csv, 'drain');
      }
      csv.end();
      await once(csv, 'end');
    }
    // Newest records deleted with their links and the head moved back leave a shorter chain that
    // holds: only the checkpoints outside the database say how far each chain reached.
    ({ breaks: lacking } = await storeAgainstCheckpoints(store.audit, readCheckpoints(checkpointFile, keys, store.db.description), checkpointFile));
  } finally {
    await store.close();
  }
  if (marked.count === 0 && lacking.length === 0) return 0;
  // Every record is exported (the counts stay whole); the ones that do not hold are named, and the exit says so.
  if (marked.count > 0) {
    const more = marked.count > MARKED_SHOWN ? [`  … and ${marked.count - MARKED_SHOWN} more (see the integrityProblem column)`] : [];
    io.err([`audit export: ${marked.count} exported exchange(s) do not hold to their chain links or their place in their chains (changed, inserted or deleted in the database; see gerbang audit verify), marked in integrityProblem:`, ...marked.shown, ...more].join('\n'));
  }
  if (lacking.length > 0) {
    io.err([`audit export: the database lacks records the audit checkpoints in ${checkpointFile} vouched for (deleted there; not in this export; see gerbang audit verify):`, ...lacking.map(breakLine)].join('\n'));
  }
  return 1;
}

/**
 * `gerbang audit accept-rollback --expect DIGEST --reason TEXT`: accepts the database as it now is
 * where it is behind its audit checkpoints or a chain has records deleted or altered inside it, or
 * a payment row was deleted or altered (naming each one accepted), so the gateways serve again:
 * exactly what `audit verify` named by DIGEST. Exit 0 when accepted or there is nothing to accept;
 * 1 without --expect (nothing accepted: what there is to accept is named, with its digest, and the
 * operator reads it in audit verify first, a lost payment's resend being paid again), when what it
 * would accept is not what DIGEST named, or when one of its two walks found something the other
 * did not (nothing accepted: run verify and it again).
 */
async function acceptRollbackCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { reason: { type: 'string' }, expect: { type: 'string' } });
  const reason = values.reason?.trim() ?? '';
  if (reason === '') throw new UsageError('--reason is required: say why the database is accepted as it is (it is kept in the checkpoint file)');
  const checkpointFile = loadAuditCheckpointFile(io.env);
  const keys = loadAuditKeys(io.env);
  const store = await openAuditStore(io, keys);
  try {
    const { accepted, unconfirmed, differs, lostPayments, refused } = await acceptRollback(store, keys, checkpointFile, reason, Date.now, values.expect === undefined ? {} : { expect: values.expect.trim() });
    if (refused !== undefined) {
      const lost = lostPayments.length === 0 ? [] : [`Among them ${lostPayments.length} lost payment(s) (a payments row deleted without its release, or altered):`, ...lostLines(lostPayments), RESEND_WARNING];
      io.err(
        [
          `NOT accepted, nothing written: accept-rollback accepts only what an operator looked at, named by the digest gerbang audit verify prints (--expect). What there is to accept now (digest ${refused.digest}):`,
          ...refused.wouldAccept.map(breakLine),
          ...lost,
          'Run gerbang audit verify first and read everything it names (a gap in a chain can hide a payment deleted whole; for each lost payment, check the bank statement); then accept exactly what it named with gerbang audit accept-rollback --expect DIGEST (the digest verify prints) --reason "…".',
        ].join('\n'),
      );
      return 1;
    }
    if (differs !== undefined) {
      io.err(
        [
          `NOT accepted: what there is to accept now (digest ${differs}) is not what audit verify named (--expect ${values.expect}): something changed since, or one of the two walks 2 s apart found what the other did not (a database node behind its cluster, or a change made meanwhile). Run gerbang audit verify again and look.`,
          ...unconfirmed.map((b) => `  - FOUND BY ONE WALK ONLY, ${b.problem.toUpperCase()}: ${visibleText(b.detail)}`),
        ].join('\n'),
      );
      return 1;
    }
    if (accepted.length === 0 && unconfirmed.length === 0) {
      io.out(`Nothing to accept: the database holds everything the checkpoints in ${checkpointFile} vouched for, and every audit chain holds.`);
      return 0;
    }
    if (accepted.length > 0) {
      io.out(`Accepted the database as it is (${reason}), where it lacked what the checkpoints vouched for or a chain was broken inside:`);
      for (const b of accepted) io.out(breakLine(b));
      if (lostPayments.length > 0) io.out([`Among them ${lostPayments.length} lost payment(s):`, ...lostLines(lostPayments), RESEND_WARNING].join('\n'));
      io.out(`The gateways serve again at their next comparison (every GERBANG_AUDIT_ROLLBACK_CHECK_MS, 2 s by default) and their scrub's next pass (GERBANG_AUDIT_SCRUB_MS). The acceptance is a signed line of ${checkpointFile}.`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * `gerbang audit accept-day --account ACCOUNT --day YYYY-MM-DD --expect DIGEST --reason TEXT`:
 * accepts a day the reconciliation names in red (DELETED OUTSIDE GERBANG, SEAL CHANGED OUTSIDE
 * GERBANG) as it now is, exactly what a run without --expect named by DIGEST
 * (acceptReconciliationDay). Exit 0 when accepted or when the day names nothing (nothing
 * written); 1 without --expect (what there is to accept named, with the ids it would seal and its
 * digest), when DIGEST is not the digest of what is found now, when the day cannot be sealed (a
 * payment of it that does not hold, a sealed one moved out of it in SQL) or is not closed yet, or
 * when the record could not be written: nothing written then. A bad option is a UsageError with
 * this action's usage (ACCEPT_DAY_USAGE).
 */
async function acceptDayCommand(args: string[], io: CliIo): Promise<number> {
  const usage = (message: string) => new UsageError(message, ACCEPT_DAY_USAGE);
  let values;
  try {
    ({ values } = parseOptions(args, { account: { type: 'string' }, day: { type: 'string' }, reason: { type: 'string' }, expect: { type: 'string' } }));
  } catch (error) {
    throw usage((error as Error).message);
  }
  const account = (values.account ?? '').replace(/[\s.-]/g, '');
  if (!/^[0-9]{6,20}$/.test(account)) throw usage(`--account must be a company account number (6 to 20 digits), got ${JSON.stringify(values.account ?? '')}`);
  const day = values.day ?? '';
  if (!isDay(day)) throw usage(`--day must be a day as yyyy-MM-dd (2026-11-12), got ${JSON.stringify(day)}`);
  const reason = values.reason?.trim() ?? '';
  const problem = reasonProblem(reason);
  if (problem !== null) throw usage(`--reason ${problem}`);
  const expect = values.expect?.trim();
  if (expect !== undefined && !isDigest(expect)) throw usage(`--expect must be the digest accept-day printed (16 hex digits, as 9c41d7e02ab35f60), got ${JSON.stringify(expect)}`);
  const keys = loadAuditKeys(io.env);
  const store = await openAuditStore(io, keys);
  try {
    const result = await acceptReconciliationDay(store, { account, day, reason, ...(expect === undefined ? {} : { expect }), actor: CLI_ACTOR, remoteIp: 'local' });
    const what = `day ${day} of account ${result.masked}`;
    const alerts = result.found.map((m) => `  - ${describeAlert(m)}`);
    const sealing = result.sealing.map((s) => `  - ${s.paymentIds.length} payment(s)${s.paymentIds.length === 0 ? '' : `: id ${s.paymentIds.join(', ')}`}`);
    if (result.recordedNotSealed) {
      io.err(`NOT sealed: the acceptance of ${what} is in the console audit (digest ${result.digest}), but the day was not sealed (the page still names it): ${visibleText(result.failure ?? '')}. Run the command again.`);
      return 1;
    }
    if (result.refused === 'not-recorded') {
      io.err(`NOT accepted, nothing written: the acceptance of ${what} could not be written to the console audit: ${visibleText(result.failure ?? '')}`);
      return 1;
    }
    if (result.refused === 'not-closed') {
      io.err(`NOT accepted, nothing written: ${what} is not closed yet: accept it after ${jakartaTimestamp(result.closesAt!, false).replace('T', ' ').replace(/:\d{2}\+07:00$/, '')} WIB, when it is sealed.`);
      return 1;
    }
    if (result.found.length === 0) {
      io.out(`Nothing to accept: the reconciliation names nothing on ${what} (no payment deleted, no seal changed outside Gerbang). Nothing written.${result.checked ? '' : ' The day is not checked for deleted payments either (no day seal holds it: not sealed yet, or without payments).'}`);
      return 0;
    }
    if (result.refused === 'unsealable' || result.refused === 'too-long') {
      io.err([`NOT accepted, nothing written: ${what} cannot be ${result.refused === 'too-long' ? 'accepted' : 'sealed anew'}: ${result.unsealable}. What it names:`, ...alerts].join('\n'));
      return 1;
    }
    const sealed = ['Accepting seals the day anew with these payments of it (each tag of the account):', ...sealing];
    if (result.refused === 'differs') {
      io.err(
        [
          `NOT accepted, nothing written: --expect ${expect} is not the digest that was printed for what ${what} names now (digest ${result.digest}): the day changed since it was looked at, or the digest was mistyped. What it names now:`,
          ...alerts,
          ...sealed,
          'Look at it again, then accept it by its digest.',
        ].join('\n'),
      );
      return 1;
    }
    if (result.refused === 'no-digest') {
      io.err(
        [
          `NOT accepted, nothing written: accept-day accepts only what an operator looked at, named by its digest (--expect). What ${what} names now (digest ${result.digest}):`,
          ...alerts,
          ...sealed,
          'Accepting seals the day anew with the payments it holds now: the payments named are no longer named, the alert is no longer shown, and a payment of the day deleted later is named again. Check each deleted payment on the bank statement and restore what can be restored first (gerbang audit verify names what is gone);',
          `then accept exactly this with gerbang audit accept-day --account ACCOUNT --day ${day} --expect ${result.digest} --reason "…".`,
        ].join('\n'),
      );
      return 1;
    }
    io.out(
      [
        `Accepted ${what} as it is (${reason}); the day is sealed anew with the payments it holds now, and the reconciliation no longer names:`,
        ...alerts,
        `The acceptance is in the console audit (access log, action ${DAY_ACCEPTED_ACTION}) with its digest ${result.digest}.`,
      ].join('\n'),
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** A real day written yyyy-MM-dd (not 2024-02-30). */
function isDay(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) === text;
}

/**
 * A break on its line. Its detail names values read from the database (a chain's writer, a
 * payment's client and transactionId): through visibleText, one written in SQL cannot forge a line.
 */
function breakLine(b: Pick<AuditChainBreak, 'problem' | 'detail'>): string {
  return `  - ${b.problem.toUpperCase()}: ${visibleText(b.detail)}`;
}

/** Each lost payment on its line (describeLostPayment). */
function lostLines(lost: LostPaymentFacts[]): string[] {
  return lost.map((p) => `  - LOST PAYMENT ${describeLostPayment(p)}`);
}

/** Marked exchanges named on stderr (all of them are in the export, with their integrityProblem). */
const MARKED_SHOWN = 20;

/**
 * `gerbang audit verify`: exit 0 when every chain is intact but for breaks an operator accepted
 * exactly (named as accepted), 1 naming every break of every chain that is not, and naming those
 * accepted by a line that did not say what it saw (not provably the break that was accepted).
 * Then the reconciliation days operators accepted (accept-day), which are not breaks: the exit is
 * the same with or without them.
 */
async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { format: { type: 'string', default: 'text' } });
  if (values.format !== 'text' && values.format !== 'json') throw new UsageError('--format must be text or json');
  const checkpointFile = loadAuditCheckpointFile(io.env);
  const keys = loadAuditKeys(io.env);
  const store = await openAuditStore(io, keys);
  try {
    const report = await verifyAudit(store, keys, checkpointFile);
    // Not breaks, and no part of verify's verdict: what operators accepted, as the chain proves it.
    const acceptedDays = await everyAcceptedDay(store.consoleAudit);
    if (values.format === 'json') io.out(JSON.stringify({ ...report, acceptedDays }));
    else io.out([describeReport(report), ...describeAcceptedDays(acceptedDays)].join('\n'));
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

function describeReport(report: CheckedAuditReport): string {
  const summary = `${report.chains} chains, ${report.links} links, ${report.exchanges} exchanges, ${report.bankCalls} bank calls, ${report.checkpoints} checkpoints in ${report.checkpointFile}`;
  const { latest } = report.purged;
  const purged = latest
    ? [
        `  purged: ${report.purged.records} anonymous exchanges in ${report.purged.purges} purge records; the latest, on ${iso(latest.purgedAt)} by ${visibleText(latest.purgedBy)}, ` +
          `purged ${latest.records} received before ${iso(latest.receivedBefore)} (retention ${latest.retentionDays} days)`,
      ]
    : [];
  const accepted = report.accepted.length === 0 ? [] : [`  ${report.accepted.length} break(s) an operator accepted (gerbang audit accept-rollback; the reason is in its line of the checkpoint file), not counted:`, ...report.accepted.map(describeAccepted)];
  const unproven = report.accepted.filter((b) => b.unproven).length;
  const lost = report.lostPayments ?? [];
  const advice = [
    ...(lost.length === 0
      ? []
      : [`  ${lost.length} lost payment(s) among what accept-rollback would accept (a payments row deleted without its release, or altered):`, ...lostLines(lost).map((l) => `  ${l}`), `  ${RESEND_WARNING}`]),
    ...(unproven === 0
      ? []
      : [`  ${unproven} of them accepted by a line that does not say what it saw (written before acceptances did): not provably the same break, it may have been made since. Look at them, then run gerbang audit accept-rollback again: it accepts them exactly.`]),
    ...(report.acceptDigest
      ? [`  What accept-rollback would accept now has digest ${report.acceptDigest}: once looked at, accept exactly that with gerbang audit accept-rollback --expect ${report.acceptDigest} --reason "…" (nothing is accepted if it differs).`]
      : []),
  ];
  if (report.breaks.length === 0 && unproven === 0) return [`audit verify: INTACT (${summary})${report.accepted.length === 0 ? '' : ' but for accepted breaks'}`, ...accepted, ...purged].join('\n');
  if (report.breaks.length === 0) return [`audit verify: NOT PROVEN (${summary}): intact but for accepted breaks, some not provably those accepted`, ...accepted, ...advice, ...purged].join('\n');
  const lines = report.breaks.map(breakLine);
  return [`audit verify: BROKEN (${summary}); every break not accepted:`, ...lines, ...accepted, ...advice, ...purged].join('\n');
}

/**
 * The reconciliation days operators accepted (gerbang audit accept-day), each on its line: who,
 * when (WIB), the masked account and the day, the ids named deleted or the seal named changed,
 * the reason. Only acceptances whose entries hold under their chain links (everyAcceptedDay).
 */
function describeAcceptedDays(days: DayAcceptanceNote[]): string[] {
  if (days.length === 0) return [];
  const bound = days.length >= ACCEPTED_DAYS_LISTED ? ` (the newest ${ACCEPTED_DAYS_LISTED}; the access log, action ${DAY_ACCEPTED_ACTION}, has the rest)` : '';
  return [
    `  ${days.length} reconciliation day(s) an operator accepted (gerbang audit accept-day), not breaks${bound}:`,
    ...days.map((d) => {
      const named = [...(d.deletedIds.length === 0 ? [] : [`deleted: id ${d.deletedIds.join(', ')}`]), ...(d.sealChanged ? ['seal changed outside Gerbang'] : [])];
      const cut = d.cut ? ' (record cut to the column\'s size: ids or reason may be incomplete)' : '';
      return `  - ACCEPTED DAY ${d.day} of account ${visibleText(d.account)} by ${visibleText(d.username)} on ${jakartaTimestamp(d.at, false)} (entry ${d.entryId}): ${named.join('; ') || 'nothing named'}; reason: ${visibleText(d.reason)}${cut}`;
    }),
  ];
}

function describeAccepted(b: AcceptedChainBreak): string {
  const how = b.how === 'exactly' ? 'this break' : b.how === 'as-gone' ? 'the chain as gone' : `the chain as it stood through link ${b.through}`;
  const proof = b.unproven ? '; not provably the same break: that line does not say what it saw' : '';
  return `  - ACCEPTED ${b.problem.toUpperCase()}: ${visibleText(b.detail)} (an operator accepted ${how} on ${iso(b.acceptedAt)}${proof})`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * `gerbang audit purge-anonymous`: exit 0 when done (or counted, with --dry-run), 2 when asked
 * to reach into the retention period (nothing is deleted then).
 */
async function purgeCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { before: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } });
  const before = parseIsoOption(values.before, '--before');
  const retentionDays = loadAuditAnonymousRetentionDays(io.env);
  const checkpointFile = loadAuditCheckpointFile(io.env);
  const keys = loadAuditKeys(io.env);
  const store = await openAuditStore(io, keys);
  try {
    const report = await purgeAnonymousExchanges(store, keys, { retentionDays, before, dryRun: values['dry-run'] === true, checkpointFile }).catch((error: unknown) => {
      throw error instanceof RetentionError ? new UsageError(error.message) : error;
    });
    if (values.json) {
      io.out(JSON.stringify({ ...report, receivedBefore: iso(report.receivedBefore), retentionDays }));
      return 0;
    }
    const verb = report.dryRun ? 'would purge' : 'purged';
    const kept = report.kept > 0 ? `; ${report.kept} kept because their record does not verify against its chain link (see gerbang audit verify)` : '';
    io.out(`audit purge-anonymous: ${verb} ${report.records} anonymous exchanges received before ${iso(report.receivedBefore)} (retention ${retentionDays} days)${report.dryRun ? '' : ` in ${report.purges} purge records`}${kept}`);
    return 0;
  } finally {
    await store.close();
  }
}
