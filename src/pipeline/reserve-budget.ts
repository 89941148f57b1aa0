/**
 * Stage: hold the request's worst-case cost against every budget it counts toward (tenant,
 * team, agent, key) before forwarding; settle to the actual cost afterwards, on every path.
 * The worst case is the estimated input plus the output bound (max_tokens, else the model's
 * max output, else 4096 tokens), so concurrent requests can never overspend a budget.
 */
import type { Principal } from '../auth/directory.js';
import type { AlertNotifier } from '../budget/alerts.js';
import type { BudgetLedger, BudgetScope, ReserveResult } from '../budget/ledger.js';
import { estimateOutputTokensBound } from '../budget/tokens.js';
import type { BudgetConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { RequestContext } from './context.js';
import { costOf } from './meter.js';
import type { Admission } from '../store/admission.js';
import { applyRateDecision, quotaTokens, rateLimitRules } from './rate-limit.js';
import type { ModelRoute } from './select-route.js';

const scopeCache = new WeakMap<Principal, BudgetScope[]>();

/** The budgets a principal's requests count toward, most specific last. */
export function budgetScopes(p: Principal): BudgetScope[] {
  let scopes = scopeCache.get(p);
  if (!scopes) {
    const key = p.agent.keys.find((k) => k.id === p.keyId);
    const candidates: [string, BudgetConfig | undefined][] = [
      [`tenant:${p.tenantId}`, p.tenant.budget],
      [`team:${p.tenantId}/${p.teamId}`, p.team.budget],
      [`agent:${p.tenantId}/${p.agentId}`, p.agent.budget],
      [`key:${p.keyId}`, key?.budget],
    ];
    scopes = candidates.filter(([, b]) => b !== undefined).map(([k, b]) => ({ key: k, limitUsd: b!.usd, period: b!.period, alerts: b!.alerts }));
    scopeCache.set(p, scopes);
  }
  return scopes;
}

/**
 * The most a request can cost on any model of its fallback chain: estimated input plus the
 * output bound of each of its `n` choices, at the chain's highest prices.
 */
export function worstCaseCost(ctx: RequestContext, chain: readonly ModelRoute[]): number {
  let worst = 0;
  const choices = ctx.facts?.n ?? 1;
  for (const model of chain) {
    const outputBound = estimateOutputTokensBound(ctx.facts?.maxTokens ?? null, model.maxOutputTokens) * choices;
    const cost = costOf({ inputTokens: ctx.inputTokensEstimated, outputTokens: outputBound, cachedTokens: 0, reasoningTokens: 0 }, model.price);
    if (cost > worst) worst = cost;
  }
  return worst;
}

export async function reserveBudget(ctx: RequestContext, ledger: BudgetLedger, chain: readonly ModelRoute[], ttlMs: number): Promise<void> {
  const scopes = budgetScopes(ctx.principal!);
  if (scopes.length === 0) return;
  const estimate = worstCaseCost(ctx, chain);
  ctx.budgetReservedUsd = estimate;
  applyBudgetResult(ctx, await ledger.reserve(scopes, estimate, ttlMs), estimate);
}

/**
 * Quotas and budget holds in one admission call (one Redis round trip with a shared back end),
 * for a request that has both; the results land on the context exactly as the rate-limit stage
 * and reserveBudget put them. Refused by a quota, nothing is held; refused by a budget, no
 * quota is taken (Redis) — see store/admission.ts.
 */
export async function admitTogether(ctx: RequestContext, admission: Admission, model: string, chain: readonly ModelRoute[], o: { maxWaitMs: number; ttlMs: number; signal: AbortSignal }): Promise<void> {
  const rules = rateLimitRules(ctx.principal!, model);
  const scopes = budgetScopes(ctx.principal!);
  const tokens = quotaTokens(ctx);
  const estimate = worstCaseCost(ctx, chain);
  const result = await admission.admit({ rules, tokens, maxWaitMs: o.maxWaitMs, scopes, amountUsd: estimate, ttlMs: o.ttlMs, signal: o.signal });
  // Refused by a budget, the Redis script took no quota: nothing to adjust after metering.
  applyRateDecision(ctx, result.rate, result.admitted ? rules : [], tokens);
  ctx.budgetReservedUsd = estimate;
  if (result.admitted) {
    if (result.budget) applyBudgetResult(ctx, result.budget, estimate);
  } else if (result.refusedBy === 'budget') {
    applyBudgetResult(ctx, result.budget, estimate);
  }
}

/** Records a budget hold (or throws budget_exceeded); shared by reserveBudget and admitTogether. */
export function applyBudgetResult(ctx: RequestContext, result: ReserveResult, estimate: number): void {
  if (!result.ok) {
    ctx.budgetScopeHit = result.scope.key;
    ctx.budgetRemainingUsd = { [result.scope.key]: result.remainingUsd };
    throw new GatewayError(
      'budget_exceeded',
      `Budget exceeded for ${result.scope.key} (${result.scope.period} limit $${result.scope.limitUsd}; $${result.remainingUsd.toFixed(4)} left, this request may cost up to $${estimate.toFixed(4)}).`,
      { headers: { 'x-omega-budget-remaining-usd': result.remainingUsd.toFixed(6) } },
    );
  }
  ctx.reservation = result.reservation;
  ctx.budgetRemainingUsd = result.remainingUsd;
}

/**
 * Commits the actual cost when the provider may have billed anything (an answer, or a stream
 * cut short), else releases the hold. Never throws: a settlement failure must not turn a
 * served request into an error (the reservation's TTL frees it in the worst case).
 */
export async function settleBudget(ctx: RequestContext, ledger: BudgetLedger, alerts: AlertNotifier): Promise<void> {
  const reservation = ctx.reservation;
  if (!reservation) return;
  ctx.reservation = undefined;
  try {
    // An MCP tool call has no usage: its price is its cost (pipeline/tool-call.ts).
    if (ctx.usage || ctx.costUsd > 0) {
      const result = await ledger.commit(reservation, ctx.costUsd);
      ctx.budgetRemainingUsd = result.remainingUsd;
      ctx.budgetUtilization = result.utilization;
      for (const crossed of result.crossed) alerts.notify({ ...crossed, tenantId: ctx.principal!.tenantId });
    } else {
      await ledger.release(reservation);
      // The figures taken at reserve time still count this request's hold: record the settled ones.
      const status = await ledger.status(reservation.scopes);
      const remaining: Record<string, number> = {};
      for (const [key, s] of Object.entries(status)) remaining[key] = Math.max(0, s.limitUsd - s.spentUsd - s.reservedUsd);
      ctx.budgetRemainingUsd = remaining;
    }
  } catch {
    // The TTL releases the hold; the audit record still carries the cost.
  }
}

/**
 * settleBudget and adjustRateLimits in one call, when quotas and budgets share a back end
 * (admission): one Redis round trip for both. Same outcome on the context; never throws.
 */
export async function settleTogether(ctx: RequestContext, admission: Admission, alerts: AlertNotifier): Promise<void> {
  const { reservation, rateLimitRules: rules } = ctx;
  if (!reservation && !rules) return;
  ctx.reservation = undefined;
  ctx.rateLimitRules = undefined;
  const actualTokens = ctx.usage ? ctx.usage.inputTokens + ctx.usage.outputTokens : 0;
  try {
    const settled = await admission.settle({ rules: rules ?? [], tokenDelta: rules ? actualTokens - ctx.rateLimitTokens : 0, reservation, costUsd: reservation && ctx.usage ? ctx.costUsd : undefined });
    if (settled.commit) {
      ctx.budgetRemainingUsd = settled.commit.remainingUsd;
      ctx.budgetUtilization = settled.commit.utilization;
      for (const crossed of settled.commit.crossed) alerts.notify({ ...crossed, tenantId: ctx.principal!.tenantId });
    } else if (settled.remainingUsd) {
      // The figures taken at reserve time still count this request's hold: record the settled ones.
      ctx.budgetRemainingUsd = settled.remainingUsd;
    }
  } catch {
    // The TTL releases the hold and the quota's estimate stands; the audit record still carries the cost.
  }
}

/** The tightest remaining budget, for the x-omega-budget-remaining-usd header. */
export function tightestRemaining(remaining: Record<string, number> | null): number | undefined {
  if (!remaining) return undefined;
  let min: number | undefined;
  for (const v of Object.values(remaining)) if (min === undefined || v < min) min = v;
  return min;
}
