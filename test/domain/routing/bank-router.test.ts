import { expect } from 'chai';
import type { BankAdapter, TransferMethod } from '../../../src/banks/types.js';
import { BankRouter, bankName, canonicalBic, readRouteReason, readRouteResult, routeResultText, type BankPartner, type RouteRequest, type TransferRoute } from '../../../src/domain/routing/index.js';
import { AppError } from '../../../src/errors/index.js';

/**
 * The router on its own: which partners may pay a transfer and in which order, and which method,
 * for partners configured as the partners file would. The adapters are inert: routing never calls
 * a bank (test/component/routing.test.ts pays through simulated banks).
 */

type Interbank = Exclude<TransferMethod, 'INTRABANK'>;

/** Small limits so every boundary is a one-cent step: BI-FAST ≤ 1.00, online ≤ 2.00, SKN ≤ 10.00, RTGS ≥ 5.00. */
const LIMITS = { bifastMaxCents: 100, onlineMaxCents: 200, sknMaxCents: 1000, rtgsMinCents: 500 };
const ALL: Interbank[] = ['BIFAST', 'ONLINE', 'SKN', 'RTGS'];

const BCA_ACCOUNT = '0201245680';
const BNI_ACCOUNT = '0090000000';

function inertAdapter(name: string, interbankMethods: readonly Interbank[], closed: string[] = []): BankAdapter {
  const never = () => Promise.reject(new Error(`routing must not call bank ${name}`));
  return {
    partner: name,
    protocol: 'bca-legacy',
    interbankMethods,
    transferIntrabank: never,
    transferInterbank: never,
    transferStatus: never,
    accountInquiry: never,
    balance: never,
    statement: never,
    ping: never,
    close: async () => {
      closed.push(name);
    },
  };
}

function partner(name: string, bic: string, priority: number, accounts: string[], methods: readonly Interbank[] = ALL, closed?: string[]): BankPartner {
  return { name, bic, priority, accounts, idNamespace: `${bic}:${name}`, idFormat: 'legacy', adapter: inertAdapter(name, methods, closed) };
}

/** What a route says, without the adapter object. */
const shape = (r: TransferRoute) => ({ partner: r.partner, method: r.method, operation: r.operation, idNamespace: r.idNamespace, idFormat: r.idFormat });

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    return error as AppError;
  }
  expect.fail('expected the router to refuse');
}

const request = (over: Partial<RouteRequest>): RouteRequest => ({ sourceAccountNumber: BCA_ACCOUNT, beneficiaryBankCode: 'BRINIDJA', amountCents: 50, ...over });

