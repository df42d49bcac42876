import { expect } from 'chai';
import { createHash, createHmac, createVerify, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import {
  EMPTY_BODY_SHA256,
  bodyHash,
  encodeComponent,
  minify,
  parseSnapTimestamp,
  relativeUrl,
  signService,
  signToken,
  snapTimestamp,
  verifyTokenSignature,
} from '../../../src/banks/snap/index.js';
import { notificationStringToSign, verifyNotificationSignature } from '../../../src/banks/snap/signer.js';

describe('SNAP signer', () => {
  describe('service signature (HMAC-SHA512)', () => {
    it('signs METHOD:RelativeUrl:token:sha256(minified body):timestamp, keeping spaces inside values', () => {
      const body = '{"partnerReferenceNo":"2020102900000000000001","amount":{"value":"12345678.00","currency":"IDR"},"remark":"Invoice 42 for  PT A"}';
      const secret = 'my client secret';
      const timestamp = '2026-11-25T10:00:00+07:00';
      // Built by hand, independently of the signer: the hash of exactly the bytes sent.
      const hash = createHash('sha256').update(body, 'utf8').digest('hex');
      const expectedText = `POST:/openapi/v1.0/transfer-intrabank:tok123:${hash}:${timestamp}`;
      const expectedSignature = createHmac('sha512', secret).update(expectedText, 'utf8').digest('base64');

      const result = signService({ method: 'post', relativeUrl: relativeUrl('/openapi/v1.0/transfer-intrabank'), accessToken: 'tok123', body, timestamp, secret });
      expect(result.stringToSign).to.equal(expectedText);
      expect(result.signature).to.equal(expectedSignature);
    });

    it('hashes a pretty-printed body as its minified form (spaces inside values kept, outside removed)', () => {
      const pretty = '{\n  "remark" : "a  b\\"c d",\n\t"value": [1, 2]\n}';
      expect(minify(pretty)).to.equal('{"remark":"a  b\\"c d","value":[1,2]}');
      const common = { method: 'POST', relativeUrl: '/x', accessToken: 't', timestamp: '2026-11-25T10:00:00+07:00', secret: 's' };
      expect(signService({ ...common, body: pretty }).signature).to.equal(signService({ ...common, body: '{"remark":"a  b\\"c d","value":[1,2]}' }).signature);
      // …and NOT as the legacy rule would (every space removed).
      expect(signService({ ...common, body: pretty }).signature).not.to.equal(signService({ ...common, body: '{"remark":"ab\\"cd","value":[1,2]}' }).signature);
    });

    it('hashes the empty string for a call without a body', () => {
      const result = signService({ method: 'GET', relativeUrl: '/a', accessToken: 't', body: '', timestamp: 'ts', secret: 's' });
      expect(EMPTY_BODY_SHA256).to.equal(createHash('sha256').update('').digest('hex'));
      expect(result.stringToSign).to.equal(`GET:/a:t:${EMPTY_BODY_SHA256}:ts`);
      expect(result.signature).to.equal(createHmac('sha512', 's').update(`GET:/a:t:${EMPTY_BODY_SHA256}:ts`).digest('base64'));
    });
  });

  describe('minified body', () => {
    it('removes spaces, tabs, carriage returns and newlines outside strings only', () => {
      expect(minify('{ "a" :\t[ 1 ,\r\n 2 ] }')).to.equal('{"a":[1,2]}');
      expect(minify('{"a":" \t\r\n x "}')).to.equal('{"a":" \t\r\n x "}');
      // A non-breaking space is not JSON whitespace: it stays, inside or outside strings.
      expect(minify('{"a":\u00a01}')).to.equal('{"a":\u00a01}');
    });

    it('keeps an escaped quote inside a string, and a string that ends the text open', () => {
      expect(minify('{"a":"x\\" y"}')).to.equal('{"a":"x\\" y"}');
      expect(minify('{"a":"x\\\\" , "b" : 1}')).to.equal('{"a":"x\\\\","b":1}');
      expect(minify('"a b\\')).to.equal('"a b\\');
      expect(minify('"a b')).to.equal('"a b');
    });

    it('hashes the minified text, lower-case hex sha256', () => {
      expect(bodyHash(' { "a" : "b c" } ')).to.equal(createHash('sha256').update('{"a":"b c"}').digest('hex'));
      expect(bodyHash('')).to.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      expect(bodyHash(' \n')).to.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    });
  });

  describe('RelativeUrl', () => {
    it("percent-encodes !'()* too, which encodeURIComponent leaves alone", () => {
      expect(encodeComponent("a!b'c(d)e*f g~h-i_j.k")).to.equal('a%21b%27c%28d%29e%2Af%20g~h-i_j.k');
      expect(relativeUrl("/p/(x)!", { "n*": "v'" })).to.equal('/p/%28x%29%21?n%2A=v%27');
    });

    it('reads a received query: a name without a value is an empty value, empty pairs are dropped, + stays a plus', () => {
      expect(relativeUrl('/p?flag&&b=1&a=x+y&c=')).to.equal('/p?a=x%2By&b=1&c=&flag=');
      expect(relativeUrl('/p?')).to.equal('/p');
      expect(relativeUrl('/p?a=b=c')).to.equal('/p?a=b%3Dc');
    });

    it('takes text that is not valid percent-encoding literally, in the path and the query', () => {
      expect(relativeUrl('/p/100%/x?q=%zz&%E0=1')).to.equal('/p/100%25/x?%25E0=1&q=%25zz');
    });

    it('reads a query with an empty path and a parameter with an empty name', () => {
      expect(relativeUrl('?b=2&a=1')).to.equal('?a=1&b=2');
      expect(relativeUrl('/p?=v&a')).to.equal('/p?=v&a=');
    });

    it('adds parameters to those already on the path and sorts them all together', () => {
      expect(relativeUrl('/p?b=2', { a: '1', c: '3' })).to.equal('/p?a=1&b=2&c=3');
      expect(relativeUrl('/p', {})).to.equal('/p');
    });

    it('sorts in UTF-8 byte order, not by UTF-16 code units', () => {
      // U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80) by bytes; by UTF-16 units (FF5E > D83D) after.
      expect(relativeUrl('/p', { '\u{1F600}': '1', '\uFF5E': '2' })).to.equal('/p?%EF%BD%9E=2&%F0%9F%98%80=1');
      expect(relativeUrl('/p', { a: '\u{1F600}' , b: '0' }).split('?')[1]).to.equal('a=%F0%9F%98%80&b=0');
      expect(relativeUrl('/p?a=\u{1F600}&a=\uFF5E')).to.equal('/p?a=%EF%BD%9E&a=%F0%9F%98%80');
    });


    it('percent-encodes RFC 3986 with upper-case hex, space %20, comma encoded, and sorts the query by name then value', () => {
      const url = relativeUrl('/openapi/v1.0/accounts/0201 245680,0201245681', { b: 'x y', a: '2', 'a ': '0' });
      expect(url).to.equal('/openapi/v1.0/accounts/0201%20245680%2C0201245681?a=2&a%20=0&b=x%20y');
    });

    it('sorts repeated names by value and keeps / ? = & as separators', () => {
      expect(relativeUrl('/p?z=1&a=b&a=a*')).to.equal('/p?a=a%2A&a=b&z=1');
    });

    it('is idempotent: an already-encoded URL (what a server receives) canonicalises to itself', () => {
      const once = relativeUrl('/x/a b', { q: 'ä,é ~' });
      expect(once).to.equal('/x/a%20b?q=%C3%A4%2C%C3%A9%20~');
      expect(relativeUrl(once)).to.equal(once);
    });
  });

  describe('B2B token signature (RSA-SHA256)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

    it('signs clientId|X-TIMESTAMP with the private key, verifiable with the registered public key', () => {
      const timestamp = '2026-11-25T10:00:00+07:00';
      const result = signToken({ clientId: 'client-1', timestamp, privateKey });
      expect(result.stringToSign).to.equal('client-1|2026-11-25T10:00:00+07:00');
      // PKCS#1 v1.5 is deterministic: the same bytes as node:crypto signing the hand-built text.
      expect(result.signature).to.equal(rsaSign('sha256', Buffer.from('client-1|2026-11-25T10:00:00+07:00'), privateKey).toString('base64'));
      expect(createVerify('RSA-SHA256').update('client-1|2026-11-25T10:00:00+07:00').verify(publicKey, result.signature, 'base64')).to.equal(true);
      expect(verifyTokenSignature({ clientId: 'client-1', timestamp, signature: result.signature, publicKey })).to.equal(true);
    });

    it('does not verify with another timestamp, another client or another key', () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const { signature } = signToken({ clientId: 'c', timestamp: '2026-11-25T10:00:00+07:00', privateKey });
      expect(verifyTokenSignature({ clientId: 'c', timestamp: '2026-11-25T10:00:01+07:00', signature, publicKey })).to.equal(false);
      expect(verifyTokenSignature({ clientId: 'd', timestamp: '2026-11-25T10:00:00+07:00', signature, publicKey })).to.equal(false);
      expect(verifyTokenSignature({ clientId: 'c', timestamp: '2026-11-25T10:00:00+07:00', signature, publicKey: other.publicKey })).to.equal(false);
      expect(verifyTokenSignature({ clientId: 'c', timestamp: '2026-11-25T10:00:00+07:00', signature: 'not base64!', publicKey })).to.equal(false);
    });
  });

  describe('bank notification signature (RSA-SHA256, the bank\'s key)', () => {
    const bank = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const notification = {
      method: 'post',
      relativeUrl: '/openapi/v1.0/transfer-rtgs/notify',
      body: '{ "originalPartnerReferenceNo" : "2020102900000000000001", "latestTransactionStatus": "00" }',
      timestamp: '2026-11-25T10:00:00+07:00',
    };
    // Built by hand from the SNAP rule: METHOD:RelativeUrl:lowerhex(sha256(minified body)):X-TIMESTAMP.
    const text = `POST:/openapi/v1.0/transfer-rtgs/notify:${createHash('sha256').update('{"originalPartnerReferenceNo":"2020102900000000000001","latestTransactionStatus":"00"}').digest('hex')}:2026-11-25T10:00:00+07:00`;
    const signature = rsaSign('sha256', Buffer.from(text), bank.privateKey).toString('base64');

    it('is checked over METHOD:RelativeUrl:sha256(minified body):X-TIMESTAMP', () => {
      expect(notificationStringToSign(notification)).to.equal(text);
      expect(verifyNotificationSignature({ ...notification, signature, publicKey: bank.publicKey })).to.equal(true);
    });

    it('fails for another body, path, method or time, another key, or a signature that is not one', () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const check = (change: Partial<typeof notification> & { signature?: string; publicKey?: typeof bank.publicKey }) =>
        verifyNotificationSignature({ ...notification, signature, publicKey: bank.publicKey, ...change });
      expect(check({ body: notification.body.replace('"00"', '"06"') })).to.equal(false);
      expect(check({ relativeUrl: '/openapi/v1.0/transfer-skn/notify' })).to.equal(false);
      expect(check({ method: 'PUT' })).to.equal(false);
      expect(check({ timestamp: '2026-11-25T10:00:01+07:00' })).to.equal(false);
      expect(check({ publicKey: other.publicKey })).to.equal(false);
      expect(check({ signature: '' })).to.equal(false);
      expect(check({ publicKey: 'not a key' as unknown as typeof bank.publicKey })).to.equal(false);
    });
  });

  describe('X-TIMESTAMP', () => {
    const instant = Date.UTC(2026, 10, 25, 3, 4, 5, 678);
    it('is written in UTC+7, with or without milliseconds as the bank wants', () => {
      expect(snapTimestamp(instant, false)).to.equal('2026-11-25T10:04:05+07:00');
      expect(snapTimestamp(instant, true)).to.equal('2026-11-25T10:04:05.678+07:00');
    });
    it('is parsed strictly in the expected format only', () => {
      expect(parseSnapTimestamp('2026-11-25T10:04:05+07:00', false)).to.equal(instant - 678);
      expect(parseSnapTimestamp('2026-11-25T10:04:05.678+07:00', true)).to.equal(instant);
      expect(parseSnapTimestamp('2026-11-25T10:04:05.678+07:00', false)).to.equal(null);
      expect(parseSnapTimestamp('2026-11-25T10:04:05+07:00', true)).to.equal(null);
      expect(parseSnapTimestamp('2026-11-25T03:04:05Z', false)).to.equal(null);
      expect(parseSnapTimestamp('2026-02-30T10:04:05+07:00', false)).to.equal(null);
    });
  });
});
