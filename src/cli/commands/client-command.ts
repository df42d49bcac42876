import { loadAuditKeys } from '../../config/index.js';
import { openAuditStore } from './audit-command.js';
import { AppError } from '../../errors/index.js';
import {
  ACCOUNT_NUMBER,
  allowlistProblems,
  createClient as createClientIn,
  disableSigning,
  enableSigning,
  linkEntraApp,
  revokeApiKey,
  rotateApiKey,
  unlinkEntraApp,
  rotateClientSecret,
  rotateSigningKey,
  setAccountGrant,
  type SigningChange,
} from '../../domain/clients/index.js';
import type { ClientRecord, Store } from '../../store/types.js';
import { parseOptions, required, UsageError, type CliIo } from '../cli-io.js';


const ACTIONS = ['create', 'list', 'disable', 'enable', 'rotate-secret', 'set-callback', 'enable-signing', 'rotate-signing-key', 'disable-signing', 'grant-account', 'revoke-account', 'accounts', 'link-entra-app', 'unlink-entra-app', 'rotate-api-key', 'revoke-api-key'];

/** Prints a new signing key once (or why there is none); exit status 0 or 1. */
function reportSigningKey(io: CliIo, id: string, change: SigningChange, json: boolean | undefined): number {
  if (!change.ok) {
    const why = {
      'no-client': `No client with id ${id}`,
      'already-required': `Client ${id} already signs its requests; to replace its key: gerbang client rotate-signing-key --id ${id}`,
      'not-required': `Client ${id} does not sign its requests; to start: gerbang client enable-signing --id ${id}`,
    }[change.reason];
    io.err(why);
    return 1;
  }
  if (json) io.out(JSON.stringify({ clientId: id, signingKey: change.signingKey }));
  else {
    io.out(`Signing key for ${id}: ${change.signingKey}`);
    io.out('  Shown only this once; store it in the ERP beside the client secret.');
    io.out('  From now on every API call of this client but the token request must carry X-Gerbang-Timestamp and');
    io.out('  X-Gerbang-Signature computed with this key (docs/dynamics-365-guide.md#signed-requests); others are refused (401).');
  }
  return 0;
}

/**
 * A callback URL Gerbang may call: https, or http to a loopback address (a test or a local
 * relay). Null when acceptable, else why not.
 */
export function callbackUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (parsed.protocol === 'https:') return null;
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
  return parsed.protocol === 'http:' && loopback ? null : 'must be https (http only to a loopback address)';
}

/** Creates a client in `store` (see src/domain/clients); a bad --origin/--cidr is a usage error naming the flag. */
export async function createClient(
  store: Store,
  input: { name: string; origins: string[]; cidrs: string[] },
  now: number,
): Promise<{ client: ClientRecord; clientSecret: string }> {
  const problems = allowlistProblems(input.origins, input.cidrs).map((p) => `--${p.field} ${p.message}`);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return createClientIn(store.clients, input, now);
}

