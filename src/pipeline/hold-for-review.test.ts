import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { PolicyEngine } from '../policy/engine.js';
import { PolicySet } from '../policy/inheritance.js';
import type { ChatRequest } from '../providers/adapter.js';
import { ReviewQueue } from '../review/queue.js';
import { KyselyReviewStore } from '../store/review-store.js';
import type { SqliteTables } from '../store/sqlite/database.js';
import { chatCompletionsSurface } from '../surfaces/chat-completions/index.js';
import { acmeTenant, principalOf, readContext, scratchDb, stageConfig } from '../../test/support/stage-fixtures.js';
import { evaluatePolicy } from './evaluate-policy.js';
import { holdForReview } from './hold-for-review.js';
import { Pipeline, type Exchange, type PipelineDeps } from './run.js';

const CARD = '4111111111111111';
const POLICIES = `
policies:
  held:
    weights: { pii: 0, secrets: 0, prompt_injection: 0 }
    review: { mode: hold, timeout: 5s, on_timeout: block }
    rules:
      - { id: long, when: 'request.max_tokens > 100', action: review }
      - { id: mask-cards, detect: pii.payment_card, action: redact }
  quick-block:
    review: { mode: hold, timeout: 100ms, on_timeout: block }
    rules: [ { id: everything, when: "true", action: review } ]
  quick-allow:
    review: { mode: hold, timeout: 100ms, on_timeout: allow }
    rules: [ { id: everything, when: "true", action: review } ]
  flagged:
    review: { mode: flag }
    rules: [ { id: everything, when: "true", action: review } ]
`;

let scratch: Awaited<ReturnType<typeof scratchDb>>;
let store: KyselyReviewStore<SqliteTables>;
let queue: ReviewQueue;

beforeEach(async () => {
  scratch = await scratchDb();
  store = new KyselyReviewStore(scratch.db, false);
  queue = new ReviewQueue(store, { webhook: undefined, pollMs: 50, log: { warn: () => undefined } });
});
afterEach(async () => {
  queue.shutdown();
  await scratch.close();
});

/** A request judged by `policy`, as the review stage receives it (the forwarded, redacted body). */
async function judged(policy: string, body: Partial<ChatRequest> = {}) {
  const config = stageConfig(`${POLICIES}${acmeTenant({ tenant: `policy: ${policy}` })}`);
  const { ctx, wire } = readContext(await principalOf(config), body);
  const forwarded = await evaluatePolicy(ctx, wire, (w) => chatCompletionsSurface.segments(w), new PolicyEngine(new PolicySet(config.policies)), 'chat', 'gpt-test');
  return { ctx, forwarded };
}

async function whenHeld(): Promise<void> {
  for (let i = 0; i < 300 && queue.held === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(queue.held).toBe(1);
}

const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GatewayError);

