import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';

interface IssuerKey {
  kid: string;
  privateKey: KeyLike;
  jwk: Record<string, unknown>;
}

/**
 * A local stand-in for a Microsoft Entra ID tenant, written from Entra's published token and
 * metadata formats: an HTTP server on port 0 that serves the OpenID metadata
 * (`/<tenant>/v2.0/.well-known/openid-configuration`) and the JWKS (`/<tenant>/discovery/v2.0/keys`),
 * with RSA keys generated here, and signs v2 access tokens (`iss` = `<origin>/<tenant>/v2.0`,
 * `azp` = the calling application). Keys can be rotated mid-test; JWKS fetches are counted.
 */
export class LocalEntraIssuer {
  readonly tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  jwksFetches = 0;
  /** Answer every request with this status instead (the tenant unreachable). */
  failWith: number | null = null;
  private keys: IssuerKey[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<LocalEntraIssuer> {
    const server = createServer();
    const issuer = new LocalEntraIssuer(server);
    server.on('request', (req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (issuer.failWith !== null) return send(issuer.failWith, { error: 'temporarily_unavailable' });
      if (req.url === `/${issuer.tenantId}/v2.0/.well-known/openid-configuration`) {
        return send(200, {
          issuer: issuer.issuer,
          jwks_uri: `${issuer.origin}/${issuer.tenantId}/discovery/v2.0/keys`,
          token_endpoint: `${issuer.origin}/${issuer.tenantId}/oauth2/v2.0/token`,
          id_token_signing_alg_values_supported: ['RS256'],
        });
      }
      if (req.url === `/${issuer.tenantId}/discovery/v2.0/keys`) {
        issuer.jwksFetches += 1;
        return send(200, { keys: issuer.keys.map((key) => ({ ...key.jwk, kid: key.kid, use: 'sig', kty: 'RSA' })) });
      }
      send(404, { error: 'not_found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await issuer.rotate();
    return issuer;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get issuer(): string {
    return `${this.origin}/${this.tenantId}/v2.0`;
  }

  get metadataUrl(): string {
    return `${this.origin}/${this.tenantId}/v2.0/.well-known/openid-configuration`;
  }

  /** Publishes a new signing key and retires the older ones (Entra's rollover, compressed). */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = `k${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    this.keys = [{ kid, privateKey, jwk: (await exportJWK(publicKey)) as unknown as Record<string, unknown> }];
    return kid;
  }

  /** The current key's private half (for tests that sign with something else under its kid). */
  get currentKid(): string {
    return this.keys[0].kid;
  }

  /**
   * An access token as Entra ID issues it to application `appId` for `audience`; `claims`
   * and `header` override any part, `key` signs with another key.
   */
  async token(appId: string, audience: string, options: { claims?: JWTPayload; kid?: string; key?: KeyLike; ttlSeconds?: number } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const key = options.key ?? this.keys[0].privateKey;
    const payload: JWTPayload = {
      iss: this.issuer,
      aud: audience,
      iat: now - 60,
      nbf: now - 60,
      exp: now + (options.ttlSeconds ?? 3600),
      azp: appId,
      tid: this.tenantId,
      ver: '2.0',
      oid: appId,
      ...options.claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? this.keys[0].kid })
      .sign(key);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