export async function clientCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  const parse = () =>
    parseOptions(rest, {
      name: { type: 'string' },
      origin: { type: 'string', multiple: true },
      cidr: { type: 'string', multiple: true },
      id: { type: 'string' },
      json: { type: 'boolean' },
      url: { type: 'string' },
      account: { type: 'string' },
      remove: { type: 'boolean' },
      'app-id': { type: 'string' },
    });
  if (!ACTIONS.includes(action)) throw new UsageError(`unknown action ${JSON.stringify(action ?? '')}`);
  const { values } = parse();
  // Every action needs the key ring: clients, their credentials, grants and callback endpoints are
  // written under its MAC and read only when it holds (migration 025); a ConfigError names what is missing.
  const keys = loadAuditKeys(io.env);
  const store = await openAuditStore(io, keys);
  try {
    switch (action) {
      case 'create': {
        const name = required(values.name, '--name');
        const { client, clientSecret } = await createClient(store, { name, origins: values.origin ?? [], cidrs: values.cidr ?? [] }, Date.now());
        if (values.json) {
          io.out(JSON.stringify({ clientId: client.id, clientSecret }));
        } else {
          io.out(`Client created: ${client.name}`);
          io.out(`  client_id:     ${client.id}`);
          io.out(`  client_secret: ${clientSecret}`);
          io.out('  The secret is shown only this once; store it in the ERP now.');
          if (client.allowedCidrs.length === 0) io.out('  Warning: no --cidr given, so this client is refused from every address until one is added.');
        }
        return 0;
      }
      case 'list': {
        const clients = await store.clients.list();
        const credentials = new Map(await Promise.all(clients.map(async (c) => [c.id, await store.clientCredentials.listFor(c.id)] as const)));
        const entraApps = (id: string) => credentials.get(id)!.filter((c) => c.kind === 'entra-app').map((c) => c.lookup);
        const hasApiKey = (id: string) => credentials.get(id)!.some((c) => c.kind === 'api-key');
        if (values.json) {
          io.out(
            JSON.stringify(clients.map(({ secretHash: _hidden, signing, ...rest }) => ({ ...rest, signingRequired: signing.required, entraApps: entraApps(rest.id), apiKey: hasApiKey(rest.id) }))),
          );
        } else {
          for (const c of clients) {
            const signing = c.signing.required ? '  signing=required' : '';
            const entra = entraApps(c.id).length > 0 ? `  entra-apps=[${entraApps(c.id).join(' ')}]` : '';
            const apiKey = hasApiKey(c.id) ? '  api-key' : '';
            const forged = c.integrityProblem === undefined ? '' : `  INTEGRITY FAILED: ${c.integrityProblem}`;
            io.out(`${c.id}  ${c.status.padEnd(8)}  ${c.name}  origins=[${c.allowedOrigins.join(' ')}]  cidrs=[${c.allowedCidrs.join(' ')}]${signing}${entra}${apiKey}${forged}`);
          }
          if (clients.length === 0) io.out('No clients yet: gerbang client create --name NAME --cidr ADDRESS');
        }
        return 0;
      }
      case 'rotate-secret': {
        const id = required(values.id, '--id');
        const clientSecret = await rotateClientSecret(store.clients, id, Date.now());
        if (clientSecret === null) {
          io.err(`No client with id ${id}`);
          return 1;
        }
        if (values.json) io.out(JSON.stringify({ clientId: id, clientSecret }));
        else {
          io.out(`New secret for ${id}: ${clientSecret}`);
          io.out('  Shown only this once. Tokens issued with the old secret no longer work.');
        }
        return 0;
      }
      case 'set-callback': {
        const id = required(values.id, '--id');
        if (values.remove === (values.url !== undefined)) throw new UsageError('give either --url or --remove');
        const problem = values.url === undefined ? null : callbackUrlProblem(values.url);
        if (problem) throw new UsageError(`--url ${problem}`);
        if (!(await store.clients.findById(id))) {
          io.err(`No client with id ${id}`);
          return 1;
        }
        await store.callbacks.setEndpoint(id, values.url ?? null, Date.now());
        io.out(values.url ? `Client ${id} is notified at ${values.url} when a transfer becomes final.` : `Client ${id} gets no callbacks.`);
        return 0;
      }
      case 'enable-signing': {
        const id = required(values.id, '--id');
        return reportSigningKey(io, id, await enableSigning(store.clients, keys, id, Date.now()), values.json);
      }
      case 'rotate-signing-key': {
        const id = required(values.id, '--id');
        return reportSigningKey(io, id, await rotateSigningKey(store.clients, keys, id, Date.now()), values.json);
      }
      case 'disable-signing': {
        const id = required(values.id, '--id');
        if (!(await disableSigning(store.clients, id, Date.now()))) {
          io.err(`No client with id ${id}`);
          return 1;
        }
        io.out(`Client ${id} no longer signs its requests; its signing key is deleted.`);
        return 0;
      }
      case 'grant-account':
      case 'revoke-account': {
        const id = required(values.id, '--id');
        const accountNumber = required(values.account, '--account');
        if (!ACCOUNT_NUMBER.test(accountNumber)) throw new UsageError('--account must be 5 to 34 digits');
        const grant = action === 'grant-account';
        const outcome = await setAccountGrant(store, { clientId: id, accountNumber, grant }, Date.now());
        if (outcome === 'no-client') {
          io.err(`No client with id ${id}`);
          return 1;
        }
        const already = outcome === 'unchanged' ? ' (already)' : '';
        io.out(grant ? `Client ${id} may use account ${accountNumber}${already}.` : `Client ${id} may no longer use account ${accountNumber}${already}.`);
        return 0;
      }
      case 'accounts': {
        const id = required(values.id, '--id');
        if (!(await store.clients.findById(id))) {
          io.err(`No client with id ${id}`);
          return 1;
        }
        const accounts = await store.accountGrants.list(id);
        if (values.json) io.out(JSON.stringify({ clientId: id, accounts }));
        else io.out(accounts.length > 0 ? accounts.join('\n') : `Client ${id} may use no account yet: gerbang client grant-account --id ${id} --account NUMBER`);
        return 0;
      }
      case 'enable': {
        const id = required(values.id, '--id');
        if (!(await store.clients.setStatus(id, 'active', Date.now()))) {
          io.err(`No client with id ${id}`);
          return 1;
        }
        io.out(`Client ${id} enabled; it can request tokens again with its existing secret.`);
        return 0;
      }
      case 'link-entra-app':
      case 'unlink-entra-app': {
        const id = required(values.id, '--id');
        const appId = required(values['app-id'], '--app-id');
        if (action === 'link-entra-app') {
          let linked: boolean;
          try {
            linked = await linkEntraApp(store, id, appId, Date.now());
          } catch (error) {
            if (error instanceof AppError && error.code === 'VALIDATION_FAILED') throw new UsageError(`--${error.message}`);
            throw error;
          }
          if (!linked) {
            io.err(`No client with id ${id}`);
            return 1;
          }
          io.out(`Entra ID access tokens of application ${appId.trim().toLowerCase()} now act as client ${id} (within its --cidr and --origin lists).`);
          return 0;
        }
        if (!(await unlinkEntraApp(store, id, appId))) {
          io.err(`Application ${appId} is not linked to client ${id}`);
          return 1;
        }
        io.out(`Entra ID access tokens of application ${appId.trim().toLowerCase()} no longer act as client ${id}.`);
        return 0;
      }
      case 'rotate-api-key': {
        const id = required(values.id, '--id');
        const key = await rotateApiKey(store, id, Date.now());
        if (key === null) {
          io.err(`No client with id ${id}`);
          return 1;
        }
        if (values.json) io.out(JSON.stringify({ clientId: id, apiKey: key }));
        else {
          io.out(`API key for ${id}: ${key}`);
          io.out('  Shown only this once; the connector sends it in the X-API-Key header. Any earlier key of this client no longer works.');
        }
        return 0;
      }
      case 'revoke-api-key': {
        const id = required(values.id, '--id');
        if (!(await revokeApiKey(store, id))) {
          io.err(`Client ${id} has no API key`);
          return 1;
        }
        io.out(`The API key of client ${id} is deleted; calls with it are refused.`);
        return 0;
      }
      default: {
        const id = required(values.id, '--id');
        const done = await store.clients.setStatus(id, 'disabled', Date.now());
        if (!done) {
          io.err(`No client with id ${id}`);
          return 1;
        }
        io.out(`Client ${id} disabled; its tokens stop working at once.`);
        return 0;
      }
    }
  } finally {
    await store.close();
  }
}
