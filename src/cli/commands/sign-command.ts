import { readFileSync } from 'node:fs';
import { relativeUrl, sign } from '../../banks/bca-legacy/index.js';
import { parseOptions, required, UsageError, type CliIo } from '../cli-io.js';

export const SIGN_USAGE = `gerbang sign bca-legacy --method M --path P --token T --secret S --timestamp TS [--body-file F]
  Prints {"stringToSign","signature"} computed by the very signer the BCA adapter uses.`;

/** `gerbang sign <protocol> …`: integrators debug a rejected signature with it. */
export function signCommand(args: string[], io: CliIo): number {
  const [protocol, ...rest] = args;
  if (protocol !== 'bca-legacy') throw new UsageError(`unknown protocol ${JSON.stringify(protocol ?? '')}; expected bca-legacy`);
  const { values } = parseOptions(rest, {
    method: { type: 'string' },
    path: { type: 'string' },
    token: { type: 'string' },
    secret: { type: 'string' },
    timestamp: { type: 'string' },
    'body-file': { type: 'string' },
  });
  const body = values['body-file'] === undefined ? '' : readFileSync(values['body-file'], 'utf8');
  const result = sign({
    method: required(values.method, '--method'),
    // Canonical as the adapter sends it: query sorted by name, commas as %2C.
    relativeUrl: relativeUrl(required(values.path, '--path')),
    accessToken: required(values.token, '--token'),
    apiSecret: required(values.secret, '--secret'),
    timestamp: required(values.timestamp, '--timestamp'),
    body,
  });
  io.out(JSON.stringify({ stringToSign: result.stringToSign, signature: result.signature }));
  return 0;
}
