import { expect } from 'chai';
import { bcaTimestamp, canonicalBody, EMPTY_BODY_SHA256, relativeUrl, signBcaLegacy, stringToSign } from '../../../src/banks/bca-legacy/index.js';

/** BCA's published documentation example (bank-apis.md §1): sample values, not credentials. */
const DOC = {
  method: 'POST',
  relativeUrl: '/banking/corporates/transfers',
  accessToken: 'lIWOt2p29grUo59bedBUrBY3pnzqQX544LzYPohcGHOuwn8AUEdUKS',
  apiSecret: '22a2d25e-765d-41e1-8d29-da68dcb5698b',
  timestamp: '2016-02-03T10:00:00.000+07:00',
  body: '{"CorporateID":"BCAAPI2016","SourceAccountNumber":"0201245680","TransactionID":"00000001","TransactionDate":"2016-01-30","ReferenceID":"12345/PO/2016","CurrencyCode":"IDR","Amount":"100000.00","BeneficiaryAccountNumber":"0201245681","Remark1":"Transfer Test","Remark2":"Online Transfer"}',
};

describe('BCA legacy signer', () => {
  it('reproduces the signature of BCA documentation example', () => {
    expect(signBcaLegacy(DOC).signature).to.equal('69ad66589ade078a30922a0848725cf153aecfcca82eba94e3270285b4a9c604');
  });

  describe('when the body has whitespace', () => {
    it('removes every whitespace character, inside string values too, before hashing', () => {
      expect(canonicalBody('{ "a" : "Transfer Test",\n\t"b":1 }')).to.equal('{"a":"TransferTest","b":1}');
      const pretty = JSON.stringify(JSON.parse(DOC.body), null, 2);
      expect(signBcaLegacy({ ...DOC, body: pretty }).signature).to.equal(signBcaLegacy(DOC).signature);
    });
  });

  describe('when there is no body (GET)', () => {
    it('hashes the empty string', () => {
      expect(stringToSign({ ...DOC, method: 'get', body: '' })).to.equal(
        `GET:/banking/corporates/transfers:${DOC.accessToken}:${EMPTY_BODY_SHA256}:${DOC.timestamp}`,
      );
    });
  });

  describe('relativeUrl', () => {
    it('sorts query parameters by name and encodes commas as %2C', () => {
      expect(relativeUrl('/banking/v3/corporates/BCAAPI2016/accounts/0201245680,0201245681')).to.equal(
        '/banking/v3/corporates/BCAAPI2016/accounts/0201245680%2C0201245681',
      );
      expect(relativeUrl('/x?TransferType=BCA&TransactionDate=2016-01-30')).to.equal('/x?TransactionDate=2016-01-30&TransferType=BCA');
      expect(relativeUrl('/x', { b: '1,2', a: 'x y' })).to.equal('/x?a=x%20y&b=1%2C2');
    });
  });

  describe('bcaTimestamp', () => {
    it('writes the instant in UTC+7 with milliseconds, whatever the machine time zone', () => {
      expect(bcaTimestamp(Date.UTC(2016, 1, 3, 3, 0, 0, 0))).to.equal('2016-02-03T10:00:00.000+07:00');
      expect(bcaTimestamp(Date.UTC(2026, 11, 31, 17, 30, 5, 7))).to.equal('2027-01-01T00:30:05.007+07:00');
    });
  });
});
