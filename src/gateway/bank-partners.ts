import { randomBytes } from 'node:crypto';
import { createBcaLegacyAdapter } from '../banks/bca-legacy/index.js';
import { createSnapAdapter, validateSnapPartner } from '../banks/snap/index.js';
import { createBankSimulator, defaultSandboxPartner, type BankSimulator, type SimPartner } from '../banks/simulator/index.js';
import { withCircuitBreaker } from '../banks/circuit-breaker.js';
import type { BankAdapter, BankCall, BankCallContext, BankTokenCache } from '../banks/types.js';
import { ConfigError, type BcaLegacyPartnerConfig, type Config, type PartnerConfig } from '../config/index.js';
import { createBankHttpClient, type BankHttpClient } from '../egress/index.js';
import { BankRouter, BCA_BIC, type BankPartner } from '../domain/routing/index.js';
import { nextBankTransactionId, type BankIdSource } from '../domain/transfers/bank-transaction-id.js';
import { getLogger } from '../log/index.js';
import { RecentReads } from '../store/index.js';
import type { BankTokenRepository, SequenceRepository, Store } from '../store/types.js';

const log = getLogger('banks');

export interface BankPartners {
  router: BankRouter;
  /** Present in sandbox mode: the built-in simulator playing BCA. */
  simulator: { instance: BankSimulator; url: string; partner: ReturnType<typeof defaultSandboxPartner> } | null;
  close(): Promise<void>;
}

/**
 * The store's bank_tokens table as the adapters' shared token cache, under a key prefix. A token
 * read from the store is reused in-process for at most `stalenessMs` (GERBANG_CACHE_STALENESS_MS):
 * one SELECT per interval instead of one per payment, and a token dropped from the shared cache
 * (by an operator, or invalidated by another node after the bank refused it) stops being used
 * here within that time. A token this process stores or drops is seen by it at once, and one
 * that will not do (expired, refused) is read from the store again as soon as a refresh is
 * claimed for it. An expired token is never used: the kept copy carries its expiry, which the
 * token provider checks on every use.
 */
export function storeTokenCache(repository: BankTokenRepository, clock: () => number, prefix = '', stalenessMs = 0, elapsed?: () => number): BankTokenCache {
  // Concurrent reads of a partner's token share one SELECT (RecentReads): the requests in flight
  // when the kept copy ages out do not each read the store. The copy's age is measured on the
  // monotonic `elapsed` (RecentReads' default), not on the wall `clock`.
  const recent = new RecentReads(stalenessMs, elapsed);
  const read = async (partner: string) => {
    const record = await repository.get(prefix + partner);
    return record && { token: record.token, expiresAt: record.expiresAt };
  };
  return {
    get: (partner) => recent.read(partner, () => read(partner), (record) => record !== null),
    async put(partner, token, expiresAt) {
      recent.drop(partner);
      await repository.put({ partner: prefix + partner, token, expiresAt, fetchedAt: clock() });
      recent.drop(partner);
    },
    async invalidate(partner, token) {
      recent.drop(partner);
      await repository.invalidate(prefix + partner, token);
      recent.drop(partner);
    },
    // A process asks for the refresh when its token will not do: from then on it reads the store
    // (each poll of fetchTokenOnce), so it takes the token another node just fetched instead of
    // fetching, and at some banks invalidating, one of its own because its kept copy is still young.
    claimRefresh: (partner, owner, leaseMs) => {
      recent.drop(partner);
      return repository.claimRefresh(prefix + partner, owner, clock(), leaseMs);
    },
    releaseRefresh: (partner, owner) => repository.releaseRefresh(prefix + partner, owner),
  };
}

/**
 * Builds the bank partners from the configuration, each adapter behind its own circuit
 * breaker. Without a configured bank (sandbox mode) a simulator is started on loopback and
 * plays BCA with credentials generated for this process; its tokens are cached under a
 * per-process key so they never mix with a real bank's.
 */
