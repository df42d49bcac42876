import { expect } from 'chai';
import { createHash, createHmac, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
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

describe('gerbang sign snap', () => {
  it('signs with HMAC-SHA512 over the minified body (spaces inside values kept) and the canonical RelativeUrl', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-sign-snap-'));
    const bodyFile = join(dir, 'body.json');
    writeFileSync(bodyFile, '{\n  "partnerReferenceNo": "123",\n  "remark": "Invoice 42  PT A"\n}\n');
    const result = await runCli([
      'sign', 'snap', '--method', 'POST', '--path', '/openapi/v1.0/x y?b=2&a=1,2',
      '--token', 'tok', '--secret', 'sec ret', '--timestamp', '2026-11-25T10:00:00+07:00', '--body-file', bodyFile,
    ]);
    expect(result.code, result.stderr).to.equal(0);
    // Computed here independently: the minified bytes, their sha256, the hand-built string.
    const hash = createHash('sha256').update('{"partnerReferenceNo":"123","remark":"Invoice 42  PT A"}').digest('hex');
    const text = `POST:/openapi/v1.0/x%20y?a=1%2C2&b=2:tok:${hash}:2026-11-25T10:00:00+07:00`;
    expect(JSON.parse(result.stdout)).to.deep.equal({ stringToSign: text, signature: createHmac('sha512', 'sec ret').update(text).digest('base64') });
  });

  it('names a missing flag and exits 2', async () => {
    const result = await runCli(['sign', 'snap', '--method', 'POST', '--path', '/x']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--token is required');
  });
});

describe('gerbang sign snap-token', () => {
  it('signs clientId|timestamp with RSA-SHA256 from the private-key file, verifiable with the public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-sign-snap-token-'));
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const result = await runCli(['sign', 'snap-token', '--client-id', 'client-7', '--timestamp', '2026-11-25T10:00:00+07:00', '--private-key-file', keyFile]);
    expect(result.code, result.stderr).to.equal(0);
    const output = JSON.parse(result.stdout);
    expect(output.stringToSign).to.equal('client-7|2026-11-25T10:00:00+07:00');
    expect(output.signature).to.equal(cryptoSign('sha256', Buffer.from('client-7|2026-11-25T10:00:00+07:00'), privateKey).toString('base64'));
    expect(cryptoVerify('sha256', Buffer.from(output.stringToSign), publicKey, Buffer.from(output.signature, 'base64'))).to.equal(true);
  });

  it('names a key file that is not a private key and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-sign-snap-token-'));
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, 'not a key');
    const result = await runCli(['sign', 'snap-token', '--client-id', 'c', '--timestamp', 't', '--private-key-file', keyFile]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--private-key-file');
  });
});

describe('gerbang sign request', () => {
  it("reproduces the Dynamics 365 guide's worked example of X-Gerbang-Signature, from the body file's bytes", async () => {
    const bodyFile = join(mkdtempSync(join(tmpdir(), 'gerbang-sign-')), 'body.json');
    writeFileSync(bodyFile, '{"transactionId":"INV-FO-000123","amount":"2475000.00"}');
    const result = await runCli([
      'sign', 'request', '--method', 'POST', '--path', '/v1/transfers',
      '--key', 'gbsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '--timestamp', '2026-11-26T09:15:00.000+07:00', '--body-file', bodyFile,
    ]);
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(result.stdout)).to.deep.equal({
      stringToSign: 'POST\n/v1/transfers\n2026-11-26T09:15:00.000+07:00\nb41359908f258d30b790a7f0eea66eab099feed5017eacfc86bf35df64873fd3',
      signature: '6L9fAi8+X8OW5ozizrOqvn7zOe+v3tl70BusnhX7iYw=',
    });
  });

  it('signs a GET with the hash of nothing, and names a timestamp without offset (exit 2)', async () => {
    const get = await runCli(['sign', 'request', '--method', 'GET', '--path', '/v1/transfers/INV-FO-000123', '--key', 'k', '--timestamp', '2026-11-26T09:15:00Z']);
    expect(get.code, get.stderr).to.equal(0);
    expect(JSON.parse(get.stdout).stringToSign).to.equal('GET\n/v1/transfers/INV-FO-000123\n2026-11-26T09:15:00Z\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const bad = await runCli(['sign', 'request', '--method', 'GET', '--path', '/v1/transfers/x', '--key', 'k', '--timestamp', '2026-11-26 09:15:00']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('--timestamp must be ISO-8601');
  });
});
