import { ConfigError, configurationMarkdown } from '../config/index.js';
import { AppError } from '../errors/index.js';
import { KeyRingError } from '../security/index.js';
import { AUDIT_USAGE, auditCommand } from './commands/audit-command.js';
import { BANK_USAGE, bankCommand } from './commands/bank-command.js';
import { CLIENT_USAGE, clientCommand } from './commands/client-command.js';
import { consoleCommand } from './commands/console-command.js';
import { DOCTOR_USAGE, doctorCommand } from './commands/doctor-command.js';
import { KEYS_USAGE, keysCommand } from './commands/keys-command.js';
import { migrateCommand } from './commands/migrate-command.js';
import { OPENAPI_USAGE, openapiCommand } from './commands/openapi-command.js';
import { sandboxCommand, serveCommand } from './commands/serve-command.js';
import { SIGN_USAGE, signCommand } from './commands/sign-command.js';
import { SIMULATOR_USAGE, simulatorCommand } from './commands/simulator-command.js';
import { TRANSFER_USAGE, transferCommand } from './commands/transfer-command.js';
import { USER_USAGE, userCommand } from './commands/user-command.js';
import { processIo, UsageError, type CliIo } from './cli-io.js';

type Command = (args: string[], io: CliIo) => number | Promise<number>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  serve: { run: serveCommand, usage: 'gerbang serve\n  Runs the API (configuration from the environment; see docs/configuration.md).' },
  sandbox: { run: sandboxCommand, usage: 'gerbang sandbox\n  Runs the API against the built-in bank simulator with a demo client.' },
  console: { run: consoleCommand, usage: 'gerbang console\n  Runs the finance console on CONSOLE_PORT (its own process; the API port never serves it).' },
  user: { run: (args, io) => userCommand(args, io), usage: USER_USAGE },
  migrate: { run: migrateCommand, usage: 'gerbang migrate\n  Applies pending migrations to GERBANG_DATABASE_URL.' },
  client: { run: clientCommand, usage: CLIENT_USAGE },
  doctor: { run: doctorCommand, usage: DOCTOR_USAGE },
  audit: { run: (args, io) => auditCommand(args, io), usage: AUDIT_USAGE },
  keys: { run: keysCommand, usage: KEYS_USAGE },
  sign: { run: signCommand, usage: SIGN_USAGE },
  bank: { run: bankCommand, usage: BANK_USAGE },
  transfer: { run: transferCommand, usage: TRANSFER_USAGE },
  openapi: { run: openapiCommand, usage: OPENAPI_USAGE },
  simulator: { run: simulatorCommand, usage: SIMULATOR_USAGE },
  config: {
    run: (args, io) => {
      if (args[0] !== 'doc') throw new UsageError('expected: gerbang config doc');
      io.out(configurationMarkdown());
      return 0;
    },
    usage: 'gerbang config doc\n  Prints the configuration reference (docs/configuration.md).',
  },
};

function usage(): string {
  return `Usage:\n${Object.values(COMMANDS).map((c) => c.usage).join('\n')}`;
}

/**
 * Entry point of `bin/gerbang`. Exit status: 0 done, 1 failed (the message says why), 2 called
 * wrongly or misconfigured (the message names the flag or variable).
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`gerbang: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`gerbang ${name}: ${error.message}\n${command.usage}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.err(`gerbang ${name}: ${error.message}`);
      return 2;
    }
    if (error instanceof KeyRingError) {
      io.err(`gerbang ${name}: ${error.message}`);
      return 2;
    }
    if (error instanceof AppError) {
      io.err(`gerbang ${name}: ${error.message}`);
      return 1;
    }
    io.err(`gerbang ${name}: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}
