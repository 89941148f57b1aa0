/**
 * The pipeline for one MCP `tools/call` (docs/mcp.md). The stage list in run.ts is built around
 * a model exchange (surface parse, route, token count, forward), so a tool call has this small
 * runner next to it that reuses the same stage functions in the same order: per-tool rate
 * quota, policy (evaluatePolicy's result bookkeeping), the price held against the budgets
 * (reserve-budget.ts, as for model calls), review hold (holdForReview, the same queue), the
 * call, response rules over the result, settlement and exactly one audit record (auditRequest).
 * Refusals never reach the MCP server; they come back as a tool result with `isError`. A call is
 * in the gateway's in-flight set while it runs, so a shutdown waits for it (and past the grace
 * period aborts it, audited as such).
 */
import { createHash } from 'node:crypto';
import type { GatewayIdentity } from '../audit/record.js';
import type { AuditWriter } from '../audit/writer.js';
import type { Principal } from '../auth/directory.js';
import { asGatewayError, GatewayError } from '../errors.js';
import { toolRpm } from '../mcp/grants.js';
import { canonicalJson } from '../policy/compile.js';
import type { PolicyEngine } from '../policy/engine.js';
import { jsonSegments } from '../policy/json-segments.js';
import { applyRedactions } from '../policy/redact-request.js';
import type { PolicyInput, PolicyResult } from '../policy/types.js';
import type { RateLimiter } from '../ratelimit/limiter.js';
import type { AlertNotifier } from '../budget/alerts.js';
import type { BudgetLedger } from '../budget/ledger.js';
import type { ReviewQueue } from '../review/queue.js';
import type { Scrubber } from '../security/scrub.js';
import { auditRequest, type AuditObserver } from './audit.js';
import { RequestContext, type McpCallFacts } from './context.js';
import { recordPolicyResult } from './evaluate-policy.js';
import { holdForReview } from './hold-for-review.js';
import { applyBudgetResult, budgetScopes, settleBudget } from './reserve-budget.js';
import { SHUTDOWN_ABORT } from './run.js';

export interface ToolCallDeps {
  policy: PolicyEngine;
  limiter: RateLimiter;
  budgets: BudgetLedger;
  alerts: AlertNotifier;
  /** How long a budget hold lives if the call never settles (crash). */
  reservationTtlMs: number;
  /** The gateway's in-flight set (run.ts): a shutdown waits for these, then aborts them with SHUTDOWN_ABORT. */
  inFlight: Pick<Set<AbortController>, 'add' | 'delete'>;
  reviews: ReviewQueue;
  audit: AuditWriter;
  identity: GatewayIdentity;
  observeRecord: AuditObserver;
  upstream: { scrubber: Scrubber };
}

export interface ToolCall {
  principal: Principal;
  server: string;
  tool: string;
  args: Record<string, unknown>;
  /** The endpoint the call came through, for the audit: `/mcp/<server>` unless given (`/mcp` when federated). */
  endpoint?: string;
  /** USD charged against the caller's budgets when the server answers (mcp_servers.<name>.tool_prices_usd); 0: free. */
  priceUsd?: number;
  requestId: string;
  clientIp: string;
  userAgent: string | null;
  /** Aborts when the MCP client cancels the request or its session ends. */
  signal: AbortSignal;
}

/** The MCP tool result shape (CallToolResult), as far as the gateway reads it. */
export interface ToolResult {
  content: { type: string; text?: string; [k: string]: unknown }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  [k: string]: unknown;
}

/** What a reviewer approves: the exact call. Any difference is a different call and a new decision. */
export interface ToolCallBinding {
  mcp_server: string;
  tool: string;
  args_sha256: string;
  agent: string;
  policy_version: string | null;
}

export { jsonSegments };

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const refusal = (err: GatewayError): ToolResult => ({ content: [{ type: 'text', text: `${err.code}: ${err.message}` }], isError: true });

