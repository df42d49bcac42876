import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { startTestBank, writePartnersFile, type TestBank } from '../support/test-bank.js';

describe('gerbang bank ping', () => {
  let good: TestBank;
  let refusing: TestBank;

  before(async () => {
    good = await startTestBank();
    refusing = await startTestBank();
  });
  after(async () => {
    await good.simulator.close();
    await refusing.simulator.close();
  });

  const store = () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-ping-')), 'g.sqlite')}`;

  it('fetches a token from every partner and reports each, exit 0', async () => {
    const file = writePartnersFile([good.partnerBlock('bca-main', 1), refusing.partnerBlock('bca-backup', 2)]);
    const result = await runCli(['bank', 'ping', '--json'], { GERBANG_DATABASE_URL: store(), GERBANG_BANK_PARTNERS_FILE: file });
    expect(result.code, result.stderr).to.equal(0);
    const reports = JSON.parse(result.stdout);
    expect(reports.map((r: { partner: string; ok: boolean }) => [r.partner, r.ok])).to.deep.equal([
      ['bca-main', true],
      ['bca-backup', true],
    ]);
    expect(good.simulator.calls.filter((c) => c.path === '/api/oauth/token' && c.status === 200)).to.have.length(1);
  });

  it('names the partner whose credentials the bank refuses, exit 1', async () => {
    const wrong = { ...refusing.partnerBlock('bca-backup', 2), clientSecret: 'not-the-issued-secret' };
    const file = writePartnersFile([good.partnerBlock('bca-main', 1), wrong]);
    const result = await runCli(['bank', 'ping'], { GERBANG_DATABASE_URL: store(), GERBANG_BANK_PARTNERS_FILE: file });
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/^bca-main \(bca-legacy\): OK/m);
    expect(result.stdout).to.match(/^bca-backup \(bca-legacy\): FAILED ESB-14-008/m);
    expect(result.stdout).not.to.contain('not-the-issued-secret');
  });

  it('refuses unknown arguments with its usage, exit 2', async () => {
    const result = await runCli(['bank', 'pong']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('gerbang bank ping');
  });
});
