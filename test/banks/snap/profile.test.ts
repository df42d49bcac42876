import { expect } from 'chai';
import Joi from 'joi';
import { generateKeyPairSync } from 'node:crypto';
import { randomInt } from 'node:crypto';
import { resolveSnapProfile, SNAP_PROFILES, snapPartnerSchema, validateSnapPartner } from '../../../src/banks/snap/index.js';
import { BNI_SNAP_DIALECT } from '../../../src/banks/simulator/index.js';
import type { BankAdapter } from '../../../src/banks/types.js';
import { isAppError } from '../../../src/errors/index.js';
import { jakartaDate } from '../../../src/time/index.js';
import { recorder } from '../../support/bank-adapters.js';
import { newBankTransactionId, snapAdapter, snapCredentials, startSnapBank } from '../../support/snap-bank.js';

const block = (overrides: Record<string, unknown> = {}) => ({
  partner: 'bni-snap',
  bic: 'BNINIDJA',
  baseUrl: 'https://api.bni.example',
  clientId: 'client',
  privateKeyFile: '/etc/gerbang/bni.pem',
  clientSecret: 'secret',
  apiSecret: 'api-secret',
  partnerId: 'api-key',
  origin: 'https://erp.example',
  profile: 'bni',
  ...overrides,
});

describe('SNAP partner configuration', () => {
  it('accepts a BNI partner as a config block and resolves its profile with overrides merged key by key', () => {
    const config = validateSnapPartner(block({ profileOverrides: { paths: { balance: '/snap-service/v2.0/balance-inquiry' }, extraHeaders: { 'X-BNI-KEY': 'k' } } }));
    const profile = resolveSnapProfile(config);
    expect(profile).to.include({ name: 'bni', hmacKey: 'apiSecret', timestampMillis: false });
    expect(profile.paths.balance).to.equal('/snap-service/v2.0/balance-inquiry');
    expect(profile.paths['transfer-intrabank']).to.equal(SNAP_PROFILES.bni.paths['transfer-intrabank']);
    expect(profile.extraHeaders).to.deep.equal({ ...SNAP_PROFILES.bni.extraHeaders, 'X-BNI-KEY': 'k' });
  });

  it('defaults to the BCA profile', () => {
    const config = validateSnapPartner(block({ profile: undefined, apiSecret: undefined, bic: 'CENAIDJA' }));
    expect(resolveSnapProfile(config)).to.deep.include({ name: 'bca', hmacKey: 'clientSecret', timestampMillis: false, channelId: '95051' });
  });

  it('names every bad field', () => {
    expect(() => validateSnapPartner(block({ clientSecret: undefined, bic: 'bni', profileOverrides: { paths: { balance: 'no-slash' }, serviceCodes: { balance: '1' }, colour: 'red' } })))
      .to.throw(TypeError)
      .with.property('message')
      .that.contains('"clientSecret" is required')
      .and.contains('"bic" must be a BIC')
      .and.contains('"profileOverrides.paths.balance" must be a path')
      .and.contains('"profileOverrides.serviceCodes.balance" must be two digits')
      .and.contains('"profileOverrides.colour" is not allowed');
  });

  it('wants exactly one of privateKeyFile and privateKeyPem, and apiSecret when the profile keys the HMAC with it', () => {
    expect(() => validateSnapPartner(block({ privateKeyFile: undefined }))).to.throw(/privateKeyFile.*privateKeyPem|privateKeyPem.*privateKeyFile/);
    expect(() => validateSnapPartner(block({ apiSecret: undefined }))).to.throw(/"apiSecret" is required/);
  });

  it('can be extended by a partners file with its own keys', () => {
    const { error } = snapPartnerSchema.keys({ priority: Joi.number().integer().min(1) }).validate(block({ priority: 2 }));
    expect(error).to.equal(undefined);
  });
});

