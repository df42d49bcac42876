export { createTransfer } from './create-transfer-use-case.js';
export { getTransfer } from './get-transfer-use-case.js';
export { InDoubtResolver } from './in-doubt-resolver.js';
export type { InDoubtResolverDeps, InDoubtResolverOptions } from './in-doubt-resolver.js';
export type { GetTransferDeps, TransferStatusReply } from './get-transfer-use-case.js';
export type { CreateTransferDeps, TransferContext, TransferReply } from './create-transfer-use-case.js';
export { transferRequestSchema } from './transfer-schema.js';
export type { TransferRequest } from './transfer-schema.js';
export type { TransferResult } from './transfer-result.js';
