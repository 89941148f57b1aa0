/** Compiles rule configs into predicates over a request's facts and its detector findings. */
import { capFindings } from './scan-slices.js';
import { createTermsDetector } from './detectors/terms.js';
import type { Detector, Finding } from './detectors/types.js';
import { compileWhen, type CelPredicate } from './cel.js';
import { DEFAULT_RULE_WEIGHTS, type RuleAction, type RuleConfig } from './schema.js';
import type { PolicyInput, Redaction, TextSegment } from './types.js';

export type ScannedDetector = 'pii' | 'secrets' | 'prompt_injection';

export interface CompiledRule {
  id: string;
  action: RuleAction;
  shadow: boolean;
  weight: number;
  onRequest: boolean;
  onResponse: boolean;
  /** `on: tool_calls`: evaluated once per tool call a model proposes. */
  onToolCalls: boolean;
  /** `tools`: true when the judged tool's name (or `server/name`) matches. */
  toolMatches: ((name: string, server: string) => boolean) | null;
  /** Which shared detector the rule reads, or 'terms' for its own terms detector. */
  detect: ScannedDetector | 'terms' | null;
  /** `pii.<type>` / `secrets.<type>`: the one type that counts. */
  detectType: string | null;
  minConfidence: number;
  terms: Detector | null;
  /** True when the model violates the rule's allow/deny lists. */
  modelViolates: ((model: string) => boolean) | null;
  maxCost: number | undefined;
  maxInput: number | undefined;
  maxOutput: number | undefined;
  when: CelPredicate | null;
  /** The `when` expression reads `signals` or `risk`, so the shared detectors must run. */
  whenNeedsSignals: boolean;
}

/** Findings of one evaluation: per shared detector, one array per segment; null when the detector did not run. */
export interface Evidence {
  segments: readonly TextSegment[];
  found: Record<ScannedDetector, Finding[][] | null>;
  injectionScore: number;
  /** Findings ending at or before this offset were already seen (response streams). */
  from: number;
}

function globList(patterns: string[]): (model: string) => boolean {
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const p of patterns) {
    const q = p.toLowerCase();
    if (!q.includes('*')) exact.add(q);
    else globs.push(new RegExp(`^${q.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  }
  return (model) => {
    const m = model.toLowerCase();
    return exact.has(m) || globs.some((g) => g.test(m));
  };
}

/** Tool-name patterns: `name` (any server, or a model-proposed call) or `server/name` (an MCP server's tool); `*` wildcard, case-sensitive as tool names are. */
function toolList(patterns: string[]): (name: string, server: string) => boolean {
  const compile = (p: string) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const bare = patterns.filter((p) => !p.includes('/')).map(compile);
  const scoped = patterns.filter((p) => p.includes('/')).map(compile);
  return (name, server) => bare.some((re) => re.test(name)) || (server !== '' && scoped.some((re) => re.test(`${server}/${name}`)));
}

export function compileRule(policyName: string, r: RuleConfig): CompiledRule {
  const where = `policy "${policyName}" rule "${r.id}"`;
  const hasTerms = (r.terms?.length ?? 0) + (r.patterns?.length ?? 0) > 0;
  const target = r.detect ?? (hasTerms ? 'terms' : undefined);
  let detect: CompiledRule['detect'] = null;
  let detectType: string | null = null;
  if (target !== undefined) {
    const dot = target.indexOf('.');
    detect = (dot === -1 ? target : target.slice(0, dot)) as CompiledRule['detect'];
    detectType = dot === -1 ? null : target.slice(dot + 1);
  }
  let terms: Detector | null = null;
  if (detect === 'terms') {
    try {
      terms = createTermsDetector(r.terms ?? [], r.patterns ?? []);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
  }
  let modelViolates: CompiledRule['modelViolates'] = null;
  if (r.models) {
    const allow = r.models.allow ? globList(r.models.allow) : null;
    const deny = r.models.deny ? globList(r.models.deny) : null;
    modelViolates = (m) => (deny !== null && deny(m)) || (allow !== null && !allow(m));
  }
  return {
    id: r.id,
    action: r.action,
    shadow: r.shadow,
    weight: r.weight ?? DEFAULT_RULE_WEIGHTS[r.action],
    onRequest: r.on === 'request' || r.on === 'both',
    onResponse: r.on === 'response' || r.on === 'both',
    onToolCalls: r.on === 'tool_calls',
    toolMatches: r.tools ? toolList(r.tools) : null,
    detect,
    detectType,
    minConfidence: r.min_confidence ?? (detect === 'prompt_injection' ? 0.5 : 0),
    terms,
    modelViolates,
    maxCost: r.max_cost_usd,
    maxInput: r.max_input_tokens,
    maxOutput: r.max_output_tokens,
    when: r.when === undefined ? null : compileWhen(r.when, where),
    whenNeedsSignals: r.when !== undefined && /\b(?:signals|risk)\b/.test(r.when),
  };
}

/** The request-fact conditions (tool, model, cost, tokens); true when every one given holds. */
export function factsHold(r: CompiledRule, input: PolicyInput): boolean {
  if (r.toolMatches !== null && !(input.tool !== undefined && r.toolMatches(input.tool.name, input.tool.server))) return false;
  if (r.modelViolates !== null && !r.modelViolates(input.model)) return false;
  if (r.maxCost !== undefined && !(input.estimatedCostUsd > r.maxCost)) return false;
  if (r.maxInput !== undefined && !(input.inputTokens > r.maxInput)) return false;
  if (r.maxOutput !== undefined && !(input.maxTokens !== null && input.maxTokens > r.maxOutput)) return false;
  return true;
}

const NONE: Finding[] = [];

/**
 * The content condition. Returns whether it holds; when `spans` is given, also collects every
 * qualifying finding's span there (for redact rules).
 */
export function contentHolds(r: CompiledRule, ev: Evidence, spans: Redaction[] | null): boolean {
  if (r.detect === null) return true;
  const injection = r.detect === 'prompt_injection';
  if (injection && (ev.injectionScore <= 0 || ev.injectionScore < r.minConfidence)) return false;
  const perSegment = r.detect === 'terms' ? null : ev.found[r.detect];
  let hit = false;
  for (let i = 0; i < ev.segments.length; i++) {
    const seg = ev.segments[i];
    const findings = r.terms !== null ? (seg.text.length > 0 ? capFindings(r.terms.scan(seg.text)) : NONE) : (perSegment?.[i] ?? NONE);
    for (const f of findings) {
      if (f.end <= ev.from) continue;
      if (!injection && (f.confidence < r.minConfidence || (r.detectType !== null && f.type !== r.detectType))) continue;
      hit = true;
      if (spans === null) return true;
      const [start, end] = seg.span ? seg.span(f.start, f.end) : [f.start, f.end];
      spans.push({ path: seg.path, start, end, type: f.type });
    }
  }
  // An injection score at or above the minimum always counts, even if no single finding is new.
  return hit || injection;
}
