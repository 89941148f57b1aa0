/**
 * Tool calls proposed by models: the `tool_calls` of a chat completion, the `tool_use` blocks of
 * an Anthropic message, the `function_call` items of a Response. All three reach the pipeline as
 * the pivot's `tool_calls` (whole answers and stream chunks alike, native providers included),
 * so this one module judges them for every surface: the policy's `on: tool_calls` rules run
 * once per call; BLOCK refuses the answer (policy_blocked), REVIEW holds it in the review queue
 * until a reviewer decides (review_rejected when rejected or timed out), log rules only record.
 *
 * In a stream, text flows as it comes; from the first tool call that a live block or review
 * rule could match (by its `tools` patterns), the rest of the stream is held in memory (bounded)
 * until the upstream ends and the calls are judged, then released or replaced by an error event.
 */
import { GatewayError } from '../errors.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { worse } from '../policy/risk.js';
import type { MatchedRule, PolicyResult, RiskFactor } from '../policy/types.js';
import type { ChatCompletion, ChatCompletionChunk } from '../providers/adapter.js';
import type { ReviewQueue } from '../review/queue.js';
import type { RequestContext } from './context.js';
import { reviewHold, type ReviewRecord } from './hold-for-review.js';

/** One tool call of an answer, as the pivot carries it (`arguments` is JSON text). */
export interface ProposedCall {
  id: string;
  name: string;
  arguments: string;
}

/** What the audit records about the tool calls an answer proposed (docs/audit-signals.md). */
export interface ProposedCallFacts {
  /** Names of the proposed calls, in order (at most MAX_NAMES). */
  names: string[];
  /** The `on: tool_calls` rules' verdict over all calls; null when no such rule was evaluated. */
  result: PolicyResult | null;
  review: ReviewRecord | null;
}

/** Names kept per answer for the audit; the count (`tool_calls_count`) is exact. */
const MAX_NAMES = 64;
/**
 * Most argument text collected from one stream for judging, and most output held back while a
 * call is judged. Past it a held call cannot be judged whole and the answer is refused (fails
 * closed); calls no block or review rule can match are never held.
 */
export const MAX_HELD_CHARS = 8 * 1024 * 1024;

/** Records a proposed call's name on the context (every answer, whether or not a policy judges calls). */
export function noteProposedCall(ctx: RequestContext, name: string): void {
  const facts = (ctx.proposedToolCalls ??= { names: [], result: null, review: null });
  if (facts.names.length < MAX_NAMES) facts.names.push(name);
}

/** The tool calls of a whole answer (every choice). */
export function callsOfCompletion(completion: ChatCompletion): ProposedCall[] {
  const calls: ProposedCall[] = [];
  for (const choice of completion.choices) {
    for (const call of choice.message?.tool_calls ?? []) {
      if (call.type !== 'function') continue;
      calls.push({ id: call.id, name: call.function.name, arguments: call.function.arguments });
    }
  }
  return calls;
}

/** Collects a stream's tool calls from its pivot chunks and says from when its output must be held. */
export class StreamedCalls {
  /** By choice and tool-call index. */
  private readonly calls = new Map<string, ProposedCall>();
  private chars = 0;
  /** Set once a call that a block or review rule could match has started: from then on output is held. */
  holding = false;
  /** More argument text than MAX_HELD_CHARS arrived: the calls cannot be judged whole. */
  tooLarge = false;

  constructor(private readonly policy: CompiledPolicy) {}

  /** Takes one chunk's tool-call deltas; returns whether output is held from this chunk on. */
  push(chunk: ChatCompletionChunk): boolean {
    for (const choice of chunk.choices) {
      for (const delta of choice.delta?.tool_calls ?? []) {
        const key = `${choice.index}:${delta.index}`;
        let call = this.calls.get(key);
        if (!call) this.calls.set(key, (call = { id: delta.id ?? '', name: '', arguments: '' }));
        // The name comes whole with a call's first delta in every API; fragments are joined all the same.
        if (delta.function?.name) call.name += delta.function.name;
        const args = delta.function?.arguments;
        if (args) {
          this.chars += args.length;
          if (this.chars > MAX_HELD_CHARS) this.tooLarge = true;
          else call.arguments += args;
        }
        if (!this.holding && this.policy.mayStopToolCall(call.name)) this.holding = true;
      }
    }
    return this.holding;
  }

