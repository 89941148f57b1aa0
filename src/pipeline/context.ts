/**
 * The one object every stage reads and writes for a request. Fields are declared with initial
 * values so V8 keeps a single shape for all contexts. The audit record is built from it.
 */
import { randomUUID } from 'node:crypto';
import type { GatewayError } from '../errors.js';
import type { Principal } from '../auth/directory.js';
import type { ConfigSnapshot } from '../config/snapshot.js';
import type { Reservation } from '../budget/ledger.js';
import type { RateLimitRule } from '../ratelimit/limiter.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { PolicyInput, PolicyResult } from '../policy/types.js';
import type { AttemptRecord } from '../routing/fallback.js';
import type { ProposedCallFacts } from './proposed-tool-calls.js';
import type { ResolvedRoute } from './select-route.js';
import type { SurfaceName } from '../surfaces/surface.js';

export type PolicyOutcome = 'ALLOW' | 'REVIEW' | 'BLOCK';

/** What the gateway could read from the request body, for policy, cost estimates and audit. */
export interface RequestFacts {
  messageCount: number;
  systemPromptPresent: boolean;
  /** sha256 (hex) of the canonical input: JSON of `messages` (chat) or `input` (embeddings). */
  inputHash: string;
  inputChars: number;
  maxTokens: number | null;
  temperature: number | null;
  topP: number | null;
  toolsCount: number;
  toolChoice: string | null;
  responseFormat: string | null;
  hasImages: boolean;
  n: number;
  endUser: string | null;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

/** One MCP tool call, for its audit record (docs/audit-signals.md, "MCP tool calls"). */
export interface McpCallFacts {
  server: string;
  tool: string;
  argsHash: string;
  argsBytes: number;
  resultHash: string | null;
  resultBytes: number | null;
  /** Time the upstream MCP server took to answer tools/call; null when it was never called. */
  durationMs: number | null;
  /** called (answered), tool_error (answered with isError), blocked, rejected, rate_limited, over_budget, failed. */
  outcome: 'called' | 'tool_error' | 'blocked' | 'rejected' | 'rate_limited' | 'over_budget' | 'failed';
}

export class RequestContext {
  readonly decisionId = `dec_${randomUUID().replaceAll('-', '')}`;
  readonly receivedAt = Date.now();
  /** performance.now() at arrival; all durations are measured against it. */
  readonly startedAt = performance.now();

  /** The inbound API the request came through (set by the runner). */
  surface: SurfaceName | null = null;
  principal: Principal | undefined = undefined;
  /** The configuration snapshot taken at authentication; every later stage reads this one, never a newer one. */
  snapshot: ConfigSnapshot | undefined = undefined;
  /** `config_version` of the audit record: the snapshot's version (the gateway's start version before authentication). */
  configVersion: string | null = null;
  modelRequested: string | null = null;
  route: ResolvedRoute | undefined = undefined;
  stream = false;
  /** The client asked for `stream_options.include_usage`; otherwise the usage chunk is not forwarded. */
  clientWantsUsage = false;
  bodyBytes = 0;
  facts: RequestFacts | undefined = undefined;
  inputTokensEstimated = 0;

  outcome: PolicyOutcome = 'ALLOW';
  riskScore = 0;
  policyVersion: string | null = null;
  policyName: string | null = null;
  /** Ids of the live (non-shadow) rules that matched. */
  matchedRules: string[] = [];
  /** The policy's full result (risk factors, signals, redactions, shadow outcome), for the audit. */
  policyResult: PolicyResult | undefined = undefined;
  /** The result of response rules, when the policy has any. */
  responsePolicyResult: PolicyResult | undefined = undefined;
  /** The compiled policy and the input it judged, reused for response rules. */
  policy: { compiled: CompiledPolicy; input: PolicyInput } | undefined = undefined;
  review: { id: string; decision: string | null; reviewer: string | null; waitMs: number; mode: string } | null = null;

  costEstimatedUsd = 0;
  /** The budget hold taken before forwarding; cleared once settled. */
  reservation: Reservation | undefined = undefined;
  /** The amount held against the budgets (worst case over the fallback chain). */
  budgetReservedUsd = 0;
  /** Budget scope that refused the request, if one did. */
  budgetScopeHit: string | null = null;
  budgetRemainingUsd: Record<string, number> | null = null;
  budgetUtilization: Record<string, number> | null = null;
  rateLimited = false;
  rateLimitWaitMs = 0;
  rateLimitRemainingRequests: number | null = null;
  rateLimitRemainingTokens: number | null = null;
  /** x-ratelimit-* response headers, when quotas apply. */
  rateLimitHeaders: Record<string, string> | null = null;
  /** Rules consumed and the tokens taken, for the correction after metering. */
  rateLimitRules: RateLimitRule[] | undefined = undefined;
  rateLimitTokens = 0;
  costUsd = 0;
  usage: Usage | undefined = undefined;
  /** Set once the meter has run: it runs once per request, whatever the path. */
  metered = false;
  /** True when usage was counted by the gateway (stream cut short) rather than reported by the provider. */
  usageEstimated = false;

  attempts = 0;
  /** One entry per upstream attempt (model, deployment, status, error, latency). */
  attemptLog: AttemptRecord[] = [];
  /** Public models tried, in order: the requested one, then fallbacks. */
  fallbackChain: string[] = [];
  upstreamStatus: number | null = null;
  upstreamRequestId: string | null = null;
  upstreamError: string | null = null;
  /** Time spent waiting on the provider (headers and body), excluded from gateway overhead. */
  upstreamMs = 0;
  timeToFirstTokenMs: number | null = null;
  finishReason: string | null = null;
  outputChars = 0;
  outputHash: string | null = null;
  toolCallsCount = 0;
  clientDisconnected = false;
  streamInterrupted = false;
  /** On the one audited refusal that stands for several unaudited ones (audit sampling): how many. */
  refusalsSummarised: number | null = null;

  /** Tool calls the model proposed in its answer and how `on: tool_calls` rules judged them (proposed-tool-calls.ts). */
  proposedToolCalls: ProposedCallFacts | null = null;

  /** Set on MCP tool calls (src/pipeline/tool-call.ts): what the audit records about the call. */
  mcp: McpCallFacts | null = null;

  /** Prompt and completion text for the audit, only when the tenant stores content (else null). */
  storedPrompt: unknown = null;
  storedCompletion: string[] | null = null;

  httpStatus = 200;
  error: GatewayError | undefined = undefined;
  /** Set once the audit record is queued; guarantees exactly one record per request. */
  audited = false;

  constructor(
    readonly requestId: string,
    readonly endpoint: string,
    readonly method: string,
    readonly clientIp: string,
    readonly userAgent: string | null,
    /** The client SDK, from `x-stainless-lang`/`x-stainless-package-version` (OpenAI/Anthropic SDKs). */
    readonly sdk: string | null,
  ) {}

  /** Milliseconds since arrival. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Milliseconds spent in the gateway itself: everything but the wait on the provider. */
  gatewayMs(): number {
    return Math.max(0, this.elapsedMs() - this.upstreamMs);
  }
}
