import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { runCli } from '../support/cli.js';
import { snapCredentials, snapPartnerBlock, startSnapBank } from '../support/snap-bank.js';
import { writePartnersFile } from '../support/test-bank.js';

describe('gerbang bank ping with a SNAP partner', () => {
  const credentials = snapCredentials();
  let bank: BankSimulator;
  let url: string;

  before(async () => {
    ({ simulator: bank, url } = await startSnapBank(credentials));
  });
  after(async () => bank.close());

  const store = () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-ping-snap-')), 'g.sqlite')}`;

  it('fetches a B2B token signed with the key file, and names a partner whose key the bank does not know', async () => {
    const impostor = { ...credentials, privateKeyPem: snapCredentials().privateKeyPem };
    const file = writePartnersFile([snapPartnerBlock('bca-snap', '014', 1, url, credentials), snapPartnerBlock('bca-snap-old', '014', 2, url, impostor)]);
    const result = await runCli(['bank', 'ping'], { GERBANG_DATABASE_URL: store(), GERBANG_BANK_PARTNERS_FILE: file });
    expect(result.code, result.stderr).to.equal(1);
    expect(result.stdout).to.match(/^bca-snap \(snap\): OK/m);
    expect(result.stdout).to.match(/^bca-snap-old \(snap\): FAILED 4017300/m);
    expect(bank.calls.filter((c) => c.path === '/openapi/v1.0/access-token/b2b' && c.status === 200)).to.have.length(1);
  });

  it('refuses to start on a SNAP block with a bad field, naming it, exit 2', async () => {
    const file = writePartnersFile([{ ...snapPartnerBlock('bca-snap', '014', 1, url, credentials), clientSecret: undefined, profile: 'permata' }]);
    const result = await runCli(['bank', 'ping'], { GERBANG_DATABASE_URL: store(), GERBANG_BANK_PARTNERS_FILE: file });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('"clientSecret" is required');
    expect(result.stderr).to.contain('"profile" must be one of');
  });
});
