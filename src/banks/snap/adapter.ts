import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Joi from 'joi';
import { AppError } from '../../errors/index.js';
import { jakartaDateOf } from '../../time/index.js';
import { isEgressError, type BankHttpClient, type BankRequest, type BankResponse } from '../../egress/index.js';
import { createExchange } from '../common/bank-exchange.js';
import { requireReportedFields } from '../common/reported-fields.js';
import { createTokenProvider } from '../common/token-provider.js';
import { withReauth } from '../common/with-reauth.js';
import {
  STATEMENT_MAX_BYTES,
  STATEMENT_MAX_LINES,
  transferOperation,
  type AccountBalance,
  type AccountInquiryQuery,
  type AccountInquiryResult,
  type AccountStatement,
  type BankAdapter,
  type BankCallContext,
  type BankTokenCache,
  type InterbankTransferOrder,
  type SignedNotification,
  type IntrabankTransferOrder,
  type StatementQuery,
  type StatusOutcome,
  type TransferMethod,
  type TransferOutcome,
  type TransferStatusQuery,
} from '../types.js';
import { mergeFields, resolveSnapProfile, type SnapCodedService, type SnapPartnerConfig } from './profile.js';
import { classifySnapCode, mapSentFailure, mapStatusAnswer, mapTransferAnswer, readSnapAnswer, readTokenAnswer, snapErrorCode, type SnapCode, type Verdict } from './response-mapper.js';
import { relativeUrl, signService, signToken, snapTimestamp, verifyNotificationSignature } from './signer.js';

export interface SnapAdapterOptions extends SnapPartnerConfig {
  http: BankHttpClient;
  /** The store's shared token cache: one token fetch per lifetime across workers and nodes. */
  tokens: BankTokenCache;
  /**
   * X-EXTERNAL-ID (numeric, unique per day at the bank) of every call that is not a transfer. It
   * must come from the store's shared sequence — the SAME one that issues transfers'
   * bankTransactionId, which is their X-EXTERNAL-ID — so no value repeats across workers and nodes.
   */
  nextExternalId: () => Promise<string>;
  now?: () => Date;
}


/** The service each interbank method is sent with. */
const INTERBANK_SERVICE: Record<InterbankTransferOrder['method'], SnapCodedService> = {
  ONLINE: 'transfer-interbank',
  BIFAST: 'transfer-interbank',
  RTGS: 'transfer-rtgs',
  SKN: 'transfer-skn',
};

/** The service a transfer of this method was sent with (the status inquiry's serviceCode). */
function serviceOf(method: TransferMethod): SnapCodedService {
  return method === 'INTRABANK' ? 'transfer-intrabank' : INTERBANK_SERVICE[method];
}

/**
 * A SNAP BI bank (BCA, BNI, BRI…; the profile says which). Every exchange, token fetches
 * included, is reported to `ctx.onCall` before this returns or throws.
 *
 * Transfers: SUCCESS, PENDING (RTGS/SKN transactionStatus 03), FAILED (a 4xx business code, kept
 * with its message) or UNKNOWN (in doubt: 202xx00, 5xx, a timeout or reset after sending, a 409,
 * an unreadable answer — never re-sent). Their X-EXTERNAL-ID and partnerReferenceNo are the
 * order's bankTransactionId. On 401xx01 the token is dropped, a new one fetched, and the call
 * re-signed and resent once (refused before processing, so it cannot pay twice). A refusal
 * before processing (401xx00, 429, no connection, no token) throws AppError('BANK_UNAVAILABLE').
 *
 * Inquiries (balance, statement, account inquiry) throw AppError('BANK_REFUSED') with
 * `extensions {bankResponseCode, bankMessage}` on a business refusal, BANK_UNAVAILABLE otherwise.
 */