/** Runs one tool call through quota, policy, review, the call and response rules; audits it once. */
export async function runToolCall(deps: ToolCallDeps, call: ToolCall, invoke: (args: Record<string, unknown>, signal: AbortSignal) => Promise<ToolResult>): Promise<ToolResult> {
  const ctx = new RequestContext(call.requestId, call.endpoint ?? `/mcp/${call.server}`, 'tools/call', call.clientIp, call.userAgent, null);
  ctx.principal = call.principal;
  const argsJson = canonicalJson(call.args);
  const facts: McpCallFacts = { server: call.server, tool: call.tool, argsHash: sha256(argsJson), argsBytes: Buffer.byteLength(argsJson), resultHash: null, resultBytes: null, durationMs: null, outcome: 'failed' };
  ctx.mcp = facts;
  const onAbort = () => (ctx.clientDisconnected = true);
  call.signal.addEventListener('abort', onAbort, { once: true });
  // In the in-flight set from here to the audit record: a shutdown waits for the call, then aborts it.
  const shutdown = new AbortController();
  deps.inFlight.add(shutdown);
  const signal = AbortSignal.any([call.signal, shutdown.signal]);
  const price = call.priceUsd ?? 0;
  ctx.costEstimatedUsd = price;
  try {
    await enforceToolQuota(deps.limiter, call);
    const input = await judge(ctx, deps.policy, call);
    let args = call.args;
    if (ctx.policyResult && ctx.policyResult.redactions.length > 0) args = applyRedactions({ arguments: args }, ctx.policyResult.redactions).arguments;
    if (price > 0 && budgetScopes(call.principal).length > 0) {
      ctx.budgetReservedUsd = price;
      applyBudgetResult(ctx, await deps.budgets.reserve(budgetScopes(call.principal), price, deps.reservationTtlMs), price);
    }
    if (ctx.outcome === 'REVIEW') {
      const binding: ToolCallBinding = { mcp_server: call.server, tool: call.tool, args_sha256: facts.argsHash, agent: call.principal.agentId, policy_version: ctx.policyVersion };
      // The reviewer sees the arguments as they would be forwarded (request redactions applied).
      await holdForReview(ctx, deps.reviews, { ...binding, arguments: args }, `mcp:${call.server}/${call.tool}`, signal);
      if (ctx.review?.decision === 'approved') await checkBinding(deps.reviews, ctx.review.id, binding);
    }
    const started = performance.now();
    let result: ToolResult;
    try {
      result = await invoke(args, signal);
    } finally {
      facts.durationMs = performance.now() - started;
      ctx.upstreamMs = facts.durationMs;
    }
    ctx.attempts = 1;
    // The server answered: the call is charged, even if response rules withhold its result.
    ctx.costUsd = price;
    result = screenResult(ctx, result, input);
    const resultJson = canonicalJson(result);
    facts.resultHash = sha256(resultJson);
    facts.resultBytes = Buffer.byteLength(resultJson);
    facts.outcome = result.isError ? 'tool_error' : 'called';
    return result;
  } catch (err) {
    const byShutdown = shutdown.signal.aborted && !ctx.clientDisconnected;
    const gw = byShutdown ? SHUTDOWN_ABORT : asGatewayError(err);
    if (byShutdown) ctx.upstreamError = 'aborted by gateway shutdown';
    ctx.error = gw;
    ctx.httpStatus = gw.status;
    if (gw.code === 'policy_blocked') facts.outcome = 'blocked';
    else if (gw.code === 'review_rejected') facts.outcome = 'rejected';
    else if (gw.code === 'rate_limited') facts.outcome = 'rate_limited';
    else if (gw.code === 'budget_exceeded') facts.outcome = 'over_budget';
    // As for model calls (respond.ts sendError): refused before reaching the server, the gateway's decision was to block it.
    if (facts.durationMs === null) ctx.outcome = 'BLOCK';
    return refusal(gw);
  } finally {
    call.signal.removeEventListener('abort', onAbort);
    try {
      // The price is committed when the server answered, else the hold is released.
      if (ctx.reservation) await settleBudget(ctx, deps.budgets, deps.alerts);
    } finally {
      auditRequest(ctx, deps);
      deps.inFlight.delete(shutdown);
    }
  }
}

