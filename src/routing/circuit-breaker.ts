/**
 * A circuit breaker for one deployment. Closed: traffic flows and outcomes are counted in a
 * sliding window. Open (after `failures` consecutive failures, or an error ratio of at least
 * `error_rate` over `min_requests` in the window): the deployment is skipped for `cooldown`.
 * Half-open: one probe request is let through; its success closes the circuit, its failure
 * opens it again.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  enabled: boolean;
  failures: number;
  error_rate: number;
  min_requests: number;
  window: number;
  cooldown: number;
}

const BUCKETS = 10;

export class CircuitBreaker {
  private stateValue: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  // Ring of per-bucket counts covering `window`.
  private readonly ok = new Array<number>(BUCKETS).fill(0);
  private readonly failed = new Array<number>(BUCKETS).fill(0);
  private bucketStart = 0;
  private bucketIndex = 0;
  /** Times the circuit opened, for metrics and /readyz. */
  opened = 0;

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.stateValue === 'open' && this.now() - this.openedAt >= this.options.cooldown) return 'half_open';
    return this.stateValue;
  }

  /** True when a request may go to this deployment now; in half-open, reserves the one probe. */
  tryAcquire(): boolean {
    if (!this.options.enabled) return true;
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probeInFlight) return false;
    this.stateValue = 'half_open';
    this.probeInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.probeInFlight = false;
    this.consecutiveFailures = 0;
    if (this.stateValue !== 'closed') this.reset();
    this.record(this.ok);
  }

  onFailure(): void {
    this.probeInFlight = false;
    this.consecutiveFailures++;
    if (this.stateValue === 'half_open') return this.open();
    this.record(this.failed);
    if (!this.options.enabled || this.stateValue === 'open') return;
    const failed = sum(this.failed);
    const total = failed + sum(this.ok);
    if (this.consecutiveFailures >= this.options.failures || (total >= this.options.min_requests && failed / total >= this.options.error_rate)) {
      this.open();
    }
  }

  /** A request that reserved the half-open probe but never reached the provider (e.g. throttled locally). */
  onAbandoned(): void {
    this.probeInFlight = false;
  }

  private open(): void {
    this.stateValue = 'open';
    this.openedAt = this.now();
    this.opened++;
  }

  private reset(): void {
    this.stateValue = 'closed';
    this.ok.fill(0);
    this.failed.fill(0);
  }

  private record(counts: number[]): void {
    const now = this.now();
    const width = this.options.window / BUCKETS;
    if (this.bucketStart === 0) this.bucketStart = now;
    // Advance the ring, clearing buckets that fell out of the window.
    let steps = Math.floor((now - this.bucketStart) / width);
    if (steps > 0) {
      this.bucketStart += steps * width;
      for (steps = Math.min(steps, BUCKETS); steps > 0; steps--) {
        this.bucketIndex = (this.bucketIndex + 1) % BUCKETS;
        this.ok[this.bucketIndex] = 0;
        this.failed[this.bucketIndex] = 0;
      }
    }
    counts[this.bucketIndex]!++;
  }
}

function sum(values: number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