describe('BankRouter', () => {
  // Listed out of priority order: the router orders them.
  const bcaBackup = partner('bca-backup', 'CENAIDJA', 2, [BCA_ACCOUNT]);
  const bni = partner('bni', 'BNINIDJA', 3, [BNI_ACCOUNT]);
  const bcaMain = partner('bca-main', 'CENAIDJA', 1, [BCA_ACCOUNT, '0201245681']);
  const router = new BankRouter([bcaBackup, bni, bcaMain], LIMITS);

  describe('route()', () => {
    it('pays a beneficiary at the paying account\'s bank on-us through every connection holding it, best priority first', () => {
      const routes = router.route(request({ beneficiaryBankCode: '014', amountCents: 10_000_000 }));
      expect(routes.map(shape)).to.deep.equal([
        { partner: 'bca-main', method: 'INTRABANK', operation: 'transfer-intrabank', idNamespace: 'CENAIDJA:bca-main', idFormat: 'legacy' },
        { partner: 'bca-backup', method: 'INTRABANK', operation: 'transfer-intrabank', idNamespace: 'CENAIDJA:bca-backup', idFormat: 'legacy' },
      ]);
      expect(routes[0].adapter).to.equal(bcaMain.adapter);
      expect(routes[1].adapter).to.equal(bcaBackup.adapter);
      expect(routes[0].reason).to.equal(`account ${BCA_ACCOUNT} is held at bca-main (priority 1), the beneficiary's bank CENAIDJA: paid on-us`);
    });

    it('pays another bank interbank only through the partners holding the paying account, never through the beneficiary\'s own bank', () => {
      const toBni = router.route(request({ beneficiaryBankCode: 'BNINIDJA' }));
      // Each partner's online switching follows its BI-FAST, taken only when BI-FAST refuses this bank.
      expect(toBni.map((r) => [r.partner, r.method, r.onlyAfter ?? null])).to.deep.equal([
        ['bca-main', 'BIFAST', null],
        ['bca-main', 'ONLINE', 'BIFAST_UNAVAILABLE'],
        ['bca-backup', 'BIFAST', null],
        ['bca-backup', 'ONLINE', 'BIFAST_UNAVAILABLE'],
      ]);
      expect(toBni[0].operation).to.equal('transfer-bifast');
      expect(toBni[0].reason).to.equal(`account ${BCA_ACCOUNT} is held at bca-main (priority 1); beneficiary bank BNINIDJA is another bank: interbank, BIFAST chosen for the amount`);
      const fromBni = router.route(request({ sourceAccountNumber: BNI_ACCOUNT, beneficiaryBankCode: 'CENAIDJA' }));
      expect(fromBni.map((r) => [r.partner, r.method])).to.deep.equal([['bni', 'BIFAST'], ['bni', 'ONLINE']]);
    });

    it('reads the beneficiary bank as clearing code, BIC or 11-letter BIC, in any case and with spaces around', () => {
      for (const code of ['014', 'CENAIDJA', 'CENAIDJAXXX', ' cenaidja ', 'cenaidjaxxx']) {
        expect(router.route(request({ beneficiaryBankCode: code })).map((r) => r.method), code).to.deep.equal(['INTRABANK', 'INTRABANK']);
      }
      expect(canonicalBic('002')).to.equal('BRINIDJA');
      expect(canonicalBic('BRINIDJAXXX')).to.equal('BRINIDJA');
      expect(canonicalBic('CENAIDJA1')).to.equal(null);
      expect(canonicalBic('14')).to.equal(null);
    });

    it('refuses an unknown beneficiary bank with ROUTE_UNAVAILABLE naming beneficiaryBankCode', () => {
      const error = refusal(() => router.route(request({ beneficiaryBankCode: 'XXXXIDJA' })));
      expect(error.code).to.equal('ROUTE_UNAVAILABLE');
      expect(error.status).to.equal(422);
      expect(error.fields).to.deep.equal([{ field: 'beneficiaryBankCode', message: 'unknown bank XXXXIDJA' }]);
      expect(error.message).to.equal('No configured bank partner can pay this transfer: unknown bank XXXXIDJA.');
    });

    it('refuses a paying account no partner holds with 400 naming sourceAccountNumber', () => {
      const error = refusal(() => router.route(request({ sourceAccountNumber: '9999999999' })));
      expect(error.code).to.equal('VALIDATION_FAILED');
      expect(error.fields).to.deep.equal([{ field: 'sourceAccountNumber', message: 'account 9999999999 is not a company account of any configured bank partner' }]);
    });

    describe('choosing the interbank method by amount', () => {
      const methodFor = (methods: readonly Interbank[], amountCents: number): TransferMethod | null => {
        const r = new BankRouter([partner('bca', 'CENAIDJA', 1, [BCA_ACCOUNT], methods)], LIMITS);
        try {
          return r.route(request({ amountCents }))[0].method;
        } catch (error) {
          if ((error as AppError).code === 'ROUTE_UNAVAILABLE') return null;
          throw error;
        }
      };

      it('takes BI-FAST up to its limit, then online switching up to its own, then SKN below the RTGS minimum and RTGS from it', () => {
        const chosen = [1, 100, 101, 200, 201, 499, 500, 1000, 1001, 1_000_000].map((amount) => [amount, methodFor(ALL, amount)]);
        expect(chosen).to.deep.equal([
          [1, 'BIFAST'], [100, 'BIFAST'], [101, 'ONLINE'], [200, 'ONLINE'], [201, 'SKN'],
          [499, 'SKN'], [500, 'RTGS'], [1000, 'RTGS'], [1001, 'RTGS'], [1_000_000, 'RTGS'],
        ]);
      });

      it('chooses only among the methods the partner offers', () => {
        expect(methodFor(['ONLINE', 'SKN'], 50)).to.equal('ONLINE');
        expect(methodFor(['SKN', 'RTGS'], 50)).to.equal('SKN');
        expect(methodFor(['BIFAST', 'RTGS'], 150)).to.equal(null);
        expect(methodFor(['BIFAST', 'RTGS'], 500)).to.equal('RTGS');
        expect(methodFor(['BIFAST', 'ONLINE', 'SKN'], 1000)).to.equal('SKN');
        expect(methodFor(['BIFAST', 'ONLINE', 'SKN'], 1001)).to.equal(null);
        expect(methodFor(['RTGS'], 499)).to.equal(null);
        expect(methodFor([], 1)).to.equal(null);
      });

      it('refuses an amount no holder can pay with ROUTE_UNAVAILABLE naming beneficiaryBankCode', () => {
        const r = new BankRouter([partner('bca', 'CENAIDJA', 1, [BCA_ACCOUNT], ['BIFAST'])], LIMITS);
        const error = refusal(() => r.route(request({ amountCents: 101 })));
        expect(error.code).to.equal('ROUTE_UNAVAILABLE');
        expect(error.fields).to.deep.equal([{ field: 'beneficiaryBankCode', message: `no partner holding account ${BCA_ACCOUNT} can pay bank BRINIDJA this amount` }]);
      });

      it('falls back to a lower-priority holder by the method that holder offers for the amount', () => {
        const r = new BankRouter([partner('bca-main', 'CENAIDJA', 1, [BCA_ACCOUNT], ['BIFAST']), partner('bca-backup', 'CENAIDJA', 2, [BCA_ACCOUNT], ['SKN'])], LIMITS);
        expect(r.route(request({ amountCents: 300 })).map((x) => [x.partner, x.method])).to.deep.equal([['bca-backup', 'SKN']]);
        expect(r.route(request({ amountCents: 50 })).map((x) => [x.partner, x.method])).to.deep.equal([['bca-main', 'BIFAST'], ['bca-backup', 'SKN']]);
      });
    });

    describe('when the ERP asks for a method', () => {
      it('uses it when it fits the amount, and says so in the routing record', () => {
        const routes = router.route(request({ transferMethod: 'SKN', amountCents: 50 }));
        expect(routes.map((r) => [r.partner, r.method, r.operation])).to.deep.equal([['bca-main', 'SKN', 'transfer-skn'], ['bca-backup', 'SKN', 'transfer-skn']]);
        expect(routes[0].reason).to.match(/interbank, SKN as asked$/);
      });

      it('takes each method up to its limit and refuses a cent more with 400 naming amount', () => {
        const cases: [Interbank, number, number, string][] = [
          ['BIFAST', 100, 101, 'BIFAST takes at most 1.00'],
          ['ONLINE', 200, 201, 'ONLINE takes at most 2.00'],
          ['SKN', 1000, 1001, 'SKN takes at most 10.00'],
          ['RTGS', 500, 499, 'RTGS takes at least 5.00'],
        ];
        for (const [method, fits, misses, message] of cases) {
          expect(router.route(request({ transferMethod: method, amountCents: fits }))[0].method, `${method} ${fits}`).to.equal(method);
          const error = refusal(() => router.route(request({ transferMethod: method, amountCents: misses })));
          expect(error.code, `${method} ${misses}`).to.equal('VALIDATION_FAILED');
          expect(error.message).to.equal(`The amount does not fit ${method}.`);
          expect(error.fields).to.deep.equal([{ field: 'amount', message }]);
        }
      });

      it('holds a method to its own limit only', () => {
        expect(router.route(request({ transferMethod: 'RTGS', amountCents: 1_000_000 }))[0].method).to.equal('RTGS');
        expect(router.route(request({ transferMethod: 'SKN', amountCents: 1 }))[0].method).to.equal('SKN');
        expect(router.route(request({ transferMethod: 'ONLINE', amountCents: 150 }))[0].method).to.equal('ONLINE');
      });

      it('pays INTRABANK on-us at any amount', () => {
        const routes = router.route(request({ beneficiaryBankCode: 'CENAIDJA', transferMethod: 'INTRABANK', amountCents: 1_000_000_000 }));
        expect(routes.map((r) => [r.partner, r.method])).to.deep.equal([['bca-main', 'INTRABANK'], ['bca-backup', 'INTRABANK']]);
      });

      it('refuses INTRABANK to another bank naming transferMethod', () => {
        const error = refusal(() => router.route(request({ transferMethod: 'INTRABANK' })));
        expect(error.code).to.equal('ROUTE_UNAVAILABLE');
        expect(error.fields).to.deep.equal([{ field: 'transferMethod', message: "INTRABANK pays only a beneficiary at the paying account's bank CENAIDJA, not BRINIDJA" }]);
      });

      it('refuses an interbank method to the paying account\'s own bank, pointing to INTRABANK', () => {
        const error = refusal(() => router.route(request({ beneficiaryBankCode: 'CENAIDJA', transferMethod: 'BIFAST' })));
        expect(error.code).to.equal('ROUTE_UNAVAILABLE');
        expect(error.fields).to.deep.equal([{ field: 'transferMethod', message: "BIFAST does not pay a beneficiary at the paying account's own bank CENAIDJA; use INTRABANK" }]);
      });

      it('skips holders that do not offer it, and refuses naming transferMethod when none does', () => {
        const r = new BankRouter([partner('bca-main', 'CENAIDJA', 1, [BCA_ACCOUNT], ['BIFAST']), partner('bca-backup', 'CENAIDJA', 2, [BCA_ACCOUNT], ['BIFAST', 'RTGS'])], LIMITS);
        expect(r.route(request({ transferMethod: 'RTGS', amountCents: 600 })).map((x) => x.partner)).to.deep.equal(['bca-backup']);
        const error = refusal(() => r.route(request({ transferMethod: 'SKN' })));
        expect(error.code).to.equal('ROUTE_UNAVAILABLE');
        expect(error.fields).to.deep.equal([{ field: 'transferMethod', message: `no partner holding account ${BCA_ACCOUNT} offers SKN` }]);
      });
    });
  });

  describe('payingAccount()', () => {
    it('answers the account asked for when a partner holds it', () => {
      expect(router.payingAccount('0201245681', 'BNINIDJA')).to.equal('0201245681');
      expect(router.payingAccount(BNI_ACCOUNT, 'CENAIDJA')).to.equal(BNI_ACCOUNT);
    });

    it('refuses an account no partner holds with 400 naming sourceAccountNumber', () => {
      const error = refusal(() => router.payingAccount('0201245689', 'CENAIDJA'));
      expect(error.code).to.equal('VALIDATION_FAILED');
      expect(error.message).to.equal('No configured bank partner holds the paying account.');
      expect(error.status).to.equal(400);
      expect(error.fields).to.deep.equal([{ field: 'sourceAccountNumber', message: 'account 0201245689 is not a company account of any configured bank partner' }]);
    });

    it("when none is asked, takes the default account of a partner at the beneficiary's bank", () => {
      expect(router.payingAccount(undefined, '009')).to.equal(BNI_ACCOUNT);
      expect(router.payingAccount(undefined, 'bninidjaxxx')).to.equal(BNI_ACCOUNT);
      expect(router.payingAccount(undefined, 'CENAIDJA')).to.equal(BCA_ACCOUNT);
    });

    it('otherwise the default account of the partner of best priority, skipping partners without accounts', () => {
      expect(router.payingAccount(undefined, 'BRINIDJA')).to.equal(BCA_ACCOUNT);
      expect(router.payingAccount(undefined, 'not a bank')).to.equal(BCA_ACCOUNT);
      const r = new BankRouter([partner('bni', 'BNINIDJA', 2, [BNI_ACCOUNT]), partner('bca-readonly', 'CENAIDJA', 1, [])], LIMITS);
      expect(r.payingAccount(undefined, 'CENAIDJA')).to.equal(BNI_ACCOUNT);
      expect(r.payingAccount(undefined, 'BRINIDJA')).to.equal(BNI_ACCOUNT);
    });

    it('refuses naming sourceAccountNumber when no partner has an account to pay from', () => {
      const r = new BankRouter([partner('bca-readonly', 'CENAIDJA', 1, [])], LIMITS);
      const error = refusal(() => r.payingAccount(undefined, 'CENAIDJA'));
      expect(error.code).to.equal('VALIDATION_FAILED');
      expect(error.message).to.equal('No company account is configured to pay from.');
      expect(error.fields).to.deep.equal([{ field: 'sourceAccountNumber', message: 'is required: no bank partner has a default account configured' }]);
    });
  });

  describe('partners', () => {
    it('holders() lists the partners holding an account, best priority first, and no others', () => {
      expect(router.holders(BCA_ACCOUNT).map((p) => p.name)).to.deep.equal(['bca-main', 'bca-backup']);
      expect(router.holders('0201245681').map((p) => p.name)).to.deep.equal(['bca-main']);
      expect(router.holders('0000000000')).to.deep.equal([]);
    });

    it('all() lists every partner by priority; adapterFor() finds a partner\'s adapter, null for one no longer configured', () => {
      expect(router.all().map((p) => p.name)).to.deep.equal(['bca-main', 'bca-backup', 'bni']);
      expect(router.adapterFor('bca-backup')).to.equal(bcaBackup.adapter);
      expect(router.adapterFor('bri')).to.equal(null);
    });

    it('close() closes every adapter', async () => {
      const closed: string[] = [];
      const r = new BankRouter([partner('a', 'CENAIDJA', 1, [], ALL, closed), partner('b', 'BNINIDJA', 2, [], ALL, closed)], LIMITS);
      await r.close();
      expect(closed.sort()).to.deep.equal(['a', 'b']);
    });
  });

  describe('readRouteReason()', () => {
    it('reads back the facts of every reason the router writes, on-us and interbank, however its method was chosen', () => {
      const [onUs] = router.route(request({ beneficiaryBankCode: '014' }));
      const [byAmount, afterBifast] = router.route(request({ beneficiaryBankCode: 'BNINIDJA' }));
      const [asked] = router.route(request({ transferMethod: 'SKN' }));
      const held = { account: BCA_ACCOUNT, partner: 'bca-main', priority: 1 };
      expect([onUs, byAmount, afterBifast, asked].map((r) => readRouteReason(r.reason))).to.deep.equal([
        { kind: 'on-us', ...held, bic: 'CENAIDJA' },
        { kind: 'interbank', ...held, bic: 'BNINIDJA', method: 'BIFAST', chosen: 'amount' },
        { kind: 'interbank', ...held, bic: 'BNINIDJA', method: 'ONLINE', chosen: 'bifast-unavailable' },
        { kind: 'interbank', ...held, bic: 'BRINIDJA', method: 'SKN', chosen: 'asked' },
      ]);
      expect(afterBifast.reason).to.equal(`account ${BCA_ACCOUNT} is held at bca-main (priority 1); beneficiary bank BNINIDJA is another bank: interbank, ONLINE because BI-FAST is not available for bank BNINIDJA`);
    });

    it('reads a masked account, and nothing of a reason in another wording (an older router\'s, a changed row)', () => {
      expect(readRouteReason("account ******5680 is held at bca (priority 1), the beneficiary's bank CENAIDJA: paid on-us")).to.deep.equal({ kind: 'on-us', account: '******5680', partner: 'bca', priority: 1, bic: 'CENAIDJA' });
      expect(readRouteReason('beneficiary bank CENAIDJA is partner bca (priority 1): paid on-us')).to.equal(null);
      expect(readRouteReason('beneficiary bank BRINIDJA is not a partner: interbank through bca (priority 1), ONLINE chosen for the amount')).to.equal(null);
      expect(readRouteReason(`account ${BCA_ACCOUNT} is held at bca (priority 1); beneficiary bank BNINIDJA is another bank: interbank, ONLINE because BI-FAST is not available for bank BRINIDJA`)).to.equal(null);
      expect(readRouteReason(`account ${BCA_ACCOUNT} is held at bca (priority 1), the beneficiary's bank CENAIDJA: paid on-us <script>`)).to.equal(null);
      expect(readRouteReason('')).to.equal(null);
    });

    it('reads back what became of a route', () => {
      for (const result of [{ kind: 'sent' }, { kind: 'skipped-no-name' }, { kind: 'not-sent', why: 'The bank is not answering.' }] as const) {
        expect(readRouteResult(routeResultText(result))).to.deep.equal(result);
      }
      expect(routeResultText({ kind: 'sent' })).to.equal('sent');
      expect(readRouteResult('something else')).to.equal(null);
    });
  });

  describe('bankName()', () => {
    it('names a bank by clearing code, BIC or partner id, null when unknown', () => {
      expect(bankName('014')).to.equal('Bank Central Asia');
      expect(bankName('bmriidjaxxx')).to.equal('Bank Mandiri');
      expect(bankName(' bri ')).to.equal('Bank Rakyat Indonesia');
      expect(bankName('bni')).to.equal('Bank Negara Indonesia');
      expect(bankName('Mandiri')).to.equal('Bank Mandiri');
      expect(bankName('BCA')).to.equal('Bank Central Asia');
      expect(bankName('XXXXIDJA')).to.equal(null);
    });
  });
});