describe('review stage', () => {
  it('does nothing for an ALLOW: no item, nothing recorded, nothing awaited by the runner', async () => {
    const { ctx, forwarded } = await judged('held', { max_tokens: 10 });
    expect(ctx.outcome).toBe('ALLOW');
    const pipeline = new Pipeline({ reviews: queue, settings: {} } as unknown as PipelineDeps);
    const stage = pipeline.stages.find((s) => s.name === 'review')!;
    expect(stage.run({ ctx, wire: forwarded } as unknown as Exchange)).toBeUndefined();
    await holdForReview(ctx, queue, forwarded, 'gpt-test', new AbortController().signal);
    expect(ctx.review).toBeNull();
    expect(await store.list({})).toEqual([]);
  });

  it('in flag mode records the item and lets the request through at once', async () => {
    const { ctx, forwarded } = await judged('flagged');
    await holdForReview(ctx, queue, forwarded, 'gpt-test', new AbortController().signal);
    expect(ctx.review).toMatchObject({ decision: null, reviewer: null, waitMs: 0, mode: 'flag' });
    const [item] = await store.list({});
    expect(item).toMatchObject({ id: ctx.review!.id, decisionId: ctx.decisionId, tenantId: 'acme', agentId: 'bot', keyId: 'key_acme_bot', model: 'gpt-test', mode: 'flag', status: 'pending', expiresAt: null });
    expect(item!.matchedRules).toMatchObject([{ id: 'everything' }]);
    expect(queue.held).toBe(0);
  });

  it('holds until a reviewer approves, showing the reviewer the redacted request', async () => {
    const { ctx, forwarded } = await judged('held', { max_tokens: 500, messages: [{ role: 'user', content: `card ${CARD}` }] });
    expect(ctx.outcome).toBe('REVIEW');
    const holding = holdForReview(ctx, queue, forwarded, 'gpt-test', new AbortController().signal);
    await whenHeld();
    const item = (await store.get(ctx.review!.id))!;
    expect(item).toMatchObject({ mode: 'hold', status: 'pending', onTimeout: 'block' });
    expect(item.expiresAt! - item.createdAt).toBe(5000);
    expect(JSON.stringify(item.request)).not.toContain(CARD);
    await queue.decide(item.id, 'approved', 'alice', null);
    await expect(holding).resolves.toBeUndefined();
    expect(ctx.review).toMatchObject({ id: item.id, decision: 'approved', reviewer: 'alice', mode: 'hold' });
    expect(ctx.review!.waitMs).toBeGreaterThanOrEqual(0);
  });

  it('refuses with 403 review_rejected naming the reviewer and the reason', async () => {
    const { ctx, forwarded } = await judged('held', { max_tokens: 500 });
    const holding = rejection(holdForReview(ctx, queue, forwarded, 'gpt-test', new AbortController().signal));
    await whenHeld();
    await queue.decide(ctx.review!.id, 'rejected', 'bob', 'not for prod');
    const err = (await holding)!;
    expect(err.code).toBe('review_rejected');
    expect(err.status).toBe(403);
    expect(err.message).toBe(`The request was held for review (${ctx.review!.id}) and rejected by bob: not for prod.`);
    expect(ctx.review).toMatchObject({ decision: 'rejected', reviewer: 'bob' });
  });

  it('applies the policy’s on_timeout when nobody decides', async () => {
    const blocked = await judged('quick-block');
    const err = (await rejection(holdForReview(blocked.ctx, queue, blocked.forwarded, 'gpt-test', new AbortController().signal)))!;
    expect(err.code).toBe('review_rejected');
    expect(err.message).toContain('no reviewer decided before the timeout');
    expect(blocked.ctx.review).toMatchObject({ decision: 'expired', reviewer: null });
    expect((await store.get(blocked.ctx.review!.id))!.status).toBe('expired');

    const allowed = await judged('quick-allow');
    await expect(holdForReview(allowed.ctx, queue, allowed.forwarded, 'gpt-test', new AbortController().signal)).resolves.toBeUndefined();
    expect(allowed.ctx.review).toMatchObject({ decision: 'expired' });
    expect(allowed.ctx.review!.waitMs).toBeGreaterThanOrEqual(90);
  });

  it('ends the hold when the client leaves (item abandoned) or the gateway shuts down (503, item failed)', async () => {
    const gone = await judged('held', { max_tokens: 500 });
    const abort = new AbortController();
    const leaving = rejection(holdForReview(gone.ctx, queue, gone.forwarded, 'gpt-test', abort.signal));
    await whenHeld();
    gone.ctx.clientDisconnected = true;
    abort.abort();
    expect((await leaving)!.code).toBe('upstream_error');
    expect((await store.get(gone.ctx.review!.id))!.status).toBe('abandoned');

    const stopping = await judged('held', { max_tokens: 500 });
    const waiting = rejection(holdForReview(stopping.ctx, queue, stopping.forwarded, 'gpt-test', new AbortController().signal));
    await whenHeld();
    queue.shutdown();
    const err = (await waiting)!;
    expect(err.code).toBe('shutting_down');
    expect(err.status).toBe(503);
    expect(err.message).toContain(stopping.ctx.review!.id);
    expect((await store.get(stopping.ctx.review!.id))!.status).toBe('failed');
  });
});
