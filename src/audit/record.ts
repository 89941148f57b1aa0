/**
 * The audit record: one per request, refused or not, built from the request context once the
 * request is over. Field names are the signal names of docs/audit-signals.md.
 */
import type { RequestContext } from '../pipeline/context.js';
import type { AttemptRecord } from '../routing/fallback.js';

/** Identifies this gateway process in every record it writes. */
export interface GatewayIdentity {
  instance: string;
  version: string;
  configVersion: string;
}

export interface AuditRecord {
  /**
   * `request`: the record of a finished request. Strict mode also commits `decision` before
   * forwarding and `cost` (what the request cost) before the answer ends, so a crash cannot
   * lose what a budget was charged.
   */
  kind: 'request' | 'decision' | 'cost';
  decision_id: string;
  request_id: string;
  received_at: string;
  received_at_ms: number;
  tenant_id: string | null;
  team_id: string | null;
  agent_id: string | null;
  key_id: string | null;
  end_user: string | null;
  client_ip: string;
  user_agent: string | null;
  sdk: string | null;
  endpoint: string;
  /** The inbound API: chat-completions, embeddings, anthropic-messages, openai-responses (null before routing). */
  surface: string | null;
  method: string;
  model_requested: string | null;
  model_resolved: string | null;
  provider: string | null;
  upstream_model: string | null;
  stream: boolean;
  body_bytes: number;
  message_count: number | null;
  system_prompt_present: boolean | null;
  input_hash: string | null;
  input_chars: number | null;
  input_tokens_estimated: number | null;
  max_tokens: number | null;
  temperature: number | null;
  top_p: number | null;
  tools_count: number | null;
  tool_choice: string | null;
  response_format: string | null;
  has_images: boolean | null;
  n: number | null;
  policy_outcome: string;
  policy_version: string | null;
  matched_rules: string[];
  risk_score: number;
  risk_factors: unknown[];
  policy_name: string | null;
  shadow_outcome: string | null;
  pii_detected: boolean;
  pii_types: string[];
  secrets_detected: boolean;
  secret_types: string[];
  injection_score: number;
  blocked_terms: string[];
  redactions: number;
  redaction_types: string[];
  policy_errors: string[];
  response_policy_outcome: string | null;
  response_matched_rules: string[];
  review_id: string | null;
  review_mode: string | null;
  review_decision: string | null;
  reviewer: string | null;
  review_wait_ms: number | null;
  cost_estimated_usd: number;
  budget_reserved_usd: number;
  budget_scope_hit: string | null;
  budget_remaining_usd: Record<string, number> | null;
  budget_utilization: Record<string, number> | null;
  rate_limited: boolean;
  ratelimit_wait_ms: number;
  ratelimit_remaining_requests: number | null;
  ratelimit_remaining_tokens: number | null;
  cost_usd: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  usage_estimated: boolean;
  price_input_per_mtok: number | null;
  price_output_per_mtok: number | null;
  attempts: number;
  attempt_log: AttemptRecord[];
  fallback_used: boolean;
  fallback_chain: string[];
  deployment: string | null;
  circuit_state: string | null;
  upstream_status: number | null;
  upstream_error: string | null;
  upstream_request_id: string | null;
  time_to_first_token_ms: number | null;
  upstream_latency_ms: number;
  gateway_overhead_ms: number;
  total_latency_ms: number;
  finish_reason: string | null;
  output_chars: number;
  output_hash: string | null;
  prompt: unknown;
  completion: string | null;
  tool_calls_count: number;
  proposed_tool_calls: string[];
  tool_call_policy_outcome: string | null;
  tool_call_matched_rules: string[];
  tool_call_review_id: string | null;
  tool_call_review_decision: string | null;
  tool_call_reviewer: string | null;
  tool_call_review_wait_ms: number | null;
  mcp_server: string | null;
  tool_name: string | null;
  args_hash: string | null;
  args_bytes: number | null;
  result_hash: string | null;
  result_bytes: number | null;
  tool_duration_ms: number | null;
  tool_outcome: string | null;
  client_disconnected: boolean;
  stream_interrupted: boolean;
  refusals_summarised: number | null;
  http_status: number;
  error_code: string | null;
  error_type: string | null;
  gateway_instance: string;
  gateway_version: string;
  config_version: string;
}

