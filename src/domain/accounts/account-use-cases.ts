import { MAX_STATEMENT_DAYS, type AccountBalance, type AccountStatement, type BankCall, type BankCallContext } from '../../banks/types.js';
import { AppError, isAppError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import type { ExchangeAudit } from '../../audit/index.js';
import { jakartaDate } from '../../time/index.js';
import type { AccountGrantRepository } from '../../store/types.js';
import { canonicalBic, type BankPartner, type BankRouter } from '../routing/index.js';
import { checkAccountGranted } from './account-grants.js';
import type { AccountInquiryRequest, StatementRequestQuery } from './account-schemas.js';

const log = getLogger('accounts');

export interface AccountDeps {
  router: BankRouter;
  /** Read through RecentClients on the request path (a revoked grant is refused within GERBANG_CACHE_STALENESS_MS). */
  accountGrants: Pick<AccountGrantRepository, 'isGranted'>;
  clock: () => number;
}

export interface AccountInquiryAnswer {
  beneficiaryBankCode: string;
  beneficiaryAccountNumber: string;
  beneficiaryName: string;
  /** The partner that answered, its bank (BIC), and whether it asked its own books or another bank's. */
  bank: string;
  bankCode: string;
  scope: 'internal' | 'external';
  inquiredAt: string;
}

/**
 * Whose account is this? Asked before paying a vendor. A beneficiary at a partner bank is
 * looked up there (internal inquiry); any other through the partners by priority (external
 * inquiry). A partner that cannot be reached gives way to the next.
 */
export async function inquireAccount(deps: AccountDeps, request: AccountInquiryRequest, audit: ExchangeAudit): Promise<AccountInquiryAnswer> {
  const bic = canonicalBic(request.beneficiaryBankCode)!;
  const partners = deps.router.all();
  const ordered = [...partners.filter((p) => p.bic === bic), ...partners.filter((p) => p.bic !== bic)];
  const sourceAccountNumber = request.sourceAccountNumber ?? '';
  audit.set({ sourceAccount: request.sourceAccountNumber ?? null, beneficiaryAccount: request.beneficiaryAccountNumber });
  return withFallback(ordered, audit, async (partner, ctx) => {
    const scope = partner.bic === bic ? 'internal' : 'external';
    const found = await partner.adapter.accountInquiry({ accountNumber: request.beneficiaryAccountNumber, bankCode: bic, scope, sourceAccountNumber }, ctx);
    return {
      beneficiaryBankCode: bic,
      beneficiaryAccountNumber: found.accountNumber,
      beneficiaryName: found.accountName,
      bank: partner.name,
      bankCode: partner.bic,
      scope,
      inquiredAt: new Date(deps.clock()).toISOString(),
    };
  });
}

/**
 * A company account's balance, read from the partners holding it. Throws NOT_FOUND (404) for an
 * account not granted to the client, or that no partner holds (or not at `bankCode`).
 */
export async function getBalance(deps: AccountDeps, clientId: string, accountNumber: string, bankCode: string | undefined, audit: ExchangeAudit): Promise<AccountBalance & { bank: string; bankCode: string; asOf: string }> {
  audit.set({ sourceAccount: accountNumber });
  const partners = await holders(deps, clientId, accountNumber, bankCode, audit);
  return withFallback(partners, audit, async (partner, ctx) => ({
    ...(await partner.adapter.balance(accountNumber, ctx)),
    bank: partner.name,
    bankCode: partner.bic,
    asOf: new Date(deps.clock()).toISOString(),
  }));
}

/** A company account's statement; refused as getBalance is, and for a period the banks refuse (400). */
export async function getStatement(deps: AccountDeps, clientId: string, accountNumber: string, query: StatementRequestQuery, audit: ExchangeAudit): Promise<AccountStatement & { bank: string; bankCode: string }> {
  audit.set({ sourceAccount: accountNumber });
  const partners = await holders(deps, clientId, accountNumber, query.bankCode, audit);
  checkPeriod(query.from, query.to, jakartaDate(deps.clock()));
  return withFallback(partners, audit, async (partner, ctx) => ({
    ...(await partner.adapter.statement({ accountNumber, from: query.from, to: query.to }, ctx)),
    bank: partner.name,
    bankCode: partner.bic,
  }));
}

/**
 * The partners holding a company account the client was granted (and at `bankCode`, when
 * given). The refusal is committed to the audit first, and is the same 404 whether the account
 * is not granted or not held, so a client learns nothing about other accounts.
 */
async function holders(deps: AccountDeps, clientId: string, accountNumber: string, bankCode: string | undefined, audit: ExchangeAudit): Promise<BankPartner[]> {
  await audit.open();
  await checkAccountGranted(deps.accountGrants, clientId, accountNumber, 'accountNumber');
  const bic = bankCode ? canonicalBic(bankCode) : null;
  const found = deps.router.holders(accountNumber).filter((p) => bic === null || p.bic === bic);
  if (found.length === 0) throw new AppError('NOT_FOUND', 'No such account.', { fields: [{ field: 'accountNumber', message: `no account ${accountNumber} is known to this client` }] });
  return found;
}

/** A statement period the banks accept: from ≤ to ≤ today (Jakarta), at most 31 days. */
function checkPeriod(from: string, to: string, today: string): void {
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
  const problem =
    Number.isNaN(days) ? { field: 'from', message: 'is not a calendar date' }
    : days < 0 ? { field: 'to', message: 'must not be before from' }
    : to > today ? { field: 'to', message: `must not be after today (${today})` }
    : days >= MAX_STATEMENT_DAYS ? { field: 'to', message: `must be at most ${MAX_STATEMENT_DAYS} days from from` }
    : null;
  if (problem) throw new AppError('VALIDATION_FAILED', 'The statement period is not one the bank accepts.', { fields: [problem] });
}

/**
 * Runs a read-only bank call through the partners in order: the inbound exchange is recorded
 * first, every bank exchange is audited, and a partner that is unavailable (not reached,
 * circuit open, refused before processing) gives way to the next. A business refusal
 * (BANK_REFUSED) is the answer: another bank would not know the account better.
 */
async function withFallback<T>(partners: readonly BankPartner[], audit: ExchangeAudit, run: (partner: BankPartner, ctx: BankCallContext) => Promise<T>): Promise<T> {
  await audit.open();
  const ctx: BankCallContext = { onCall: (call: BankCall) => audit.recordBankCall(call), requestContext: audit.requestContext };
  let lastError: unknown = new AppError('ROUTE_UNAVAILABLE', 'No configured bank partner can answer this.');
  for (const partner of partners) {
    try {
      return await run(partner, ctx);
    } catch (error) {
      if (!isAppError(error) || (error.code !== 'BANK_UNAVAILABLE' && error.code !== 'ROUTE_UNAVAILABLE')) throw error;
      log.warn({ ...audit.requestContext, partner: partner.name, code: error.code }, 'partner could not answer; trying the next');
      lastError = error;
    }
  }
  throw lastError;
}

