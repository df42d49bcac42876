import { expect } from 'chai';
import { createHash, createHmac, createVerify, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import {
  EMPTY_BODY_SHA256,
  minify,
  parseSnapTimestamp,
  relativeUrl,
  signService,
  signToken,
  snapTimestamp,
  verifyTokenSignature,
} from '../../../src/banks/snap/index.js';

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

  describe('RelativeUrl', () => {
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
