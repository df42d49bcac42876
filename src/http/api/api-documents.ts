import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Joi from 'joi';
import parse from 'joi-to-json';
import { statusOfCode, type ErrorCode } from '../../errors/index.js';
import { packageRoot } from '../../store/package-root.js';
import { SIGNATURE_HEADER, SIGNATURE_WINDOW_MS, TIMESTAMP_HEADER } from '../../pipeline/request-signature/index.js';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../problem-details.js';
import { API_KEY_HEADER } from '../../pipeline/auth/index.js';
import type { ApiRoute, RouteAnswer } from './api-route.js';

/*
 * The OpenAPI 3 and Swagger 2.0 documents, both built from the route declarations and their Joi
 * schemas (joi-to-json renders a schema through Joi's own `describe()`, so no Joi internals).
 *
 * Swagger 2.0 is the variant a Power Platform custom connector imports. Its connection
 * authenticates one of two ways, both declared in securityDefinitions and offered as the
 * connector's connection types (apiProperties.json, connectorProperties): OAuth 2.0 with
 * Microsoft Entra ID (Gerbang accepts the tenant's access tokens, src/pipeline/auth/entra-tokens.ts)
 * or an API key in X-API-Key. Either way Power Platform adds the credential itself, so no
 * action carries a token parameter.
 */

type JsonSchema = Record<string, unknown>;
type Doc = Record<string, unknown>;

export interface ApiDocumentOptions {
  /** Where callers reach the API; without it the documents name no host. */
  publicUrl?: string;
}

const TITLE = 'Gerbang API';
/**
 * The connector's title: Power Platform certification refuses "API" (and "connector") in it,
 * and at most 30 characters.
 */
const CONNECTOR_TITLE = 'Gerbang Bank Payments';
const PUBLISHER = 'Gerbang';
/** The Swagger names of the two connection types (Power Platform's own names for them). */
const SWAGGER_OAUTH = 'oauth2_auth';
const SWAGGER_API_KEY = 'api_key';
const DESCRIPTION =
  'Pay vendors through Indonesian banks from one whitelisted address. Every request is audited. Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`, the `requestId`, and for validation every invalid field in `errors`. Guide for Dynamics 365: docs/dynamics-365-guide.md.';

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** A Joi schema as an OpenAPI 3.0 schema object. */
function toSchema(schema: Joi.Schema): JsonSchema {
  return parse(schema as never, 'open-api') as JsonSchema;
}

/** Problem codes grouped by the status they are answered with, ascending. */
function problemsByStatus(codes: ErrorCode[]): [number, ErrorCode[]][] {
  const groups = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) groups.set(statusOfCode(code), [...(groups.get(statusOfCode(code)) ?? []), code]);
  return [...groups.entries()].sort(([a], [b]) => a - b);
}

function problemDescription(codes: ErrorCode[]): string {
  return `Problem details; \`code\` is one of: ${codes.join(', ')}.`;
}

/** Path and query parameters of a route, each from its Joi object's keys. */
function parameters(route: ApiRoute): { name: string; in: 'path' | 'query'; required: boolean; description?: string; schema: JsonSchema }[] {
  const list = [];
  for (const where of ['path', 'query'] as const) {
    const joi = where === 'path' ? route.request?.params : route.request?.query;
    if (!joi) continue;
    const object = toSchema(joi) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      const { description, ...schema } = property;
      list.push({ name, in: where, required: where === 'path' || (object.required ?? []).includes(name), description: description as string | undefined, schema });
    }
  }
  return list;
}

/**
 * The request-signature headers every bearer route takes. Optional in the documents: only a
 * client the operator made sign (gerbang client enable-signing) must send them.
 */
const SIGNATURE_PARAMETERS = [
  {
    name: TIMESTAMP_HEADER,
    description: `For a client that must sign its requests: when the request was signed, ISO-8601 with seconds and an offset (e.g. \`2026-11-26T09:15:00.123+07:00\`), within ${SIGNATURE_WINDOW_MS / 60_000} minutes of Gerbang's clock. Part of the signed string.`,
    pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$',
  },
  {
    name: SIGNATURE_HEADER,
    description: `For a client that must sign its requests: base64(HMAC-SHA256(signing key, METHOD + "\\n" + path with query + "\\n" + ${TIMESTAMP_HEADER} + "\\n" + lower-case hex SHA-256 of the raw body)). Each signature is accepted once. See docs/dynamics-365-guide.md (Signed requests).`,
    pattern: '^[A-Za-z0-9+/]{43}=$',
  },
];

/**
 * How one document format writes an answer (a declared answer, the problems answered with the
 * same status, or both: a refused transfer is a 422 transfer result, a reused transactionId a
 * 422 problem) and the rest of an operation. `named` renders a schema, as a reference to a
 * named component when it has a name (see componentName).
 */
