import { expect } from 'chai';
import { jakartaDate, jakartaDay, jakartaDayStart, jakartaTimestamp } from '../../src/time/index.js';

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
});
