import { createBankSimulator, defaultSandboxPartner, type BankSimulator, type SimPartner } from '../../src/banks/simulator/index.js';

export interface TestBank {
  simulator: BankSimulator;
  partner: SimPartner;
  url: string;
  /** The GERBANG_BCA_* settings that point a gateway at this bank, plus any overrides. */
  env(overrides?: Record<string, string>): Record<string, string>;
}

/**
 * A BCA simulator the test owns (rather than the gateway's built-in sandbox one), for tests that
 * run the gateway against a configured bank: fresh random credentials, whitelisting `sources`.
 */
export async function startTestBank(sources: string[] = ['127.0.0.1']): Promise<TestBank> {
  const partner = defaultSandboxPartner();
  const simulator = createBankSimulator({ partners: [partner], allowedSourceAddresses: sources });
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
      ...overrides,
    }),
  };
}
