import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadConfig } from '../../src/config/index.js';
import { ensureKeyFile, keyRingFrom } from '../../src/security/index.js';
import { testKeySpec } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { problemsOf as configProblems } from '../support/config-problems.js';

const jwt = 'j'.repeat(40);

/** The problems loadConfig reports for `env` with a token key set. */
function problemsOf(env: Record<string, string>): string[] {
  return configProblems({ GERBANG_JWT_SECRET: jwt, ...env });
}

describe('The audit key ring', () => {
  describe('with an old and a new key', () => {
    it('seals with the newest key and opens values of both', () => {
      const [oldKey, newKey] = [testKeySpec('k1'), testKeySpec('k2')];
      const before = keyRingFrom({ keys: [oldKey], keyFiles: [] })!;
      const after = keyRingFrom({ keys: [oldKey, newKey], keyFiles: [] })!;
      const sealedBefore = before.encrypt('pay 10 to 0201245681');
      const sealedAfter = after.encrypt('pay 10 to 0201245681');
      expect(sealedBefore.split('.').slice(0, 2)).to.deep.equal(['gcm1', 'k1']);
      expect(sealedAfter.split('.').slice(0, 2)).to.deep.equal(['gcm1', 'k2']);
      expect(after.decrypt(sealedBefore)).to.equal('pay 10 to 0201245681');
      expect(after.currentKeyId).to.equal('k2');
    });

    it('shows no key material when logged or serialised', () => {
      const spec = testKeySpec('k1');
      const ring = keyRingFrom({ keys: [spec], keyFiles: [] })!;
      const key = Buffer.from(spec.split(':')[1], 'base64');
      const shown = JSON.stringify({ ring }) + inspect(ring, { showHidden: true, depth: 5 });
      expect(shown).to.contain('k1');
      for (const form of [spec.split(':')[1], key.toString('hex'), String([...key])]) expect(shown).to.not.contain(form);
    });

    it('refuses a value whose ciphertext or tag was changed instead of returning garbage', () => {
      const ring = keyRingFrom({ keys: [testKeySpec('k1')], keyFiles: [] })!;
      const parts = ring.encrypt('{"amount":"10.00"}').split('.');
      const flipped = Buffer.from(parts[4], 'base64url');
      flipped[0] ^= 1;
      expect(() => ring.decrypt([...parts.slice(0, 4), flipped.toString('base64url')].join('.'))).to.throw(/GERBANG_AUDIT_KEYS: a value sealed with key k1 does not decrypt/);
    });
  });

  describe('when a key setting is wrong', () => {
    it('names GERBANG_AUDIT_KEYS for a key that is not 32 bytes, without printing it', () => {
      const short = randomBytes(16).toString('base64');
      const problems = problemsOf({ GERBANG_AUDIT_KEYS: `k1:${short}`, GERBANG_SANDBOX: 'true' });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^GERBANG_AUDIT_KEYS: key k1 must be 32 bytes \(AES-256\), got 16/);
      expect(problems[0]).to.not.contain(short);
    });

    it('names GERBANG_AUDIT_KEYS for an entry without an id', () => {
      expect(problemsOf({ GERBANG_AUDIT_KEYS: randomBytes(32).toString('base64') })[0]).to.match(/^GERBANG_AUDIT_KEYS: each key must be written keyId:base64key/);
    });

    it('names GERBANG_AUDIT_KEYS for a duplicate id', () => {
      expect(problemsOf({ GERBANG_AUDIT_KEYS: `${testKeySpec('k1')},${testKeySpec('k1')}` })[0]).to.contain('GERBANG_AUDIT_KEYS: key id k1 is listed twice');
    });

    it('names GERBANG_AUDIT_KEY_FILES for a file it cannot read', () => {
      expect(problemsOf({ GERBANG_AUDIT_KEY_FILES: '/nonexistent/gerbang.key' })[0]).to.equal('GERBANG_AUDIT_KEY_FILES: cannot read key file /nonexistent/gerbang.key (ENOENT)');
    });

    it('names GERBANG_AUDIT_KEY_FILES for a key file other users can read', () => {
      const file = join(mkdtempSync(join(tmpdir(), 'gerbang-keys-')), 'open.key');
      writeFileSync(file, testKeySpec('k1'), { mode: 0o644 });
      expect(problemsOf({ GERBANG_AUDIT_KEY_FILES: file })[0]).to.equal(`GERBANG_AUDIT_KEY_FILES: ${file} holds an audit key and must be readable by its owner only (chmod 600)`);
    });

    it('gerbang serve without any audit key stops at once naming GERBANG_AUDIT_KEYS, exit 1', async () => {
      const result = await runCli(['serve'], { GERBANG_JWT_SECRET: jwt, GERBANG_AUDIT_KEYS: '', GERBANG_AUDIT_KEY_FILES: '', GERBANG_DATABASE_URL: 'sqlite::memory:' });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('GERBANG_AUDIT_KEYS: is required (or GERBANG_AUDIT_KEY_FILES)');
    });
  });

  describe('with key files', () => {
    it('reads keys from files after the inline ones; the last listed encrypts', () => {
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-keys-'));
      const file = join(dir, 'k2.key');
      writeFileSync(file, `${testKeySpec('k2')}\n`, { mode: 0o600 });
      const config = loadConfig({ GERBANG_JWT_SECRET: jwt, GERBANG_AUDIT_KEYS: testKeySpec('k1'), GERBANG_AUDIT_KEY_FILES: file, GERBANG_SANDBOX: 'true' });
      expect(config.auditKeys.keyIds).to.deep.equal(['k1', 'k2']);
      expect(config.auditKeys.currentKeyId).to.equal('k2');
    });

    it('the sandbox key file is created owner-only once, then reused', () => {
      const file = join(mkdtempSync(join(tmpdir(), 'gerbang-keys-')), 'var', 'gerbang.audit-key');
      expect(ensureKeyFile(file).created).to.equal(true);
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      const ring = keyRingFrom({ keys: [], keyFiles: [file] })!;
      expect(ensureKeyFile(file).created).to.equal(false);
      expect(keyRingFrom({ keys: [], keyFiles: [file] })!.decrypt(ring.encrypt('x'))).to.equal('x');
    });
  });
});
