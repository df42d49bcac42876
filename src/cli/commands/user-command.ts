import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { loadStoreConfig } from '../../config/index.js';
import { createConsoleUser } from '../../console/index.js';
import { openStore } from '../../store/index.js';
import { parseOptions, required, UsageError, type CliIo } from '../cli-io.js';

export const USER_USAGE = `gerbang user create --username U --role viewer|auditor|admin [--password-stdin]
gerbang user list
  Finance console users. The password is asked for (not echoed), or read from stdin with
  --password-stdin (for scripts: printf '%s' "$PW" | gerbang user create … --password-stdin).`;

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
  if (action !== 'create' && action !== 'list') throw new UsageError(`unknown action ${JSON.stringify(action ?? '')}`);
  const { values } = parseOptions(rest, { username: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } });
  const { databaseUrl } = loadStoreConfig(io.env);
  if (action === 'create') {
    const username = required(values.username, '--username');
    const role = required(values.role, '--role');
    let password: string;
    if (values['password-stdin']) password = await readAll(stdin);
    else if (stdin.isTTY) password = await prompt(io);
    else throw new UsageError('no terminal to ask the password on: pipe it in with --password-stdin');
    const store = await openStore(databaseUrl);
    try {
      const user = await createConsoleUser(store.consoleUsers, { username, password, role }, Date.now());
      io.out(`Console user created: ${user.username} (${user.role})`);
      return 0;
    } finally {
      await store.close();
    }
  }
  const store = await openStore(databaseUrl);
  try {
    const users = await store.consoleUsers.list();
    for (const u of users) io.out(`${u.username.padEnd(24)} ${u.role.padEnd(8)} ${u.status}`);
    if (users.length === 0) io.out('No console users yet: gerbang user create --username NAME --role viewer|auditor|admin');
    return 0;
  } finally {
    await store.close();
  }
}
