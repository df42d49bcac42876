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
  /** 10 digits, like BCA's. */
  number: string;
  name: string;
  /** Decimal string with two fraction digits, e.g. `1000000000.00`. */
  balance: string;
  status?: 'active' | 'dormant' | 'closed';
}

/**
 * BCA's documentation sample accounts (so the documented examples work against the simulator),
 * plus one dormant and one closed account for the refusal paths.
 */
export const DEFAULT_ACCOUNTS: readonly SimAccount[] = [
  { number: '0201245680', name: 'PT GERBANG SANDBOX', balance: '1000000000.00' },
  { number: '0201245681', name: 'CV VENDOR SANDBOX', balance: '5000000.00' },
  { number: '0201245682', name: 'PT DORMANT SANDBOX', balance: '1000.00', status: 'dormant' },
  { number: '0201245683', name: 'PT CLOSED SANDBOX', balance: '0.00', status: 'closed' },
];

/**
 * Random credentials for a sandbox run, from crypto.randomBytes: generated per process, never
 * committed, never reused. The corporate id is BCA's documentation sample.
 */
export function defaultSandboxPartner(): SimPartner {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  return {
    clientId: hex(16),
    clientSecret: hex(24),
    apiKey: hex(16),
    apiSecret: hex(24),
    corporateId: 'BCAAPI2016',
    origins: ['https://gerbang.sandbox'],
  };
}

/** `1234.50` → 123450n: money as integer cents, never floating point. */
export function toCents(amount: string): bigint {
  if (!/^\d+(\.\d{1,2})?$/.test(amount)) throw new RangeError(`not a decimal amount: ${amount}`);
  const [whole, fraction = ''] = amount.split('.');
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
}

export function fromCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

interface Account {
  name: string;
  cents: bigint;
  status: 'active' | 'dormant' | 'closed';
}

/** An executed transfer, as the bank's status inquiry reports it. */
export interface ExecutedTransfer {
  TransactionID: string;
  TransactionDate: string;
  ReferenceID: string;
  SourceAccountNumber: string;
  BeneficiaryAccountNumber: string;
  CurrencyCode: string;
  Amount: string;
}

/** The simulated bank's books: accounts, the TransactionIDs each corporate has used, executed transfers. */
export class Ledger {
  private readonly accounts = new Map<string, Account>();
  private readonly usedTransactionIds = new Set<string>();
  private readonly executed = new Map<string, ExecutedTransfer>();

  constructor(accounts: readonly SimAccount[]) {
    for (const account of accounts) this.setAccount(account);
  }

  /** Adds or replaces an account (tests make their own). */
  setAccount(account: SimAccount): void {
    this.accounts.set(account.number, { name: account.name, cents: toCents(account.balance), status: account.status ?? 'active' });
  }

  balanceOf(number: string): string | null {
    const account = this.accounts.get(number);
    return account ? fromCents(account.cents) : null;
  }

  list(): SimAccount[] {
    return [...this.accounts].map(([number, a]) => ({ number, name: a.name, balance: fromCents(a.cents), status: a.status }));
  }

  /** Claims a TransactionID for a corporate; false when it was used before (BCA: never reuse one). */
  claimTransactionId(corporateId: string, transactionId: string): boolean {
    const key = `${corporateId}:${transactionId}`;
    if (this.usedTransactionIds.has(key)) return false;
    this.usedTransactionIds.add(key);
    return true;
  }

  /** Remembers an executed transfer for the status inquiry. */
  recordExecuted(corporateId: string, transfer: ExecutedTransfer): void {
    this.executed.set(`${corporateId}:${transfer.TransactionID}`, transfer);
  }

  findExecuted(corporateId: string, transactionId: string): ExecutedTransfer | undefined {
    return this.executed.get(`${corporateId}:${transactionId}`);
  }

  /** Moves the money, or returns the ESB code refusing it. */
  transfer(source: string, beneficiary: string, amount: string): string | null {
    const from = this.accounts.get(source);
    const to = this.accounts.get(beneficiary);
    if (!from || !to) return 'ESB-82-014';
    for (const account of [from, to]) {
      if (account.status === 'dormant') return 'ESB-82-018';
      if (account.status === 'closed') return 'ESB-82-022';
    }
    const cents = toCents(amount);
    if (from.cents < cents) return 'ESB-82-019';
    from.cents -= cents;
    to.cents += cents;
    return null;
  }
}