const ms = (v: number) => Math.round(finite(v) * 1000) / 1000;
/**
 * Numbers in a record are finite: NaN and Infinity serialise to null in JSON while the indexed
 * column keeps the number (or refuses it), which chain verification would report as an edit.
 */
const finite = (v: number) => (Number.isFinite(v) ? v : 0);
const finiteOrNull = (v: number | null | undefined) => (v === null || v === undefined ? null : finite(v));

export function buildAuditRecord(ctx: RequestContext, gateway: GatewayIdentity, kind: AuditRecord['kind'] = 'request'): AuditRecord {
  const p = ctx.principal;
  const f = ctx.facts;
  const route = ctx.route;
  const total = ctx.elapsedMs();
  const pr = ctx.policyResult;
  const rr = ctx.responsePolicyResult;
  const tc = ctx.proposedToolCalls?.result;
  const tcr = ctx.proposedToolCalls?.review;
  return {
    kind,
    decision_id: ctx.decisionId,
    request_id: ctx.requestId,
    received_at: new Date(ctx.receivedAt).toISOString(),
    received_at_ms: ctx.receivedAt,
    tenant_id: p?.tenantId ?? null,
    team_id: p?.teamId ?? null,
    agent_id: p?.agentId ?? null,
    key_id: p?.keyId ?? null,
    end_user: f?.endUser ?? null,
    client_ip: ctx.clientIp,
    user_agent: ctx.userAgent,
    sdk: ctx.sdk,
    endpoint: ctx.endpoint,
    surface: ctx.surface,
    method: ctx.method,
    model_requested: ctx.modelRequested,
    model_resolved: route?.publicModel ?? null,
    provider: route?.target.providerName ?? null,
    upstream_model: route?.target.upstreamModel ?? null,
    stream: ctx.stream,
    body_bytes: ctx.bodyBytes,
    message_count: f?.messageCount ?? null,
    system_prompt_present: f?.systemPromptPresent ?? null,
    input_hash: f?.inputHash ?? null,
    input_chars: f?.inputChars ?? null,
    input_tokens_estimated: f ? finite(ctx.inputTokensEstimated) : null,
    max_tokens: f?.maxTokens ?? null,
    temperature: f?.temperature ?? null,
    top_p: f?.topP ?? null,
    tools_count: f?.toolsCount ?? null,
    tool_choice: f?.toolChoice ?? null,
    response_format: f?.responseFormat ?? null,
    has_images: f?.hasImages ?? null,
    n: f?.n ?? null,
    policy_outcome: ctx.outcome,
    policy_version: ctx.policyVersion,
    matched_rules: ctx.matchedRules,
    risk_score: finite(ctx.riskScore),
    risk_factors: pr?.riskFactors ?? [],
    policy_name: ctx.policyName,
    shadow_outcome: pr?.shadowOutcome ?? null,
    pii_detected: pr?.signals.pii_detected ?? false,
    pii_types: pr?.signals.pii_types ?? [],
    secrets_detected: pr?.signals.secrets_detected ?? false,
    secret_types: pr?.signals.secret_types ?? [],
    injection_score: finite(pr?.signals.injection_score ?? 0),
    blocked_terms: pr?.signals.blocked_terms ?? [],
    redactions: pr?.redactions.length ?? 0,
    redaction_types: pr ? [...new Set(pr.redactions.map((r) => r.type))] : [],
    policy_errors: pr?.errors ?? [],
    response_policy_outcome: rr?.outcome ?? null,
    response_matched_rules: rr ? rr.matchedRules.filter((r) => !r.shadow).map((r) => r.id) : [],
    review_id: ctx.review?.id ?? null,
    review_mode: ctx.review?.mode ?? null,
    review_decision: ctx.review?.decision ?? null,
    reviewer: ctx.review?.reviewer ?? null,
    review_wait_ms: ctx.review ? ctx.review.waitMs : null,
    cost_estimated_usd: finite(ctx.costEstimatedUsd),
    budget_reserved_usd: finite(ctx.budgetReservedUsd),
    budget_scope_hit: ctx.budgetScopeHit,
    budget_remaining_usd: ctx.budgetRemainingUsd,
    budget_utilization: ctx.budgetUtilization,
    rate_limited: ctx.rateLimited,
    ratelimit_wait_ms: Math.round(ctx.rateLimitWaitMs),
    ratelimit_remaining_requests: ctx.rateLimitRemainingRequests,
    ratelimit_remaining_tokens: ctx.rateLimitRemainingTokens,
    cost_usd: finite(ctx.costUsd),
    input_tokens: finiteOrNull(ctx.usage?.inputTokens),
    output_tokens: finiteOrNull(ctx.usage?.outputTokens),
    cached_tokens: finiteOrNull(ctx.usage?.cachedTokens),
    reasoning_tokens: finiteOrNull(ctx.usage?.reasoningTokens),
    usage_estimated: ctx.usageEstimated,
    price_input_per_mtok: route?.price.input ?? null,
    price_output_per_mtok: route?.price.output ?? null,
    attempts: ctx.attempts,
    attempt_log: ctx.attemptLog,
    fallback_used: route !== undefined && route.publicModel !== ctx.fallbackChain[0],
    fallback_chain: ctx.fallbackChain,
    deployment: route?.deployment.id ?? null,
    circuit_state: route?.deployment.breaker.state ?? null,
    upstream_status: ctx.upstreamStatus,
    upstream_error: ctx.upstreamError,
    upstream_request_id: ctx.upstreamRequestId,
    time_to_first_token_ms: ctx.timeToFirstTokenMs === null ? null : ms(ctx.timeToFirstTokenMs),
    upstream_latency_ms: ms(ctx.upstreamMs),
    gateway_overhead_ms: ms(Math.max(0, total - ctx.upstreamMs)),
    total_latency_ms: ms(total),
    finish_reason: ctx.finishReason,
    output_chars: ctx.outputChars,
    output_hash: ctx.outputHash,
    prompt: ctx.storedPrompt,
    completion: ctx.storedCompletion ? ctx.storedCompletion.join('') : null,
    tool_calls_count: ctx.toolCallsCount,
    proposed_tool_calls: ctx.proposedToolCalls?.names ?? [],
    tool_call_policy_outcome: tc?.outcome ?? null,
    tool_call_matched_rules: tc ? tc.matchedRules.filter((r) => !r.shadow).map((r) => r.id) : [],
    tool_call_review_id: tcr?.id ?? null,
    tool_call_review_decision: tcr?.decision ?? null,
    tool_call_reviewer: tcr?.reviewer ?? null,
    tool_call_review_wait_ms: tcr ? tcr.waitMs : null,
    mcp_server: ctx.mcp?.server ?? null,
    tool_name: ctx.mcp?.tool ?? null,
    args_hash: ctx.mcp?.argsHash ?? null,
    args_bytes: ctx.mcp?.argsBytes ?? null,
    result_hash: ctx.mcp?.resultHash ?? null,
    result_bytes: ctx.mcp?.resultBytes ?? null,
    tool_duration_ms: ctx.mcp?.durationMs == null ? null : ms(ctx.mcp.durationMs),
    tool_outcome: ctx.mcp?.outcome ?? null,
    client_disconnected: ctx.clientDisconnected,
    stream_interrupted: ctx.streamInterrupted,
    refusals_summarised: ctx.refusalsSummarised,
    http_status: ctx.httpStatus,
    error_code: ctx.error?.code ?? null,
    error_type: ctx.error?.type ?? null,
    gateway_instance: gateway.instance,
    gateway_version: gateway.version,
    config_version: ctx.configVersion ?? gateway.configVersion,
  };
}
