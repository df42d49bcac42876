import { sameSecretText } from '../../security/index.js';
import { IntegrityError } from '../../errors/index.js';
import type { AnonymousPurge, AnonymousPurgeReport, Db, Queryable } from '../types.js';
import { CHAIN_PURPOSE, isLink, linkHash, type ChainLanes } from './audit-chain.js';
import { EXCHANGE_FROM, EXCHANGE_SELECT, finalDigest, openExchange, purgeDigest, type ExchangeRow, type PurgedExchange, type PurgeRecord } from './audit-records.js';
import { toNumber } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

/**
 * The API documents (src/http/routes/docs-routes.ts) and the health probes of callers other than
 * the operator's own (health-routes.ts, audited since #17): anonymous GETs whose answers carry
 * nothing of a client or payment.
 */
const ANONYMOUS_GET_PATHS = ['/v1/openapi.json', '/v1/swagger.json', '/docs', '/docs/reference.js', '/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/healthz', '/readyz'];

/**
 * Which exchanges of table alias `t` a purge may delete: anonymous (no client was identified),
 * tied to no payment (no transaction id, amount or account) and to no bank call, and either
 * rejected or one of the anonymous answers that carry nothing: a CORS preflight (OPTIONS,
 * answered by the caller guard), a GET of the API documents or a health probe's. A failed
 * exchange (a 5xx) and any other completed one (a bank's notification) are kept. Repeated in the DELETE itself, so a
 * row that changed between the read and the delete is never taken.
 */
function anonymousPurgeable(t: string): string {
  const documents = ANONYMOUS_GET_PATHS.map((path) => `${t}.path = '${path}' OR ${t}.path LIKE '${path}?%'`).join(' OR ');
  return (
    `(${t}.outcome = 'rejected' OR (${t}.outcome = 'completed' AND (${t}.method = 'OPTIONS' OR (${t}.method IN ('GET', 'HEAD') AND (${documents}))))) ` +
    `AND ${t}.client_id IS NULL AND ${t}.transaction_id IS NULL AND ${t}.amount IS NULL ` +
    `AND ${t}.source_account IS NULL AND ${t}.beneficiary_account IS NULL ` +
    `AND NOT EXISTS (SELECT 1 FROM audit_bank_calls b WHERE b.exchange_id = ${t}.id) ` +
    // Recorded whole: an exchange with a completion row (023) was opened first and has several links.
    `AND NOT EXISTS (SELECT 1 FROM audit_completions x WHERE x.exchange_id = ${t}.id)`
  );
}

/** Exchanges per purge record (one transaction, one link): a bounded transaction on every backend. */
const DEFAULT_BATCH = 200;

interface LinkRow {
  writer_id: string;
  seq: number | string;
  kind: string;
  record_id: number | string;
  recorded_at: number | string;
  prev_hash: string;
  hash: string;
  key_id: string | null;
}

/**
 * Deletes the anonymous exchanges (rejected, preflights, document GETs: anonymousPurgeable)
 * received before `receivedBefore`, a batch at a time.
 * Each batch is one transaction: the purge record, the list of the exchanges it deletes (each
 * with the chain link that covered it) and the deletion, appended to the writer's keyed chain as
 * a `purge` link, commit together or not at all.
 *
 * An exchange is taken only when its one link (`record`: recorded whole) verifies against the
 * row as it stands, under the chain key: an altered, forged or unchained record is kept, so the
 * purge never removes the evidence `audit verify` reports. A record whose sealed value does not
 * open is kept for the same reason. Throws KeyRingError naming the setting when a link's key is
 * not configured.
 */
