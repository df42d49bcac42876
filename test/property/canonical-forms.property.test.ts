import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalBody, relativeUrl, sign } from '../../src/banks/bca-legacy/index.js';
import { problemDocument } from '../../src/http/problem-details.js';

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
