/**
 * The stages before a request may be forwarded, in the product's order: resolve the model,
 * count its tokens, rate quotas, policy, budget hold, then the review hold. Each refuses by
 * throwing a GatewayError; what they learn is recorded on the context for headers and audit.
 */
import type { GatewayDeps } from '../app.js';
import { buildAuditRecord } from '../audit/record.js';
import { scrubAuditRecord } from '../audit/scrub-record.js';
import { estimateInputTokens } from '../budget/tokens.js';
import type { ChatRequest, EmbeddingsRequest } from '../providers/adapter.js';
import type { RequestContext } from './context.js';
import { evaluatePolicy } from './evaluate-policy.js';
import { holdForReview } from './hold-for-review.js';
import { checkMaxTokens } from './read-request.js';
import { estimateCost } from './meter.js';
import { enforceRateLimits, rateLimitRules } from './rate-limit.js';
import { budgetScopes, reserveBudget } from './reserve-budget.js';
import type { ModelRoute } from './select-route.js';

export async function admit<B extends ChatRequest | EmbeddingsRequest>(
  ctx: RequestContext,
  deps: GatewayDeps,
  body: B,
  endpoint: 'chat' | 'embeddings',
  signal: AbortSignal,
): Promise<{ body: B; chain: ModelRoute[] }> {
  const model = deps.routes.resolve(body.model, ctx.principal!, endpoint);
  const chain = deps.routes.chain(model, ctx.principal!);
  if (endpoint === 'chat') checkMaxTokens(body, model.maxOutputTokens);
  const upstreamModel = chain[0]!.deployments[0]?.target.upstreamModel ?? model.publicModel;
  ctx.inputTokensEstimated = estimateInputTokens(body as Parameters<typeof estimateInputTokens>[0], upstreamModel);
  ctx.costEstimatedUsd = estimateCost(ctx, model.price);

  // Stages that do not apply to this principal are skipped without an await.
  const principal = ctx.principal!;
  if (rateLimitRules(principal, model.publicModel).length > 0) await enforceRateLimits(ctx, deps.limiter, model.publicModel, deps.config.rate_limiting.max_wait, signal);
  const allowed = await evaluatePolicy(ctx, body, deps.policy, endpoint, model.publicModel);
  if (budgetScopes(principal).length > 0) await reserveBudget(ctx, deps.budgets, chain, deps.reservationTtlMs);
  if (ctx.outcome === 'REVIEW') await holdForReview(ctx, deps.reviews, allowed, model.publicModel, signal);
  if (ctx.principal!.tenant.store_content ?? deps.config.audit.store_content) {
    // What is stored is what was forwarded: the policy's redactions applied.
    ctx.storedPrompt = 'messages' in allowed ? allowed.messages : allowed.input;
    ctx.storedCompletion = [];
  }
  // Strict durability: nothing is forwarded before its decision is on disk.
  if (deps.config.audit.durability === 'strict') await deps.audit.writeNow(scrubAuditRecord(buildAuditRecord(ctx, deps.identity, 'decision'), deps.upstream.scrubber));
  return { body: allowed, chain };
}