export function createSnapAdapter(options: SnapAdapterOptions): BankAdapter {
  const now = options.now ?? (() => new Date());
  const profile = resolveSnapProfile(options);
  const privateKey = loadPrivateKey(options);
  const bankPublicKey = loadBankPublicKey(options);
  const configuredSecret = profile.hmacKey === 'apiSecret' ? options.apiSecret : options.clientSecret;
  if (!configuredSecret) throw new TypeError(`SNAP partner ${options.partner}: "apiSecret" is required by profile ${profile.name}`);
  const hmacSecret: string = configuredSecret;
  const channelId = options.channelId ?? profile.channelId;
  const exchange = createExchange({ partner: options.partner, baseUrl: options.baseUrl.replace(/\/+$/, ''), http: options.http, now, errorCodeOf: snapErrorCode });
  const tokens = createTokenProvider({ partner: options.partner, tokens: options.tokens, now, request: requestToken });
  const timestamp = () => snapTimestamp(now(), profile.timestampMillis);

  /** POST /access-token/b2b signed with the private key; any failure is BANK_UNAVAILABLE. */
  async function requestToken(ctx: BankCallContext): Promise<{ accessToken: string; expiresInSeconds: number }> {
    const ts = timestamp();
    const { signature } = signToken({ clientId: options.clientId, timestamp: ts, privateKey });
    const result = await exchange(ctx, 'token', {
      method: 'POST',
      path: relativeUrl(profile.paths.token),
      headers: { 'Content-Type': 'application/json', 'X-TIMESTAMP': ts, 'X-CLIENT-KEY': options.clientId, 'X-SIGNATURE': signature },
      body: JSON.stringify({ grantType: 'client_credentials', ...profile.tokenBody }),
    });
    if (!result.ok) throw unreachable(result.error, 'no token, nothing was sent');
    const answer = readTokenAnswer(result.response);
    if (answer) return answer;
    const snap = readSnapAnswer(result.response.body);
    const code = snap?.code ?? `HTTP-${result.response.statusCode}`;
    throw new AppError('BANK_UNAVAILABLE', `The bank refused the token request (${code}); nothing was sent.`, {
      extensions: { bankResponseCode: code, ...(snap ? { bankMessage: snap.message } : {}) },
    });
  }

  /** The signed request: a fresh X-TIMESTAMP per send, so a resend is freshly signed. */
  function signed(service: SnapCodedService, token: string, body: string, externalId: string): BankRequest {
    const path = relativeUrl(profile.paths[service]);
    const ts = timestamp();
    const { signature } = signService({ method: 'POST', relativeUrl: path, accessToken: token, body, timestamp: ts, secret: hmacSecret });
    return {
      method: 'POST',
      path,
      headers: {
        ...profile.extraHeaders,
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'X-TIMESTAMP': ts,
        'X-SIGNATURE': signature,
        ORIGIN: options.origin,
        'X-PARTNER-ID': options.partnerId,
        'X-EXTERNAL-ID': externalId,
        'CHANNEL-ID': channelId,
      },
      body,
    };
  }

  /** Runs `attempt` with the current token; on 401xx01 once more with a renewed one. */
  const withToken = <T>(ctx: BankCallContext, attempt: (token: string, resend: boolean) => Promise<Verdict<T>>): Promise<T> =>
    withReauth(tokens, ctx, options.partner, attempt, refusedBeforeProcessing);

  async function transfer(ctx: BankCallContext, method: TransferMethod, order: IntrabankTransferOrder, payload: Record<string, unknown>): Promise<TransferOutcome> {
    const service = serviceOf(method);
    const serviceCode = profile.serviceCodes[service];
    // Serialised once: these exact bytes are signed and sent, on the first try and the resend.
    const body = JSON.stringify(withBankFields(service, payload));
    const settlesLater = method === 'RTGS' || method === 'SKN';
    return withToken(ctx, async (token, resend) => {
      // After 401xx01 the bank wants a new X-EXTERNAL-ID with the new token (bank-apis.md §6); the
      // partnerReferenceNo stays, and the outcome names the id the status inquiry must ask with.
      const externalId = resend ? await options.nextExternalId() : order.bankTransactionId;
      const result = await exchange(ctx, transferOperation(method), signed(service, token, body, externalId));
      const verdict = sentVerdict(result);
      if (verdict.kind === 'outcome' && externalId !== order.bankTransactionId) verdict.outcome.externalId = externalId;
      return verdict;
    });

    function sentVerdict(result: Awaited<ReturnType<typeof exchange>>): Verdict<TransferOutcome> {
      if (result.ok && method === 'BIFAST') refuseIfBifastUnavailable(result.response);
      if (result.ok) return mapTransferAnswer(result.response, { serviceCode, partnerReferenceNo: order.bankTransactionId, settlesLater });
      const { error } = result;
      if (isEgressError(error) && !error.sent) throw unreachable(error, 'the transfer was not sent');
      // Sent, or a failure of unknown kind: the bank may have the payment. In doubt, never re-sent.
      const outcome: TransferOutcome = isEgressError(error)
        ? mapSentFailure(error)
        : { status: 'UNKNOWN', bankReference: null, bankResponseCode: 'BANK_ERROR', bankMessage: 'The call to the bank failed in an unexpected way; it will be resolved by status inquiry.' };
      return { kind: 'outcome', outcome };
    }
  }

  /** A read-only call: the parsed success body, or BANK_REFUSED / BANK_UNAVAILABLE. */
  async function inquire<T>(ctx: BankCallContext, operation: string, service: SnapCodedService, payload: (externalId: string) => Record<string, unknown>, schema: Joi.ObjectSchema<T>): Promise<T> {
    const serviceCode = profile.serviceCodes[service];
    return withToken(ctx, async (token) => {
      const externalId = await options.nextExternalId();
      const request = signed(service, token, JSON.stringify(withBankFields(service, payload(externalId))), externalId);
      const result = await exchange(ctx, operation, service === 'statement' ? { ...request, maxResponseBytes: STATEMENT_MAX_BYTES } : request);
      if (!result.ok) throw unreachable(result.error, 'nothing was executed');
      return readInquiry(result.response, serviceCode, schema);
    });
  }

  /** The body with what this bank adds to the service (the profile's bodyFields), Gerbang's own fields kept. */
  const withBankFields = (service: SnapCodedService, payload: Record<string, unknown>) => mergeFields(profile.bodyFields[service] ?? {}, payload);

  /**
   * A BI-FAST transfer refused with a code the profile lists as "BI-FAST unavailable for this
   * bank": refused before anything moved, so it is BANK_UNAVAILABLE with reason
   * BIFAST_UNAVAILABLE, and the caller falls back to online switching under a new id.
   */
  function refuseIfBifastUnavailable(response: BankResponse): void {
    const snap = readSnapAnswer(response.body);
    if (!snap || String(response.statusCode) !== snap.code.slice(0, 3) || !profile.bifastUnavailableCodes.includes(snap.code)) return;
    throw new AppError('BANK_UNAVAILABLE', `BI-FAST is not available for this beneficiary bank at ${options.partner} (${snap.code}: ${snap.message}); nothing was executed.`, {
      extensions: { bankResponseCode: snap.code, bankMessage: snap.message, reason: 'BIFAST_UNAVAILABLE' },
    });
  }

  const commonTransferFields = (order: IntrabankTransferOrder) => ({
    partnerReferenceNo: order.bankTransactionId,
    amount: { value: order.amount, currency: order.currency },
    beneficiaryAccountNo: order.beneficiaryAccountNumber,
    ...(order.beneficiaryEmail ? { beneficiaryEmail: order.beneficiaryEmail } : {}),
    customerReference: order.referenceId,
    remark: remarkOf(order),
    sourceAccountNo: order.sourceAccountNumber,
    transactionDate: transactionDateOf(order.transactionDate, now()),
  });

  return {
    partner: options.partner,
    protocol: 'snap',
    interbankMethods: profile.interbankMethods,

    transferIntrabank: (order, ctx) => transfer(ctx, 'INTRABANK', order, { ...commonTransferFields(order), additionalInfo: {} }),

    async transferInterbank(order, ctx) {
      if (!profile.interbankMethods.includes(order.method)) {
        throw new AppError('ROUTE_UNAVAILABLE', `Partner ${options.partner} does not offer ${order.method} transfers over SNAP.`);
      }
      const interbank = { beneficiaryAccountName: order.beneficiaryName, beneficiaryBankCode: order.beneficiaryBankCode };
      if (order.method === 'ONLINE' || order.method === 'BIFAST') {
        if (order.method === 'BIFAST' && !order.purposeCode) {
          throw new AppError('VALIDATION_FAILED', 'A BI-FAST transfer needs a purposeCode.', { fields: [{ field: 'purposeCode', message: 'is required for BI-FAST' }] });
        }
        // The fields naming the route are the bank's (BCA: additionalInfo.transferType); BI-FAST's purpose code rides in additionalInfo.
        const routeFields = mergeFields(profile.interbankMethodFields[order.method] ?? {}, order.method === 'BIFAST' ? { additionalInfo: { purposeCode: order.purposeCode } } : {});
        return transfer(ctx, order.method, order, mergeFields(routeFields, { ...commonTransferFields(order), ...interbank, additionalInfo: {} }));
      }
      // RTGS and SKN are reported to Bank Indonesia with the beneficiary's address, customer type
      // and residence; BCA calls the address mandatory (4002202 / 4002302 without it). Never a
      // silent default: the ERP must give them.
      requireReportedFields(order, options.partner, ['beneficiaryAddress', 'beneficiaryCustomerType', 'beneficiaryResident']);
      return transfer(ctx, order.method, order, {
        ...commonTransferFields(order),
        ...interbank,
        beneficiaryAddress: order.beneficiaryAddress,
        beneficiaryCustomerResidence: order.beneficiaryCustomerResidence,
        beneficiaryCustomerType: order.beneficiaryCustomerType,
        additionalInfo: {},
      });
    },

    async transferStatus(query: TransferStatusQuery, ctx: BankCallContext): Promise<StatusOutcome> {
      const body = JSON.stringify(withBankFields('transfer-status', {
        originalPartnerReferenceNo: query.bankTransactionId,
        ...(query.bankReference ? { originalReferenceNo: query.bankReference } : {}),
        // The transfer's X-EXTERNAL-ID: its bankTransactionId unless a resend took a new one.
        originalExternalId: query.externalId ?? query.bankTransactionId,
        serviceCode: profile.serviceCodes[serviceOf(query.method)],
        transactionDate: `${query.transactionDate}T00:00:00+07:00`,
        ...(query.amount ? { amount: { value: query.amount, currency: 'IDR' } } : {}),
      }));
      const serviceCode = profile.serviceCodes['transfer-status'];
      return withToken(ctx, async (token): Promise<Verdict<StatusOutcome>> => {
        const result = await exchange(ctx, 'transfer-status', signed('transfer-status', token, body, await options.nextExternalId()));
        if (result.ok) return mapStatusAnswer(result.response, { serviceCode, partnerReferenceNo: query.bankTransactionId });
        if (isEgressError(result.error) && !result.error.sent) throw unreachable(result.error, 'nothing was executed');
        // An inquiry moves no money; one that failed in flight just leaves the transfer in doubt.
        const code = isEgressError(result.error) ? result.error.code : 'BANK_ERROR';
        return { kind: 'outcome', outcome: { status: 'UNKNOWN', bankReference: null, bankResponseCode: code, bankMessage: 'The status inquiry got no answer; the transfer stays in doubt.' } };
      });
    },

    async accountInquiry(query: AccountInquiryQuery, ctx: BankCallContext): Promise<AccountInquiryResult> {
      const internal = query.scope === 'internal';
      const answer = await inquire(
        ctx,
        // One audit name for both scopes and both protocols; the URL tells which service it was.
        'account-inquiry',
        internal ? 'account-inquiry-internal' : 'account-inquiry-external',
        (externalId) => ({
          partnerReferenceNo: externalId,
          ...(internal ? {} : { beneficiaryBankCode: query.bankCode }),
          beneficiaryAccountNo: query.accountNumber,
          // The route field a bank wants (BCA: inquiryService "1", the switcher) is in its profile's bodyFields.
          additionalInfo: internal ? {} : { sourceAccountNo: query.sourceAccountNumber },
        }),
        inquiryAnswerSchema,
      );
      return { accountNumber: answer.beneficiaryAccountNo, accountName: answer.beneficiaryAccountName, bankCode: query.bankCode, bankReference: answer.referenceNo || null };
    },

    async balance(accountNumber: string, ctx: BankCallContext): Promise<AccountBalance> {
      const answer = await inquire(ctx, 'balance', 'balance', (externalId) => ({ partnerReferenceNo: externalId, accountNo: accountNumber, balanceTypes: ['Cash'] }), balanceAnswerSchema);
      const info = answer.accountInfos[0];
      return {
        accountNumber,
        currency: info.amount.currency,
        balance: info.amount.value,
        availableBalance: info.availableBalance?.value ?? info.amount.value,
        holdAmount: info.holdAmount?.value ?? null,
      };
    },

    async statement(query: StatementQuery, ctx: BankCallContext): Promise<AccountStatement> {
      const answer = await inquire(
        ctx,
        'statement',
        'statement',
        (externalId) => ({
          partnerReferenceNo: externalId,
          accountNo: query.accountNumber,
          fromDateTime: `${query.from}T00:00:00+07:00`,
          // Documented as YYYY-MM-DDT00:00:00+07:00 (BCA); the profile's statementToTime says otherwise for a bank that wants it.
          toDateTime: `${query.to}T${profile.statementToTime}+07:00`,
        }),
        statementAnswerSchema,
      );
      const opening = answer.balance?.[0]?.startingBalance;
      return {
        accountNumber: query.accountNumber,
        currency: opening?.currency ?? 'IDR',
        from: query.from,
        to: query.to,
        openingBalance: opening?.value ?? null,
        entries: answer.detailData.map((row) => ({
          date: row.transactionDate,
          type: /^c/i.test(row.type) ? ('CREDIT' as const) : ('DEBIT' as const),
          amount: row.amount.value,
          description: row.remark ?? '',
        })),
      };
    },

    ...(bankPublicKey
      ? {
          verifyNotification: (n: SignedNotification) =>
            verifyNotificationSignature({ method: n.method, relativeUrl: n.path, body: minified(n.body), timestamp: n.timestamp, signature: n.signature, publicKey: bankPublicKey }),
        }
      : {}),

    async ping(ctx: BankCallContext): Promise<void> {
      await tokens.fetch(ctx);
    },

    close: () => options.http.close(),
  };
}

