import { expect } from 'chai';
import { basename, dirname } from 'node:path';
import { createStore, openDb, type Db, type SqlValue, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from './audit-keys.js';
import { writeAfterRead } from './counting-db.js';
import type { BackendContext } from './databases.js';
import { copyRow, insertRow, type Row } from './sql-rows.js';

/** Records taken out of the database with their chain links and put back, as an attacker's SQL does (H2: over and over). */
export interface LaterEvents {
  takeOut(): Promise<void>;
  putBack(): Promise<void>;
}

/**
 * `records` (each a row of `table`, found by its column `key`) and their chain links `links`, as
 * `attacker` deletes and inserts them. Each link must be in the middle of its chain (a later link
 * there): a tail cut is another attack.
 */
export async function linkedRecords(attacker: Db, records: { table: string; key: string; row: Row }[], links: Row[]): Promise<LaterEvents> {
  expect(records).to.have.length.greaterThan(0);
  expect(links).to.have.length.greaterThan(0);
  for (const link of links) {
    const [{ n }] = await attacker.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_chain WHERE writer_id = ? AND seq > ?', [link.writer_id, link.seq]);
    expect(Number(n), `chain ${String(link.writer_id)} goes on after link ${String(link.seq)}`).to.be.greaterThan(0);
  }
  return {
    takeOut: async () => {
      for (const l of links) await attacker.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [l.writer_id, l.seq]);
      for (const { table, key, row } of [...records].reverse()) await attacker.execute(`DELETE FROM ${table} WHERE ${key} = ?`, [row[key]]);
    },
    putBack: async () => {
      for (const { table, row } of records) await insertRow(attacker, table, row);
      for (const l of links) await insertRow(attacker, 'audit_chain', l);
    },
  };
}

/** Payment `id`'s events after seq `after`, as records to take out, with their chain links. */
async function eventsAfter(attacker: Db, id: number, after: number): Promise<{ records: { table: string; key: string; row: Row }[]; links: Row[] }> {
  const events = await attacker.query<Row>('SELECT * FROM payment_events WHERE payment_id = ? AND seq > ? ORDER BY seq', [id, after]);
  const links: Row[] = [];
  for (const e of events) links.push(...(await attacker.query<Row>("SELECT * FROM audit_chain WHERE kind = 'payment_event' AND record_id = ?", [e.id])));
  expect(links).to.have.length(events.length);
  return { records: events.map((row) => ({ table: 'payment_events', key: 'id', row })), links };
}

/** Payment `id`'s events after its reservation (seq > 1) with their links, as `attacker` deletes and inserts them. */
export async function laterEvents(attacker: Db, id: number): Promise<LaterEvents> {
  const { records, links } = await eventsAfter(attacker, id, 1);
  return linkedRecords(attacker, records, links);
}

/** Payment `id` whole: its row, every event of it and their links, as `attacker` deletes and inserts them. */
export async function wholePayment(attacker: Db, id: number): Promise<LaterEvents> {
  const row = await copyRow(attacker, 'payments', 'id = ?', [id]);
  const { records, links } = await eventsAfter(attacker, id, 0);
  return linkedRecords(attacker, [{ table: 'payments', key: 'id', row }, ...records], links);
}

/**
 * Payment `id`'s events after its reservation (seq > 1) with their links, the very tail of their
 * chains: taken out with each chain's head row set back to the link before them (the chain whole
 * up to its head, only the audit checkpoints tell the cut), and put back with the head row forward
 * again, as `attacker` cuts and restores a paid transfer's tail.
 */
