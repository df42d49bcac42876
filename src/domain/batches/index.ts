export { BatchProcessor } from './batch-processor.js';
export type { BatchProcessorDeps, BatchProcessorOptions } from './batch-processor.js';
export { batchIdParamsSchema, batchLinesQuerySchema, batchRequestSchema, batchViewSchema } from './batch-schema.js';
export type { BatchRequest } from './batch-schema.js';
export { getBatch, submitBatch } from './batch-use-cases.js';
export type { BatchDeps, BatchLineView, BatchView } from './batch-use-cases.js';
