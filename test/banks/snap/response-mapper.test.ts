import { expect } from 'chai';
import { classifySnapCode, mapStatusAnswer, mapTransferAnswer } from '../../../src/banks/snap/index.js';

describe('SNAP response codes (bank-apis.md §3)', () => {
  const table: [code: string, transfer: string, inquiry: string][] = [
    ['2001700', 'success', 'success'],
    ['2021700', 'in-doubt', 'in-doubt'],
    ['2001800', 'in-doubt', 'in-doubt'], // another service's success says nothing about this call
    ['4001701', 'refused', 'refused'],
    ['4001702', 'refused', 'refused'],
    ['4011700', 'unavailable', 'unavailable'],
    ['4011701', 'reauth', 'reauth'],
    ['4031714', 'refused', 'refused'],
    ['4041711', 'refused', 'refused'],
    ['4091700', 'in-doubt', 'unavailable'],
    ['4291700', 'unavailable', 'unavailable'],
    ['5001700', 'in-doubt', 'in-doubt'],
    ['5001701', 'in-doubt', 'in-doubt'],
    ['5041700', 'in-doubt', 'in-doubt'],
  ];
  for (const [code, transfer, inquiry] of table) {
    it(`${code}: ${transfer} for a transfer, ${inquiry} for a call that moves no money`, () => {
      expect(classifySnapCode(code, '17', true)).to.equal(transfer);
      expect(classifySnapCode(code, '17', false)).to.equal(inquiry);
    });
  }

  it('never reads SUCCESS from an answer about another partnerReferenceNo, or from an unreadable one', () => {
    const other = mapTransferAnswer({ statusCode: 200, body: JSON.stringify({ responseCode: '2001700', responseMessage: 'Successful', partnerReferenceNo: '999' }) }, { serviceCode: '17', partnerReferenceNo: '123' });
    expect(other).to.deep.include({ kind: 'outcome' });
    expect((other as { outcome: { status: string } }).outcome.status).to.equal('UNKNOWN');
    const garbage = mapTransferAnswer({ statusCode: 200, body: '<html>ok</html>' }, { serviceCode: '17', partnerReferenceNo: '123' });
    expect((garbage as { outcome: { status: string } }).outcome.status).to.equal('UNKNOWN');
  });

  it('reads latestTransactionStatus 00/03/06/07 as SUCCESS/PENDING/FAILED/NOT_FOUND', () => {
    const status = (latest: string) => {
      const verdict = mapStatusAnswer({ statusCode: 200, body: JSON.stringify({ responseCode: '2003600', responseMessage: 'Successful', latestTransactionStatus: latest }) }, { serviceCode: '36', partnerReferenceNo: '1' });
      return (verdict as { outcome: { status: string } }).outcome.status;
    };
    expect(['00', '03', '06', '07', '99'].map(status)).to.deep.equal(['SUCCESS', 'PENDING', 'FAILED', 'NOT_FOUND', 'UNKNOWN']);
  });

  const statusOf = (verdict: unknown) => (verdict as { outcome: { status: string } }).outcome.status;

  it('reads an HTTP status that contradicts the responseCode (HTTP 500 with 2001700, HTTP 200 with 4031714) as in doubt, never SUCCESS or FAILED', () => {
    const answer = (statusCode: number, responseCode: string) => ({ statusCode, body: JSON.stringify({ responseCode, responseMessage: 'x', partnerReferenceNo: '123' }) });
    expect(statusOf(mapTransferAnswer(answer(500, '2001700'), { serviceCode: '17', partnerReferenceNo: '123' }))).to.equal('UNKNOWN');
    expect(statusOf(mapTransferAnswer(answer(200, '4031714'), { serviceCode: '17', partnerReferenceNo: '123' }))).to.equal('UNKNOWN');
    expect(statusOf(mapTransferAnswer(answer(200, '2001700'), { serviceCode: '17', partnerReferenceNo: '123' }))).to.equal('SUCCESS');
    const status = { statusCode: 500, body: JSON.stringify({ responseCode: '2003600', responseMessage: 'Successful', latestTransactionStatus: '00' }) };
    expect(statusOf(mapStatusAnswer(status, { serviceCode: '36', partnerReferenceNo: '1' }))).to.equal('UNKNOWN');
  });

  it('keeps RTGS and SKN PENDING after acceptance (transactionStatus 00, 03 or none); only 06 is FAILED', () => {
    const answer = (transactionStatus?: string) => ({
      statusCode: 200,
      body: JSON.stringify({ responseCode: '2002200', responseMessage: 'Successful', partnerReferenceNo: '123', ...(transactionStatus ? { transactionStatus } : {}) }),
    });
    const rtgs = (ts?: string) => statusOf(mapTransferAnswer(answer(ts), { serviceCode: '22', partnerReferenceNo: '123', settlesLater: true }));
    expect([rtgs('00'), rtgs('03'), rtgs(undefined), rtgs('06')]).to.deep.equal(['PENDING', 'PENDING', 'PENDING', 'FAILED']);
  });

  it('reads a status answer without latestTransactionStatus as PENDING, never SUCCESS', () => {
    const verdict = mapStatusAnswer({ statusCode: 200, body: JSON.stringify({ responseCode: '2003600', responseMessage: 'Successful' }) }, { serviceCode: '36', partnerReferenceNo: '1' });
    expect(statusOf(verdict)).to.equal('PENDING');
  });
});
