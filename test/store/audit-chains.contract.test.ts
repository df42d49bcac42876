import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ChainWriter } from '../../src/store/repositories/audit-chain.js';
import { chainsToWalk } from '../../src/store/repositories/audit-verify.js';
import type { Db } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { forEachBackend, migratedMariaDb } from '../support/databases.js';

/** Chain `writerId` with `links` links, appended by its own writer (the records are not what this looks at). */
async function chainOf(db: Db, writerId: string, links: number): Promise<void> {
  const writer = new ChainWriter(db, writerId, () => TEST_AUDIT_KEYS);
  for (let i = 1; i <= links; i += 1) await writer.append('record', async () => ({ recordId: i, contentDigest: 'd'.repeat(64) }));
}

forEachBackend('The chains the audit scrub walks (AuditRepository.chains)', (ctx) => {
  it('names every chain holding links whose head row was deleted in SQL, whether its id sorts before, between or after the chains with heads', async () => {
    const { db, audit } = ctx.store();
    const tag = randomBytes(4).toString('hex');
    // '!' sorts before every id (a host name, a digit, a letter), '~' after every one.
    const headless = [`!${tag}`, `m-${tag}`, `~${tag}`];
    const headed = [`a-${tag}`, `z-${tag}`];
    for (const writerId of [...headless, ...headed]) await chainOf(db, writerId, 2);
    for (const writerId of headless) await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [writerId]);

    const chains = await audit.chains();
    expect(chains).to.include.members([...headless, ...headed]);
    expect(chains, 'sorted, each once').to.deep.equal([...new Set(chains)].sort());
  });
});

/**
 * MariaDB plans a recursive statement's MIN(writer_id) > ? over audit_chain as a scan of a whole
 * index for each chain: listing the chains took 9-12 s at 2M links. Counted in rows the server
 * read (its session's Handler_read_* counters), not in time.
 */
describe('The chains the audit scrub walks, at the cost of a read a chain (MariaDB)', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof migratedMariaDb>> | undefined;

  before(async function () {
    // One connection: the counters read before and after are those of the session that listed the chains.
    database = await migratedMariaDb(this, '?connectionLimit=1');
  });

  after(async () => {
    await database?.close();
  });

  it('reads one index entry a chain and the head rows, not the links, however many each chain holds', async () => {
    const db = database!.db;
    const tag = randomBytes(4).toString('hex');
    const chains = Array.from({ length: 5 }, (_, i) => `${i}-${tag}`);
    for (const writerId of chains) await chainOf(db, writerId, 2);
    // Many links in each chain, put in SQL (nothing here checks them).
    for (const writerId of chains) {
      await db.execute(
        "INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) SELECT ?, seq + 2, 'record', seq, 0, REPEAT('0', 64), REPEAT('0', 64), NULL FROM seq_1_to_2000",
        [writerId],
      );
    }
    await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [chains[2]]);
    const rowsRead = async () =>
      (await db.query<{ Variable_name: string; Value: string }>("SHOW SESSION STATUS LIKE 'Handler_read%'")).reduce((sum, row) => sum + Number(row.Value), 0);

    const before = await rowsRead();
    const found = await chainsToWalk(db);
    const read = (await rowsRead()) - before;

    expect(found).to.deep.equal(chains);
    // A read to find each chain and one to find there is none after the last, and the head rows (4 here).
    expect(read, 'rows read by the server to list the chains').to.be.at.most(2 * (chains.length + 1) + 2 * 4);
  });
});