export async function startBankPartners(
  config: Config,
  store: Pick<Store, 'bankTokens'> & { sequences: Pick<SequenceRepository, 'next'> },
  clock: () => number,
  /** Sees every exchange with every partner (the metrics, the log), with its call's context. */
  observe: (call: BankCall, ctx: BankCallContext) => void = () => undefined,
): Promise<BankPartners> {
  let partners: PartnerConfig[];
  let simulator: BankPartners['simulator'] = null;
  let tokenPrefix = '';
  if (config.bank.mode === 'live') {
    partners = config.bank.partners;
  } else {
    const partner = defaultSandboxPartner();
    const allowed = ['127.0.0.1', '::1', ...(config.egress.localAddress ? [config.egress.localAddress] : [])];
    const instance = createBankSimulator({ partners: [partner], allowedSourceAddresses: allowed });
    const url = await instance.listen(0, '127.0.0.1');
    simulator = { instance, url, partner };
    tokenPrefix = `sandbox-${randomBytes(6).toString('hex')}:`;
    partners = [simulatedPartnerConfig(partner, url, instance.accounts().map((account) => account.number))];
    log.warn({ simulator: url }, 'SANDBOX MODE: no bank is configured (GERBANG_BCA_*, GERBANG_BANK_PARTNERS_FILE); payments go to the built-in BCA simulator, no money moves');
  }

  const tokens = storeTokenCache(store.bankTokens, clock, tokenPrefix, config.cacheStalenessMs);
  const bankPartners: BankPartner[] = partners.map((partner) => {
    const http = createBankHttpClient({
      baseUrl: partner.baseUrl,
      localAddress: config.egress.localAddress,
      proxyUrl: config.egress.proxyUrl,
      caFile: config.egress.caFile,
      connectTimeoutMs: config.egress.connectTimeoutMs,
      headersTimeoutMs: config.egress.headersTimeoutMs,
      bodyTimeoutMs: config.egress.bodyTimeoutMs,
    });
    const ids = bankIdSource(partner);
    const adapter = createAdapter(partner, { http, tokens, nextExternalId: () => nextBankTransactionId(store.sequences, ids, clock()) });
    return {
      name: partner.partner,
      bic: partner.bic,
      priority: partner.priority,
      accounts: partner.accounts,
      ...ids,
      adapter: withCircuitBreaker(adapter, { ...config.breaker, clock, observe }),
    };
  });
  const router = new BankRouter(bankPartners, config.transferLimits);
  return {
    router,
    simulator,
    async close() {
      // Closing the router closes each adapter and, with it, its HTTP client.
      await router.close();
      await simulator?.instance.close();
    },
  };
}

/** The partner configuration that points at a simulated BCA with the credentials it issued. */
export function simulatedPartnerConfig(partner: SimPartner, baseUrl: string, accounts: string[], name = 'bca', priority = 1, bic = BCA_BIC): BcaLegacyPartnerConfig {
  return {
    accounts,
    partner: name,
    protocol: 'bca-legacy',
    bic,
    priority,
    baseUrl,
    clientId: partner.clientId,
    clientSecret: partner.clientSecret,
    apiKey: partner.apiKey,
    apiSecret: partner.apiSecret,
    corporateId: partner.corporateId,
    origin: partner.origins?.[0] ?? 'https://gerbang.sandbox',
  };
}

/**
 * Whose bank ids a partner's are: the bank and the corporate id (legacy) or SNAP partner id, not
 * the partner's name, so two blocks on one corporate draw from one counter and never collide.
 */
function bankIdSource(partner: PartnerConfig): BankIdSource {
  return partner.protocol === 'bca-legacy'
    ? { idNamespace: `${partner.bic}:${partner.corporateId}`, idFormat: 'legacy' }
    : { idNamespace: `${partner.bic}:${String(partner.partnerId)}`, idFormat: 'snap' };
}

interface AdapterDeps {
  http: BankHttpClient;
  tokens: BankTokenCache;
  /** Ids that never repeat for this partner (the store's counter), for SNAP's X-EXTERNAL-ID. */
  nextExternalId: () => Promise<string>;
}

/** The adapter of a partner's protocol. */
function createAdapter(partner: PartnerConfig, deps: AdapterDeps): BankAdapter {
  switch (partner.protocol) {
    case 'bca-legacy':
      return createBcaLegacyAdapter({ ...partner, http: deps.http, tokens: deps.tokens });
    case 'snap':
      return createSnapPartner(partner, deps);
  }
}

/** A SNAP partner: its block checked with the SNAP schema (every bad field named), its key file read now. */
function createSnapPartner(block: PartnerConfig, deps: AdapterDeps): BankAdapter {
  try {
    return createSnapAdapter({ ...validateSnapPartner(block), ...deps });
  } catch (error) {
    if (error instanceof TypeError) throw new ConfigError([`GERBANG_BANK_PARTNERS_FILE: partner ${block.partner}: ${error.message}`]);
    throw error;
  }
}
