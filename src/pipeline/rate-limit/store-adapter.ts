import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { RateLimitRepository } from '../../store/types.js';

/**
 * express-rate-limit's Store on Gerbang's own store, so every PM2 worker and every node counts
 * against the same windows (process memory would give each worker its own allowance).
 */
export class SharedRateLimitStore implements Store {
  /** Keys are shared with other processes: express-rate-limit must not assume it sees them all. */
  readonly localKeys = false;
  private windowMs = 60_000;

  constructor(
    private readonly repository: RateLimitRepository,
    readonly prefix: string,
    private readonly clock: () => number,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const { hits, resetAt } = await this.repository.increment(this.prefix + key, this.windowMs, this.clock());
    return { totalHits: hits, resetTime: new Date(resetAt) };
  }

  async decrement(key: string): Promise<void> {
    await this.repository.decrement(this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await this.repository.reset(this.prefix + key);
  }
}
