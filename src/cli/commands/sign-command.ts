import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { relativeUrl, sign } from '../../banks/bca-legacy/index.js';
import { relativeUrl as snapRelativeUrl, signService, signToken } from '../../banks/snap/index.js';
import { parseOptions, required, UsageError, type CliIo } from '../cli-io.js';

export const SIGN_USAGE = `gerbang sign bca-legacy --method M --path P --token T --secret S --timestamp TS [--body-file F]
gerbang sign snap --method M --path P --token T --secret S --timestamp TS [--body-file F]
gerbang sign snap-token --client-id C --timestamp TS --private-key-file F
  Prints {"stringToSign","signature"} computed by the very signer the bank's adapter uses.`;

const SERVICE_OPTIONS = {
  method: { type: 'string' },
  path: { type: 'string' },
  token: { type: 'string' },
  secret: { type: 'string' },
  timestamp: { type: 'string' },
  'body-file': { type: 'string' },
} as const;

/** `gerbang sign <protocol> …`: integrators debug a rejected signature with it. */
export function signCommand(args: string[], io: CliIo): number {
  const [protocol, ...rest] = args;
  const result = protocol === 'bca-legacy' ? signBcaLegacy(rest) : protocol === 'snap' ? signSnap(rest) : protocol === 'snap-token' ? signSnapToken(rest) : null;
  if (!result) throw new UsageError(`unknown protocol ${JSON.stringify(protocol ?? '')}; expected bca-legacy, snap or snap-token`);
  io.out(JSON.stringify({ stringToSign: result.stringToSign, signature: result.signature }));
  return 0;
}

function readBody(file: string | undefined): string {
  return file === undefined ? '' : readFileSync(file, 'utf8');
}

/** The flags of a service-call signature, each required but the body file. */
function serviceFlags(args: string[]) {
  const { values } = parseOptions(args, SERVICE_OPTIONS);
  return {
    method: required(values.method, '--method'),
    path: required(values.path, '--path'),
    accessToken: required(values.token, '--token'),
    secret: required(values.secret, '--secret'),
    timestamp: required(values.timestamp, '--timestamp'),
    body: readBody(values['body-file']),
  };
}

function signBcaLegacy(args: string[]): { stringToSign: string; signature: string } {
  const { path, secret, ...rest } = serviceFlags(args);
  // Canonical as the adapter sends it: query sorted by name, commas as %2C.
  return sign({ ...rest, relativeUrl: relativeUrl(path), apiSecret: secret });
}

/** A SNAP service call; the body file is minified (spaces inside values kept) before hashing, as the bank does. */
function signSnap(args: string[]): { stringToSign: string; signature: string } {
  const { path, ...rest } = serviceFlags(args);
  // Canonical as the adapter sends it: RFC 3986 encoded, query sorted by name then value.
  return signService({ ...rest, relativeUrl: snapRelativeUrl(path) });
}

function signSnapToken(args: string[]): { stringToSign: string; signature: string } {
  const { values } = parseOptions(args, { 'client-id': { type: 'string' }, timestamp: { type: 'string' }, 'private-key-file': { type: 'string' } });
  const clientId = required(values['client-id'], '--client-id');
  const timestamp = required(values.timestamp, '--timestamp');
  const file = required(values['private-key-file'], '--private-key-file');
  let privateKey;
  try {
    privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--private-key-file ${file} is not a readable PEM private key (${(error as Error).message})`);
  }
  return signToken({ clientId, timestamp, privateKey });
}
