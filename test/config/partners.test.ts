import { expect } from 'chai';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { problemsOf } from '../support/config-problems.js';

const secret = 'x'.repeat(40);

function partnersFile(content: unknown, mode = 0o600): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gerbang-partners-')), 'partners.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  chmodSync(file, mode);
  return file;
}


const legacy = (overrides: Record<string, unknown> = {}) => ({
  partner: 'bca-main',
  bank: '014',
  protocol: 'bca-legacy',
  priority: 1,
  baseUrl: 'https://devapi.klikbca.com',
  clientId: 'id',
  clientSecret: 'cs',
  apiKey: 'k',
  apiSecret: 'as',
  corporateId: 'BCAAPI2016',
  origin: 'https://erp.example.com',
  ...overrides,
});

describe('Bank partners configuration (GERBANG_BANK_PARTNERS_FILE)', () => {
  it('reads partners with their bank as a BIC and a default priority, BCA env variables added as `bca` first', () => {
    const file = partnersFile({ partners: [legacy(), legacy({ partner: 'bca-backup', priority: undefined })] });
    const config = loadConfig({
      GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
      GERBANG_BANK_PARTNERS_FILE: file,
      GERBANG_BCA_BASE_URL: 'https://api.klikbca.com',
      GERBANG_BCA_CLIENT_ID: 'id',
      GERBANG_BCA_CLIENT_SECRET: 's',
      GERBANG_BCA_API_KEY: 'k',
      GERBANG_BCA_API_SECRET: 'as',
      GERBANG_BCA_CORPORATE_ID: 'BCAAPI2016',
      GERBANG_BCA_ORIGIN: 'example.com',
    });
    if (config.bank.mode !== 'live') throw new Error('expected live');
    expect(config.bank.partners.map((p) => [p.partner, p.bic, p.priority])).to.deep.equal([
      ['bca', 'CENAIDJA', 1],
      ['bca-main', 'CENAIDJA', 1],
      ['bca-backup', 'CENAIDJA', 100],
    ]);
  });

  it("takes each block's company accounts at its bank's length (BRI 15 digits, Mandiri 13), naming an account of the wrong length", () => {
    const snap = (partner: string, bank: string, accounts: string[]) => ({ partner, bank, protocol: 'snap', baseUrl: 'https://snap.example', accounts });
    const good = partnersFile({ partners: [legacy({ accounts: ['0201245680'] }), snap('bri-snap', 'brinidja', ['002001000157610']), snap('mandiri-snap', '008', ['1150006399259'])] });
    const config = loadConfig({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_BANK_PARTNERS_FILE: good });
    if (config.bank.mode !== 'live') throw new Error('expected live');
    expect(config.bank.partners.map((p) => p.accounts)).to.deep.equal([['0201245680'], ['002001000157610'], ['1150006399259']]);
    const bad = partnersFile({ partners: [legacy({ accounts: ['020124568012345'] }), snap('bri-snap', '002', ['0020000001'])] });
    const problems = problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_BANK_PARTNERS_FILE: bad }).join('\n');
    expect(problems).to.contain('partners[0].accounts[0] must be 10 digits for a Bank Central Asia account');
    expect(problems).to.contain('partners[1].accounts[0] must be 15 digits for a Bank Rakyat Indonesia account');
  });

  it('names the block and field that is wrong', () => {
    const file = partnersFile({ partners: [legacy(), legacy({ partner: 'b', bank: '999', baseUrl: 'ftp://x', apiSecret: undefined })] });
    const problems = problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_BANK_PARTNERS_FILE: file });
    expect(problems.join('\n')).to.contain('partners[1].bank').and.to.contain('partners[1].baseUrl').and.to.contain('partners[1].apiSecret');
    expect(problems.every((p) => p.startsWith('GERBANG_BANK_PARTNERS_FILE: '))).to.equal(true);
  });

  it('refuses duplicate names, an unknown protocol, and a file that is not JSON', () => {
    expect(problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_BANK_PARTNERS_FILE: partnersFile({ partners: [legacy(), legacy()] }) }).join()).to.match(/duplicate/);
    expect(problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_BANK_PARTNERS_FILE: partnersFile({ partners: [legacy({ protocol: 'swift' })] }) }).join()).to.contain('partners[0].protocol');
    expect(problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_BANK_PARTNERS_FILE: partnersFile('{"partners": [') })[0]).to.match(/is not JSON/);
  });

  it('reads a legacy block\'s statusTransferTypes, and names a value that is not a 3-letter code', () => {
    const config = loadConfig({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_BANK_PARTNERS_FILE: partnersFile({ partners: [legacy({ statusTransferTypes: { SKN: 'BCA' } })] }) });
    if (config.bank.mode !== 'live') throw new Error('expected live');
    expect(config.bank.partners[0]).to.deep.include({ statusTransferTypes: { SKN: 'BCA' } });
    const problems = problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_BANK_PARTNERS_FILE: partnersFile({ partners: [legacy({ statusTransferTypes: { RTGS: 'rtgs' } })] }) });
    expect(problems.join('\n')).to.contain('partners[0].statusTransferTypes.RTGS');
  });

  it('refuses a file other users can read, since it holds bank credentials', () => {
    const file = partnersFile({ partners: [legacy()] }, 0o644);
    expect(problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_BANK_PARTNERS_FILE: file })[0]).to.match(/readable by its owner only \(chmod 600\)/);
  });

  it('reads the interbank method limits as cents', () => {
    const config = loadConfig({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_SANDBOX: 'true', GERBANG_BIFAST_MAX_AMOUNT: '100000000.00' });
    expect(config.transferLimits).to.deep.equal({ bifastMaxCents: 10_000_000_000, onlineMaxCents: 5_000_000_000, sknMaxCents: 100_000_000_000, rtgsMinCents: 10_000_000_001 });
    expect(problemsOf({ GERBANG_JWT_SECRET: secret, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_SKN_MAX_AMOUNT: '1e9' })[0]).to.match(/^GERBANG_SKN_MAX_AMOUNT/);
  });
});
