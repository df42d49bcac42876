import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { loadStoreConfig } from '../../config/index.js';
import { openAuditStore } from './audit-command.js';
// Not the console's index: that loads the whole console (express, undici, exceljs, the views), and
// a user command needs only these two use cases.
import { createConsoleUser, resetConsolePassword } from '../../console/console-users.js';
import { unlockConsoleUser } from '../../console/sign-in-use-case.js';
import { CLI_ACTOR, parseOptions, required, UsageError, type CliIo } from '../cli-io.js';


async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text.replace(/\r?\n$/, '');
}

/** Asks twice on the terminal without echoing what is typed. */
async function prompt(io: CliIo): Promise<string> {
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const ask = (question: string) =>
    new Promise<string>((resolve) => {
      io.err(question);
      const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
      rl.question('', (answer) => {
        rl.close();
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  const second = await ask('Repeat password: ');
  if (first !== second) throw new UsageError('the two passwords differ');
  return first;
}

export async function userCommand(args: string[], io: CliIo, stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'create' && action !== 'list' && action !== 'unlock' && action !== 'reset-password') {
    throw new UsageError(`unknown action ${JSON.stringify(action ?? '')}; expected create, list, unlock or reset-password`);
  }
  const { values } = parseOptions(rest, { username: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } });
  // The database setting is checked before any password is asked for.
  loadStoreConfig(io.env);
  const readPassword = async (): Promise<string> => {
    if (values['password-stdin']) return readAll(stdin);
    if (stdin.isTTY) return prompt(io);
    throw new UsageError('no terminal to ask the password on: pipe it in with --password-stdin');
  };
  if (action === 'unlock' || action === 'reset-password') {
    const username = required(values.username, '--username');
    const password = action === 'reset-password' ? await readPassword() : null;
    // The action is a console audit entry, appended to the keyed audit chains: the audit keys are needed.
    const store = await openAuditStore(io);
    try {
      if (!(await store.consoleUsers.findByUsername(username))) {
        io.err(`gerbang: no console user ${JSON.stringify(username)} (gerbang user list shows them)`);
        return 1;
      }
      const now = Date.now();
      if (password === null) {
        const lifted = await unlockConsoleUser(store.lockouts, username);
        await store.consoleAudit.record({ at: now, username: CLI_ACTOR, action: 'admin_user_unlock', target: `user:${username}`, detail: `${lifted} lockout counter(s) removed`, remoteIp: 'local' });
        io.out(`Console user unlocked: ${username}`);
        return 0;
      }
      await resetConsolePassword({ users: store.consoleUsers, sessions: store.consoleSessions, lockouts: store.lockouts }, username, password, now);
      await store.consoleAudit.record({ at: now, username: CLI_ACTOR, action: 'admin_user_reset_password', target: `user:${username}`, detail: null, remoteIp: 'local' });
      io.out(`Password reset for console user ${username}; their sessions ended and the user is unlocked.`);
      return 0;
    } finally {
      await store.close();
    }
  }
  if (action === 'create') {
    const username = required(values.username, '--username');
    const role = required(values.role, '--role');
    const password = await readPassword();
    const store = await openAuditStore(io);
    try {
      const user = await createConsoleUser(store.consoleUsers, { username, password, role }, Date.now());
      io.out(`Console user created: ${user.username} (${user.role})`);
      return 0;
    } finally {
      await store.close();
    }
  }
  // Read with the keys: each user is checked against its MAC and change records, as on the console's users page.
  const store = await openAuditStore(io);
  try {
    const users = await store.consoleUsers.list();
    for (const u of users) io.out(`${u.username.padEnd(24)} ${u.role.padEnd(8)} ${u.status}`);
    if (users.length === 0) io.out('No console users yet: gerbang user create --username NAME --role viewer|auditor|admin');
    const forged = users.filter((u) => u.integrityProblem !== undefined);
    for (const u of forged) io.err(`console user ${u.username} was changed outside Gerbang (its integrity check failed): ${u.integrityProblem}. Its role and status cannot be trusted; restore its row, then run gerbang audit verify.`);
    return forged.length === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}
