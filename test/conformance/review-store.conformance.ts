import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReviewItem, ReviewStore } from '../../src/store/types.js';
import type { Backend, OpenBackend } from './backends.js';

export function reviewItem(id: string, over: Partial<ReviewItem> = {}): ReviewItem {
  return {
    id,
    decisionId: `dec_${id}`,
    tenantId: 'acme',
    teamId: 'research',
    agentId: 'bot',
    keyId: 'key_1',
    model: 'gpt-4o-mini',
    mode: 'hold',
    status: 'pending',
    createdAt: 1_700_000_000_000,
    expiresAt: 1_700_000_060_000,
    onTimeout: 'block',
    riskScore: 0.7,
    riskFactors: [{ factor: 'pii', weight: 0.4 }],
    matchedRules: ['review-pii'],
    policyName: 'default',
    policyVersion: 'v1',
    request: { messages: [{ role: 'user', content: 'hello [EMAIL]' }] },
    decidedAt: null,
    reviewer: null,
    reason: null,
    ...over,
  };
}

/** What every ReviewStore must do. */
export function reviewStoreConformance(open: OpenBackend): void {
  describe('ReviewStore', () => {
    let backend: Backend;
    let reviews: ReviewStore;
    beforeEach(async () => {
      backend = await open();
      reviews = backend.stores.reviews;
    });
    afterEach(() => backend.close());

    it('returns a created item as it was given', async () => {
      await reviews.create(reviewItem('r1'));
      expect(await reviews.get('r1')).toEqual(reviewItem('r1'));
      expect(await reviews.get('r2')).toBeUndefined();
    });

    it('lists newest first, filtered by tenant and status, and pages with `before`', async () => {
      await reviews.create(reviewItem('r1', { createdAt: 1000 }));
      await reviews.create(reviewItem('r2', { createdAt: 2000, tenantId: 'globex' }));
      await reviews.create(reviewItem('r3', { createdAt: 3000 }));
      await reviews.create(reviewItem('r4', { createdAt: 3000, mode: 'flag' }));
      await reviews.decide('r1', 'approved', 'alice', null, 5000);
      expect((await reviews.list({})).map((r) => r.id)).toEqual(['r4', 'r3', 'r2', 'r1']);
      expect((await reviews.list({ tenantId: 'acme' })).map((r) => r.id)).toEqual(['r4', 'r3', 'r1']);
      expect((await reviews.list({ status: 'pending' })).map((r) => r.id)).toEqual(['r4', 'r3', 'r2']);
      expect((await reviews.list({ limit: 2 })).map((r) => r.id)).toEqual(['r4', 'r3']);
      expect((await reviews.list({ before: 'r3' })).map((r) => r.id)).toEqual(['r2', 'r1']);
    });

    it('decides a pending item once; a second decision finds nothing', async () => {
      await reviews.create(reviewItem('r1'));
      const decided = await reviews.decide('r1', 'rejected', 'alice', 'leaks a customer list', 5000);
      expect(decided).toEqual({ ...reviewItem('r1'), status: 'rejected', reviewer: 'alice', reason: 'leaks a customer list', decidedAt: 5000 });
      expect(await reviews.decide('r1', 'approved', 'bob', null, 6000)).toBeUndefined();
      expect(await reviews.get('r1')).toEqual(decided);
      expect(await reviews.decide('missing', 'approved', 'bob', null, 6000)).toBeUndefined();
    });

    it('lets exactly one of many concurrent deciders win', async () => {
      await reviews.create(reviewItem('r1'));
      const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((who) => reviews.decide('r1', 'approved', who, null, 5000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('fails pending holds only (not flags, not decided items)', async () => {
      await reviews.create(reviewItem('hold'));
      await reviews.create(reviewItem('flag', { mode: 'flag' }));
      await reviews.create(reviewItem('done'));
      await reviews.decide('done', 'approved', 'alice', null, 4000);
      const failed = await reviews.failPendingHolds('restarted', 5000);
      expect(failed.map((r) => [r.id, r.status, r.reason])).toEqual([['hold', 'failed', 'restarted']]);
      expect((await reviews.get('flag'))?.status).toBe('pending');
      expect((await reviews.get('done'))?.status).toBe('approved');
    });
  });
}
