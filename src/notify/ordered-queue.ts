/**
 * A bounded work queue that runs up to `concurrency` items at once but never two with the same key
 * at once, so the events of one alert are delivered in the order they were raised while a slow or
 * failing alert does not hold up the others. When full, the oldest queued item is dropped: a fresh
 * event is worth more to an operator than a stale one.
 */
export interface OrderedQueueOptions<T> {
  readonly maxQueued: number;
  readonly concurrency: number;
  readonly keyOf: (item: T) => string;
  /** Must not reject (callers catch and count their own failures). */
  readonly run: (item: T) => Promise<void>;
  readonly onDrop: (item: T) => void;
}

export class OrderedQueue<T> {
  private readonly waiting: T[] = [];
  private readonly runningKeys = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: OrderedQueueOptions<T>) {}

  get queued(): number {
    return this.waiting.length;
  }

  get running(): number {
    return this.runningKeys.size;
  }

  push(item: T): void {
    this.waiting.push(item);
    while (this.waiting.length > this.opts.maxQueued) this.opts.onDrop(this.waiting.shift()!);
    this.pump();
  }

  /** Removes everything still waiting (not what runs) and returns it. */
  takeWaiting(): T[] {
    const taken = this.waiting.splice(0, this.waiting.length);
    this.pump();
    return taken;
  }

  /** Resolves once nothing waits or runs. */
  idle(): Promise<void> {
    if (this.waiting.length === 0 && this.runningKeys.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.runningKeys.size < this.opts.concurrency) {
      const i = this.waiting.findIndex((item) => !this.runningKeys.has(this.opts.keyOf(item)));
      if (i < 0) break;
      const [item] = this.waiting.splice(i, 1);
      const key = this.opts.keyOf(item);
      this.runningKeys.add(key);
      void this.opts
        .run(item)
        .catch(() => {})
        .finally(() => {
          this.runningKeys.delete(key);
          this.pump();
        });
    }
    if (this.waiting.length === 0 && this.runningKeys.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
