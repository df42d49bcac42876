import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Joi from 'joi';
import parse from 'joi-to-json';
import { statusOfCode, type ErrorCode } from '../../errors/index.js';
import { packageRoot } from '../../store/package-root.js';
import { SIGNATURE_HEADER, SIGNATURE_WINDOW_MS, TIMESTAMP_HEADER } from '../../pipeline/request-signature/index.js';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../problem-details.js';
import type { ApiRoute, RouteAnswer } from './api-route.js';

/*
 * The OpenAPI 3 and Swagger 2.0 documents, both built from the route declarations and their Joi
 * schemas (joi-to-json renders a schema through Joi's own `describe()`, so no Joi internals).
 *
 * Swagger 2.0 is the variant a Power Platform custom connector imports. A connector can neither
 * run the client-credentials grant (its generic OAuth 2.0 is the interactive code flow) nor
 * declare an `Authorization` parameter (the designer refuses it). So the connector has no
 * authentication: the flow calls IssueToken, passes the token to each protected action in the
 * `Access-Token` parameter, and the connector's "Set HTTP header" policy (connectorProperties)
 * turns it into `Authorization: Bearer …` before the request leaves Power Platform.
 */

/** The header a connector action carries the token in (redacted like Authorization). */
export const CONNECTOR_TOKEN_HEADER = 'Access-Token';

type JsonSchema = Record<string, unknown>;
type Doc = Record<string, unknown>;

export interface ApiDocumentOptions {
  /** Where callers reach the API; without it the documents name no host. */
  publicUrl?: string;
}

const TITLE = 'Gerbang API';
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

/** How one document format writes an answer, a problem answer and the rest of an operation. */
interface Format {
  answer(answer: RouteAnswer): Doc;
  problem(codes: ErrorCode[]): Doc;
  operation(route: ApiRoute): Doc;
}

/**
 * The `paths` object: for each route, the header both formats share, the format's own
 * members, and its answers (declared ones, then problems grouped by status).
 */
function pathsOf(routes: ApiRoute[], format: Format): Record<string, Record<string, Doc>> {
  const paths: Record<string, Record<string, Doc>> = {};
  for (const route of routes) {
    const responses: Record<string, Doc> = {};
    for (const [status, answer] of Object.entries(route.answers) as [string, RouteAnswer][]) responses[status] = format.answer(answer);
    for (const [status, codes] of problemsByStatus(route.problems)) responses[String(status)] = format.problem(codes);
    const header = { operationId: route.operationId, summary: route.summary, description: route.description, tags: route.tags };
    paths[route.path] = { ...paths[route.path], [route.method]: { ...header, ...format.operation(route), responses } };
  }
  return paths;
}

const openApiFormat: Format = {
  answer: (answer) => ({
    description: answer.description,
    ...(answer.headers ? { headers: Object.fromEntries(Object.entries(answer.headers).map(([name, h]) => [name, { description: h.description, schema: toSchema(h.schema) }])) } : {}),
    ...(answer.schema ? { content: { 'application/json': { schema: toSchema(answer.schema) } } } : {}),
  }),
  problem: (codes) => ({ description: problemDescription(codes), content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } }),
  operation: (route) => {
    const body = route.request?.body;
    const params: Doc[] = parameters(route);
    if (route.security === 'bearer') {
      for (const header of SIGNATURE_PARAMETERS) params.push({ name: header.name, in: 'header', required: false, description: header.description, schema: { type: 'string', pattern: header.pattern } });
    }
    return {
      security: route.security === 'bearer' ? [{ bearer: [] }, { clientCredentials: [] }] : route.security === 'client-credentials' ? [{ clientBasic: [] }, {}] : [],
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(body
        ? { requestBody: { required: body.$_getFlag('presence') === 'required', content: Object.fromEntries((route.request?.bodyTypes ?? ['application/json']).map((type) => [type, { schema: toSchema(body) }])) } }
        : {}),
    };
  },
};

