import type { RequestHandler } from 'express';
import type { AuditRepository } from '../../store/types.js';
import { AuditTrail } from '../../audit/index.js';

export interface AuditStepOptions {
  repository: AuditRepository;
  clock: () => number;
}

/**
 * Attaches an AuditTrail to every request and makes sure it is written:
 * - a JSON answer (every answer of the API, problems included) is recorded *before* it is
 *   sent, so when the caller has its answer, the audit has it too;
 * - any other ending (an empty answer, a dropped connection) is recorded when the response
 *   closes.
 */
export function auditStep({ repository, clock }: AuditStepOptions): RequestHandler {
  return (req, res, next) => {
    const trail = new AuditTrail(repository, req, res, clock(), clock);
    res.locals.audit = trail;

    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      void trail.finish(body).then(() => send(body));
      return res;
    };
    res.on('close', () => {
      void trail.finish(undefined, !res.writableFinished);
    });
    next();
  };
}
