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

/** Clearing codes of the banks the simulator is most often asked to play, for their sample accounts. */
const CLEARING_CODES: Record<string, string> = { BNINIDJA: '009', BRINIDJA: '002', BMRIIDJA: '008', BDINIDJA: '011', BNIAIDJA: '022' };
/** Account-number lengths the banks publish (BRI's samples 15 digits, Mandiri's 13); 10 otherwise, like BCA's. */
const ACCOUNT_LENGTHS: Record<string, number> = { BRINIDJA: 15, BMRIIDJA: 13 };

/**
 * The accounts a simulated bank opens with. Each bank keeps its own books, as real banks do: BCA
 * (CENAIDJA) has BCA's documentation sample accounts; any other bank the same four kinds of
 * account under numbers of its own (its clearing code, then zeros and 0–3, as long as the bank's
 * account numbers are), so an account of one bank is unknown at another.
 */
export function defaultAccounts(bic: string): readonly SimAccount[] {
  if (bic.toUpperCase() === 'CENAIDJA') return DEFAULT_ACCOUNTS;
  const code = CLEARING_CODES[bic.toUpperCase()] ?? '999';
  const length = ACCOUNT_LENGTHS[bic.toUpperCase()] ?? 10;
  return DEFAULT_ACCOUNTS.map((account, index) => ({ ...account, number: `${code}${String(index).padStart(length - code.length, '0')}` }));
}

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

/** Why the books refuse a movement; each protocol answers it with its own code. */
export type LedgerRefusal = 'ACCOUNT_NOT_FOUND' | 'ACCOUNT_DORMANT' | 'ACCOUNT_CLOSED' | 'INSUFFICIENT_FUNDS';

/** One booked line of an account, as a statement shows it. */
export interface LedgerEntry {
  /** yyyy-MM-dd (UTC+7). */
  date: string;
  type: 'C' | 'D';
  amount: string;
  description: string;
}

export interface LedgerMove {
  source: string;
  beneficiary: string;
  /** BIC of the beneficiary's bank; omitted (or this bank's own BIC) for an on-us transfer. */
  beneficiaryBank?: string;
  amount: string;
  description: string;
  /** yyyy-MM-dd (UTC+7) the movement is booked on. */
  date: string;
}

interface Account {
  name: string;
  cents: bigint;
  status: 'active' | 'dormant' | 'closed';
  entries: { date: string; type: 'C' | 'D'; cents: bigint; description: string }[];
}

/**
 * Several simulated banks that know each other: an interbank transfer credits the
 * beneficiary's simulated bank, and an external account inquiry reads its accounts.
 */
export class SimulatorNetwork {
  private readonly banks = new Map<string, Ledger>();

  join(bic: string, ledger: Ledger): void {
    this.banks.set(bic.toUpperCase(), ledger);
  }

  bank(bic: string): Ledger | undefined {
    return this.banks.get(bic.toUpperCase());
  }
}

/**
 * The simulated bank's books: accounts with their booked entries, the ids each caller has used,
 * executed transfers. Protocol-neutral: the legacy and SNAP handlers both book through it.
 */
export class Ledger {
  private readonly accounts = new Map<string, Account>();
  private readonly usedIds = new Set<string>();
  private readonly executed = new Map<string, Record<string, unknown>>();

  constructor(accounts: readonly SimAccount[], readonly bic = 'CENAIDJA', private readonly network?: SimulatorNetwork) {
    for (const account of accounts) this.setAccount(account);
    network?.join(bic, this);
  }

  /** Adds or replaces an account (tests make their own). */
  setAccount(account: SimAccount): void {
    this.accounts.set(account.number, { name: account.name, cents: toCents(account.balance), status: account.status ?? 'active', entries: [] });
  }

  account(number: string): SimAccount | null {
    const account = this.accounts.get(number);
    return account ? { number, name: account.name, balance: fromCents(account.cents), status: account.status } : null;
  }

  /** An account of another simulated bank of the network (null: unknown bank or account). */
  externalAccount(bic: string, number: string): SimAccount | null {
    return this.network?.bank(bic)?.account(number) ?? null;
  }

  balanceOf(number: string): string | null {
    return this.account(number)?.balance ?? null;
  }

  list(): SimAccount[] {
    return [...this.accounts.keys()].map((number) => this.account(number) as SimAccount);
  }

  /** Claims an id in a namespace (a corporate's TransactionIDs, a day's X-EXTERNAL-IDs…); false when used before. */
  claimId(namespace: string, id: string): boolean {
    const key = `${namespace}\u0000${id}`;
    if (this.usedIds.has(key)) return false;
    this.usedIds.add(key);
    return true;
  }

  /** Remembers an executed transfer for the status inquiry. */
  recordExecuted(namespace: string, id: string, record: Record<string, unknown>): void {
    this.executed.set(`${namespace}\u0000${id}`, record);
  }

  findExecuted(namespace: string, id: string): Record<string, unknown> | undefined {
    return this.executed.get(`${namespace}\u0000${id}`);
  }

  /**
   * Moves the money and books both sides, or returns why not. Paying another bank debits here
   * and credits that bank when it is simulated too (its account must then exist); a bank
   * outside the network takes the money unseen, as the clearing would.
   */
  move(move: LedgerMove): LedgerRefusal | null {
    const from = this.accounts.get(move.source);
    const otherBank = move.beneficiaryBank !== undefined && move.beneficiaryBank.toUpperCase() !== this.bic ? move.beneficiaryBank : null;
    const receiver = otherBank === null ? this : this.network?.bank(otherBank);
    const to = receiver?.accounts.get(move.beneficiary);
    if (!from || (receiver && !to)) return 'ACCOUNT_NOT_FOUND';
    for (const account of to ? [from, to] : [from]) {
      if (account.status === 'dormant') return 'ACCOUNT_DORMANT';
      if (account.status === 'closed') return 'ACCOUNT_CLOSED';
    }
    const cents = toCents(move.amount);
    if (from.cents < cents) return 'INSUFFICIENT_FUNDS';
    from.cents -= cents;
    from.entries.push({ date: move.date, type: 'D', cents, description: move.description });
    if (to) {
      to.cents += cents;
      to.entries.push({ date: move.date, type: 'C', cents, description: move.description });
    }
    return null;
  }

  /** Entries booked from `from` to `to` (yyyy-MM-dd, inclusive), oldest first. */
  entries(number: string, from: string, to: string): LedgerEntry[] {
    const account = this.accounts.get(number);
    if (!account) return [];
    return account.entries
      .filter((entry) => entry.date >= from && entry.date <= to)
      .map((entry) => ({ date: entry.date, type: entry.type, amount: fromCents(entry.cents), description: entry.description }));
  }

  /** The balance before the first entry booked on or after `from`. */
  openingBalance(number: string, from: string): string | null {
    const account = this.accounts.get(number);
    if (!account) return null;
    let cents = account.cents;
    for (const entry of account.entries) if (entry.date >= from) cents += entry.type === 'D' ? entry.cents : -entry.cents;
    return fromCents(cents);
  }
}
