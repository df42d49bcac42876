import type { RequestHandler } from 'express';
import type Joi from 'joi';
import { AppError, type FieldError } from '../../errors/index.js';

/**
 * Validates one part of the request against a Joi schema: every problem is reported at once
 * (abortEarly off), unknown fields are errors, and nothing is converted silently (an amount
 * must arrive as a decimal string, not be coerced from a float). The validated value replaces
 * the input so later steps see only known, typed fields.
 */
export function validationStep(schema: Joi.ObjectSchema, source: 'body' | 'params' | 'query' = 'body'): RequestHandler {
  return (req, _res, next) => {
    const input: unknown = source === 'body' ? (req.body ?? undefined) : { ...req[source] };
    const { value, error } = schema.validate(input, { abortEarly: false, allowUnknown: false, convert: source !== 'body' });
    if (error) throw validationError(error);
    if (source === 'body') req.body = value;
    else Object.defineProperty(req, source, { value, writable: true, configurable: true, enumerable: true });
    next();
  };
}

export function validationError(error: Joi.ValidationError): AppError {
  const fields: FieldError[] = error.details.map((detail) => ({
    field: detail.path.length > 0 ? detail.path.join('.') : '(body)',
    message: detail.message,
  }));
  const names = [...new Set(fields.map((f) => f.field))].join(', ');
  return new AppError('VALIDATION_FAILED', `The request has invalid fields: ${names}.`, { fields });
}