const money = Joi.object({ value: Joi.string().pattern(/^-?\d{1,16}\.\d{2}$/).required(), currency: Joi.string().pattern(/^[A-Z]{3}$/).required() }).unknown(true);

interface Money {
  value: string;
  currency: string;
}

const inquiryAnswerSchema = Joi.object<{ beneficiaryAccountNo: string; beneficiaryAccountName: string; referenceNo?: string }>({
  beneficiaryAccountNo: Joi.string().max(34).required(),
  beneficiaryAccountName: Joi.string().max(140).required(),
  referenceNo: Joi.string().allow('').max(64),
}).unknown(true);

const accountInfo = Joi.object({ amount: money.required(), availableBalance: money, holdAmount: money }).unknown(true);

/**
 * The balance answer. BCA's field table shows `accountInfos` as an array, its published sample as
 * one object (bank-apis.md §6): both are read, an object as a list of one.
 */
const balanceAnswerSchema = Joi.object<{ accountInfos: { amount: Money; availableBalance?: Money; holdAmount?: Money }[] }>({
  accountInfos: Joi.alternatives(Joi.array().items(accountInfo).min(1), accountInfo.custom((info: unknown) => [info])).required(),
}).unknown(true);

const statementAnswerSchema = Joi.object<{
  balance?: { startingBalance?: Money }[];
  /** `transactionDate` read as its Jakarta day, yyyy-MM-dd. */
  detailData: { amount: Money; transactionDate: string; remark?: string; type: string }[];
}>({
  balance: Joi.array().items(Joi.object({ startingBalance: money }).unknown(true)),
  detailData: Joi.array()
    .items(
      Joi.object({
        amount: money.required(),
        // Read as its Jakarta day: a bank writing the time in UTC or another offset must not move a
        // debit out of the days a statement proof reads. A time that names no day is unreadable.
        transactionDate: Joi.string()
          .max(64)
          .custom((text: string, helpers) => jakartaDateOf(text) ?? helpers.error('any.invalid'))
          .required(),
        remark: Joi.string().allow('').max(256),
        type: Joi.string().pattern(/^(credit|debit|c|d)$/i).required(),
      }).unknown(true),
    )
    .max(STATEMENT_MAX_LINES)
    .required(),
}).unknown(true);