interface Format {
  response(answer: RouteAnswer | undefined, codes: ErrorCode[], named: Named): Doc;
  operation(route: ApiRoute, named: Named): Doc;
}

/** Renders a Joi schema in a document, registering it as a named component when it has a name. */
type Named = (schema: Joi.Schema) => JsonSchema;

/**
 * The component a schema is published as: its `meta({ component })`, else its label when that
 * is a type name (`TransferResult`; not the `body`/`path` labels the validator's messages use).
 */
function componentName(schema: Joi.Schema): string | undefined {
  const metas = (schema.describe().metas ?? []) as { component?: string }[];
  const meta = metas.find((m) => typeof m?.component === 'string')?.component;
  if (meta) return meta;
  const label = schema.$_getFlag('label') as string | undefined;
  return label && /^[A-Z][A-Za-z0-9]*$/.test(label) ? label : undefined;
}

/**
 * The named components of one document: `named(schema)` renders a schema once under its name
 * (through `render`) and answers a `$ref` to it; an unnamed schema is rendered in place.
 */
function componentRegistry(render: (schema: Joi.Schema) => JsonSchema, refPrefix: string): { named: Named; components: Record<string, JsonSchema> } {
  const components: Record<string, JsonSchema> = {};
  const named: Named = (schema) => {
    const name = componentName(schema);
    if (!name) return render(schema);
    components[name] ??= render(schema);
    return { $ref: `${refPrefix}${name}` };
  };
  return { named, components };
}

function answerDescription(answer: RouteAnswer | undefined, codes: ErrorCode[]): string {
  const problems = codes.length > 0 ? problemDescription(codes) : undefined;
  if (!answer) return problems!;
  return problems ? `${answer.description} Or, as \`${PROBLEM_CONTENT_TYPE}\`: ${problems}` : answer.description;
}

/**
 * The `paths` object: for each route, the header both formats share, the format's own
 * members, and its answers (declared ones, then problems grouped by status).
 */
function pathsOf(routes: ApiRoute[], format: Format, named: Named): Record<string, Record<string, Doc>> {
  const paths: Record<string, Record<string, Doc>> = {};
  for (const route of routes) {
    const answers = route.answers as Record<number, RouteAnswer>;
    const problems = new Map(problemsByStatus(route.problems));
    const statuses = [...new Set([...Object.keys(answers).map(Number), ...problems.keys()])].sort((a, b) => a - b);
    const responses: Record<string, Doc> = {};
    for (const status of statuses) responses[String(status)] = format.response(answers[status], problems.get(status) ?? [], named);
    const header = { operationId: route.operationId, summary: route.summary, description: route.description, tags: route.tags };
    paths[route.path] = { ...paths[route.path], [route.method]: { ...header, ...format.operation(route, named), responses } };
  }
  return paths;
}

const openApiFormat: Format = {
  response: (answer, codes, named) => {
    const content: Doc = {};
    if (answer?.schema) content['application/json'] = { schema: named(answer.schema) };
    if (codes.length > 0) content[PROBLEM_CONTENT_TYPE] = { schema: named(problemSchema) };
    return {
      description: answerDescription(answer, codes),
      ...(answer?.headers ? { headers: Object.fromEntries(Object.entries(answer.headers).map(([name, h]) => [name, { description: h.description, schema: toSchema(h.schema) }])) } : {}),
      ...(Object.keys(content).length > 0 ? { content } : {}),
    };
  },
  operation: (route, named) => {
    const body = route.request?.body;
    const params: Doc[] = parameters(route);
    if (route.security === 'bearer') {
      for (const header of SIGNATURE_PARAMETERS) params.push({ name: header.name, in: 'header', required: false, description: header.description, schema: { type: 'string', pattern: header.pattern } });
    }
    return {
      security:
        route.security === 'bearer'
          ? [{ bearer: [] }, { clientCredentials: [] }, { entraId: [] }, { apiKey: [] }]
          : route.security === 'client-credentials'
            ? [{ clientBasic: [] }, {}]
            : [],
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(body
        ? { requestBody: { required: body.$_getFlag('presence') === 'required', content: Object.fromEntries((route.request?.bodyTypes ?? ['application/json']).map((type) => [type, { schema: named(body) }])) } }
        : {}),
    };
  },
};