/** OpenAPI 3.0 document of the given routes. */
export function openApiDocument(routes: ApiRoute[], options: ApiDocumentOptions = {}): Doc {
  const paths = pathsOf(routes, openApiFormat);
  const tokenUrl = `${options.publicUrl ?? ''}/v1/auth/token`;
  return {
    openapi: '3.0.3',
    info: { title: TITLE, version: version(), description: DESCRIPTION },
    ...(options.publicUrl ? { servers: [{ url: options.publicUrl }] } : {}),
    tags: [...new Set(routes.flatMap((route) => route.tags))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Problem: toSchema(problemSchema) },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access_token from IssueToken.' },
        clientCredentials: { type: 'oauth2', description: 'OAuth2 client credentials at IssueToken.', flows: { clientCredentials: { tokenUrl, scopes: {} } } },
        clientBasic: { type: 'http', scheme: 'basic', description: 'client_id and client_secret in HTTP Basic (IssueToken only; or send them in the body).' },
      },
    },
  };
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

const swaggerFormat: Format = {
  answer: (answer) => ({
    description: answer.description,
    ...(answer.schema ? { schema: toSwaggerSchema(toSchema(answer.schema)) } : {}),
    ...(answer.headers
      ? { headers: Object.fromEntries(Object.entries(answer.headers).map(([name, h]) => [name, { description: h.description, ...toSwaggerSchema(toSchema(h.schema)) }])) }
      : {}),
  }),
  problem: (codes) => ({ description: problemDescription(codes), schema: { $ref: '#/definitions/Problem' } }),
  operation: (route) => {
    const params: Doc[] = parameters(route).map(({ schema, description, ...rest }) => ({
      ...rest,
      ...(description ? { description } : {}),
      'x-ms-summary': summaryOf(rest.name),
      ...toSwaggerSchema(schema),
    }));
    if (route.security === 'bearer') {
      params.unshift({
        name: CONNECTOR_TOKEN_HEADER,
        in: 'header',
        required: true,
        type: 'string',
        description: "The access_token from IssueToken. The connector's Set HTTP header policy sends it as `Authorization: Bearer <token>` (docs/api/apiProperties.json).",
        'x-ms-summary': 'Access token',
      });
      for (const header of SIGNATURE_PARAMETERS) {
        // Advanced: a connector's forms only show them on request (most clients do not sign).
        params.push({ name: header.name, in: 'header', required: false, type: 'string', pattern: header.pattern, description: header.description, 'x-ms-summary': summaryOf(header.name.replace(/-/g, ' ')), 'x-ms-visibility': 'advanced' });
      }
    }
    const body = route.request?.body;
    if (body) params.push({ name: 'body', in: 'body', required: body.$_getFlag('presence') === 'required', schema: toSwaggerSchema(toSchema(body)) });
    return {
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
  const paths = pathsOf(routes, swaggerFormat);
  return {
    swagger: '2.0',
    info: { title: TITLE, version: version(), description: DESCRIPTION },
    ...(url ? { host: url.host } : {}),
    basePath: url && url.pathname !== '/' ? url.pathname : '/',
    schemes: [url ? url.protocol.replace(':', '') : 'https'],
    consumes: ['application/json'],
    produces: ['application/json'],
    tags: [...new Set(routes.flatMap((route) => route.tags))].map((name) => ({ name })),
    paths,
    definitions: { Problem: toSwaggerSchema(toSchema(problemSchema)) },
  };
}

/**
 * The connector's properties file (paconn's apiProperties.json): no connection parameters, and
 * the policy that sends each protected action's Access-Token as a Bearer Authorization header.
 */
export function connectorProperties(routes: ApiRoute[]): Doc {
  return {
    properties: {
      connectionParameters: {},
      iconBrandColor: '#0b4f8a',
      capabilities: [],
      policyTemplateInstances: [
        {
          templateId: 'setheader',
          title: 'Bearer token from Access-Token',
          parameters: {
            'x-ms-apimTemplateParameter.name': 'Authorization',
            'x-ms-apimTemplateParameter.value': `Bearer @headers('${CONNECTOR_TOKEN_HEADER}')`,
            'x-ms-apimTemplateParameter.existsAction': 'override',
            'x-ms-apimTemplate-policySection': 'Request',
            'x-ms-apimTemplate-operationName': routes.filter((route) => route.security === 'bearer').map((route) => route.operationId),
          },
        },
      ],
    },
  };
}
