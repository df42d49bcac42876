import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulatedPartnerConfig } from '../../src/gateway/bank-partners.js';
import { createBankSimulator, defaultSandboxPartner, type BankSimulator, type SimPartner, type SimulatorNetwork } from '../../src/banks/simulator/index.js';

export interface TestBank {
  simulator: BankSimulator;
  partner: SimPartner;
  url: string;
  /** The GERBANG_BCA_* settings that point a gateway at this bank, plus any overrides. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** This bank as a BCA-legacy block of a partners file, holding `accounts` (default: every account of the simulated bank). */
  partnerBlock(name: string, priority: number, accounts?: string[]): Record<string, unknown>;
}

export interface TestBankOptions {
  sources?: string[];
  /** The bank it plays (default BCA). */
  bic?: string;
  network?: SimulatorNetwork;
  tokenTtlSeconds?: number;
}

/**
 * A BCA simulator the test owns (rather than the gateway's built-in sandbox one), for tests that
 * run the gateway against a configured bank: fresh random credentials, whitelisting `sources`.
 */
export async function startTestBank(sourcesOrOptions: string[] | TestBankOptions = ['127.0.0.1']): Promise<TestBank> {
  const options = Array.isArray(sourcesOrOptions) ? { sources: sourcesOrOptions } : sourcesOrOptions;
  const partner = defaultSandboxPartner();
  const simulator = createBankSimulator({ partners: [partner], allowedSourceAddresses: options.sources ?? ['127.0.0.1'], bic: options.bic, network: options.network, tokenTtlSeconds: options.tokenTtlSeconds });
  const url = await simulator.listen();
  return {
    simulator,
    partner,
    url,
    env: (overrides = {}) => ({
      GERBANG_BCA_BASE_URL: url,
      GERBANG_BCA_CLIENT_ID: partner.clientId,
      GERBANG_BCA_CLIENT_SECRET: partner.clientSecret,
      GERBANG_BCA_API_KEY: partner.apiKey,
      GERBANG_BCA_API_SECRET: partner.apiSecret,
      GERBANG_BCA_CORPORATE_ID: partner.corporateId,
      GERBANG_BCA_ORIGIN: partner.origins![0],
      GERBANG_BCA_ACCOUNTS: simulator.accounts().map((account) => account.number).join(','),
      ...overrides,
    }),
    partnerBlock: (name, priority, accounts = simulator.accounts().map((account) => account.number)) => {
      // The file names the bank `bank`; the loaded configuration calls it `bic`.
      const { bic, ...block } = simulatedPartnerConfig(partner, url, accounts, name, priority, options.bic);
      return { ...block, bank: bic };
    },
  };
}

/** Writes a partners file (mode 0600, as the gateway requires) and returns its path. */
export function writePartnersFile(partners: Record<string, unknown>[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gerbang-partners-')), 'partners.json');
  writeFileSync(path, JSON.stringify({ partners }), { mode: 0o600 });
  return path;
}