/** OpenAPI 3.0 document of the given routes. */
export function openApiDocument(routes: ApiRoute[], options: ApiDocumentOptions = {}): Doc {
  const { named, components } = componentRegistry(toSchema, '#/components/schemas/');
  const paths = pathsOf(routes, openApiFormat, named);
  const tokenUrl = `${options.publicUrl ?? ''}/v1/auth/token`;
  return {
    openapi: '3.0.3',
    info: { title: TITLE, version: version(), description: DESCRIPTION, contact: contactOf(options) },
    ...(options.publicUrl ? { servers: [{ url: options.publicUrl }] } : {}),
    tags: [...new Set(routes.flatMap((route) => route.tags))].map((name) => ({ name })),
    paths,
    components: {
      schemas: sortedByName(components),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access_token from IssueToken.' },
        clientCredentials: { type: 'oauth2', description: 'OAuth2 client credentials at IssueToken.', flows: { clientCredentials: { tokenUrl, scopes: {} } } },
        clientBasic: { type: 'http', scheme: 'basic', description: 'client_id and client_secret in HTTP Basic (IssueToken only; or send them in the body).' },
        entraId: {
          type: 'oauth2',
          description:
            "An access token of the operator's Microsoft Entra ID tenant (GERBANG_ENTRA_METADATA_URL), for an application linked to a client (`gerbang client link-entra-app`): client credentials or a managed identity at the tenant's token endpoint with scope `<Gerbang's Application ID URI>/.default`. Sent as `Authorization: Bearer <token>`.",
          flows: { clientCredentials: { tokenUrl: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token', scopes: {} } },
        },
        apiKey: { type: 'apiKey', in: 'header', name: API_KEY_HEADER, description: 'The API key printed once by `gerbang client rotate-api-key`, for callers that cannot run OAuth.' },
      },
    },
  };
}

/** Who answers for this installation's API: its operators, at its reference page when the address is known. */
function contactOf(options: ApiDocumentOptions): Doc {
  return { name: `${PUBLISHER} operators`, ...(options.publicUrl ? { url: `${options.publicUrl}/docs` } : {}) };
}

function sortedByName(components: Record<string, JsonSchema>): Record<string, JsonSchema> {
  return Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b)));
}

/** `MyFieldName` / `myFieldName` → `My field name`, the label a Power Platform form shows. */
function summaryOf(name: string): string {
  const words = name.replace(/_/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** An OpenAPI 3.0 schema as a Swagger 2.0 one: `nullable` → `x-nullable`, no `not`, labels for forms. */
function toSwaggerSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'not') continue;
    if (key === 'nullable') out['x-nullable'] = value;
    else if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, property]) => [name, { 'x-ms-summary': summaryOf(name), ...toSwaggerSchema(property) }]),
      );
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) out[key] = toSwaggerSchema(value as JsonSchema);
    else out[key] = value;
  }
  return out;
}

/*
 * Swagger 2.0 gives an answer one schema. Where a status carries both a declared answer and
 * problems (422 of CreateTransfer: a refused transfer, or a reused transactionId), the declared
 * answer is the schema (the business result a connector reads) and the description names the
 * problem codes, which arrive as `application/problem+json`.
 */
const swaggerFormat: Format = {
  response: (answer, codes, named) => {
    const schema = answer?.schema ?? (codes.length > 0 ? problemSchema : undefined);
    return {
      description: answerDescription(answer, codes),
      ...(schema ? { schema: named(schema) } : {}),
      ...(answer?.headers
        ? { headers: Object.fromEntries(Object.entries(answer.headers).map(([name, h]) => [name, { description: h.description, ...toSwaggerSchema(toSchema(h.schema)) }])) }
        : {}),
    };
  },
  operation: (route, named) => {
    const params: Doc[] = parameters(route).map(({ schema, description, ...rest }) => ({
      ...rest,
      ...(description ? { description } : {}),
      'x-ms-summary': summaryOf(rest.name),
      ...toSwaggerSchema(schema),
    }));
    if (route.security === 'bearer') {
      for (const header of SIGNATURE_PARAMETERS) {
        // Advanced: a connector's forms only show them on request (most clients do not sign).
        params.push({ name: header.name, in: 'header', required: false, type: 'string', pattern: header.pattern, description: header.description, 'x-ms-summary': summaryOf(header.name.replace(/-/g, ' ')), 'x-ms-visibility': 'advanced' });
      }
    }
    const body = route.request?.body;
    if (body) params.push({ name: 'body', in: 'body', required: body.$_getFlag('presence') === 'required', schema: named(body) });
    return {
      // The connection's credential (OAuth 2.0 with Entra ID, or the API key) goes with every
      // protected action; the others are anonymous.
      security: route.security === 'bearer' ? [{ [SWAGGER_OAUTH]: [] }, { [SWAGGER_API_KEY]: [] }] : [],
      // Probes are for machines: a connector does not offer them as actions.
      ...(route.visibility ? { 'x-ms-visibility': route.visibility } : {}),
      // JSON only here: a connector sends JSON, and Swagger 2.0 would need form parameters apart.
      ...(body ? { consumes: ['application/json'] } : {}),
      produces: ['application/json', PROBLEM_CONTENT_TYPE],
      ...(params.length > 0 ? { parameters: params } : {}),
    };
  },
};

