import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

describe('gerbang sign bca-legacy', () => {
  it('reproduces the documentation example of bank-apis.md', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-sign-'));
    const bodyFile = join(dir, 'body.json');
    writeFileSync(
      bodyFile,
      '{"CorporateID":"BCAAPI2016","SourceAccountNumber":"0201245680","TransactionID":"00000001","TransactionDate":"2016-01-30","ReferenceID":"12345/PO/2016","CurrencyCode":"IDR","Amount":"100000.00","BeneficiaryAccountNumber":"0201245681","Remark1":"Transfer Test","Remark2":"Online Transfer"}',
    );
    const result = await runCli([
      'sign', 'bca-legacy',
      '--method', 'POST',
      '--path', '/banking/corporates/transfers',
      '--token', 'lIWOt2p29grUo59bedBUrBY3pnzqQX544LzYPohcGHOuwn8AUEdUKS',
      '--secret', '22a2d25e-765d-41e1-8d29-da68dcb5698b',
      '--timestamp', '2016-02-03T10:00:00.000+07:00',
      '--body-file', bodyFile,
    ]);
    expect(result.code, result.stderr).to.equal(0);
    const output = JSON.parse(result.stdout);
    expect(output.signature).to.equal('69ad66589ade078a30922a0848725cf153aecfcca82eba94e3270285b4a9c604');
    expect(output.stringToSign).to.match(/^POST:\/banking\/corporates\/transfers:lIWOt2p29grUo59bedBUrBY3pnzqQX544LzYPohcGHOuwn8AUEdUKS:[0-9a-f]{64}:2016-02-03T10:00:00\.000\+07:00$/);
  });

  it('signs a GET with the hash of the empty body and a sorted query', async () => {
    const result = await runCli([
      'sign', 'bca-legacy', '--method', 'GET',
      '--path', '/banking/corporates/transfers/status/00000001?TransferType=BCA&TransactionDate=2016-01-30',
      '--token', 't', '--secret', 's', '--timestamp', '2016-02-03T10:00:00.000+07:00',
    ]);
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout).stringToSign).to.equal(
      'GET:/banking/corporates/transfers/status/00000001?TransactionDate=2016-01-30&TransferType=BCA:t:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855:2016-02-03T10:00:00.000+07:00',
    );
  });

  it('names a missing flag and exits 2', async () => {
    const result = await runCli(['sign', 'bca-legacy', '--method', 'POST']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--path is required');
  });
});
