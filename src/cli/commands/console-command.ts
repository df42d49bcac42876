import { loadConsoleConfig } from '../../config/index.js';
import { startConsole } from '../../console/index.js';
import { configureLogger } from '../../log/index.js';
import type { CliIo } from '../cli-io.js';
import { runUntilSignalled, warnUnknownSettings } from './serve-command.js';

/** `gerbang console`: the finance console, a process of its own (PM2's second app). */
export async function consoleCommand(_args: string[], io: CliIo): Promise<number> {
  warnUnknownSettings(io);
  const config = loadConsoleConfig(io.env);
  configureLogger(config.logLevel);
  const financeConsole = await startConsole(config);
  io.out(`Finance console: ${financeConsole.url}`);
  return runUntilSignalled(financeConsole);
}