export async function purgeAnonymous(db: Db, chain: ChainLanes, sealer: ValueSealer, purge: AnonymousPurge): Promise<AnonymousPurgeReport> {
  const report: AnonymousPurgeReport = { receivedBefore: purge.receivedBefore, dryRun: purge.dryRun === true, purges: 0, records: 0, kept: 0 };
  const batch = Math.max(1, Math.trunc(purge.batchSize ?? DEFAULT_BATCH));
  let afterId = 0;
  for (;;) {
    const rows = await db.query<ExchangeRow>(
      `SELECT ${EXCHANGE_SELECT} FROM ${EXCHANGE_FROM} WHERE e.received_at < ? AND e.id > ? AND ${anonymousPurgeable('e')} ORDER BY e.id LIMIT ?`,
      [purge.receivedBefore, afterId, batch],
    );
    if (rows.length === 0) break;
    afterId = toNumber(rows[rows.length - 1].id);
    const entries = await intactEntries(db, sealer, rows);
    report.kept += rows.length - entries.length;
    if (entries.length > 0 && !report.dryRun) {
      await chain.append('purge', (tx) => deleteBatch(tx, purge, entries));
      report.purges += 1;
    }
    report.records += entries.length;
    if (rows.length < batch) break;
  }
  return report;
}

/** The rows of `rows` whose single `record` link verifies against the row, as purge entries. */
async function intactEntries(db: Queryable, sealer: ValueSealer, rows: ExchangeRow[]): Promise<PurgedExchange[]> {
  const ids = rows.map((row) => toNumber(row.id));
  const links = await db.query<LinkRow>(
    `SELECT writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id FROM audit_chain WHERE ${isLink()} AND kind IN ('open', 'complete', 'record') AND record_id IN (${ids.map(() => '?').join(', ')})`,
    ids,
  );
  const linksOf = new Map<number, LinkRow[]>();
  for (const link of links) linksOf.set(toNumber(link.record_id), [...(linksOf.get(toNumber(link.record_id)) ?? []), link]);
  const entries: PurgedExchange[] = [];
  for (const row of rows) {
    const id = toNumber(row.id);
    const own = linksOf.get(id) ?? [];
    if (own.length !== 1 || own[0].kind !== 'record' || own[0].key_id === null) continue;
    const link = own[0];
    let digest: string;
    try {
      digest = finalDigest(openExchange(row, sealer));
    } catch (error) {
      if (error instanceof IntegrityError) continue;
      throw error;
    }
    const { key } = sealer.keyRing.macKey(CHAIN_PURPOSE, link.key_id!);
    const expected = linkHash(
      { prevHash: link.prev_hash, writerId: link.writer_id, seq: toNumber(link.seq), kind: 'record', recordId: id, recordedAt: toNumber(link.recorded_at), contentDigest: digest },
      key,
    );
    if (!sameSecretText(expected, link.hash)) continue;
    entries.push({ exchangeId: id, receivedAt: toNumber(row.received_at), writerId: link.writer_id, seq: toNumber(link.seq), linkHash: link.hash });
  }
  return entries;
}

async function deleteBatch(tx: Queryable, purge: AnonymousPurge, entries: PurgedExchange[]): Promise<{ recordId: number; contentDigest: string }> {
  const { insertId } = await tx.execute('INSERT INTO audit_purges (purged_at, received_before, retention_days, purged_by, records) VALUES (?, ?, ?, ?, ?)', [
    purge.purgedAt,
    purge.receivedBefore,
    purge.retentionDays,
    purge.purgedBy,
    entries.length,
  ]);
  const record: PurgeRecord = { id: insertId, purgedAt: purge.purgedAt, receivedBefore: purge.receivedBefore, retentionDays: purge.retentionDays, purgedBy: purge.purgedBy, records: entries.length };
  await tx.execute(
    `INSERT INTO audit_purged_exchanges (exchange_id, purge_id, received_at, writer_id, seq, link_hash) VALUES ${entries.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
    entries.flatMap((e) => [e.exchangeId, insertId, e.receivedAt, e.writerId, e.seq, e.linkHash]),
  );
  const ids = entries.map((e) => e.exchangeId);
  const deleted = await tx.execute(`DELETE FROM audit_exchanges WHERE id IN (${ids.map(() => '?').join(', ')}) AND received_at < ? AND ${anonymousPurgeable('audit_exchanges')}`, [
    ...ids,
    purge.receivedBefore,
  ]);
  // A row changed between the read and the delete: take nothing of this batch (the next run sees it again).
  if (deleted.affectedRows !== entries.length) throw new Error(`audit purge: ${entries.length} exchanges were to be deleted but ${deleted.affectedRows} matched; nothing was purged`);
  return { recordId: insertId, contentDigest: purgeDigest(record, entries) };
}

