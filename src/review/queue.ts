/**
 * The review queue. A REVIEW in hold mode parks the request here until a reviewer decides, the
 * timeout passes, or the client leaves; in flag mode the item is only recorded. Decisions
 * arrive through the admin API of any replica: the deciding replica publishes the item id on the
 * signal bus, and the replica holding the request reads the decision from the shared store at
 * once. A slow poll of the store stays as the safety net for a lost message.
 */
import { randomUUID } from 'node:crypto';
import { postWebhook, type WebhookLogger } from '../telemetry/webhook.js';
import type { SignalBus } from '../store/types.js';
import type { ReviewItem, ReviewStatus, ReviewStore } from './types.js';

export type HoldOutcome = 'approved' | 'rejected' | 'expired' | 'abandoned' | 'failed';

/** setTimeout's longest delay (~24.8 days); a longer one fires at once (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

const CLOSE_REASONS = {
  expired: 'no decision before the timeout',
  abandoned: 'client disconnected',
  failed: 'the gateway shut down while the request was held',
} as const;

export interface ReviewQueueOptions {
  webhook: string | undefined;
  /** How often a held request checks the store for a decision made elsewhere (the safety net behind `signals`). */
  pollMs: number;
  log: WebhookLogger;
  /** This gateway instance: recorded as the owner of its holds. */
  instance?: string;
  /** Decisions are announced here, so that the replica holding the request releases it at once. */
  signals?: SignalBus;
  now?: () => number;
}

export class ReviewQueue {
  private readonly waiters = new Map<string, (item: ReviewItem) => void>();
  /** Ends each held request as failed; called when the gateway shuts down. */
  private readonly onShutdown = new Map<string, () => void>();
  private readonly now: () => number;

  constructor(
    readonly store: ReviewStore,
    private readonly options: ReviewQueueOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  newId(): string {
    return `rev_${randomUUID().replaceAll('-', '')}`;
  }

  /** Listens for decisions made on other replicas (call once, before serving). */
  async listen(): Promise<void> {
    await this.options.signals?.subscribe('review.decided', (message) => {
      const id = parseDecided(message);
      if (!id || !this.waiters.has(id)) return;
      void this.store.get(id).then(
        (stored) => {
          if (stored && (stored.status === 'approved' || stored.status === 'rejected')) this.waiters.get(id)?.(stored);
        },
        () => undefined, // the poll will find it
      );
    });
  }

  /** Records an item (owned by this instance) and notifies the webhook. */
  async submit(item: ReviewItem): Promise<void> {
    if (item.mode === 'hold' && this.options.instance !== undefined) item.owner ??= this.options.instance;
    await this.store.create(item);
    // Reviewers' live feeds (admin API, on every replica) pick it up from the store.
    this.announce('review.created', item.id);
    void postWebhook(
      this.options.webhook,
      {
        text: `Review needed: ${item.tenantId}/${item.agentId} → ${item.model}, risk ${item.riskScore.toFixed(2)} (${item.mode} mode), review ${item.id}`,
        omega: { event: 'review.created', review_id: item.id, decision_id: item.decisionId, tenant_id: item.tenantId, mode: item.mode, risk_score: item.riskScore, matched_rules: item.matchedRules },
      },
      this.options.log,
      { what: 'review webhook' },
    );
  }

  /**
   * Waits for the decision on a held item. Resolves 'expired' at `expiresAt`; when `signal` aborts,
   * 'abandoned' if `clientGone()` says the client left, else 'failed' (the gateway is shutting
   * down). Either way the item is closed in the store, so a later approval cannot release a
   * request that is gone.
   */
  async waitForDecision(item: ReviewItem, signal: AbortSignal, clientGone: () => boolean = () => true): Promise<{ outcome: HoldOutcome; item: ReviewItem }> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: HoldOutcome, decided: ReviewItem) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        clearInterval(poll);
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(item.id);
        this.onShutdown.delete(item.id);
        resolve({ outcome, item: decided });
      };
      const close = async (status: Extract<ReviewStatus, 'expired' | 'abandoned' | 'failed'>) => {
        const closed = await this.store.decide(item.id, status, null, CLOSE_REASONS[status], this.now()).catch(() => undefined);
        if (closed) this.announce('review.decided', item.id);
        // Someone decided in the same instant: their decision wins.
        const final = closed ?? (await this.store.get(item.id).catch(() => undefined)) ?? item;
        finish(final.status === 'approved' || final.status === 'rejected' ? final.status : status, final);
      };
      const onAbort = () => void close(clientGone() ? 'abandoned' : 'failed');
      // Re-armed in steps for timeouts beyond a timer's range, which would otherwise expire (and maybe allow) at once.
      let timeout: ReturnType<typeof setTimeout>;
      const arm = () => {
        const left = (item.expiresAt ?? this.now()) - this.now();
        timeout = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(() => void close('expired'), Math.max(0, left));
      };
      arm();
      const poll = setInterval(() => {
        void this.store.get(item.id).then((stored) => {
          if (stored && (stored.status === 'approved' || stored.status === 'rejected')) finish(stored.status, stored);
        }, () => undefined);
      }, this.options.pollMs);
      poll.unref();
      this.waiters.set(item.id, (decided) => finish(decided.status as HoldOutcome, decided));
      this.onShutdown.set(item.id, () => void close('failed'));
      // An already-aborted signal never fires 'abort' again: without this check the request would sit out the whole timeout.
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A reviewer's decision (admin API). Returns undefined when the item is not pending any more. */
  async decide(id: string, decision: 'approved' | 'rejected', reviewer: string, reason: string | null): Promise<ReviewItem | undefined> {
    const item = await this.store.decide(id, decision, reviewer, reason, this.now());
    if (!item) return item;
    const local = this.waiters.get(id);
    if (local) local(item);
    // Announced always: a request held on another replica is released at once (a failed publish
    // only delays it to its poll), and reviewers' live feeds on every replica see the decision.
    await this.options.signals?.publish('review.decided', JSON.stringify({ id })).catch((err: unknown) => this.options.log.warn({ err, review: id }, 'announcing a review decision failed; the holding replica finds it by polling'));
    return item;
  }

  /** Best effort: a lost announcement only means a live feed misses one event (its list reload catches up). */
  private announce(channel: 'review.created' | 'review.decided', id: string): void {
    void this.options.signals?.publish(channel, JSON.stringify({ id })).catch((err: unknown) => this.options.log.warn({ err, review: id }, `announcing ${channel} failed`));
  }

  /**
   * Shutdown: a held request could wait far longer than any grace period, so each is failed now
   * (its client gets 503 shutting_down and may retry on another replica).
   */
  shutdown(): void {
    for (const fail of [...this.onShutdown.values()]) fail();
  }

  /** Requests held right now by this process. */
  get held(): number {
    return this.waiters.size;
  }
}

function parseDecided(message: string): string | undefined {
  try {
    const id = (JSON.parse(message) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
