import { expect } from 'chai';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadConfig } from '../../src/config/index.js';
import { ensureKeyFile, KeyRing, KeyRingError, keyRingFrom, newKeySpec, parseKeySpec, placeOf, signingKeyPlace } from '../../src/security/index.js';
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

/** The ring's contract in detail: what it refuses and how it says so, bound values, MAC keys, key specs. */
describe('The audit key ring (contract)', () => {
  const key1 = Buffer.alloc(32, 1);
  const key2 = Buffer.alloc(32, 2);
  const ring = () => new KeyRing([{ id: 'k1', key: key1 }, { id: 'k2', key: key2 }]);
  const refusal = (fn: () => unknown): KeyRingError => {
    try {
      fn();
    } catch (error) {
      expect(error).to.be.instanceOf(KeyRingError);
      return error as KeyRingError;
    }
    expect.fail('expected a KeyRingError');
  };
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  describe('building a ring', () => {
    it('refuses no keys, naming the setting', () => {
      const error = refusal(() => new KeyRing([]));
      expect(error.message).to.equal('GERBANG_AUDIT_KEYS: no key given');
      expect([error.code, error.reason, error.setting, error.name]).to.deep.equal(['KEY_RING', 'config', 'GERBANG_AUDIT_KEYS', 'KeyRingError']);
      expect(refusal(() => new KeyRing([], 'GERBANG_OTHER_KEYS')).message).to.equal('GERBANG_OTHER_KEYS: no key given');
    });

    it('takes ids of 1 to 32 letters, digits, _ and -, and refuses any other', () => {
      for (const id of ['a', 'A-z_09', 'k'.repeat(32)]) expect(new KeyRing([{ id, key: key1 }]).currentKeyId).to.equal(id);
      for (const id of ['', 'k.1', 'k 1', 'k:1', 'k'.repeat(33), 'ä', 'k1\n']) {
        expect(refusal(() => new KeyRing([{ id, key: key1 }])).message, JSON.stringify(id)).to.equal(`GERBANG_AUDIT_KEYS: key id ${JSON.stringify(id)} must be 1-32 of A-Z a-z 0-9 _ -`);
      }
    });

    it('refuses a key of any length but 32 bytes, and an id listed twice', () => {
      expect(refusal(() => new KeyRing([{ id: 'k1', key: Buffer.alloc(31) }])).message).to.equal('GERBANG_AUDIT_KEYS: key k1 must be 32 bytes (AES-256), got 31');
      expect(refusal(() => new KeyRing([{ id: 'k1', key: Buffer.alloc(33) }])).message).to.equal('GERBANG_AUDIT_KEYS: key k1 must be 32 bytes (AES-256), got 33');
      expect(refusal(() => new KeyRing([{ id: 'k1', key: key1 }, { id: 'k1', key: key2 }])).message).to.equal('GERBANG_AUDIT_KEYS: key id k1 is listed twice');
    });

    it('lists its key ids oldest first and shows them, and only them, as JSON', () => {
      expect(ring().keyIds).to.deep.equal(['k1', 'k2']);
      expect(JSON.parse(JSON.stringify(ring()))).to.deep.equal({ keyIds: ['k1', 'k2'], currentKeyId: 'k2' });
    });
  });

  describe('values bound to where they live', () => {
    const here = placeOf('payments', 'request_body', ['client-1', 42]);

    it('names the place as table, column and row', () => {
      expect(here).to.equal('["gerbang-sealed","payments","request_body","client-1","42"]');
      expect(signingKeyPlace('cli_1')).to.equal('["gerbang-sealed","clients","signing_key","cli_1"]');
    });

    it('opens a value only at the place it was sealed for', () => {
      const sealed = ring().encrypt('secret', here);
      expect(sealed.split('.').slice(0, 2)).to.deep.equal(['gcm2', 'k2']);
      expect(ring().decrypt(sealed, here)).to.equal('secret');
      const moved = refusal(() => ring().decrypt(sealed, placeOf('payments', 'request_body', ['client-1', 43])));
      expect([moved.reason, moved.message]).to.deep.equal(['corrupt', 'GERBANG_AUDIT_KEYS: a value sealed with key k2 does not decrypt: it was altered, or key k2 is not the key it was sealed with']);
      expect(refusal(() => ring().decrypt(sealed)).message).to.equal('GERBANG_AUDIT_KEYS: a stored value is not a sealed value (format gcm1)');
      expect(refusal(() => ring().decrypt(ring().encrypt('secret'), here)).message).to.equal('GERBANG_AUDIT_KEYS: a stored value is not a sealed value (format gcm2)');
    });

    it('opens a gcm3 value only as gcm3, at its place: the format is never tried as the other', () => {
      const sealed = ring().encrypt('secret', here, 'gcm3');
      expect(sealed.split('.').slice(0, 2)).to.deep.equal(['gcm3', 'k2']);
      expect(KeyRing.boundFormatOf(sealed)).to.equal('gcm3');
      expect(ring().decrypt(sealed, here, 'gcm3')).to.equal('secret');
      // What a release that knows gcm2 only does with it: refused as no sealed value, never opened.
      expect(refusal(() => ring().decrypt(sealed, here)).message).to.equal('GERBANG_AUDIT_KEYS: a stored value is not a sealed value (format gcm2)');
      // Relabelled in the database, it opens as neither.
      const relabelled = `gcm2${sealed.slice(4)}`;
      expect(refusal(() => ring().decrypt(relabelled, here)).reason).to.equal('corrupt');
      expect(refusal(() => ring().decrypt(sealed, placeOf('payments', 'source_account', [42]), 'gcm3')).reason).to.equal('corrupt');
    });

    it('opens an unbound value only without a place', () => {
      expect(ring().decrypt(ring().encrypt('x'))).to.equal('x');
      expect(ring().decrypt(ring().encrypt(''))).to.equal('');
    });
  });

  describe('values it cannot open', () => {
    it('says a value that is not five parts is not a sealed value', () => {
      const [format, id, nonce, tag, text] = ring().encrypt('x').split('.');
      for (const bad of ['', 'clear text', [format, id, nonce, tag].join('.'), [format, id, nonce, tag, text, text].join('.'), ['gcm3', id, nonce, tag, text].join('.')]) {
        const error = refusal(() => ring().decrypt(bad));
        expect([error.reason, error.message], bad).to.deep.equal(['corrupt', 'GERBANG_AUDIT_KEYS: a stored value is not a sealed value (format gcm1)']);
      }
    });

    it('names a key the ring lacks, and the keys it has', () => {
      const sealed = new KeyRing([{ id: 'gone', key: key1 }]).encrypt('x');
      const error = refusal(() => ring().decrypt(sealed));
      expect([error.reason, error.message]).to.deep.equal(['unknown-key', 'GERBANG_AUDIT_KEYS: a stored value was encrypted with key "gone", which is not configured (known: k1, k2)']);
    });

    it('refuses a value sealed under the same id with another key', () => {
      const sealed = new KeyRing([{ id: 'k1', key: key2 }]).encrypt('x');
      expect(refusal(() => ring().decrypt(sealed)).reason).to.equal('corrupt');
    });

    it('keyIdOf names the key of a sealed value of any format, and nothing else', () => {
      expect(KeyRing.keyIdOf(ring().encrypt('x'))).to.equal('k2');
      expect(KeyRing.keyIdOf(ring().encrypt('x', 'here'))).to.equal('k2');
      expect(KeyRing.keyIdOf(ring().encrypt('x', 'here', 'gcm3'))).to.equal('k2');
      expect(KeyRing.keyIdOf('gcm4.k2.a.b.c')).to.equal(null);
      expect(KeyRing.keyIdOf('gcm1.k2.a.b')).to.equal(null);
      expect(KeyRing.keyIdOf('gcm1.k2.a.b.c.d')).to.equal(null);
      expect(KeyRing.keyIdOf('{"amount":"10.00"}')).to.equal(null);
    });
  });

  describe('MAC keys', () => {
    it('are HKDF-SHA256 of the ring key with info "gerbang <purpose>" (known answer)', () => {
      const known = new KeyRing([{ id: 'kat', key: Buffer.from('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308', 'hex') }]);
      const { keyId, key } = known.macKey('audit-chain');
      expect(keyId).to.equal('kat');
      expect(key.toString('hex')).to.equal('22648cfac1c1e06467e7faef241a7f15498030bf1c4e7a7616fc92aec945910f');
    });

    it('differ by purpose and by key, come from the newest key unless one is named, and are never the key itself', () => {
      const r = ring();
      const chain = r.macKey('audit-chain');
      expect(chain.keyId).to.equal('k2');
      expect(r.macKey('checkpoint').key.equals(chain.key)).to.equal(false);
      const older = r.macKey('audit-chain', 'k1');
      expect(older.keyId).to.equal('k1');
      expect(older.key.equals(chain.key)).to.equal(false);
      expect(r.macKey('audit-chain').key.equals(chain.key)).to.equal(true);
      expect(r.macKey('audit-chain', 'k1').key.equals(older.key)).to.equal(true);
      expect(chain.key.equals(key2)).to.equal(false);
      expect(ring().macKey('checkpoint', 'k1').key.equals(r.macKey('checkpoint', 'k1').key)).to.equal(true);
    });

    it('refuse a key the ring lacks, naming it', () => {
      const error = refusal(() => ring().macKey('audit-chain', 'gone'));
      expect([error.reason, error.message]).to.deep.equal(['unknown-key', 'GERBANG_AUDIT_KEYS: a record is signed with key "gone", which is not configured (known: k1, k2)']);
    });
  });

  describe('key specs', () => {
    const base64 = key1.toString('base64');

    it('reads keyId:base64key, trimmed, in standard or url-safe base64, with or without padding', () => {
      expect(parseKeySpec(` k1 : ${base64} `, 'S')).to.deep.equal({ id: 'k1', key: key1 });
      const awkward = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 + (i % 6)));
      const standard = awkward.toString('base64');
      expect(standard).to.match(/[+/]/);
      expect(parseKeySpec(`k:${standard}`, 'S').key.equals(awkward)).to.equal(true);
      expect(parseKeySpec(`k:${awkward.toString('base64url')}`, 'S').key.equals(awkward)).to.equal(true);
      expect(parseKeySpec(`k:${standard.replace(/=+$/, '')}`, 'S').key.equals(awkward)).to.equal(true);
    });

    it('refuses a spec without an id or not in base64, naming the setting', () => {
      for (const spec of [base64, `:${base64}`]) {
        expect(() => parseKeySpec(spec, 'GERBANG_X')).to.throw(KeyRingError, 'GERBANG_X: each key must be written keyId:base64key (e.g. k2026a:$(openssl rand -base64 32))');
      }
      for (const encoded of [`${base64}!`, `!${base64}`, `${base64}===`, 'a b', '']) {
        expect(() => parseKeySpec(`k1:${encoded}`, 'GERBANG_X'), encoded).to.throw(KeyRingError, 'GERBANG_X: key k1 is not base64');
      }
    });

    it('newKeySpec writes a fresh random 32-byte key under the id', () => {
      const [a, b] = [newKeySpec('k9'), newKeySpec('k9')];
      expect(a).to.not.equal(b);
      const parsed = parseKeySpec(a, 'S');
      expect(parsed.id).to.equal('k9');
      expect(parsed.key).to.have.length(32);
      expect(a).to.equal(`k9:${parsed.key.toString('base64')}`);
    });
  });

  describe('rings from the settings', () => {
    function keyFile(spec: string): string {
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-keys-'));
      dirs.push(dir);
      const file = join(dir, 'audit.key');
      writeFileSync(file, spec, { mode: 0o600 });
      return file;
    }

    it('is none when neither inline keys nor key files are given', () => {
      expect(keyRingFrom({ keys: [], keyFiles: [] })).to.equal(null);
    });

    it('names in its errors the settings its keys came from', () => {
      const file = keyFile(`  ${testKeySpec('f1')}\n\n`);
      expect(keyRingFrom({ keys: [testKeySpec('i1')], keyFiles: [] })!.setting).to.equal('GERBANG_AUDIT_KEYS');
      expect(keyRingFrom({ keys: [], keyFiles: [file] })!.setting).to.equal('GERBANG_AUDIT_KEY_FILES');
      const both = keyRingFrom({ keys: [testKeySpec('i1')], keyFiles: [file] })!;
      expect(both.setting).to.equal('GERBANG_AUDIT_KEYS/GERBANG_AUDIT_KEY_FILES');
      expect(both.keyIds).to.deep.equal(['i1', 'f1']);
      expect(refusal(() => both.decrypt('x')).message).to.match(/^GERBANG_AUDIT_KEYS\/GERBANG_AUDIT_KEY_FILES: /);
    });

    it('names the key file whose content is not a key spec', () => {
      const file = keyFile('not a key\n');
      expect(() => keyRingFrom({ keys: [], keyFiles: [file] })).to.throw(KeyRingError, `GERBANG_AUDIT_KEY_FILES (${file}): each key must be written keyId:base64key`);
    });

    it('names the key file it cannot read as a file', () => {
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-keys-'));
      dirs.push(dir);
      chmodSync(dir, 0o700);
      expect(() => keyRingFrom({ keys: [], keyFiles: [dir] })).to.throw(KeyRingError, `GERBANG_AUDIT_KEY_FILES: cannot read key file ${dir} (EISDIR)`);
    });

    it('the sandbox key file holds one key named after the day it was made', () => {
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-keys-'));
      dirs.push(dir);
      const file = join(dir, 'a', 'b', 'gerbang.audit-key');
      expect(ensureKeyFile(file)).to.deep.equal({ path: file, created: true });
      const ring = keyRingFrom({ keys: [], keyFiles: [file] })!;
      expect(ring.currentKeyId).to.equal(`sandbox-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`);
      expect(readFileSync(file, 'utf8')).to.match(/^sandbox-\d{8}:[A-Za-z0-9+/]{43}=\n$/);
      expect(ensureKeyFile(file)).to.deep.equal({ path: file, created: false });
    });
  });
});
