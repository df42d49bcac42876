import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: printed with the usage line (`usage`: one action's, else the command's), exit status 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Who did it, in the console audit, when a change comes from the command line on the host. */
export const CLI_ACTOR = '(cli)';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  env: process.env,
};

/** node:util parseArgs, strict, with its errors turned into UsageError. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

/** ISO-8601 only: a date (`2026-12-04`, midnight UTC) or a timestamp with its zone (`2026-12-04T08:00:00+07:00`, `…Z`). */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * An ISO-8601 date or zoned timestamp → epoch ms. Anything else is refused naming the flag:
 * `04/12/2026` is 4 December to an Indonesian reader and 12 April to Date.parse, so a
 * guess would export the wrong days; an impossible day (`2026-02-30`) is refused too.
 */
export function parseIsoOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const match = ISO_DATE.exec(value);
  const ms = match ? Date.parse(value) : Number.NaN;
  const day = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  const realDay = day !== null && day.getUTCMonth() === Number(match![2]) - 1 && day.getUTCDate() === Number(match![3]);
  if (Number.isNaN(ms) || !realDay) {
    throw new UsageError(`${flag} must be an ISO-8601 date (2026-12-04) or timestamp with its zone (2026-12-04T08:00:00+07:00), got ${JSON.stringify(value)}`);
  }
  return ms;
}
