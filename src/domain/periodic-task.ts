import { getLogger } from '../log/index.js';

const log = getLogger('background');

/**
 * A background pass run every `intervalMs` (0: never) and on wake(), one pass at a time, that
 * never keeps the process alive; stop() waits for the pass in progress. The in-doubt resolver
 * and the batch processor run on it.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private queued = false;
  stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly pass: () => Promise<unknown>,
  ) {}

  /** Starts the passes; after stop(), starts them again. */
  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs a pass soon (after the one in progress); several wakes meanwhile make one pass. */
  wake(): void {
    if (this.stopped || this.queued) return;
    this.queued = true;
    this.running = this.running
      .then(() => {
        this.queued = false;
        return this.stopped ? undefined : this.pass();
      })
      .catch((error: unknown) => log.error({ err: error, task: this.name }, 'background pass failed'));
  }

  /** Stops scheduling and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
