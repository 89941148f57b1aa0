/**
 * Stage: a REVIEW outcome goes to the review queue. Flag mode records the item and lets the
 * request through; hold mode waits for a reviewer's decision, the policy's timeout (then its
 * `on_timeout` applies), the client leaving, or a shutdown (503, item failed). The reviewer sees
 * the request as forwarded, i.e. with the policy's redactions applied.
 */
import { GatewayError } from '../errors.js';
import type { ReviewQueue } from '../review/queue.js';
import type { ReviewItem } from '../review/types.js';
import type { PolicyResult } from '../policy/types.js';
import type { RequestContext } from './context.js';

/** What a review hold leaves on the context (audit `review_*` / `tool_call_review`). */
export interface ReviewRecord {
  id: string;
  decision: string | null;
  reviewer: string | null;
  waitMs: number;
  mode: string;
}

export async function holdForReview(ctx: RequestContext, queue: ReviewQueue, body: unknown, model: string, signal: AbortSignal): Promise<void> {
  const result = ctx.policyResult;
  if (ctx.outcome !== 'REVIEW' || !result) return;
  await reviewHold(ctx, queue, result, body, model, signal, 'the request', (r) => (ctx.review = r));
}

/**
 * Puts `body` (what the reviewer sees) in the queue for `result`'s REVIEW and, in hold mode,
 * waits for the decision; throws unless it lets the held thing through. `what` names it in
 * errors (`the request`, or `the tool call the model proposed`); `record` keeps the review's state.
 */
export async function reviewHold(
  ctx: RequestContext,
  queue: ReviewQueue,
  result: PolicyResult,
  body: unknown,
  model: string,
  signal: AbortSignal,
  what: string,
  record: (review: ReviewRecord) => void,
): Promise<void> {
  const p = ctx.principal!;
  const now = Date.now();
  const hold = result.reviewMode === 'hold';
  const item: ReviewItem = {
    id: queue.newId(),
    decisionId: ctx.decisionId,
    tenantId: p.tenantId,
    teamId: p.teamId,
    agentId: p.agentId,
    keyId: p.keyId,
    model,
    mode: result.reviewMode,
    status: 'pending',
    createdAt: now,
    expiresAt: hold ? now + result.reviewTimeoutMs : null,
    onTimeout: result.reviewOnTimeout,
    riskScore: result.riskScore,
    riskFactors: result.riskFactors,
    matchedRules: result.matchedRules,
    policyName: result.policyName,
    policyVersion: result.policyVersion,
    request: body,
    decidedAt: null,
    reviewer: null,
    reason: null,
  };
  record({ id: item.id, decision: null, reviewer: null, waitMs: 0, mode: item.mode });
  await queue.submit(item);
  if (!hold) return;

  const started = performance.now();
  // The signal aborts when the client leaves (ctx.clientDisconnected is set first) or when a shutdown ends in-flight requests.
  const { outcome, item: decided } = await queue.waitForDecision(item, signal, () => ctx.clientDisconnected);
  record({ id: item.id, decision: outcome, reviewer: decided.reviewer, waitMs: Math.round(performance.now() - started), mode: item.mode });
  if (outcome === 'approved') return;
  if (outcome === 'expired' && item.onTimeout === 'allow') return;
  const subject = what.charAt(0).toUpperCase() + what.slice(1);
  if (outcome === 'abandoned') throw new GatewayError('upstream_error', `The client disconnected while ${what} waited for review.`);
  if (outcome === 'failed') throw new GatewayError('shutting_down', `The gateway shut down while ${what} waited for review (${item.id}); ${what === 'the request' ? 'it was not forwarded' : 'it was not delivered'}.`);
  const why = outcome === 'rejected' ? `rejected by ${decided.reviewer ?? 'a reviewer'}${decided.reason ? `: ${decided.reason}` : ''}` : 'no reviewer decided before the timeout';
  throw new GatewayError('review_rejected', `${subject} was held for review (${item.id}) and ${why}.`);
}