describe('a BNI SNAP partner (its own paths, HMAC keyed by the API secret, X-DEVICE-ID, timestamps without milliseconds)', () => {
  const credentials = snapCredentials();
  const profile = resolveSnapProfile({ profile: 'bni' });
  let url: string;
  let bank: Awaited<ReturnType<typeof startSnapBank>>['simulator'];
  const adapters: BankAdapter[] = [];

  before(async () => {
    ({ simulator: bank, url } = await startSnapBank({ ...credentials, channelId: profile.channelId }, { snapProfile: BNI_SNAP_DIALECT, bic: 'BNINIDJA' }));
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.close()));
  });
  after(async () => bank.close());

  const bniAdapter = (overrides: Parameters<typeof snapAdapter>[2] = {}) => {
    const a = snapAdapter(url, { ...credentials, channelId: profile.channelId }, { partner: 'bni-snap', bic: 'BNINIDJA', profile: 'bni', apiSecret: credentials.apiSecret, ...overrides });
    adapters.push(a);
    return a;
  };

  it('pays and reads the balance through the BNI paths, signed with the API secret, timestamps without milliseconds', async () => {
    const source = String(randomInt(1e9, 1e10 - 1));
    const target = String(randomInt(1e9, 1e10 - 1));
    bank.setAccount({ number: source, name: 'PT PAYER', balance: '5000.00' });
    bank.setAccount({ number: target, name: 'CV PAYEE', balance: '0.00' });
    const { calls, ctx } = recorder();
    const a = bniAdapter();
    const outcome = await a.transferIntrabank(
      { bankTransactionId: newBankTransactionId(), transactionDate: jakartaDate(new Date()), referenceId: 'INV-1', sourceAccountNumber: source, beneficiaryAccountNumber: target, amount: '1000.00', currency: 'IDR', remark1: 'BNI', remark2: '' },
      ctx,
    );
    expect(outcome.status).to.equal('SUCCESS');
    expect((await a.balance(source, ctx)).balance).to.equal('4000.00');
    expect(calls.map((c) => new URL(c.url).pathname)).to.deep.equal(['/snap/v1/access-token/b2b', '/snap-service/v1/transfer-intrabank', '/snap-service/v1/balance-inquiry']);
    for (const call of calls) expect(call.requestHeaders['X-TIMESTAMP']).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/);
    expect(calls[1].requestHeaders['CHANNEL-ID']).to.equal(profile.channelId);
  });

  it('is refused (401xx00) when signed with the client secret instead of the API secret', async () => {
    const error = await bniAdapter({ profileOverrides: { hmacKey: 'clientSecret' } }).balance('0201245680', recorder().ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAppError(error) && error.code).to.equal('BANK_UNAVAILABLE');
    expect(isAppError(error) && error.extensions.bankResponseCode).to.equal('4011100');
  });

  it('is refused (400xx01) when the timestamps carry milliseconds this bank does not want', async () => {
    const error = await bniAdapter({ profileOverrides: { timestampMillis: true } }).ping(recorder().ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAppError(error) && error.extensions.bankResponseCode).to.equal('4007301');
  });
});

describe('SNAP partner block in the partners file', () => {
  it('accepts the file keys (protocol, priority, bank instead of bic)', () => {
    const { bic: _bic, ...rest } = block();
    const { error } = snapPartnerSchema.validate({ ...rest, protocol: 'snap', priority: 2, bank: '009' });
    expect(error).to.equal(undefined);
    expect(snapPartnerSchema.validate({ ...rest }).error?.message).to.match(/bic|bank/);
  });
});

describe('SNAP adapter start-up', () => {
  it('refuses a key file that is missing, or not an RSA key, naming the field', () => {
    const credentials = snapCredentials();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => snapAdapter('http://127.0.0.1:1', credentials, { privateKeyPem: undefined, privateKeyFile: '/nonexistent/key.pem' })).to.throw(TypeError, /"privateKeyFile" is not a readable PEM private key/);
    expect(() => snapAdapter('http://127.0.0.1:1', credentials, { privateKeyPem: ec })).to.throw(TypeError, /"privateKeyPem" must be an RSA key/);
  });
});
