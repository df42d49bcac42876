import type { RequestHandler, Router } from 'express';
import type Joi from 'joi';
import type { ErrorCode } from '../../errors/index.js';
import { validationStep } from '../../pipeline/validation/index.js';

/** How a caller proves who it is on a route. */
export type RouteSecurity = 'none' | 'client-credentials' | 'bearer';

/** One successful answer of a route. */
export interface RouteAnswer {
  description: string;
  /** Body schema (JSON); omitted for an answer without a body. */
  schema?: Joi.Schema;
  headers?: Record<string, { description: string; schema: Joi.Schema }>;
}

/**
 * One public route, declared once: the validation steps mounted for it and the OpenAPI and
 * Swagger documents are both derived from this declaration, so they cannot disagree.
 */
export interface ApiRoute {
  /** Stable name of the operation (OpenAPI operationId; Power Platform action name). */
  operationId: string;
  method: 'get' | 'post';
  /** OpenAPI-style path: `/v1/transfers/{transactionId}`. */
  path: string;
  summary: string;
  description: string;
  tags: string[];
  security: RouteSecurity;
  /** `internal`: a probe for machines, hidden from a Power Platform connector's actions. */
  visibility?: 'internal';
  request?: {
    body?: Joi.ObjectSchema;
    /** Media types the body may arrive in (default JSON only). */
    bodyTypes?: string[];
    params?: Joi.ObjectSchema;
    query?: Joi.ObjectSchema;
  };
  /** Successful answers by HTTP status. */
  answers: Record<number, RouteAnswer>;
  /** Error codes this route can answer with (as problem details). */
  problems: ErrorCode[];
}

/** `/v1/transfers/{transactionId}` → `/v1/transfers/:transactionId`. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

/** The validation steps a route's declaration asks for, path first (cheapest), body last. */
export function requestValidation(route: ApiRoute): RequestHandler[] {
  const request = route.request ?? {};
  const steps: RequestHandler[] = [];
  if (request.params) steps.push(validationStep(request.params, 'params'));
  if (request.query) steps.push(validationStep(request.query, 'query'));
  if (request.body) steps.push(validationStep(request.body, 'body'));
  return steps;
}

/**
 * Mounts a declared route: the given pipeline steps, then validation of every declared part
 * of the request, then the handler (which sees only validated input).
 */
export function mountRoute(router: Router, route: ApiRoute, steps: RequestHandler[], handler: RequestHandler): void {
  router[route.method](expressPath(route.path), ...steps, ...requestValidation(route), handler);
}
