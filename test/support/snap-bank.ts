import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSnapAdapter, type SnapAdapterOptions } from '../../src/banks/snap/index.js';
import { createBankSimulator, type BankSimulator, type BankSimulatorOptions, type SnapSimPartner } from '../../src/banks/simulator/index.js';
import type { BankAdapter } from '../../src/banks/types.js';
import { createBankHttpClient } from '../../src/egress/index.js';
import { memoryTokens } from './bank-adapters.js';

/** A SNAP partner's credentials, generated for the test: the key pair, secrets and ids. */
export interface SnapCredentials {
  clientId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  clientSecret: string;
  apiSecret: string;
  partnerId: string;
  channelId: string;
  origin: string;
}

export function snapCredentials(): SnapCredentials {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    clientId: randomBytes(12).toString('hex'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    clientSecret: randomBytes(24).toString('hex'),
    apiSecret: randomBytes(24).toString('hex'),
    partnerId: 'KBBABCINDO',
    channelId: '95051',
    origin: 'https://gerbang.test',
  };
}

/** The bank's registration of these credentials. */
export function registered(credentials: SnapCredentials): SnapSimPartner {
  const { clientId, publicKeyPem, clientSecret, apiSecret, partnerId, channelId, origin } = credentials;
  return { clientId, publicKeyPem, clientSecret, apiSecret, partnerId, channelId, origins: [origin] };
}

/** A simulator playing a SNAP bank with these credentials registered; listening on 127.0.0.1. */
export async function startSnapBank(credentials: SnapCredentials, options: Partial<BankSimulatorOptions> = {}): Promise<{ simulator: BankSimulator; url: string }> {
  const simulator = createBankSimulator({ partners: [], allowedSourceAddresses: ['127.0.0.1'], snapPartners: [registered(credentials)], snapSettleAfterMs: 300, ...options });
  return { simulator, url: await simulator.listen() };
}

let externalIds = randomInt(1e9, 2e9);

/** X-EXTERNAL-IDs as the store's sequence would issue them: numeric, never repeated in this process. */
export const nextExternalId = async (): Promise<string> => `9${String((externalIds += 1)).padStart(12, '0')}`;

/** A fresh bankTransactionId (never one nextExternalId gives). */
export const newBankTransactionId = (): string => `1${randomInt(1e9, 1e10 - 1)}`;

/** A SNAP adapter with these credentials against `url` (BCA profile unless overridden). */
export function snapAdapter(url: string, credentials: SnapCredentials, overrides: Partial<SnapAdapterOptions> & { localAddress?: string; headersTimeoutMs?: number } = {}): BankAdapter {
  const { localAddress, headersTimeoutMs, ...rest } = overrides;
  return createSnapAdapter({
    partner: 'bca-snap',
    bic: 'CENAIDJA',
    baseUrl: url,
    clientId: credentials.clientId,
    privateKeyPem: credentials.privateKeyPem,
    clientSecret: credentials.clientSecret,
    partnerId: credentials.partnerId,
    channelId: credentials.channelId,
    origin: credentials.origin,
    tokens: memoryTokens(),
    nextExternalId,
    http: createBankHttpClient({ baseUrl: url, localAddress, connectTimeoutMs: 1_000, headersTimeoutMs: headersTimeoutMs ?? 2_000, bodyTimeoutMs: 2_000 }),
    ...rest,
  });
}

/** The partner's private key as an operator keeps it: a file of its own, mode 0600. */
export function writeKeyFile(credentials: SnapCredentials): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gerbang-snap-key-')), 'private.pem');
  writeFileSync(path, credentials.privateKeyPem, { mode: 0o600 });
  return path;
}

/** These credentials as a SNAP block of a partners file (BCA profile unless `extra` says otherwise). */
export function snapPartnerBlock(name: string, bank: string, priority: number, url: string, credentials: SnapCredentials, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    partner: name,
    bank,
    protocol: 'snap',
    priority,
    baseUrl: url,
    clientId: credentials.clientId,
    privateKeyFile: writeKeyFile(credentials),
    clientSecret: credentials.clientSecret,
    partnerId: credentials.partnerId,
    channelId: credentials.channelId,
    origin: credentials.origin,
    ...extra,
  };
}
