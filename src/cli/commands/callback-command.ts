import { hostname, userInfo } from 'node:os';
import { chainGuardOf, openAuditStore } from './audit-command.js';
import { requeueCallback } from '../../domain/callbacks/index.js';
import { visibleText } from '../../banks/common/bank-text.js';
import { parseOptions, required, UsageError, type CliIo } from '../cli-io.js';

/**
 * `gerbang callback requeue --client ID --transaction-id TX --admin USERNAME --reason TEXT
 * [--send-again]`: the notification of a final transfer whose delivery audit verify names
 * (deleted, or changed in SQL, so the dispatcher refuses it) queued again from the payment's own
 * state (requeueCallback); one the audit says the ERP took already (or cannot tell) only with
 * --send-again. Its audit record keeps the OS user and host that ran it beside --admin (a name
 * typed). Exit 0 when queued, 1 refused (why on stderr; nothing queued), its audit record
 * unwritable included (nothing is queued unrecorded).
 */
export async function callbackCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'requeue') throw new UsageError(`unknown action ${JSON.stringify(action ?? '')}; expected requeue`);
  const { values } = parseOptions(rest, { client: { type: 'string' }, 'transaction-id': { type: 'string' }, admin: { type: 'string' }, reason: { type: 'string' }, 'send-again': { type: 'boolean' }, json: { type: 'boolean' } });
  const input = {
    clientId: required(values.client, '--client'), transactionId: required(values['transaction-id'], '--transaction-id'), admin: required(values.admin, '--admin'), reason: values.reason ?? '',
    sendAgain: values['send-again'] === true,
    // `--admin` is a name typed: who ran it on which host is kept beside it.
    ranBy: ranBy(),
  };
  if (input.reason.trim() === '') throw new UsageError('--reason is required: say why the notification is queued again (it is kept in the audit)');
  const store = await openAuditStore(io);
  try {
    const guard = chainGuardOf(io, store);
    const outcome = await requeueCallback({ payments: store.payments, callbacks: store.callbacks, consoleUsers: store.consoleUsers, audit: store.audit, chains: () => guard.vouchedProblem(), clock: Date.now }, input);
    if (values.json) io.out(JSON.stringify(outcome));
    if (outcome.auditIncomplete) io.err(`WARNING: the CALLBACK-REQUEUE audit record of transactionId ${input.transactionId} was opened, but its outcome could not be written (see the log); it stays without an answer.`);
    if (!outcome.requeued) {
      io.err(`NOT queued again: ${visibleText(outcome.refused)}.`);
      return 1;
    }
    if (!values.json) {
      io.out(`The notification of client ${input.clientId}, transactionId ${input.transactionId} is queued again for ${outcome.url}, from the payment's own state; it is sent at the dispatcher's next run.`);
      io.out(`  What was wrong with its delivery: ${visibleText(outcome.found)}`);
      if (outcome.secondSend !== undefined) io.out(`  A SECOND SEND: ${visibleText(outcome.secondSend)}.`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

/** The operating-system user running the command and its host (`unknown` when the system cannot say). */
function ranBy(): { osUser: string; host: string } {
  let osUser = 'unknown';
  try {
    osUser = userInfo().username;
  } catch {
    // No passwd entry for the uid (a container): unknown.
  }
  return { osUser, host: hostname() };
}
