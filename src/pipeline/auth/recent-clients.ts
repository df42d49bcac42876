import type { AccountGrantRepository, ClientRecord, ClientRepository } from '../../store/types.js';

/** Entries kept at most; past it the oldest read goes first (a flood of ids cannot grow memory). */
const MAX_ENTRIES = 10_000;

/** The stores RecentClients reads through; each row is MAC-checked by them (IntegrityError) before it is kept. */
export interface RecentClientsStore {
  clients: Pick<ClientRepository, 'findById'>;
  accountGrants: Pick<AccountGrantRepository, 'isGranted'>;
}

/**
 * The client rows and account grants the request path reads, each reused for at most
 * `stalenessMs` after it was read from the store: a busy client costs one SELECT of its row and
 * one of each account it pays from per interval instead of one per request. The bound is the
 * promise to operators (GERBANG_CACHE_STALENESS_MS, at most 1 s): a disabled client, a rotated
 * secret, a changed allowlist or a revoked account is refused by every process within it. Only
 * what exists is kept (a client row, a granted account; a grant made is honoured at once), only
 * as the store's repositories read it, their MAC checks passed (a row that fails one throws and
 * is not kept), and concurrent reads of the same row share one query.
 */
export class RecentClients {
  private readonly entries = new Map<string, { readAt: number; read: Promise<unknown> }>();

  constructor(
    private readonly store: RecentClientsStore,
    private readonly stalenessMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  findById(id: string): Promise<ClientRecord | null> {
    return this.recent(`client ${id}`, () => this.store.clients.findById(id), (client) => client !== null);
  }

  /** Throws IntegrityError, as the store does, when the grant's row does not hold its MAC. */
  isGranted(clientId: string, accountNumber: string): Promise<boolean> {
    return this.recent(`grant ${JSON.stringify([clientId, accountNumber])}`, () => this.store.accountGrants.isGranted(clientId, accountNumber), (granted) => granted);
  }

  /** The read under `key` made less than `stalenessMs` ago, else a new one; kept only when `keep` says it exists. */
  private recent<T>(key: string, read: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    if (this.stalenessMs <= 0) return read();
    const now = this.clock();
    const entry = this.entries.get(key);
    if (entry && now - entry.readAt < this.stalenessMs) return entry.read as Promise<T>;
    const reading = read();
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { readAt: now, read: reading });
    // A failed read or a row that does not exist is never reused: the next request asks the store again.
    reading.then(
      (value) => {
        if (!keep(value)) this.forget(key, reading);
      },
      () => this.forget(key, reading),
    );
    return reading;
  }

  private forget(key: string, read: Promise<unknown>): void {
    if (this.entries.get(key)?.read === read) this.entries.delete(key);
  }
}
