export { CallbackDispatcher, outboxNotifier } from './callback-dispatcher.js';
export type { FinalStateNotifier } from './callback-dispatcher.js';
export { CallbackSigner } from './callback-signer.js';