export async function tailEvents(attacker: Db, id: number): Promise<LaterEvents> {
  const events = await attacker.query<Row>('SELECT * FROM payment_events WHERE payment_id = ? AND seq > 1 ORDER BY seq', [id]);
  const links: Row[] = [];
  for (const e of events) links.push(...(await attacker.query<Row>("SELECT * FROM audit_chain WHERE kind = 'payment_event' AND record_id = ?", [e.id])));
  expect(links).to.have.length(events.length).and.length.greaterThan(0);
  const heads: { writerId: SqlValue; head: Row; back: { seq: number; hash: SqlValue } }[] = [];
  for (const writerId of new Set(links.map((l) => l.writer_id))) {
    const seqs = links.filter((l) => l.writer_id === writerId).map((l) => Number(l.seq));
    const [head] = await attacker.query<Row>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writerId]);
    // Its links the last of their chain, one after another: a tail.
    expect(Number(head.last_seq), `chain ${String(writerId)} ends with the events`).to.equal(Math.max(...seqs));
    expect(Math.max(...seqs) - Math.min(...seqs) + 1).to.equal(seqs.length);
    const before = Math.min(...seqs) - 1;
    const [link] = before === 0 ? [{ hash: '0'.repeat(64) }] : await attacker.query<Row>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, before]);
    heads.push({ writerId, head, back: { seq: before, hash: link.hash } });
  }
  const setHeads = (tx: Pick<Db, 'execute'>, to: (h: (typeof heads)[number]) => [SqlValue, SqlValue]) =>
    Promise.all(heads.map((h) => tx.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [...to(h), h.writerId])));
  return {
    takeOut: () =>
      attacker.withTransaction(async (tx) => {
        await setHeads(tx, (h) => [h.back.seq, h.back.hash]);
        for (const l of links) await tx.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [l.writer_id, l.seq]);
        for (const e of events) await tx.execute('DELETE FROM payment_events WHERE id = ?', [e.id]);
      }),
    putBack: () =>
      attacker.withTransaction(async (tx) => {
        for (const e of events) await insertRow(tx, 'payment_events', e);
        for (const l of links) await insertRow(tx, 'audit_chain', l);
        await setHeads(tx, (h) => [h.head.last_seq, h.head.last_hash]);
      }),
  };
}

/**
 * The attacker's own connection to the database of `ctx`. For SQLite, the file under a path of
 * its own: this process's connections to one path share one lock, which a snapshot holds (another
 * process's connection has its own).
 */
export function attackerDb(ctx: BackendContext): Db {
  if (ctx.backend === 'mariadb') return openDb(ctx.url());
  const path = ctx.url().slice('sqlite:'.length);
  return openDb(`sqlite:${dirname(path)}/./${basename(path)}`);
}

/** What the attacker does right after a statement matching `after` is read. */
export type Step = [after: RegExp, act: () => Promise<void>];

/**
 * A store over the database of `ctx` (keys TEST_AUDIT_KEYS) whose reads run the steps `arm` was
 * given, in order, each right after the next statement matching its pattern (one of `patterns`),
 * in a snapshot too (writeAfterRead): the attacker's SQL on its own connection at that moment.
 * `fired` says whether all of them ran.
 */
export function attackedStore(ctx: BackendContext, patterns: readonly RegExp[]): { store: Store; arm: (...steps: Step[]) => void; fired: () => boolean } {
  let steps: Step[] = [];
  const next = async () => {
    const [[, act], ...rest] = steps;
    steps = rest;
    await act();
  };
  const db = patterns.reduce((watched, pattern) => writeAfterRead(watched, pattern, next, () => steps[0]?.[0] === pattern), openDb(ctx.url()));
  return { store: createStore(db, { auditKeys: TEST_AUDIT_KEYS }), arm: (...armed) => (steps = armed), fired: () => steps.length === 0 };
}

/**
 * For the suite being declared over `ctx`: the attacker's own connection (attackerDb) and a store
 * whose reads let it act (attackedStore, watching `patterns`), opened before its tests and closed after them.
 */
export function attackedSuite(ctx: BackendContext, patterns: readonly RegExp[]): { attacker: () => Db; watched: () => ReturnType<typeof attackedStore> } {
  let attacker: Db | undefined;
  let watched: ReturnType<typeof attackedStore> | undefined;
  before(() => {
    attacker = attackerDb(ctx);
    watched = attackedStore(ctx, patterns);
  });
  after(async () => {
    await watched?.store.close();
    await attacker?.close();
  });
  return { attacker: () => attacker!, watched: () => watched! };
}
