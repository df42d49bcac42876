import { ConfigError, configurationMarkdown } from '../config/index.js';
import { configureLogger } from '../log/index.js';
import { AppError, IntegrityError } from '../errors/index.js';
import { KeyRingError } from '../security/index.js';
import { processIo, UsageError, type CliIo } from './cli-io.js';
import * as usages from './usage.js';

type Command = (args: string[], io: CliIo) => number | Promise<number>;

/** The commands that run until stopped: their logs are the service's, on stdout (PM2, journald). */
const SERVICES = new Set(['serve', 'sandbox', 'console', 'simulator']);
/** The commands that read the audit or check the installation: after `npm start` they use the sandbox's settings. */
const SANDBOX_AWARE = new Set(['audit', 'doctor']);

/**
 * Each command's modules are loaded when it runs, not before: `gerbang client create` then loads
 * the store and not the HTTP server, the console or the bank clients (a CLI call from cron, or
 * from a test, starts in a fraction of the time), and `--help` loads no command at all.
 */
const COMMANDS: Record<string, { load: () => Promise<Command>; usage: string }> = {
  serve: { load: async () => (await import('./commands/serve-command.js')).serveCommand, usage: usages.SERVE_USAGE },
  sandbox: { load: async () => (await import('./commands/serve-command.js')).sandboxCommand, usage: usages.SANDBOX_USAGE },
  console: { load: async () => (await import('./commands/console-command.js')).consoleCommand, usage: usages.CONSOLE_USAGE },
  user: { load: async () => (await import('./commands/user-command.js')).userCommand, usage: usages.USER_USAGE },
  migrate: {
    load: async () => {
      const { migrateCommand } = await import('./commands/migrate-command.js');
      return (args, io) => {
        if (args.length > 0) throw new UsageError(`unexpected ${JSON.stringify(args[0])}`);
        return migrateCommand(args, io);
      };
    },
    usage: usages.MIGRATE_USAGE,
  },
  client: { load: async () => (await import('./commands/client-command.js')).clientCommand, usage: usages.CLIENT_USAGE },
  doctor: { load: async () => (await import('./commands/doctor-command.js')).doctorCommand, usage: usages.DOCTOR_USAGE },
  audit: { load: async () => (await import('./commands/audit-command.js')).auditCommand, usage: usages.AUDIT_USAGE },
  keys: { load: async () => (await import('./commands/keys-command.js')).keysCommand, usage: usages.KEYS_USAGE },
  sign: { load: async () => (await import('./commands/sign-command.js')).signCommand, usage: usages.SIGN_USAGE },
  bank: { load: async () => (await import('./commands/bank-command.js')).bankCommand, usage: usages.BANK_USAGE },
  transfer: { load: async () => (await import('./commands/transfer-command.js')).transferCommand, usage: usages.TRANSFER_USAGE },
  callback: { load: async () => (await import('./commands/callback-command.js')).callbackCommand, usage: usages.CALLBACK_USAGE },
  openapi: { load: async () => (await import('./commands/openapi-command.js')).openapiCommand, usage: usages.OPENAPI_USAGE },
  simulator: { load: async () => (await import('./commands/simulator-command.js')).simulatorCommand, usage: usages.SIMULATOR_USAGE },
  config: {
    load: async () => (args, io) => {
      if (args[0] !== 'doc') throw new UsageError('expected: gerbang config doc');
      io.out(configurationMarkdown());
      return 0;
    },
    usage: usages.CONFIG_USAGE,
  },
};

function usage(): string {
  return `Usage:\n${Object.values(COMMANDS).map((c) => c.usage).join('\n')}\ngerbang --version\n  Prints the version.\ngerbang help [command]\n  Prints this, or one command's usage. \`--help\` or \`-h\` after any command does the same and changes nothing.`;
}

/** `--help` or `-h` anywhere before a `--`: the caller wants the usage, and nothing must run. */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/**
 * Entry point of `bin/gerbang`. Exit status: 0 done, 1 failed or refused to start (the message
 * says why: a service — serve, sandbox, console — with a bad setting names the variable), 2 a
 * one-shot command called wrongly or misconfigured (the message names the flag or variable).
 * `--help`/`-h` prints the usage and runs nothing. Outside the services, logs go to stderr, so
 * stdout carries only the command's output (`--json` stays parseable).
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    const { packageVersion } = await import('../store/index.js');
    io.out(`gerbang ${packageVersion()}`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? COMMANDS[args[0] ?? ''] : undefined;
    io.out(topic ? topic.usage : usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`gerbang: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  if (asksForHelp(args)) {
    io.out(command.usage);
    return 0;
  }
  if (io === processIo && !SERVICES.has(name)) configureLogger(validLevel(io.env.GERBANG_LOG_LEVEL), process.stderr);
  const service = SERVICES.has(name);
  try {
    const run = await command.load();
    return await run(args, SANDBOX_AWARE.has(name) ? (await import('./sandbox-settings.js')).withSandboxSettings(io) : io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`gerbang ${name}: ${error.message}\n${error.usage ?? command.usage}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.err(`gerbang ${name}: ${service ? error.message.replace(/^Invalid configuration:/, 'cannot start:') : error.message}`);
      return service ? 1 : 2;
    }
    if (error instanceof KeyRingError) {
      io.err(`gerbang ${name}: ${error.message}`);
      return service ? 1 : 2;
    }
    if (error instanceof IntegrityError) {
      // Its message is the API's (quote the request id); here the operator is told which record.
      io.err(`gerbang ${name}: a stored record was changed outside Gerbang (its integrity check failed): ${error.where}. The command stopped there; run gerbang audit verify.`);
      return 1;
    }
    if (error instanceof AppError) {
      io.err(`gerbang ${name}: ${error.message}`);
      return 1;
    }
    io.err(`gerbang ${name}: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

/** GERBANG_LOG_LEVEL when it is one (the services' configuration check names a bad one), else info. */
function validLevel(level: string | undefined): string {
  return ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level ?? '') ? level! : 'info';
}
