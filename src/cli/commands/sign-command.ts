import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { relativeUrl, sign } from '../../banks/bca-legacy/index.js';
import { relativeUrl as snapRelativeUrl, signService, signToken } from '../../banks/snap/index.js';
import { parseTimestamp, requestSignature } from '../../pipeline/request-signature/index.js';
import { parseOptions, required, UsageError, type CliIo } from '../cli-io.js';


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
  const signers: Record<string, (args: string[]) => { stringToSign: string; signature: string }> = {
    'bca-legacy': signBcaLegacy,
    snap: signSnap,
    'snap-token': signSnapToken,
    request: signGerbangRequest,
  };
  const signer = Object.hasOwn(signers, protocol ?? '') ? signers[protocol] : undefined;
  if (!signer) throw new UsageError(`unknown protocol ${JSON.stringify(protocol ?? '')}; expected bca-legacy, snap, snap-token or request`);
  const result = signer(rest);
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

/** A request to Gerbang itself, as the request-signature step verifies it: the body file's bytes as they are. */
function signGerbangRequest(args: string[]): { stringToSign: string; signature: string } {
  const { values } = parseOptions(args, { method: { type: 'string' }, path: { type: 'string' }, key: { type: 'string' }, timestamp: { type: 'string' }, 'body-file': { type: 'string' } });
  const pathWithQuery = required(values.path, '--path');
  const timestamp = required(values.timestamp, '--timestamp');
  if (!pathWithQuery.startsWith('/')) throw new UsageError('--path must be the path with its query as on the request line, e.g. /v1/transfers');
  if (parseTimestamp(timestamp) === null) throw new UsageError('--timestamp must be ISO-8601 with seconds and an offset, e.g. 2026-11-26T09:15:00.123+07:00');
  const file = values['body-file'];
  return requestSignature(required(values.key, '--key'), {
    method: required(values.method, '--method'),
    pathWithQuery,
    timestamp,
    body: file === undefined ? Buffer.alloc(0) : readFileSync(file),
  });
}
