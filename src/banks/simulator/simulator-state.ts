import { randomBytes } from 'node:crypto';

/** A corporate customer of the simulated bank, with the credentials BCA would issue it. */
export interface SimPartner {
  clientId: string;
  clientSecret: string;
  apiKey: string;
  apiSecret: string;
  corporateId: string;
  /** Registered domains; when given, the Origin header must be one of them. */
  origins?: string[];
}

export interface SimAccount {
  number: string;
  name: string;
  /** Decimal string, e.g. `1000000000.00`. */
  balance: string;
  status?: 'active' | 'dormant' | 'closed';
}

/** BCA's documentation sample accounts, so the documentation's examples work against the simulator. */
export const DEFAULT_ACCOUNTS: SimAccount[] = [
  { number: '0201245680', name: 'PT GERBANG SANDBOX', balance: '1000000000.00' },
  { number: '0201245681', name: 'CV VENDOR SANDBOX', balance: '5000000.00' },
  { number: '0201245682', name: 'PT DORMANT', balance: '1000.00', status: 'dormant' },
  { number: '0201245683', name: 'PT CLOSED', balance: '0.00', status: 'closed' },
];

/** Random credentials for a sandbox run: generated, never committed, never reused. */
export function defaultSandboxPartner(): SimPartner {
  const hex = (n: number) => randomBytes(n).toString('hex');
  return {
    clientId: hex(16),
    clientSecret: hex(16),
    apiKey: hex(16),
    apiSecret: hex(16),
    corporateId: 'BCAAPI2016',
    origins: ['https://gerbang.sandbox'],
  };
}

/** Decimal string with two fraction digits ↔ integer cents, without floating point. */
export function toCents(amount: string): bigint {
  const [whole, fraction = ''] = amount.split('.');
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
}

export function fromCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}
