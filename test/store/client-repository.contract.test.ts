import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { UniqueViolationError, type NewClient } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { signingKeyPlace } from '../../src/security/index.js';
import { forEachBackend } from '../support/databases.js';

const newClient = (overrides: Partial<NewClient> = {}): NewClient => ({
  id: `gbc_${randomBytes(8).toString('hex')}`,
  name: 'ERP production',
  secretHash: 'scrypt$32768$8$1$salt$hash',
  allowedOrigins: ['*.dynamics.com', 'https://erp.example.co.id'],
  allowedCidrs: ['203.0.113.0/24', '2001:db8::/32'],
  ...overrides,
});

forEachBackend('ClientRepository', (ctx) => {
  describe('create', () => {
    it('stores an active client at secret version 1 and finds it with its allowlists', async () => {
      const { clients } = ctx.store();
      const input = newClient();
      const created = await clients.create(input, 1_000);
      expect(created).to.deep.equal({ ...input, secretVersion: 1, status: 'active', signing: { required: false, sealedKey: null }, createdAt: 1_000, updatedAt: 1_000 });
      expect(await clients.findById(input.id)).to.deep.equal(created);
    });

    it('keeps empty allowlists empty (deny-all), not null', async () => {
      const { clients } = ctx.store();
      const input = newClient({ allowedOrigins: [], allowedCidrs: [] });
      await clients.create(input, 1);
      expect(await clients.findById(input.id)).to.deep.include({ allowedOrigins: [], allowedCidrs: [] });
    });

    describe('when the id already exists', () => {
      it('throws UniqueViolationError', async () => {
        const { clients } = ctx.store();
        const input = newClient();
        await clients.create(input, 1);
        const error = await clients.create({ ...input, name: 'other' }, 2).then(() => null, (e: unknown) => e);
        expect(error).to.be.instanceOf(UniqueViolationError);
      });
    });
  });

  describe('findById', () => {
    it('returns null for an unknown id', async () => {
      expect(await ctx.store().clients.findById('gbc_unknown')).to.equal(null);
    });

    it('matches the id exactly, case included (same on both backends)', async () => {
      const { clients } = ctx.store();
      const input = newClient({ id: `gbc_Case${randomBytes(4).toString('hex')}` });
      await clients.create(input, 1);
      expect(await clients.findById(input.id.toUpperCase())).to.equal(null);
    });
  });

  describe('list', () => {
    it('returns the clients oldest first', async () => {
      const { clients } = ctx.store();
      const later = newClient();
      const earlier = newClient();
      await clients.create(later, 5_000_000);
      await clients.create(earlier, 4_000_000);
      const ids = (await clients.list()).map((c) => c.id);
      expect(ids.indexOf(earlier.id)).to.be.lessThan(ids.indexOf(later.id));
    });
  });

  describe('setStatus', () => {
    it('disables and re-enables a client, returning true', async () => {
      const { clients } = ctx.store();
      const input = newClient();
      await clients.create(input, 1);
      expect(await clients.setStatus(input.id, 'disabled', 2)).to.equal(true);
      expect(await clients.findById(input.id)).to.deep.include({ status: 'disabled', updatedAt: 2 });
      expect(await clients.setStatus(input.id, 'disabled', 2), 'unchanged values still count as found').to.equal(true);
      expect(await clients.setStatus(input.id, 'active', 3)).to.equal(true);
    });

    it('returns false for an unknown id', async () => {
      expect(await ctx.store().clients.setStatus('gbc_unknown', 'disabled', 1)).to.equal(false);
    });
  });

  describe('rotateSecret', () => {
    it('stores the new hash and bumps the secret version each time', async () => {
      const { clients } = ctx.store();
      const input = newClient();
      await clients.create(input, 1);
      expect(await clients.rotateSecret(input.id, 'hash-2', 2)).to.equal(true);
      expect(await clients.rotateSecret(input.id, 'hash-3', 3)).to.equal(true);
      expect(await clients.findById(input.id)).to.deep.include({ secretHash: 'hash-3', secretVersion: 3, updatedAt: 3 });
    });

    it('returns false for an unknown id', async () => {
      expect(await ctx.store().clients.rotateSecret('gbc_unknown', 'h', 1)).to.equal(false);
    });
  });

  describe('signing', () => {
    it('stores the sealed key and the requirement, and clears both', async () => {
      const { clients } = ctx.store();
      const input = newClient();
      await clients.create(input, 1);
      // Sealed for its place with the store's ring, as enable-signing does (a key the ring cannot open is refused).
      const sealedKey = TEST_AUDIT_KEYS.encrypt('gbsk_example', signingKeyPlace(input.id));
      expect(await clients.setSigning(input.id, { required: true, sealedKey }, 2)).to.equal(true);
      expect(await clients.findById(input.id)).to.deep.include({ signing: { required: true, sealedKey }, updatedAt: 2 });
      const [row] = await ctx.store().db.query<{ key_id: string }>('SELECT key_id FROM clients WHERE id = ?', [input.id]);
      expect(row.key_id).to.equal(TEST_AUDIT_KEYS.currentKeyId);
      expect(await clients.setSigning(input.id, { required: false, sealedKey: null }, 3)).to.equal(true);
      expect(await clients.findById(input.id)).to.deep.include({ signing: { required: false, sealedKey: null } });
      expect(await clients.setSigning('gbc_unknown', { required: false, sealedKey: null }, 3)).to.equal(false);
    });

    it('refuses a key that is not sealed', async () => {
      const { clients } = ctx.store();
      const input = newClient();
      await clients.create(input, 1);
      const error = await clients.setSigning(input.id, { required: true, sealedKey: 'gbsk_in_clear' }, 2).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(TypeError);
      expect((await clients.findById(input.id))!.signing.sealedKey).to.equal(null);
    });
  });
});
