/**
 * One evaluation: run each needed detector once per segment, derive signals and the detector
 * part of the risk score, then walk the rules. The decision logic (also in docs/policies.md):
 *
 * - Rules run in order. A rule matches when every condition it gives holds (model lists, cost,
 *   tokens, detect/terms, `when`); cheap conditions are checked first.
 * - Live `block` match → BLOCK; else live `review` match → REVIEW; `redact` adds its spans;
 *   `log` only records. A live `allow` match stops evaluation: later rules are not evaluated and
 *   the score thresholds are not applied (earlier block/review matches still stand). Put
 *   exemptions before the rules they exempt.
 * - Risk score (risk.ts) from detector factors plus live matched rules; on the request side the
 *   thresholds map it to REVIEW/BLOCK and the most severe of rule and score outcomes wins.
 * - Shadow rules are evaluated like live ones, in a second pass over the same matches that
 *   treats them as live; they only produce `shadowOutcome`.
 */
import { createInjectionDetector, injectionScore } from './detectors/injection.js';
import { createPiiDetector } from './detectors/pii.js';
import { createSecretsDetector } from './detectors/secrets.js';
import type { Detector, Finding } from './detectors/types.js';
import { celContext, type CelContext } from './cel.js';
import { capFindings, nextTurn, scanInSlices, SLICE_CHARS } from './scan-slices.js';
import { combineRisk, factor, round3, thresholdOutcome, worse } from './risk.js';
import { contentHolds, factsHold, type CompiledRule, type Evidence, type ScannedDetector } from './rules.js';
import type { Outcome, PolicyInput, PolicyResult, PolicySignals, Redaction, RiskFactor, TextSegment } from './types.js';

// Detectors are stateless per call, so one instance serves every policy and request.
const DETECTORS: Record<ScannedDetector, Detector> = {
  pii: createPiiDetector(),
  secrets: createSecretsDetector(),
  prompt_injection: createInjectionDetector(),
};
const SCANNED: readonly ScannedDetector[] = ['pii', 'secrets', 'prompt_injection'];
const NONE: Finding[] = [];

export type Needs = Record<ScannedDetector, boolean>;

/** What is judged: the request, the model's answer text, or one tool call the model proposed (`phase` in CEL). */
export type Phase = 'request' | 'response' | 'tool_call';

/** A compiled policy restricted to one phase (request or response). */
export interface PhasePolicy {
  name: string;
  version: string;
  rules: CompiledRule[];
  needs: Needs;
  weights: Record<ScannedDetector, number>;
  /** Score thresholds; null on the response side, where only rules decide. */
  thresholds: { review: number; block: number } | null;
  hasShadow: boolean;
  review: { mode: 'hold' | 'flag'; timeout: number; on_timeout: 'allow' | 'block' };
}

/** Scans each segment once per needed detector. Findings ending at or before `from` are ignored. */
export function gather(segments: readonly TextSegment[], needs: Needs, from = 0): Evidence {
  const found: Evidence['found'] = { pii: null, secrets: null, prompt_injection: null };
  for (const d of SCANNED) {
    if (!needs[d]) continue;
    const det = DETECTORS[d];
    found[d] = segments.map((s) => (s.text.length > 0 ? capFindings(det.scan(s.text)) : NONE));
  }
  return evidence(segments, found, from);
}

/**
 * `gather` for the request path: the same evidence, but texts are scanned in slices and the
 * event loop gets a turn every SLICE_CHARS characters (see scan-slices.ts).
 */
export async function gatherInSlices(segments: readonly TextSegment[], needs: Needs): Promise<Evidence> {
  const found: Evidence['found'] = { pii: null, secrets: null, prompt_injection: null };
  let sinceYield = 0;
  const pause = async (): Promise<void> => {
    sinceYield = 0;
    await nextTurn();
  };
  for (const d of SCANNED) {
    if (!needs[d]) continue;
    const det = DETECTORS[d];
    const per: Finding[][] = [];
    for (const s of segments) {
      per.push(s.text.length > 0 ? capFindings(await scanInSlices(det, s.text, pause)) : NONE);
      if ((sinceYield += s.text.length) >= SLICE_CHARS) await pause();
    }
    found[d] = per;
  }
  return evidence(segments, found, 0);
}

function evidence(segments: readonly TextSegment[], found: Evidence['found'], from: number): Evidence {
  // Max over segments: a long conversation of harmless weak hits must not add up to an attack.
  let inj = 0;
  for (const fs of found.prompt_injection ?? []) inj = Math.max(inj, injectionScore(from > 0 ? fs.filter((f) => f.end > from) : fs));
  return { segments, found, injectionScore: round3(inj), from };
}