async function enforceToolQuota(limiter: RateLimiter, call: ToolCall): Promise<void> {
  const rpm = toolRpm(call.principal, call.server, call.tool);
  if (rpm === undefined) return;
  const p = call.principal;
  const decision = await limiter.consume([{ key: `mcp-tool:${p.tenantId}/${p.agentId}/${call.server}/${call.tool}`, rpm }], 0, 0, call.signal);
  if (decision.allowed) return;
  throw new GatewayError('rate_limited', `Rate limit of ${rpm} calls per minute reached for tool ${call.server}/${call.tool}.`, { headers: { 'retry-after': String(Math.ceil(decision.retryAfterMs / 1000)) } });
}

/** policy: the principal's policy over the arguments' text and the `tool.*` CEL variables. */
async function judge(ctx: RequestContext, engine: PolicyEngine, call: ToolCall): Promise<PolicyInput | undefined> {
  const policy = engine.policyFor(call.principal);
  if (!policy) return undefined;
  const p = call.principal;
  const input: PolicyInput = {
    segments: jsonSegments(call.args, 'arguments'),
    model: `mcp:${call.server}`,
    endpoint: 'mcp',
    tool: { name: call.tool, server: call.server, args: call.args },
    estimatedCostUsd: 0,
    inputTokens: 0,
    maxTokens: null,
    tenantId: p.tenantId,
    teamId: p.teamId,
    agentId: p.agentId,
    stream: false,
    toolsCount: 0,
    hasImages: false,
    endUser: null,
  };
  const result = await policy.evaluateInSlices(input);
  ctx.policy = { compiled: policy, input };
  recordPolicyResult(ctx, result);
  if (result.outcome === 'BLOCK') {
    const rules = result.matchedRules.filter((r) => !r.shadow && r.action === 'block').map((r) => r.id);
    const why = rules.length > 0 ? `rule${rules.length > 1 ? 's' : ''} ${rules.join(', ')}` : `risk score ${result.riskScore} ≥ ${policy.config.thresholds.block}`;
    throw new GatewayError('policy_blocked', `The tool call ${call.server}/${call.tool} was blocked by policy "${result.policyName}" (${why}).`);
  }
  return input;
}

/** An approval releases only the call it was given for (defence in depth: the item is read back from the store). */
async function checkBinding(queue: ReviewQueue, id: string, binding: ToolCallBinding): Promise<void> {
  const stored = await queue.store.get(id);
  const bound = stored?.request as Partial<ToolCallBinding> | undefined;
  const same = bound !== undefined && (Object.keys(binding) as (keyof ToolCallBinding)[]).every((k) => bound[k] === binding[k]);
  if (!same) throw new GatewayError('review_rejected', `The approval ${id} does not match this tool call; a new decision is needed.`);
}

/** Response rules over every text of the result: a block withholds it, redactions mask spans. */
function screenResult(ctx: RequestContext, result: ToolResult, input: PolicyInput | undefined): ToolResult {
  const policy = ctx.policy?.compiled;
  if (!policy?.hasResponseRules || !input) return result;
  const texts = jsonSegments({ content: result.content, structuredContent: result.structuredContent }, '');
  const redactions: PolicyResult['redactions'] = [];
  for (const seg of texts) {
    const path = seg.path.startsWith('.') ? seg.path.slice(1) : seg.path;
    const judged = policy.evaluateResponse(seg.text, input, path);
    if (!ctx.responsePolicyResult || SEVERITY[judged.outcome] > SEVERITY[ctx.responsePolicyResult.outcome]) ctx.responsePolicyResult = judged;
    if (judged.outcome === 'BLOCK') {
      const rules = judged.matchedRules.filter((r) => !r.shadow && r.action === 'block').map((r) => r.id);
      throw new GatewayError('policy_blocked', `The tool result was withheld by policy "${judged.policyName}" (rules: ${rules.join(', ')}).`);
    }
    redactions.push(...judged.redactions);
  }
  return redactions.length > 0 ? applyRedactions(result, redactions) : result;
}

const SEVERITY = { ALLOW: 0, REVIEW: 1, BLOCK: 2 } as const;
