import { RecentReads, type AccountGrantRepository, type ClientRecord, type ClientRepository } from '../../store/index.js';

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
  private readonly reads: RecentReads;

  constructor(
    private readonly store: RecentClientsStore,
    stalenessMs: number,
    /** The monotonic clock the reads' ages are measured on (RecentReads); tests inject their own. */
    elapsed?: () => number,
  ) {
    this.reads = new RecentReads(stalenessMs, elapsed);
  }

  findById(id: string): Promise<ClientRecord | null> {
    return this.reads.read(`client ${id}`, () => this.store.clients.findById(id), (client) => client !== null);
  }

  /** Throws IntegrityError, as the store does, when the grant's row does not hold its MAC. */
  isGranted(clientId: string, accountNumber: string): Promise<boolean> {
    return this.reads.read(`grant ${JSON.stringify([clientId, accountNumber])}`, () => this.store.accountGrants.isGranted(clientId, accountNumber), (granted) => granted);
  }
}
