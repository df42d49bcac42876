import { expect } from 'chai';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { parseSignature, parseTimestamp, requestSignature } from '../../src/pipeline/request-signature/index.js';

describe('request signature: X-Gerbang-Timestamp', () => {
  it('reads ISO-8601 with seconds and any offset as the same instant', () => {
    const instant = Date.UTC(2026, 10, 26, 2, 15, 0, 123);
    for (const text of ['2026-11-26T02:15:00.123Z', '2026-11-26T09:15:00.123+07:00', '2026-11-25T21:15:00.123-05:00', '2026-11-26T02:15:00.1234567Z', '2026-11-26T02:15:00.123456789+00:00']) {
      expect(parseTimestamp(text), text).to.equal(instant);
    }
    expect(parseTimestamp('2026-11-26T02:15:00Z')).to.equal(Date.UTC(2026, 10, 26, 2, 15, 0));
    expect(parseTimestamp('2026-11-26T02:15:00.5Z')).to.equal(Date.UTC(2026, 10, 26, 2, 15, 0, 500));
  });

  it('refuses what is not one exact instant: no offset, no seconds, epoch, impossible dates and times, spaces, lower-case z', () => {
    for (const text of [
      '2026-11-26T02:15:00', '2026-11-26T02:15Z', '1795630500', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-26T24:00:00Z',
      '2026-11-26T23:59:60Z', '2026-11-26T02:15:00+24:00', '2026-11-26T02:15:00+07:60', '2026-11-26 02:15:00Z', '2026-11-26T02:15:00z',
      ' 2026-11-26T02:15:00Z', '2026-11-26T02:15:00.Z', '2026-11-26T02:15:00.1234567890Z', '',
    ]) {
      expect(parseTimestamp(text), JSON.stringify(text)).to.equal(null);
    }
  });
});

describe('request signature: X-Gerbang-Signature', () => {
  it('is base64 HMAC-SHA256 over METHOD, path with query, timestamp and body SHA-256, one per line', () => {
    const key = `gbsk_${randomBytes(32).toString('base64url')}`;
    const parts = { method: 'post', pathWithQuery: '/v1/transfers?x=1', timestamp: '2026-11-26T09:15:00+07:00', body: Buffer.from('{"a":"é"}', 'utf8') };
    const { stringToSign, signature } = requestSignature(key, parts);
    const hash = createHash('sha256').update(parts.body).digest('hex');
    expect(stringToSign).to.equal(`POST\n/v1/transfers?x=1\n2026-11-26T09:15:00+07:00\n${hash}`);
    expect(signature).to.equal(createHmac('sha256', Buffer.from(key, 'utf8')).update(stringToSign).digest('base64'));
    expect(requestSignature(key, { ...parts, body: '{"a":"é"}' }).signature, 'a string body is its UTF-8 bytes').to.equal(signature);
  });

  it('accepts only the canonical base64 of 32 bytes', () => {
    const bytes = randomBytes(32);
    const canonical = bytes.toString('base64');
    expect(parseSignature(canonical)!.equals(bytes)).to.equal(true);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // The 43rd digit carries 4 bits of the last byte and 2 spare bits; every other value of the spare bits is refused.
    const base = alphabet.indexOf(canonical[42]) & ~3;
    for (let spare = 0; spare < 4; spare += 1) {
      const text = `${canonical.slice(0, 42)}${alphabet[base | spare]}=`;
      expect(parseSignature(text) !== null, text).to.equal(text === canonical);
    }
    for (const text of [bytes.toString('hex'), bytes.toString('base64url'), canonical.slice(0, -1), `${canonical}=`, randomBytes(48).toString('base64'), ` ${canonical}`]) {
      expect(parseSignature(text), text).to.equal(null);
    }
  });
});
