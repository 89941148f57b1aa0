/**
 * Compiles a policy config once (detectors, term regexes, CEL) into an object whose `evaluate`
 * is synchronous and cheap enough for the hot path. Decision logic: see evaluate.ts.
 */
import { createHash } from 'node:crypto';
import { decide, detectorFactors, gather, gatherInSlices, signalsOf, type Needs, type Phase, type PhasePolicy } from './evaluate.js';
import { jsonSegments } from './json-segments.js';
import { normaliseSegments, normaliseSegmentsInSlices } from './normalize.js';
import { createResponseScanner, type ScannerOptions } from './response-scanner.js';
import { compileRule, type CompiledRule } from './rules.js';
import type { PolicyConfig } from './schema.js';
import type { PolicyInput, PolicyResult, ResponseScanner } from './types.js';

export interface CompiledPolicy {
  readonly name: string;
  readonly version: string;
  readonly config: PolicyConfig;
  /** False when no rule has `on: response|both`: callers can skip response scanning entirely. */
  readonly hasResponseRules: boolean;
  evaluate(input: PolicyInput): PolicyResult;
  /** `evaluate` that yields to the event loop while scanning large texts (the request path). */
  evaluateInSlices(input: PolicyInput): Promise<PolicyResult>;
  /**
   * Rules with `on: response|both` over a complete (non-streamed) answer. `input` is the request's,
   * so model/cost/token conditions and `request.*` in `when` keep their meaning. Score
   * thresholds do not apply to responses: only rules decide. `path` names the text in
   * redactions (default `choices[0].message.content`).
   */
  evaluateResponse(text: string, input: PolicyInput, path?: string): PolicyResult;
  /** Incremental variant of `evaluateResponse` for streams; see response-scanner.ts. */
  createResponseScanner(input: PolicyInput, options?: ScannerOptions): ResponseScanner;
  /** False when no rule has `on: tool_calls`: the tool calls of answers need no judging. */
  readonly hasToolCallRules: boolean;
  /**
   * Whether a proposed call named `name` could be blocked or sent to review by a live rule: only
   * such calls are held back in a stream while they are judged (log and shadow rules are
   * evaluated all the same, after the fact).
   */
  mayStopToolCall(name: string): boolean;
  /**
   * The `on: tool_calls` rules over one tool call a model proposed: `tool.name` and `tool.args`
   * in `when`, detectors over every string in the arguments (paths `arguments.<field>`). `input`
   * is the request's. As for responses, only rules decide (no score thresholds).
   */
  evaluateToolCall(call: { name: string; args: Record<string, unknown> }, input: PolicyInput): PolicyResult;
}

/** JSON with object keys sorted, so the version does not depend on key order in the file. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The default policy version: the first 12 hex digits of sha256 over the canonical JSON (without `version`). */
export function policyHash(config: PolicyConfig): string {
  const { version: _ignored, ...rest } = config;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 12);
}

function needsOf(rules: CompiledRule[], weights: PolicyConfig['weights'], byWeight: boolean): Needs {
  const signals = rules.some((r) => r.whenNeedsSignals);
  const uses = (d: keyof Needs): boolean => signals || rules.some((r) => r.detect === d) || (byWeight && weights[d] > 0);
  return { pii: uses('pii'), secrets: uses('secrets'), prompt_injection: uses('prompt_injection') };
}

export function compilePolicy(name: string, config: PolicyConfig): CompiledPolicy {
  const rules = config.rules.map((r) => compileRule(name, r));
  const version = config.version ?? policyHash(config);
  const phase = (list: CompiledRule[], response: boolean): PhasePolicy => ({
    name,
    version,
    rules: list,
    // The request side always scores with the weighted detectors; the response side runs only what rules read.
    needs: needsOf(list, config.weights, !response),
    weights: config.weights,
    thresholds: response ? null : config.thresholds,
    hasShadow: list.some((r) => r.shadow),
    review: config.review,
  });
  const req = phase(rules.filter((r) => r.onRequest), false);
  const res = phase(rules.filter((r) => r.onResponse), true);

  const calls = phase(rules.filter((r) => r.onToolCalls), true);
  const stoppers = calls.rules.filter((r) => !r.shadow && (r.action === 'block' || r.action === 'review'));

  const run = (p: PhasePolicy, input: PolicyInput, segments: PolicyInput['segments'], kind: Phase): PolicyResult => {
    const ev = gather(segments, p.needs);
    return decide(p, ev, input, kind, signalsOf(ev), detectorFactors(ev, p.weights), true);
  };

  return {
    name,
    version,
    config,
    hasResponseRules: res.rules.length > 0,
    // Requests are scanned as the model reads them: Unicode-normalised (normalize.ts).
    evaluate: (input) => run(req, input, normaliseSegments(input.segments), 'request'),
    evaluateInSlices: async (input) => {
      const ev = await gatherInSlices(await normaliseSegmentsInSlices(input.segments), req.needs);
      return decide(req, ev, input, 'request', signalsOf(ev), detectorFactors(ev, req.weights), true);
    },
    evaluateResponse: (text, input, path = 'choices[0].message.content') => run(res, input, [{ path, text }], 'response'),
    createResponseScanner: (input, options) => createResponseScanner(res, input, options),
    hasToolCallRules: calls.rules.length > 0,
    mayStopToolCall: (name) => stoppers.some((r) => r.toolMatches === null || r.toolMatches(name, '')),
    evaluateToolCall: (call, input) => run(calls, { ...input, tool: { name: call.name, server: '', args: call.args } }, normaliseSegments(jsonSegments(call.args, 'arguments')), 'tool_call'),
  };
}