/** Swagger 2.0 document of the given routes, shaped for a Power Platform custom connector. */
export function swaggerDocument(routes: ApiRoute[], options: ApiDocumentOptions = {}): Doc {
  const url = options.publicUrl ? new URL(options.publicUrl) : undefined;
  const { named, components } = componentRegistry((schema) => toSwaggerSchema(toSchema(schema)), '#/definitions/');
  const paths = pathsOf(routes, swaggerFormat, named);
  return {
    swagger: '2.0',
    info: {
      title: CONNECTOR_TITLE,
      version: version(),
      description: DESCRIPTION,
      contact: contactOf(options),
    },
    'x-ms-connector-metadata': [
      ...(options.publicUrl ? [{ propertyName: 'Website', propertyValue: options.publicUrl }] : []),
      { propertyName: 'Categories', propertyValue: 'Finance;IT Operations' },
    ],
    ...(url ? { host: url.host } : {}),
    basePath: url && url.pathname !== '/' ? url.pathname : '/',
    schemes: [url ? url.protocol.replace(':', '') : 'https'],
    consumes: ['application/json'],
    produces: ['application/json'],
    tags: [...new Set(routes.flatMap((route) => route.tags))].map((name) => ({ name })),
    paths,
    definitions: sortedByName(components),
    securityDefinitions: {
      [SWAGGER_OAUTH]: {
        type: 'oauth2',
        flow: 'accessCode',
        // What Power Platform writes for its "Azure Active Directory" identity provider; the
        // tenant and Gerbang's resource (Application ID URI) are in apiProperties.json.
        authorizationUrl: 'https://login.microsoftonline.com/common/oauth2/authorize',
        tokenUrl: 'https://login.windows.net/common/oauth2/authorize',
        scopes: {},
        description: "OAuth 2.0 with Microsoft Entra ID: the connector's app registration, linked to a Gerbang client (`gerbang client link-entra-app`).",
      },
      [SWAGGER_API_KEY]: { type: 'apiKey', in: 'header', name: API_KEY_HEADER, description: 'The API key printed once by `gerbang client rotate-api-key`.' },
    },
  };
}


/**
 * The connector's properties file (paconn's apiProperties.json): who publishes it, and its two
 * connection types (multi-auth `connectionParameterSets`), matching the Swagger file's
 * securityDefinitions: OAuth 2.0 with Entra ID, or an API key. The `<…>` values are the
 * operator's own (docs/dynamics-365-guide.md, Power Automate).
 */
export function connectorProperties(_routes: ApiRoute[]): Doc {
  return {
    properties: {
      publisher: PUBLISHER,
      stackOwner: PUBLISHER,
      iconBrandColor: '#0b4f8a',
      capabilities: [],
      connectionParameterSets: {
        uiDefinition: { displayName: 'Authentication type', description: 'How this connection proves which Gerbang client it is.' },
        values: [
          {
            name: 'entra-id',
            uiDefinition: { displayName: 'Microsoft Entra ID', description: "Sign in with your organisation's Entra ID; the connector's app registration is linked to a Gerbang client." },
            parameters: {
              token: {
                type: 'oauthSetting',
                oAuthSettings: {
                  identityProvider: 'aad',
                  clientId: '<application (client) id of the connector app registration>',
                  scopes: [],
                  redirectMode: 'GlobalPerConnector',
                  redirectUrl: 'https://global.consent.azure-apim.net/redirect',
                  properties: { IsFirstParty: 'False', AzureActiveDirectoryResourceId: '<Application ID URI of Gerbang, e.g. api://gerbang>', IsOnbehalfofLoginSupported: false },
                  customParameters: {
                    loginUri: { value: 'https://login.microsoftonline.com' },
                    tenantId: { value: '<your tenant id>' },
                    resourceUri: { value: '<Application ID URI of Gerbang, e.g. api://gerbang>' },
                    enableOnbehalfOfLogin: { value: 'false' },
                  },
                },
                uiDefinition: { displayName: 'Sign in with Microsoft Entra ID', description: 'Microsoft Entra ID', constraints: { required: 'true' } },
              },
            },
          },
          {
            name: 'api-key',
            uiDefinition: { displayName: 'API key', description: 'The API key printed once by gerbang client rotate-api-key.' },
            parameters: {
              [SWAGGER_API_KEY]: {
                type: 'securestring',
                uiDefinition: { displayName: 'API key', description: 'The Gerbang API key (X-API-Key)', tooltip: 'gbk_…, from the Gerbang operator', constraints: { tabIndex: 2, clearText: false, required: 'true' } },
              },
            },
          },
        ],
      },
      policyTemplateInstances: [],
    },
  };
}
