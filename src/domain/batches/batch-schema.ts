import Joi from 'joi';
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
    .label('body');
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