export function signalsOf(ev: Evidence): PolicySignals {
  const pii = new Set<string>();
  const secrets = new Set<string>();
  for (const fs of ev.found.pii ?? []) for (const f of fs) if (f.end > ev.from) pii.add(f.type);
  for (const fs of ev.found.secrets ?? []) for (const f of fs) if (f.end > ev.from) secrets.add(f.type);
  return {
    pii_detected: pii.size > 0,
    pii_types: [...pii].sort(),
    secrets_detected: secrets.size > 0,
    secret_types: [...secrets].sort(),
    injection_score: ev.injectionScore,
    blocked_terms: [],
  };
}

/** One factor per detector that ran: signal = highest finding confidence (injection: the injection score). */
export function detectorFactors(ev: Evidence, weights: Record<ScannedDetector, number>): RiskFactor[] {
  const out: RiskFactor[] = [];
  for (const d of SCANNED) {
    const per = ev.found[d];
    if (per === null) continue;
    let s = 0;
    if (d === 'prompt_injection') s = ev.injectionScore;
    else for (const fs of per) for (const f of fs) if (f.end > ev.from && f.confidence > s) s = f.confidence;
    out.push(factor(d, s, weights[d]));
  }
  return out;
}

/** Walks the rules over gathered evidence. `signals`/`factors` may be cumulative (response streams). */
export function decide(
  p: PhasePolicy,
  ev: Evidence,
  input: PolicyInput,
  phase: Phase,
  signals: PolicySignals,
  factors: RiskFactor[],
  collectRedactions: boolean,
): PolicyResult {
  const matchedRules: PolicyResult['matchedRules'] = [];
  const redactions: Redaction[] = [];
  const errors: string[] = [];
  const blockedTerms: string[] = [];
  const ruleFactors: RiskFactor[] = [];
  let live: Outcome = 'ALLOW';
  let shadow: Outcome = 'ALLOW';
  let liveStopped = false;
  let shadowStopped = false;
  let shadowRuleWeight = 0;
  const detectorScore = combineRisk(factors);
  let cel: CelContext | null = null;

  for (const r of p.rules) {
    if (r.shadow ? shadowStopped : liveStopped) continue;
    if (!factsHold(r, input)) continue;
    const spans = collectRedactions && !r.shadow && r.action === 'redact' ? ([] as Redaction[]) : null;
    if (!contentHolds(r, ev, spans)) continue;
    if (r.when !== null) {
      cel ??= celContext(input, signals, detectorScore, phase);
      try {
        if (!r.when(cel)) continue;
      } catch (err) {
        errors.push(`${r.id}: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
    }
    matchedRules.push({ id: r.id, action: r.action, shadow: r.shadow });
    if (r.terms !== null) blockedTerms.push(r.id);
    const verdict: Outcome = r.action === 'block' ? 'BLOCK' : r.action === 'review' ? 'REVIEW' : 'ALLOW';
    if (!shadowStopped) {
      shadow = worse(shadow, verdict);
      shadowRuleWeight = Math.max(shadowRuleWeight, r.weight);
      if (r.action === 'allow') shadowStopped = true;
    }
    if (r.shadow) continue;
    live = worse(live, verdict);
    if (spans !== null) for (const s of spans) redactions.push(s);
    if (r.weight > 0) ruleFactors.push(factor(`rule:${r.id}`, 1, r.weight));
    if (r.action === 'allow') liveStopped = shadowStopped = true;
  }

  const riskFactors = ruleFactors.length > 0 ? factors.concat(ruleFactors) : factors;
  const riskScore = combineRisk(riskFactors);
  if (p.thresholds !== null && !liveStopped) live = worse(live, thresholdOutcome(riskScore, p.thresholds));
  let shadowOutcome: Outcome | null = null;
  if (p.hasShadow) {
    shadowOutcome = shadow;
    if (p.thresholds !== null && !shadowStopped) {
      const score = combineRisk(shadowRuleWeight > 0 ? factors.concat(factor('rule:*', 1, shadowRuleWeight)) : factors);
      shadowOutcome = worse(shadowOutcome, thresholdOutcome(score, p.thresholds));
    }
  }
  return {
    outcome: live,
    riskScore,
    riskFactors,
    policyVersion: p.version,
    policyName: p.name,
    matchedRules,
    redactions: redactions.length > 1 ? dedupe(redactions) : redactions,
    shadowOutcome,
    signals: blockedTerms.length > 0 ? { ...signals, blocked_terms: blockedTerms } : signals,
    errors,
    reviewMode: p.review.mode,
    reviewTimeoutMs: p.review.timeout,
    reviewOnTimeout: p.review.on_timeout,
  };
}

/** Two rules over the same finding (e.g. `pii` and `pii.email`) report its span once. */
function dedupe(spans: Redaction[]): Redaction[] {
  const seen = new Set<string>();
  return spans.filter((s) => {
    const k = `${s.path}\u0000${s.start}\u0000${s.end}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}
