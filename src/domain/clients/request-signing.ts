import { randomBytes } from 'node:crypto';
import { signingKeyPlace, type KeyRing } from '../../security/index.js';
import type { ClientRepository } from '../../store/types.js';

/*
 * A client's request-signing key: a secret apart from its client secret (a leaked token request
 * does not give it away), shown once, stored only sealed with the audit key ring. It cannot be a
 * one-way hash like the client secret: Gerbang needs the key itself to compute the HMAC it
 * compares with, so the database holds it encrypted instead, and a database reader (or a dump)
 * without the key ring cannot sign.
 */

/** A new signing key: `gbsk_` and 32 random bytes, base64url. The HMAC key is this text's UTF-8. */
export function newSigningKey(): string {
  return `gbsk_${randomBytes(32).toString('base64url')}`;
}

export type SigningChange = { ok: true; signingKey: string } | { ok: false; reason: 'no-client' | 'already-required' | 'not-required' };

/**
 * Makes the client sign every API call from now on, with a new key (returned once). Refused when
 * signing is already required (use rotateSigningKey, so a key in use is never replaced by mistake).
 */
export function enableSigning(clients: ClientRepository, keys: KeyRing, id: string, now: number): Promise<SigningChange> {
  return giveNewKey(clients, keys, id, now, false);
}

/** Gives a client that signs a new key (returned once); requests signed with the old one fail at once. */
export function rotateSigningKey(clients: ClientRepository, keys: KeyRing, id: string, now: number): Promise<SigningChange> {
  return giveNewKey(clients, keys, id, now, true);
}

/** Stores a new sealed key for the client, signing required, if signing is required now exactly when `requiredBefore`. */
async function giveNewKey(clients: ClientRepository, keys: KeyRing, id: string, now: number, requiredBefore: boolean): Promise<SigningChange> {
  const client = await clients.findById(id);
  if (!client) return { ok: false, reason: 'no-client' };
  if (client.signing.required !== requiredBefore) return { ok: false, reason: requiredBefore ? 'not-required' : 'already-required' };
  const signingKey = newSigningKey();
  await clients.setSigning(id, { required: true, sealedKey: keys.encrypt(signingKey, signingKeyPlace(id)) }, now);
  return { ok: true, signingKey };
}

/** The client no longer signs; its key is deleted. False when there is no such client. */
export function disableSigning(clients: ClientRepository, id: string, now: number): Promise<boolean> {
  return clients.setSigning(id, { required: false, sealedKey: null }, now);
}

/**
 * The clients whose signing key the ring cannot open (sealed with a key no longer listed, or
 * altered): their every request would fail. For `gerbang doctor`; the problem never holds the key.
 */
export async function unopenableSigningKeys(clients: ClientRepository, keys: KeyRing): Promise<{ clientId: string; problem: string }[]> {
  const problems = [];
  for (const client of await clients.list()) {
    if (client.signing.sealedKey === null) continue;
    try {
      keys.decrypt(client.signing.sealedKey, signingKeyPlace(client.id));
    } catch (error) {
      problems.push({ clientId: client.id, problem: (error as Error).message });
    }
  }
  return problems;
}