/** An inquiry's answer: the validated body on success, else the verdict or the error to throw. */
function readInquiry<T>(response: BankResponse, serviceCode: string, schema: Joi.ObjectSchema<T>): Verdict<T> {
  const snap = readSnapAnswer(response.body);
  if (!snap) throw new AppError('BANK_UNAVAILABLE', `The bank answered HTTP ${response.statusCode} without a SNAP body.`, { extensions: { bankResponseCode: `HTTP-${response.statusCode}` } });
  const kind = classifySnapCode(snap.code, serviceCode, false);
  if (kind === 'reauth' || kind === 'unavailable') return { kind, error: snap };
  if (kind === 'refused') {
    throw new AppError('BANK_REFUSED', `The bank refused the inquiry (${snap.code}: ${snap.message}).`, { extensions: { bankResponseCode: snap.code, bankMessage: snap.message } });
  }
  if (kind !== 'success') {
    throw new AppError('BANK_UNAVAILABLE', `The bank could not answer the inquiry (${snap.code}: ${snap.message}).`, { extensions: { bankResponseCode: snap.code, bankMessage: snap.message } });
  }
  const { value, error } = schema.validate(snap.value);
  if (error) throw new AppError('BANK_UNAVAILABLE', `The bank's answer could not be read (${error.message}).`, { extensions: { bankResponseCode: snap.code } });
  return { kind: 'outcome', outcome: value as T };
}

