/**
 * Keeps this replica's policies in step with the store: a policy replaced through the admin API
 * of any replica is announced on the signal bus and every replica reloads the stored versions
 * at once; a resync every `resyncMs` covers a lost message (and replicas without a bus).
 */
import type { Logger } from 'pino';
import type { SignalBus } from '../store/types.js';
import type { PolicySet } from './inheritance.js';

/** The newest stored version of every policy name (PolicyStore.latest). */
export interface PolicySource {
  latest(): Promise<{ name: string; version: string; config: unknown }[]>;
}

/** The longest a replica misses a policy change whose announcement was lost. */
export const POLICY_RESYNC_MS = 10_000;

export class PolicySync {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  /** The stored version last applied per name (it may differ from the compiled one, e.g. `v2+<hash>`), so a resync applies it once. */
  private readonly applied = new Map<string, string>();

  constructor(
    private readonly set: PolicySet,
    private readonly source: PolicySource,
    private readonly signals: SignalBus,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
    private readonly resyncMs = POLICY_RESYNC_MS,
  ) {}

  /**
   * Applies the newest stored version of every policy whose version differs from the one in
   * force. A version that no longer loads is logged and the one in force stays.
   */
  async load(): Promise<void> {
    // One reload at a time: a burst of announcements costs one read, not one each.
    return (this.running ??= this.reload().finally(() => (this.running = undefined)));
  }

  private async reload(): Promise<void> {
    for (const p of await this.source.latest()) {
      if (this.applied.get(p.name) === p.version || this.set.get(p.name)?.version === p.version) continue;
      this.applied.set(p.name, p.version);
      try {
        const next = this.set.replace(p.name, p.config);
        this.log.info({ policy: p.name, version: next.version }, 'stored policy version applied');
      } catch (err) {
        this.log.error({ err, policy: p.name, version: p.version }, 'a stored policy version no longer loads; the one in force stays');
      }
    }
  }

  /** Subscribes to announcements and starts the resync timer. */
  async listen(): Promise<void> {
    const reload = () => void this.load().catch((err: unknown) => this.log.warn({ err }, 'reloading stored policies failed; the next resync retries'));
    await this.signals.subscribe('policy.replaced', reload);
    this.timer = setInterval(reload, this.resyncMs);
    this.timer.unref();
  }

  /** Tells every replica (this one included) that `name` was replaced; a failure only delays them to their resync. */
  async announce(name: string, version: string): Promise<void> {
    await this.signals.publish('policy.replaced', JSON.stringify({ name, version })).catch((err: unknown) => this.log.warn({ err, policy: name }, 'announcing a policy change failed; other replicas apply it at their next resync'));
  }

  close(): void {
    clearInterval(this.timer);
  }
}
