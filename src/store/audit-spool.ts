import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { getLogger } from '../log/index.js';
import type { KeyRing } from '../security/index.js';
import type { AuditExchangeRow, AuditQuery, AuditRepository, BankCallAudit, InboundCompletion, InboundExchange } from './types.js';

const log = getLogger('audit-spool');

/** One audit write that the database could not take, as kept on disk until it can. */
type SpooledWrite =
  | { op: 'record'; exchange: InboundExchange; completion: InboundCompletion }
  | { op: 'complete'; id: number; completion: InboundCompletion }
  | { op: 'bank-call'; call: BankCallAudit };

/**
 * A local, fsync'd journal of audit writes the database refused (it was down or unreachable),
 * replayed into the database when it is back, so an answered request never lacks its record.
 * Each process appends to its own file; files are named after the database they belong to, so a
 * replay never writes one database's records into another. A replay claims a file by renaming
 * it, which is atomic: of several processes, one replays each file, and the writer simply starts
 * a new file on its next append.
 *
 * The journal holds the same bodies and headers as the audit, so each line is sealed with the
 * audit key ring like the audit's columns: the disk never holds them in clear either.
 */
export class AuditSpool {
  private readonly prefix: string;
  private readonly file: string;

  constructor(
    private readonly dir: string,
    databaseUrl: string,
    private readonly keys: KeyRing,
  ) {
    this.prefix = `audit-${createHash('sha256').update(databaseUrl).digest('hex').slice(0, 12)}-`;
    this.file = join(dir, `${this.prefix}${hostname().slice(0, 30)}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`);
  }

  /** Appends and fsyncs one write; throws only when the disk refuses too. */
  append(write: SpooledWrite): void {
    appendLines(this.dir, this.file, [this.keys.encrypt(JSON.stringify(write))]);
  }

  /** Writes every spooled record of this database into it; a file that fails midway is kept from that line on. */
  async replay(repository: AuditRepository): Promise<number> {
    let files: string[];
    try {
      files = readdirSync(this.dir).filter((name) => name.startsWith(this.prefix) && name.endsWith('.jsonl'));
    } catch {
      return 0;
    }
    let replayed = 0;
    for (const name of files) {
      const claimed = join(this.dir, `${name}.replaying-${process.pid}-${randomBytes(3).toString('hex')}`);
      try {
        renameSync(join(this.dir, name), claimed);
      } catch {
        continue; // another process claimed it
      }
      const lines = readFileSync(claimed, 'utf8').split('\n').filter((line) => line.length > 0);
      let done = 0;
      try {
        for (const line of lines) {
          await apply(repository, JSON.parse(this.keys.decrypt(line)) as SpooledWrite);
          done++;
        }
        unlinkSync(claimed);
      } catch (error) {
        // The database went away again: keep what is left for the next replay.
        appendLines(this.dir, join(this.dir, name), lines.slice(done));
        unlinkSync(claimed);
        log.warn({ err: error, left: lines.length - done }, 'audit replay interrupted; the rest stays spooled');
      }
      replayed += done;
    }
    if (replayed > 0) log.info({ replayed }, 'spooled audit records written to the database');
    return replayed;
  }
}

function appendLines(dir: string, file: string, lines: string[]): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, lines.map((line) => `${line}\n`).join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replays one write; a record the database already has (an earlier, interrupted replay) is not written twice. */
async function apply(repository: AuditRepository, write: SpooledWrite): Promise<void> {
  if (write.op === 'complete') return repository.complete(write.id, write.completion);
  if (write.op === 'record') {
    if ((await repository.list({ requestId: write.exchange.requestId, limit: 1 })).length > 0) return;
    await repository.record(write.exchange, write.completion);
    return;
  }
  await repository.recordBankCall(write.call);
}

/**
 * The audit repository with the spool behind it: a completion, a whole record or a bank leg the
 * database refuses goes to the spool instead of being lost. `open()` is not spooled: it must
 * reach the database before anything goes to a bank (fail closed).
 */
export function withAuditSpool(repository: AuditRepository, spool: AuditSpool): AuditRepository {
  const spooled = async <T>(write: () => Promise<T>, entry: SpooledWrite, fallback: T): Promise<T> => {
    try {
      return await write();
    } catch (error) {
      spool.append(entry);
      log.warn({ err: error, op: entry.op }, 'audit write spooled to disk: the database refused it');
      return fallback;
    }
  };
  return {
    open: (exchange) => repository.open(exchange),
    complete: (id, completion) => spooled(() => repository.complete(id, completion), { op: 'complete', id, completion }, undefined),
    record: (exchange, completion) => spooled(() => repository.record(exchange, completion), { op: 'record', exchange, completion }, 0),
    recordBankCall: (call) => spooled(() => repository.recordBankCall(call), { op: 'bank-call', call }, 0),
    list: (query: AuditQuery): Promise<AuditExchangeRow[]> => repository.list(query),
    verify: () => repository.verify(),
    linkAt: (writerId, seq) => repository.linkAt(writerId, seq),
    ownHeads: () => repository.ownHeads(),
    checkKeys: () => repository.checkKeys(),
  };
}
