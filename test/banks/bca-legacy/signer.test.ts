import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import {
  BCA_TIMESTAMP_PATTERN,
  bcaTimestamp,
  bodyHash,
  canonicalBody,
  EMPTY_BODY_SHA256,
  parseBcaTimestamp,
  relativeUrl,
  sign,
  stringToSign,
} from '../../../src/banks/bca-legacy/index.js';

/** BCA's published documentation example (bank-apis.md §1): sample values, not credentials. */
const DOC = {
  method: 'POST',
  relativeUrl: '/banking/corporates/transfers',
  accessToken: 'lIWOt2p29grUo59bedBUrBY3pnzqQX544LzYPohcGHOuwn8AUEdUKS',
  apiSecret: '22a2d25e-765d-41e1-8d29-da68dcb5698b',
  timestamp: '2016-02-03T10:00:00.000+07:00',
  body: '{"CorporateID":"BCAAPI2016","SourceAccountNumber":"0201245680","TransactionID":"00000001","TransactionDate":"2016-01-30","ReferenceID":"12345/PO/2016","CurrencyCode":"IDR","Amount":"100000.00","BeneficiaryAccountNumber":"0201245681","Remark1":"Transfer Test","Remark2":"Online Transfer"}',
};
const DOC_SIGNATURE = '69ad66589ade078a30922a0848725cf153aecfcca82eba94e3270285b4a9c604';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('BCA legacy signer', () => {
  describe("when signing BCA's documentation example", () => {
    it('reproduces the documented signature exactly', () => {
      expect(sign(DOC).signature).to.equal(DOC_SIGNATURE);
    });

    it('signs METHOD:RelativeUrl:token:sha256(body without any whitespace):timestamp', () => {
      const bodyHash = sha256(DOC.body.replace('Transfer Test', 'TransferTest').replace('Online Transfer', 'OnlineTransfer'));
      expect(sign(DOC).stringToSign).to.equal(`POST:/banking/corporates/transfers:${DOC.accessToken}:${bodyHash}:${DOC.timestamp}`);
    });

    it('differs for any other secret, token, timestamp or amount', () => {
      expect(sign({ ...DOC, apiSecret: `${DOC.apiSecret}x` }).signature).to.not.equal(DOC_SIGNATURE);
      expect(sign({ ...DOC, accessToken: `${DOC.accessToken}x` }).signature).to.not.equal(DOC_SIGNATURE);
      expect(sign({ ...DOC, timestamp: '2016-02-03T10:00:00.001+07:00' }).signature).to.not.equal(DOC_SIGNATURE);
      expect(sign({ ...DOC, body: DOC.body.replace('100000.00', '100001.00') }).signature).to.not.equal(DOC_SIGNATURE);
    });
  });

  describe('when the body has whitespace', () => {
    it('removes every whitespace character before hashing, inside string values too', () => {
      expect(canonicalBody('{ "a" : "Transfer Test",\n\t"b":1,\r\n"c":"x\u00a0y" }')).to.equal('{"a":"TransferTest","b":1,"c":"xy"}');
    });

    it('gives a pretty-printed body the signature of the compact one', () => {
      const pretty = JSON.stringify(JSON.parse(DOC.body), null, 2);
      expect(sign({ ...DOC, body: pretty }).signature).to.equal(DOC_SIGNATURE);
    });
  });

  describe('when hashing a body', () => {
    it('hashes the canonical body: known answers', () => {
      expect(bodyHash('{"a": "b c"}')).to.equal(sha256('{"a":"bc"}'));
      expect(bodyHash(' \t\n')).to.equal(EMPTY_BODY_SHA256);
      expect(bodyHash('')).to.equal(EMPTY_BODY_SHA256);
    });
  });

  describe('when there is no body (a GET)', () => {
    it('hashes the empty string and upper-cases the method', () => {
      expect(sha256('')).to.equal(EMPTY_BODY_SHA256);
      expect(stringToSign({ ...DOC, method: 'get', body: '' })).to.equal(`GET:/banking/corporates/transfers:${DOC.accessToken}:${EMPTY_BODY_SHA256}:${DOC.timestamp}`);
    });
  });

  describe('when the URL has query parameters', () => {
    it('sorts them by name, whether given in the path or separately', () => {
      expect(relativeUrl('/banking/corporates/transfers/status/00000001', { TransferType: 'BCA', TransactionDate: '2016-01-30' })).to.equal(
        '/banking/corporates/transfers/status/00000001?TransactionDate=2016-01-30&TransferType=BCA',
      );
      expect(relativeUrl('/x?TransferType=BCA&TransactionDate=2016-01-30')).to.equal('/x?TransactionDate=2016-01-30&TransferType=BCA');
      expect(relativeUrl('/x?b=2', { a: '1' })).to.equal('/x?a=1&b=2');
    });

    it('percent-encodes values (space as %20)', () => {
      expect(relativeUrl('/x', { a: 'x y', b: 'a/b&c' })).to.equal('/x?a=x%20y&b=a%2Fb%26c');
    });

    it('orders a repeated name by its values', () => {
      expect(relativeUrl('/x?a=2&a=1&A=3')).to.equal('/x?A=3&a=1&a=2');
      expect(relativeUrl('/x?b=1', { a: 'z', b: '0' })).to.equal('/x?a=z&b=0&b=1');
      // Already in order, they stay so (a sort that only reversed equal names would pass the two above).
      expect(relativeUrl('/x?a=1&a=2&a=3')).to.equal('/x?a=1&a=2&a=3');
    });

    it('reads a query at the very start (an empty path) as a query too', () => {
      expect(relativeUrl('?b=2&a=1')).to.equal('?a=1&b=2');
    });

    it("percent-encodes !'()* too, which encodeURIComponent leaves as they are (RFC 3986)", () => {
      expect(relativeUrl('/x', { "n!'()*": "a!b'c(d)e*f" })).to.equal('/x?n%21%27%28%29%2A=a%21b%27c%28d%29e%2Af');
      expect(relativeUrl('/x', { q: '-_.~' })).to.equal('/x?q=-_.~');
    });

    it('leaves a path without a query as it is', () => {
      expect(relativeUrl('/banking/corporates/transfers')).to.equal('/banking/corporates/transfers');
    });
  });

  describe('when a path or a value has a comma', () => {
    it('encodes it as %2C', () => {
      expect(relativeUrl('/banking/v3/corporates/BCAAPI2016/accounts/0201245680,0201245681')).to.equal(
        '/banking/v3/corporates/BCAAPI2016/accounts/0201245680%2C0201245681',
      );
      expect(relativeUrl('/x', { accounts: '1,2' })).to.equal('/x?accounts=1%2C2');
    });
  });

  describe('when formatting an instant', () => {
    it('writes X-BCA-Timestamp in UTC+7 with milliseconds and +07:00', () => {
      expect(bcaTimestamp(new Date(Date.UTC(2016, 1, 3, 3, 0, 0, 0)))).to.equal('2016-02-03T10:00:00.000+07:00');
      expect(bcaTimestamp(new Date(Date.UTC(2026, 11, 31, 17, 30, 5, 7)))).to.equal('2027-01-01T00:30:05.007+07:00');
    });

    it('gives the same result whatever the machine time zone', () => {
      const signer = resolve(__dirname, '../../../src/banks/bca-legacy/signer.js');
      const time = resolve(__dirname, '../../../src/time/index.js');
      const script = `const s = require(${JSON.stringify(signer)}); const t = require(${JSON.stringify(time)}); const d = new Date(Date.UTC(2016, 1, 3, 3, 0, 0, 0)); process.stdout.write(s.bcaTimestamp(d) + ' ' + t.jakartaDate(d));`;
      for (const TZ of ['America/Los_Angeles', 'Pacific/Kiritimati', 'Asia/Jakarta', 'UTC']) {
        const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, TZ }, encoding: 'utf8' });
        expect(out, TZ).to.equal('2016-02-03T10:00:00.000+07:00 2016-02-03');
      }
    });
  });

  describe('the X-BCA-Timestamp pattern', () => {
    it('matches exactly yyyy-MM-ddTHH:mm:ss.SSS+07:00', () => {
      expect(BCA_TIMESTAMP_PATTERN.test('2016-02-03T10:00:00.000+07:00')).to.equal(true);
      expect(BCA_TIMESTAMP_PATTERN.test('2027-12-31T23:59:59.999+07:00')).to.equal(true);
    });

    // Each a one-character departure from the format, at every field and separator.
    const near = [
      '016-02-03T10:00:00.000+07:00',
      '20016-02-03T10:00:00.000+07:00',
      '2016-2-03T10:00:00.000+07:00',
      '2016-02-3T10:00:00.000+07:00',
      '2016-02-03T1:00:00.000+07:00',
      '2016-02-03T10:0:00.000+07:00',
      '2016-02-03T10:00:0.000+07:00',
      '2016-02-03T10:00:00.00+07:00',
      '2016-02-03T10:00:00.0000+07:00',
      '2016-02-03T10:00:00.000+7:00',
      '2016-02-03T10:00:00.000+07:0',
      '2016-02-03T10:00:00.000+0700',
      '2016-02-03T10:00:00.000-07:00',
      '2016-02-03T10:00:00.000+08:00',
      '2016-02-03T10:00:00.000Z',
      '2016-02-03t10:00:00.000+07:00',
      '2016-02-03 10:00:00.000+07:00',
      '2016/02/03T10:00:00.000+07:00',
      '2016-02-03T10-00-00.000+07:00',
      '2016-02-03T10:00:00,000+07:00',
      '2016-02-03T10:00:00X000+07:00',
      'x2016-02-03T10:00:00.000+07:00',
      '2016-02-03T10:00:00.000+07:00x',
      ' 2016-02-03T10:00:00.000+07:00',
      '2016-02-03T10:00:00.000+07:00\n',
      'abcd-ef-ghTij:kl:mn.opq+07:00',
      '',
    ];
    for (const text of near) {
      it(`does not match ${JSON.stringify(text)}`, () => {
        expect(BCA_TIMESTAMP_PATTERN.test(text)).to.equal(false);
        expect(parseBcaTimestamp(text)).to.equal(null);
      });
    }
  });

  describe('when reading a timestamp', () => {
    it('accepts only the exact format of a real instant', () => {
      expect(parseBcaTimestamp('2016-02-03T10:00:00.000+07:00')).to.equal(Date.UTC(2016, 1, 3, 3));
      expect(parseBcaTimestamp('2016-02-03T03:00:00.000Z')).to.equal(null);
      expect(parseBcaTimestamp('2016-02-03T10:00:00+07:00')).to.equal(null);
      expect(parseBcaTimestamp('2016-02-30T10:00:00.000+07:00')).to.equal(null);
      expect(parseBcaTimestamp('2016-13-03T10:00:00.000+07:00')).to.equal(null);
    });
  });
});
