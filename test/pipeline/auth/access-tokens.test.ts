import { expect } from 'chai';
import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../../../src/errors/index.js';
import { AccessTokens } from '../../../src/pipeline/auth/index.js';

/**
 * The token verifier on its own, against tokens minted here with jsonwebtoken as an attacker or
 * another issuer would mint them (the component suite test/component/authentication.test.ts
 * covers the same rules through the HTTP API).
 */
describe('AccessTokens', () => {
  const secret = randomBytes(32).toString('hex');
  const options = { secret, issuer: 'gerbang-test', audience: 'gerbang-api-test', ttlSeconds: 300 };
  const tokens = new AccessTokens(options);
  const kidOf = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
  const now = () => Math.floor(Date.now() / 1000);
  /** A token as ours are, with `claims` and `header` overriding. */
  const mint = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    jwt.sign(Object.fromEntries(Object.entries({ sub: 'client-1', sv: 3, jti: 'id-1', iss: options.issuer, aud: options.audience, iat: now(), exp: now() + 300, ...claims }).filter(([, v]) => v !== undefined)), createSecretKey(Buffer.from(secret, 'utf8')), {
      algorithm: 'HS256',
      header: { alg: 'HS256', kid: kidOf(secret), ...header } as jwt.JwtHeader,
      // jsonwebtoken would add an iat of its own to a payload without one.
      noTimestamp: claims.iat === undefined && 'iat' in claims,
    });

  function refusal(token: string): { code: string; detail: string; header: string } {
    try {
      tokens.verify(token);
    } catch (error) {
      expect(error).to.be.instanceOf(AppError);
      const appError = error as AppError & { headers?: Record<string, string> };
      return { code: appError.code, detail: appError.message, header: String(appError.headers?.['WWW-Authenticate'] ?? '') };
    }
    throw new Error('the token was accepted');
  }

  describe('a token it issued', () => {
    it('verifies to the client, the secret version and a token id of its own', () => {
      const token = tokens.issue('client-9', 4);
      const claims = tokens.verify(token);
      expect(claims.clientId).to.equal('client-9');
      expect(claims.secretVersion).to.equal(4);
      expect(claims.tokenId).to.match(/^[0-9a-f-]{36}$/);
      expect(tokens.verify(tokens.issue('client-9', 4)).tokenId).to.not.equal(claims.tokenId);
      expect(tokens.ttlSeconds).to.equal(300);
    });

    it('is HS256, names its key by a digest of the secret, and carries iss, aud, sub and an exp ttlSeconds after iat', () => {
      const { header, payload } = jwt.decode(tokens.issue('client-9', 4), { complete: true }) as { header: jwt.JwtHeader; payload: jwt.JwtPayload };
      expect(header.alg).to.equal('HS256');
      expect(header.kid).to.equal(kidOf(secret));
      expect(payload).to.include({ iss: options.issuer, aud: options.audience, sub: 'client-9', sv: 4 });
      expect(payload.exp! - payload.iat!).to.equal(300);
    });

    it('is recognised as our own issuer; another issuer or garbage is not', () => {
      expect(tokens.isOwnIssuer(tokens.issue('c', 1))).to.equal(true);
      expect(tokens.isOwnIssuer(mint({ iss: 'https://login.microsoftonline.com/x/v2.0' }))).to.equal(false);
      expect(tokens.isOwnIssuer('not.a.token')).to.equal(false);
      expect(tokens.isOwnIssuer(jwt.sign('a string payload', 'k'))).to.equal(false);
    });
  });

  describe('after the secret is rotated', () => {
    it('still verifies tokens the previous secret signed, and signs new ones with the new secret', () => {
      const next = randomBytes(32).toString('hex');
      const rotated = new AccessTokens({ ...options, secret: next, previousSecrets: [secret] });
      const old = tokens.issue('client-1', 1);
      expect(rotated.verify(old).clientId).to.equal('client-1');
      const fresh = rotated.issue('client-1', 1);
      expect(jwt.decode(fresh, { complete: true })!.header.kid).to.equal(kidOf(next));
      expect(() => tokens.verify(fresh), 'the old verifier does not know the new key').to.throw(AppError);
    });

    it('refuses tokens of a secret no longer listed', () => {
      const rotated = new AccessTokens({ ...options, secret: randomBytes(32).toString('hex') });
      expect(() => rotated.verify(tokens.issue('client-1', 1))).to.throw('the access token is invalid');
    });
  });

  describe('refuses with INVALID_TOKEN and a Bearer challenge', () => {
    const cases: [string, () => string][] = [
      ['no kid', () => mint({}, { kid: undefined })],
      ['an unknown kid', () => mint({}, { kid: 'ffffffffffffffff' })],
      ['our kid over another key', () => jwt.sign({ sub: 'c', sv: 1, jti: 'j', iss: options.issuer, aud: options.audience }, 'other', { algorithm: 'HS256', keyid: kidOf(secret), expiresIn: 60 })],
      ['alg none', () => `${Buffer.from(JSON.stringify({ alg: 'none', kid: kidOf(secret) })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'c', sv: 1, jti: 'j', iss: options.issuer, aud: options.audience, iat: now(), exp: now() + 60 })).toString('base64url')}.`],
      ['HS512 with our key', () => jwt.sign({ sub: 'c', sv: 1, jti: 'j', iss: options.issuer, aud: options.audience }, createSecretKey(Buffer.from(secret)), { algorithm: 'HS512', keyid: kidOf(secret), expiresIn: 60 })],
      ['another issuer', () => mint({ iss: 'someone-else' })],
      ['another audience', () => mint({ aud: 'another-api' })],
      ['no subject', () => mint({ sub: undefined })],
      ['a numeric subject', () => mint({ sub: 42 })],
      ['no secret version', () => mint({ sv: undefined })],
      ['a secret version as text', () => mint({ sv: '3' })],
      ['no token id', () => mint({ jti: undefined })],
      ['a numeric token id', () => mint({ jti: 7 })],
      ['no exp', () => mint({ exp: undefined })],
      ['no iat', () => mint({ iat: undefined })],
      ['a lifetime one second over ttlSeconds', () => mint({ iat: now(), exp: now() + 301 })],
      ['a string payload', () => jwt.sign('client-1', createSecretKey(Buffer.from(secret)), { algorithm: 'HS256', keyid: kidOf(secret) })],
      ['not a JWT', () => 'not-a-token'],
    ];
    for (const [situation, token] of cases) {
      it(`a token with ${situation}`, () => {
        const refused = refusal(token());
        expect(refused.code).to.equal('INVALID_TOKEN');
        expect(refused.detail).to.equal('the access token is invalid');
        expect(refused.header).to.equal('Bearer error="invalid_token", error_description="the access token is invalid"');
      });
    }

    it('a token whose lifetime is exactly ttlSeconds is ours', () => {
      expect(tokens.verify(mint({ iat: now(), exp: now() + 300 })).clientId).to.equal('client-1');
    });

    it('an expired token, saying it has expired', () => {
      const refused = refusal(mint({ iat: now() - 400, exp: now() - 100 }));
      expect(refused.code).to.equal('INVALID_TOKEN');
      expect(refused.detail).to.equal('the access token has expired');
      expect(refused.header).to.equal('Bearer error="invalid_token", error_description="the access token has expired"');
    });

    it('a token verified before, once it has expired: the same refusal as for one never seen', () => {
      let at = Date.now();
      const clocked = new AccessTokens({ ...options, clock: () => at });
      const token = mint({ iat: now(), exp: now() + 300 });
      expect(clocked.verify(token).clientId).to.equal('client-1');
      at += 304_000;
      expect(clocked.verify(token).clientId, 'within the tolerance').to.equal('client-1');
      at += 2_000;
      expect(() => clocked.verify(token)).to.throw(AppError, 'the access token has expired');
      expect(() => clocked.verify(token), 'and again').to.throw(AppError, 'the access token has expired');
    });

    it('a token verified before, with one character of its signature changed', () => {
      const token = mint();
      tokens.verify(token);
      const last = token.at(-2) === 'A' ? 'B' : 'A';
      expect(refusal(`${token.slice(0, -2)}${last}${token.at(-1)}`).detail).to.equal('the access token is invalid');
      expect(tokens.verify(token).clientId, 'the token itself still verifies').to.equal('client-1');
    });

    it('a token expired a few seconds ago is still within the 5 s clock tolerance, not a minute ago', () => {
      expect(tokens.verify(mint({ iat: now() - 300, exp: now() - 2 })).clientId).to.equal('client-1');
      expect(refusal(mint({ iat: now() - 360, exp: now() - 60 })).detail).to.equal('the access token has expired');
    });
  });
});