/** Remark1 and Remark2 as SNAP's one remark (at most 36 characters are used). */
function remarkOf(order: IntrabankTransferOrder): string {
  return [order.remark1, order.remark2].filter((r) => r !== '').join(' ').slice(0, 36);
}

/** SNAP's transactionDate (ISO-8601 with offset) on the order's date: now's time when it is today, else midnight. */
function transactionDateOf(date: string, now: Date): string {
  const stamp = snapTimestamp(now, false);
  return stamp.startsWith(date) ? stamp : `${date}T00:00:00+07:00`;
}

/** The RSA private key of the token signature, read once at start: a bad file stops the gateway, naming the field. */
function loadPrivateKey(options: SnapPartnerConfig): KeyObject {
  const source = options.privateKeyPem ? 'privateKeyPem' : 'privateKeyFile';
  let key: KeyObject;
  try {
    key = createPrivateKey(options.privateKeyPem ?? readFileSync(options.privateKeyFile ?? '', 'utf8'));
  } catch (error) {
    throw new TypeError(`SNAP partner ${options.partner}: "${source}" is not a readable PEM private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError(`SNAP partner ${options.partner}: "${source}" must be an RSA key (SNAP signs the token with RSA-SHA256), not ${key.asymmetricKeyType}`);
  return key;
}

/** The bank's public key for its notifications, read once at start; null when none is configured. A bad one stops the gateway, naming the field. */
function loadBankPublicKey(options: SnapPartnerConfig): KeyObject | null {
  if (!options.bankPublicKeyPem && !options.bankPublicKeyFile) return null;
  const source = options.bankPublicKeyPem ? 'bankPublicKeyPem' : 'bankPublicKeyFile';
  let key: KeyObject;
  try {
    key = createPublicKey(options.bankPublicKeyPem ?? readFileSync(options.bankPublicKeyFile ?? '', 'utf8'));
  } catch (error) {
    throw new TypeError(`SNAP partner ${options.partner}: "${source}" is not a readable PEM public key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError(`SNAP partner ${options.partner}: "${source}" must be an RSA key (the bank signs with SHA256withRSA), not ${key.asymmetricKeyType}`);
  return key;
}

/** A JSON body minified as SNAP signs it (compact, spaces inside values kept); the text itself when it is not JSON. */
function minified(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body));
  } catch {
    return body;
  }
}

/** The bank was not reached (or, for a call that moves no money, gave no answer): BANK_UNAVAILABLE. */
function unreachable(error: unknown, consequence: string): AppError {
  const code = (error as { code?: unknown } | null)?.code;
  const label = typeof code === 'string' ? code : 'BANK_ERROR';
  return new AppError('BANK_UNAVAILABLE', `The bank could not be reached (${label}); ${consequence}.`, { cause: error, extensions: { bankResponseCode: label } });
}

function refusedBeforeProcessing(error: SnapCode): AppError {
  return new AppError('BANK_UNAVAILABLE', `The bank refused the call before processing it (${error.code}: ${error.message}); nothing was executed.`, {
    extensions: { bankResponseCode: error.code, bankMessage: error.message },
  });
}
