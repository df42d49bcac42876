import { expect } from 'chai';
import { jakartaDate, jakartaDateOf, jakartaDay, jakartaDayStart, jakartaTimestamp } from '../../src/time/index.js';

describe('Jakarta time (UTC+7)', () => {
  it('dates a transaction in UTC+7, so 17:00 UTC is already the next day', () => {
    expect(jakartaDate(Date.UTC(2026, 10, 24, 16, 59, 59))).to.equal('2026-11-24');
    expect(jakartaDate(Date.UTC(2026, 10, 24, 17, 0, 0))).to.equal('2026-11-25');
  });

  it('writes timestamps with or without milliseconds', () => {
    expect(jakartaTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).to.equal('2026-01-02T10:04:05.006+07:00');
    expect(jakartaTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 6), false)).to.equal('2026-01-02T10:04:05+07:00');
  });

  it('numbers Jakarta days, each starting at midnight UTC+7 (17:00 UTC the day before)', () => {
    const last = Date.UTC(2026, 10, 24, 16, 59, 59, 999);
    const first = Date.UTC(2026, 10, 24, 17, 0, 0, 0);
    expect(jakartaDay(first)).to.equal(jakartaDay(last) + 1);
    expect(jakartaDayStart(jakartaDay(first))).to.equal(first);
    expect(jakartaDayStart(jakartaDay(last))).to.equal(first - 86_400_000);
    expect(jakartaDate(jakartaDayStart(jakartaDay(first)))).to.equal('2026-11-25');
  });

  it('dates each instant of a run by its own day: the same day, the day after, back, a Date, an invalid instant', () => {
    const evening = Date.UTC(2026, 10, 24, 16, 59, 59, 999);
    const samples: [Date | number, string][] = [
      [evening, '2026-11-24'],
      [evening - 3_600_000, '2026-11-24'],
      [evening + 1, '2026-11-25'],
      [new Date(evening), '2026-11-24'],
      [Date.UTC(2025, 1, 28, 17), '2025-03-01'],
      [evening + 1 + 86_400_000, '2026-11-26'],
      [Number.NaN, 'NaN-NaN-NaN'],
      [evening, '2026-11-24'],
      [Number.POSITIVE_INFINITY, 'NaN-NaN-NaN'],
      [Number.POSITIVE_INFINITY, 'NaN-NaN-NaN'],
      [new Date(evening + 1), '2026-11-25'],
    ];
    expect(samples.map(([instant]) => jakartaDate(instant))).to.deep.equal(samples.map(([, date]) => date));
  });

  describe('jakartaDateOf()', () => {
    it('dates a time written with any offset by its day in UTC+7 (a bank writing UTC cannot move a line to the day before), a date or a time without an offset as Jakarta\'s own', () => {
      const samples: [string, string][] = [
        ['2026-11-21T00:30:00+07:00', '2026-11-21'],
        ['2026-11-20T17:30:00Z', '2026-11-21'],
        ['2026-11-20T17:30:00.123Z', '2026-11-21'],
        ['2026-11-20T12:30:00-0500', '2026-11-21'],
        ['2026-11-21T23:30:00+08:00', '2026-11-21'],
        ['2026-11-21T16:59:59Z', '2026-11-21'],
        ['2026-11-21', '2026-11-21'],
        ['2026-11-21T23:59:59', '2026-11-21'],
      ];
      expect(samples.map(([text]) => jakartaDateOf(text))).to.deep.equal(samples.map(([, date]) => date));
    });

    it('reads nothing from text that names no real day or time', () => {
      for (const text of ['2026-02-30', '2026-13-01T00:00:00Z', '2026-11-21T24:00:00+07:00', '2026-11-21T10:00:00+25:00', '2026-11-21Tlater', '21/11/2026', '']) {
        expect(jakartaDateOf(text), text).to.equal(null);
      }
    });
  });
});
