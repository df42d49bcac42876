/**
 * A worker thread of ReconciliationChecks (reconciliation-checks.ts, which says why it may hold
 * the keys): opens the paying accounts and checks the MACs of the rows it is sent, and answers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KeyRing, type RingKey } from '../../security/index.js';
import { checkRows, type CheckedRow } from './reconciliation-checks.js';

const given = workerData as { keys: { id: string; key: Uint8Array }[]; setting: string };
const ring = new KeyRing(
  given.keys.map((k): RingKey => ({ id: k.id, key: Buffer.from(k.key) })),
  given.setting,
);
parentPort?.on('message', ({ id, rows }: { id: number; rows: CheckedRow[] }) => {
  parentPort?.postMessage({ id, checks: checkRows(ring, rows) });
});
