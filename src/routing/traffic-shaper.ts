/**
 * Traffic shaping for one deployment: a concurrency cap with a FIFO queue, and request and token
 * rates as token buckets (each holding ten seconds' worth, so short bursts pass and sustained
 * excess waits). A request waits at most `queue_timeout` for capacity; past that `acquire`
 * answers false and the caller moves on to the next deployment in the fallback chain.
 */
export interface ShaperOptions {
  concurrency?: number | undefined;
  rpm?: number | undefined;
  tpm?: number | undefined;
  queue_timeout: number;
}

class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private readonly perMs: number;
  readonly capacity: number;

  constructor(perMinute: number, now: number) {
    this.perMs = perMinute / 60_000;
    this.capacity = Math.max(1, Math.ceil(perMinute / 6));
    this.tokens = this.capacity;
    this.updatedAt = now;
  }

  /** Milliseconds until `amount` is available (0: available now). */
  waitFor(amount: number, now: number): number {
    this.refill(now);
    const need = Math.min(amount, this.capacity) - this.tokens;
    return need <= 0 ? 0 : Math.ceil(need / this.perMs);
  }

  take(amount: number, now: number): void {
    this.refill(now);
    this.tokens -= Math.min(amount, this.capacity);
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.perMs);
    this.updatedAt = now;
  }
}

export class TrafficShaper {
  /** Requests holding a concurrency slot (also the least-busy balancing figure). */
  inFlight = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly requests: TokenBucket | undefined;
  private readonly tokens: TokenBucket | undefined;

  constructor(
    private readonly options: ShaperOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.requests = options.rpm ? new TokenBucket(options.rpm, now()) : undefined;
    this.tokens = options.tpm ? new TokenBucket(options.tpm, now()) : undefined;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Takes a slot at once when capacity is there (always, without limits); false means "call acquire". */
  tryAcquireNow(estimatedTokens: number): boolean {
    const max = this.options.concurrency;
    if (max !== undefined && this.inFlight >= max) return false;
    const now = this.now();
    if ((this.requests?.waitFor(1, now) ?? 0) > 0 || (this.tokens?.waitFor(estimatedTokens, now) ?? 0) > 0) return false;
    this.inFlight++;
    this.requests?.take(1, now);
    this.tokens?.take(estimatedTokens, now);
    return true;
  }

  /**
   * Waits for capacity for one request of about `estimatedTokens`. Resolves true with a slot
   * held (call `release()` once the exchange is over), or false when capacity did not come
   * within `queue_timeout`. Rejects if `signal` aborts.
   */
  async acquire(estimatedTokens: number, signal: AbortSignal): Promise<boolean> {
    const deadline = this.now() + this.options.queue_timeout;
    if (!(await this.waitForSlot(deadline, signal))) return false;
    const wait = Math.max(this.requests?.waitFor(1, this.now()) ?? 0, this.tokens?.waitFor(estimatedTokens, this.now()) ?? 0);
    if (wait > 0) {
      if (this.now() + wait > deadline) {
        this.release();
        return false;
      }
      try {
        await sleep(wait, signal);
      } catch (err) {
        this.release();
        throw err;
      }
    }
    this.requests?.take(1, this.now());
    this.tokens?.take(estimatedTokens, this.now());
    return true;
  }

  release(): void {
    this.inFlight--;
    const next = this.waiters.shift();
    if (next) next();
  }

  private async waitForSlot(deadline: number, signal: AbortSignal): Promise<boolean> {
    const max = this.options.concurrency;
    if (max === undefined || this.inFlight < max) {
      this.inFlight++;
      return true;
    }
    return new Promise<boolean>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.inFlight++; // the slot passes straight from the releaser to this waiter
        resolve(true);
      };
      const drop = () => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      const timer = setTimeout(() => {
        drop();
        signal.removeEventListener('abort', onAbort);
        resolve(false);
      }, Math.max(0, deadline - this.now()));
      const onAbort = () => {
        drop();
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(wake);
    });
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
