import { expect } from 'chai';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadConfig } from '../../src/config/index.js';
import { ensureKeyFile, KeyRing, keyRingFrom } from '../../src/security/index.js';
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

/**
 * Known answers: the ring is AES-256-GCM with the whole 32-byte key, not merely something that
 * opens what it sealed. Test Case 15 of the GCM specification (McGrew & Viega) pins the cipher;
 * a value in the ring's format built from a fixed key and nonce pins how the ring applies it.
 */
describe('The audit key ring (known answers)', () => {
  const key = Buffer.from('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308', 'hex');
  const nonce = Buffer.from('cafebabefacedbaddecaf888', 'hex');

  it('AES-256-GCM reproduces Test Case 15 of the GCM specification', () => {
    const plaintext = Buffer.from(
      'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
      'hex',
    );
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    expect(ciphertext.toString('hex')).to.equal(
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
    );
    expect(cipher.getAuthTag().toString('hex')).to.equal('b094dac5d93471bdec1a502270e3cc6c');
  });

  it('opens a value sealed under that key and nonce by AES-256-GCM (known ciphertext and tag)', () => {
    const ring = new KeyRing([{ id: 'kat', key }]);
    // AES-256-GCM(key, nonce) of {"status":"SUCCESS","bankReference":"00000001"}.
    const sealed = ['gcm1', 'kat', nonce.toString('base64url'), 'RCb-vzA4IAnRjbcItk1LxQ', '8D6AoQCmDpFzHBw10DInorHOB6OIs1Z9MIb35soWPrbz6aDn7lWCXrhPtQQuBkA'].join('.');
    expect(ring.decrypt(sealed)).to.equal('{"status":"SUCCESS","bankReference":"00000001"}');
  });

  it('seals so that AES-256-GCM with the full key, and nothing weaker, opens the value', () => {
    const ring = new KeyRing([{ id: 'kat', key }]);
    const [, , nonceText, tagText, ciphertextText] = ring.encrypt('pay 10 to 0201245681').split('.');
    const open = (algorithm: string, k: Buffer) => {
      const decipher = createDecipheriv(algorithm as 'aes-256-gcm', k, Buffer.from(nonceText, 'base64url'));
      decipher.setAuthTag(Buffer.from(tagText, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8');
    };
    expect(open('aes-256-gcm', key)).to.equal('pay 10 to 0201245681');
    expect(() => open('aes-128-gcm', key.subarray(0, 16))).to.throw();
    expect(Buffer.from(nonceText, 'base64url')).to.have.length(12);
    expect(Buffer.from(tagText, 'base64url')).to.have.length(16);
  });
});