  list(): ProposedCall[] {
    return [...this.calls.values()];
  }
}

/** A call's arguments as a JSON object; undefined when the text is not one (CEL then sees `{}`). */
function argsOf(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text === '' ? '{}' : text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Judges the calls an answer proposes with the policy's `on: tool_calls` rules. Returns when the
 * answer may go to the client; throws policy_blocked (a block rule matched), or — after a hold —
 * review_rejected, shutting_down or upstream_error (client gone). `model` labels the review item.
 */
export async function judgeProposedCalls(ctx: RequestContext, calls: readonly ProposedCall[], queue: ReviewQueue, model: string, signal: AbortSignal): Promise<void> {
  const policy = ctx.policy;
  if (calls.length === 0 || !policy?.compiled.hasToolCallRules) return;
  const facts = (ctx.proposedToolCalls ??= { names: calls.slice(0, MAX_NAMES).map((c) => c.name), result: null, review: null });
  const parsed = calls.map((c) => ({ ...c, json: argsOf(c.arguments) }));
  const results = parsed.map((c) => policy.compiled.evaluateToolCall({ name: c.name, args: c.json ?? {} }, policy.input));
  const result = combine(results);
  facts.result = result;
  if (result.outcome === 'BLOCK') {
    const stopped = parsed.filter((_, i) => results[i]!.outcome === 'BLOCK').map((c) => `"${c.name}"`);
    const rules = result.matchedRules.filter((r) => !r.shadow && r.action === 'block').map((r) => r.id);
    throw new GatewayError('policy_blocked', `The answer was blocked by policy "${result.policyName}": the model proposed a call to ${stopped.join(', ')} (rules: ${rules.join(', ')}).`);
  }
  if (result.outcome !== 'REVIEW') return;
  // The reviewer sees every call of the answer, with its arguments as the model wrote them.
  const body = {
    proposed_tool_calls: parsed.map((c, i) => ({ id: c.id, name: c.name, arguments: c.json ?? c.arguments, outcome: results[i]!.outcome })),
    surface: ctx.surface,
    stream: ctx.stream,
  };
  await reviewHold(ctx, queue, result, body, model, signal, 'the tool call the model proposed', (r) => (facts.review = r));
}

/** One verdict over several calls: the worst outcome, every matched rule once, the highest risk. */
function combine(results: PolicyResult[]): PolicyResult {
  if (results.length === 1) return results[0]!;
  const first = results[0]!;
  const rules = new Map<string, MatchedRule>();
  const factors = new Map<string, RiskFactor>();
  let outcome = first.outcome;
  let shadow = first.shadowOutcome;
  const signals = { ...first.signals };
  for (const r of results) {
    outcome = worse(outcome, r.outcome);
    if (shadow !== null && r.shadowOutcome !== null) shadow = worse(shadow, r.shadowOutcome);
    for (const m of r.matchedRules) if (!rules.has(m.id)) rules.set(m.id, m);
    for (const f of r.riskFactors) if ((factors.get(f.factor)?.contribution ?? -1) < f.contribution) factors.set(f.factor, f);
    signals.pii_types = [...new Set([...signals.pii_types, ...r.signals.pii_types])].sort();
    signals.secret_types = [...new Set([...signals.secret_types, ...r.signals.secret_types])].sort();
    signals.blocked_terms = [...new Set([...signals.blocked_terms, ...r.signals.blocked_terms])];
    signals.injection_score = Math.max(signals.injection_score, r.signals.injection_score);
  }
  signals.pii_detected = signals.pii_types.length > 0;
  signals.secrets_detected = signals.secret_types.length > 0;
  return {
    ...first,
    outcome,
    riskScore: Math.max(...results.map((r) => r.riskScore)),
    riskFactors: [...factors.values()],
    matchedRules: [...rules.values()],
    shadowOutcome: shadow,
    signals,
    errors: results.flatMap((r) => r.errors).slice(0, 20),
  };
}
