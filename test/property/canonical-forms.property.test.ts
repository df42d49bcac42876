import { expect } from 'chai';
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { canonicalBody, relativeUrl, sign } from '../../src/banks/bca-legacy/index.js';
import { problemDocument } from '../../src/http/problem-details.js';
import { wellFormed } from '../../src/store/repositories/row-values.js';

describe('BCA body canonicaliser (property)', () => {
  it('leaves no whitespace and is idempotent', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const canonical = canonicalBody(text);
        expect(canonical).to.not.match(/\s/);
        expect(canonicalBody(canonical)).to.equal(canonical);
      }),
    );
  });

  it('signs a JSON body the same however it is indented', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 4 }), (value, indent) => {
        const input = { method: 'POST', relativeUrl: '/x', accessToken: 't', timestamp: '2016-02-03T10:00:00.000+07:00', apiSecret: 's' };
        const compact = sign({ ...input, body: JSON.stringify(value) ?? '' });
        const pretty = sign({ ...input, body: JSON.stringify(value, null, indent) ?? '' });
        expect(pretty.signature).to.equal(compact.signature);
      }),
    );
  });
});

describe('BCA relative URL (property)', () => {
  it('does not depend on the order the query parameters come in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), fc.string()), { selector: ([name]) => name, maxLength: 6 }), (params) => {
        const forward = relativeUrl('/p', Object.fromEntries(params));
        const backward = relativeUrl('/p', Object.fromEntries([...params].reverse()));
        expect(backward).to.equal(forward);
        expect(forward).to.not.match(/[ ,]/);
      }),
    );
  });
});

describe('Problem documents (property)', () => {
  it('keep their standard members whatever extensions are added', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (extensions, detail) => {
        const doc = problemDocument({ code: 'VALIDATION_FAILED', status: 400, detail, instance: '/v1/x', requestId: 'r-1', extensions });
        expect(doc).to.include({ status: 400, code: 'VALIDATION_FAILED', detail, instance: '/v1/x', requestId: 'r-1', title: 'Validation failed' });
        expect(doc.type).to.equal('urn:gerbang:problem:validation-failed');
        expect(() => JSON.stringify(doc)).to.not.throw();
      }),
    );
  });
});

/**
 * Whitespace as ECMAScript's \s defines it (WhiteSpace and LineTerminator), listed code point by
 * code point so the reference below does not lean on the regular expression under test.
 */
const WHITESPACE = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029,
  0x202f, 0x205f, 0x3000, 0xfeff,
].map((code) => String.fromCharCode(code));

/** Text rich in whitespace of every kind, mixed with ordinary characters and JSON punctuation. */
const spacedText = fc
  .array(fc.oneof(fc.constantFrom(...WHITESPACE), fc.constantFrom('a', 'Z', '0', '9', '"', ':', ',', '{', '}', '/', '-', '.', 'é'), fc.string({ maxLength: 3 })), { maxLength: 40 })
  .map((parts) => parts.join(''));

/** Canon(body) by the letter of BCA's rule: every whitespace character removed, inside strings too. */
function referenceCanon(body: string): string {
  return [...body].filter((ch) => !WHITESPACE.includes(ch)).join('');
}

describe('BCA body canonicaliser against an independent reference (property)', () => {
  it('removes every kind of whitespace, inside and outside string values, and nothing else', () => {
    fc.assert(
      fc.property(spacedText, (text) => {
        expect(canonicalBody(text)).to.equal(referenceCanon(text));
      }),
      { numRuns: 500 },
    );
  });

  it('signs a body with whitespace inside its values as HMAC-SHA256 over the reference canon', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('Remark1', 'Remark2', 'ReferenceID', 'Amount'), spacedText, { minKeys: 1 }), (fields) => {
        const body = JSON.stringify(fields);
        const input = { method: 'POST', relativeUrl: '/banking/corporates/transfers', accessToken: 'tok', timestamp: '2016-02-03T10:00:00.000+07:00', apiSecret: 'secret' };
        const stringToSign = ['POST', input.relativeUrl, 'tok', createHash('sha256').update(referenceCanon(body)).digest('hex'), input.timestamp].join(':');
        expect(sign({ ...input, body }).signature).to.equal(createHmac('sha256', 'secret').update(stringToSign).digest('hex'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('wellFormed, the form a utf8mb4 column gives back (property)', () => {
  it('is what a round trip through UTF-8 bytes gives, lone surrogates included', () => {
    // Strings of arbitrary UTF-16 code units: lone high and low surrogates, pairs, ASCII, NUL.
    const units = fc.array(fc.oneof(fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0, max: 0xffff })), { maxLength: 40 });
    fc.assert(
      fc.property(units, (codes) => {
        const text = String.fromCharCode(...codes);
        expect(wellFormed(text)).to.equal(Buffer.from(text, 'utf8').toString('utf8'));
      }),
      { numRuns: 2000 },
    );
    expect(wellFormed('a\ud800b\udc00\ud83d\ude00')).to.equal('a\ufffdb\ufffd\ud83d\ude00');
  });
});
