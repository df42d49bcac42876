import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRupiah, parseTypedAmount } from '../../src/console/index.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';

/** Bad input never crashes the console: any filter, page marker or id gets a deliberate answer. */
describe('Any input to the finance console (property)', function () {
  this.timeout(120_000);
  let con: TestConsole;
  let client: ConsoleClient;

  before(async () => {
    con = await TestConsole.start(`sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-console-prop-')), 'g.sqlite')}`, { GERBANG_LOG_LEVEL: 'silent' });
    const user = await con.createUser('prop-auditor', 'auditor');
    client = new ConsoleClient(con.origin);
    await client.signIn(user.username, user.password);
  });
  after(async () => con?.close());

  const names = fc.constantFrom('from', 'to', 'client', 'status', 'bank', 'min', 'max', 'txn', 'ref', 'sort', 'after', 'from[]', 'status[x]');

  it('GET /console/payments and its CSV with any query string answer 200 or 400, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(names, fc.string({ maxLength: 40 })), { maxLength: 6 }), async (pairs) => {
        const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        for (const path of ['/console/payments', '/console/payments/export.csv']) {
          const answer = await client.get(`${path}?${query}`);
          expect(answer.status, `${path}?${query}`).to.be.oneOf([200, 400]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('GET /console/payments/{anything} answers 404 or 200, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 30 }), async (id) => {
        const answer = await client.get(`/console/payments/${encodeURIComponent(id)}`);
        expect(answer.status).to.be.oneOf([200, 404]);
      }),
      { numRuns: 60 },
    );
  });

  it('reads back every amount it prints', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 999_999_999_999_99n }), (minor) => {
        expect(parseTypedAmount(formatRupiah(minor))).to.equal(minor);
      }),
    );
    expect(formatRupiah('2475000.00')).to.equal('Rp 2.475.000,00');
    expect(formatRupiah('0.5')).to.equal('Rp 0,50');
  });
});
