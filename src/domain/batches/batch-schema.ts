import Joi from 'joi';
import { transferResultSchema } from '../transfers/transfer-result.js';
import { transferRequestSchema, type TransferRequest } from '../transfers/transfer-schema.js';

export interface BatchRequest {
  batchId: string;
  transfers: TransferRequest[];
}

/**
 * A payment run: up to `maxLines` transfers, each exactly as POST /v1/transfers takes it, each
 * with its own transactionId (unique within the run). Every line is validated before anything
 * is stored; errors name the line (`transfers.12.amount`).
 */
export function batchRequestSchema(maxLines: number): Joi.ObjectSchema<BatchRequest> {
  return Joi.object<BatchRequest>({
    batchId: Joi.string()
      .pattern(/^[A-Za-z0-9._:-]{1,36}$/)
      .required()
      .description("The ERP's id of this payment run (1–36 letters, digits, `.`, `_`, `:`, `-`); resend the same run with the same id to get its state."),
    transfers: Joi.array()
      .items(transferRequestSchema.label('transfer'))
      .min(1)
      .max(maxLines)
      .unique('transactionId')
      .required()
      .description(`The run's transfers, 1 to ${maxLines}; each line is a transfer request and keeps its own idempotency.`)
      .messages({ 'array.unique': '{{#label}} repeats the transactionId of an earlier line (each line needs its own)' }),
  })
    .required()
    .label('body')
    .meta({ component: 'TransferBatchRequest' });
}

export const batchIdParamsSchema = Joi.object<{ batchId: string }>({
  batchId: Joi.string()
    .pattern(/^[A-Za-z0-9._:-]{1,36}$/)
    .required()
    .description('The batchId the ERP gave the run.'),
}).label('path');

export const batchLinesQuerySchema = Joi.object<{ afterLine: number; limit: number }>({
  afterLine: Joi.number().integer().min(0).default(0).description('Lines after this line number (paging).'),
  limit: Joi.number().integer().min(1).max(1000).default(100).description('Lines per page (≤ 1000).'),
}).label('query');

/** A run as GET (and the 202 of POST) answers it, for the API documents and the tests. */
export const batchViewSchema = Joi.object({
  batchId: Joi.string().required(),
  state: Joi.string().valid('QUEUED', 'PROCESSING', 'DONE').required().description('QUEUED: not started; PROCESSING: being paid; DONE: every line submitted or rejected.'),
  lineCount: Joi.number().integer().required(),
  progress: Joi.object({
    queued: Joi.number().integer().required(),
    submitted: Joi.number().integer().required(),
    rejected: Joi.number().integer().required(),
  })
    .required()
    .description('Lines by processing state.'),
  createdAt: Joi.string().isoDate().required(),
  updatedAt: Joi.string().isoDate().required(),
  lines: Joi.array()
    .items(
      Joi.object({
        line: Joi.number().integer().required().description('Line number, from 1.'),
        transactionId: Joi.string().required(),
        state: Joi.string().valid('QUEUED', 'SUBMITTED', 'REJECTED').required().description('QUEUED: not paid yet; SUBMITTED: paid, see `result`; REJECTED: not paid, see `error`.'),
        result: transferResultSchema.allow(null).required().description("The line's transfer, as GetTransfer answers it (its latest state)."),
        error: Joi.object().unknown(true).allow(null).required().description('Why the line was not paid (a problem document).'),
      }),
    )
    .required()
    .description('A page of lines (`afterLine`, `limit`).'),
  nextAfterLine: Joi.number().integer().allow(null).required().description('Set when more lines follow: ask again with `afterLine` set to it.'),
}).label('TransferBatch');
