import type { ClientRecord, ClientRepository } from '../../store/types.js';

/** Entries kept at most; past it the oldest read goes first (a flood of ids cannot grow memory). */
const MAX_ENTRIES = 10_000;

/**
 * The client rows the request path reads, each reused for at most `stalenessMs` after it was
 * read from the store: a busy client costs one SELECT per interval instead of one per request.
 * The bound is the promise to operators (GERBANG_CACHE_STALENESS_MS, at most 1 s): a disabled
 * client, a rotated secret or a changed allowlist is refused by every process within it. Only
 * rows that exist are kept, and concurrent reads of the same id share one query.
 */
export class RecentClients {
  private readonly entries = new Map<string, { readAt: number; read: Promise<ClientRecord | null> }>();

  constructor(
    private readonly clients: Pick<ClientRepository, 'findById'>,
    private readonly stalenessMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  findById(id: string): Promise<ClientRecord | null> {
    if (this.stalenessMs <= 0) return this.clients.findById(id);
    const now = this.clock();
    const entry = this.entries.get(id);
    if (entry && now - entry.readAt < this.stalenessMs) return entry.read;
    const read = this.clients.findById(id);
    this.entries.delete(id);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(id, { readAt: now, read });
    // A failed read or an unknown id is never reused: the next request asks the store again.
    read.then(
      (client) => {
        if (!client) this.forget(id, read);
      },
      () => this.forget(id, read),
    );
    return read;
  }

  private forget(id: string, read: Promise<ClientRecord | null>): void {
    if (this.entries.get(id)?.read === read) this.entries.delete(id);
  }
}
