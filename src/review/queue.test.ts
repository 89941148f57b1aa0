import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReviewQueue } from './queue.js';
import type { ReviewFilter, ReviewItem, ReviewStatus, ReviewStore } from './types.js';

class MemoryStore implements ReviewStore {
  readonly items = new Map<string, ReviewItem>();
  async create(item: ReviewItem): Promise<void> {
    this.items.set(item.id, { ...item });
  }
  async get(id: string): Promise<ReviewItem | undefined> {
    return this.items.get(id);
  }
  async list(_filter: ReviewFilter): Promise<ReviewItem[]> {
    return [...this.items.values()];
  }
  async decide(id: string, status: Exclude<ReviewStatus, 'pending'>, reviewer: string | null, reason: string | null, at: number): Promise<ReviewItem | undefined> {
    const item = this.items.get(id);
    if (!item || item.status !== 'pending') return undefined;
    const next = { ...item, status, reviewer, reason, decidedAt: at };
    this.items.set(id, next);
    return next;
  }
  async failPendingHolds(): Promise<ReviewItem[]> {
    return [];
  }
}

function held(queue: ReviewQueue, timeoutMs: number): ReviewItem {
  const now = Date.now();
  return {
    id: queue.newId(), decisionId: 'dec_x', tenantId: 't', teamId: 'tm', agentId: 'a', keyId: 'k', model: 'm', mode: 'hold', status: 'pending',
    createdAt: now, expiresAt: now + timeoutMs, onTimeout: 'block', riskScore: 0.6, riskFactors: [], matchedRules: [], policyName: 'p', policyVersion: 'v',
    request: {}, decidedAt: null, reviewer: null, reason: null,
  };
}

const log = { warn: () => undefined };

afterEach(() => {
  vi.useRealTimers();
});

describe('ReviewQueue.waitForDecision', () => {
  it('closes at once when the signal was aborted before the wait began (no timeout-long hang)', async () => {
    const store = new MemoryStore();
    const queue = new ReviewQueue(store, { webhook: undefined, pollMs: 1000, log });
    const item = held(queue, 60_000);
    await queue.submit(item);
    const started = Date.now();
    const { outcome } = await queue.waitForDecision(item, AbortSignal.abort(), () => true);
    expect(outcome).toBe('abandoned');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(store.items.get(item.id)).toMatchObject({ status: 'abandoned', reason: 'client disconnected' });
    expect(queue.held).toBe(0);
  });

  it('an abort that is not the client leaving (shutdown) fails the item', async () => {
    const store = new MemoryStore();
    const queue = new ReviewQueue(store, { webhook: undefined, pollMs: 1000, log });
    const item = held(queue, 60_000);
    await queue.submit(item);
    const abort = new AbortController();
    const waiting = queue.waitForDecision(item, abort.signal, () => false);
    abort.abort();
    expect((await waiting).outcome).toBe('failed');
    expect(store.items.get(item.id)).toMatchObject({ status: 'failed', reason: 'the gateway shut down while the request was held' });
  });

  it('waits out timeouts longer than a timer can hold (re-armed), and expires at the end', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const store = new MemoryStore();
    const queue = new ReviewQueue(store, { webhook: undefined, pollMs: 60_000, log });
    const item = held(queue, 30 * 86_400_000);
    await queue.submit(item);
    let outcome: string | undefined;
    void queue.waitForDecision(item, new AbortController().signal).then((r) => (outcome = r.outcome));
    await vi.advanceTimersByTimeAsync(25 * 86_400_000);
    expect(outcome).toBeUndefined();
    expect(store.items.get(item.id)!.status).toBe('pending');
    await vi.advanceTimersByTimeAsync(5 * 86_400_000 + 1000);
    expect(outcome).toBe('expired');
  });
});
