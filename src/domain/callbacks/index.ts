export { CallbackDispatcher, outboxNotifier, recentEndpoints } from './callback-dispatcher.js';
export type { FinalStateNotifier, OutboxStore } from './callback-dispatcher.js';
export { CallbackSigner } from './callback-signer.js';
export { requeueCallback } from './callback-requeue.js';
export type { RequeueDeps, RequeueOutcome, RequeueRequest } from './callback-requeue.js';
