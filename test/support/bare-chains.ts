import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/store/index.js';

export interface BareLink {
  writerId: string;
  seq: number;
  hash: string;
}

/**
 * `count` audit chains of two links each written straight into audit_writers and audit_chain,
 * their heads at link 2: as many chains as a store gathers over years of processes, without a
 * process each. The links' MACs are random under `keyId` (a chain walk would refuse them; the
 * rollback watch compares heads and links with the checkpoints, not MACs). Each chain's links, in
 * order.
 */
export async function writeBareChains(db: Db, count: number, keyId: string): Promise<[BareLink, BareLink][]> {
  const chains: [BareLink, BareLink][] = [];
  const now = Date.now();
  for (let from = 0; from < count; from += 500) {
    const batch = Array.from({ length: Math.min(500, count - from) }, (_, i): [BareLink, BareLink] => {
      const writerId = `bare-${from + i}-${randomBytes(8).toString('hex')}`;
      return [
        { writerId, seq: 1, hash: randomBytes(32).toString('hex') },
        { writerId, seq: 2, hash: randomBytes(32).toString('hex') },
      ];
    });
    chains.push(...batch);
    await db.execute(
      `INSERT INTO audit_writers (writer_id, host, pid, started_at, last_seq, last_hash, updated_at) VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      batch.flatMap(([, head]) => [head.writerId, 'bare-host', 1, now, head.seq, head.hash, now]),
    );
    const links = batch.flat();
    await db.execute(
      `INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES ${links.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      links.flatMap((l) => [l.writerId, l.seq, 'record', l.seq, now, '0'.repeat(64), l.hash, keyId]),
    );
  }
  return chains;
}
