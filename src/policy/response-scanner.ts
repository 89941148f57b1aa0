/**
 * Response rules over a stream. Each push scans a window: the last `overlap` characters seen
 * plus the new delta, so a secret split across chunks is still found whole, while memory stays
 * bounded. Findings lying entirely in the already-scanned part are ignored (seen before).
 *
 * Detection happens when the chunk that completes a match arrives; the caller has usually
 * forwarded earlier chunks already, so a block cuts the stream rather than preventing the
 * first part of the match from leaving. `review` and `redact` cannot act on a passing stream:
 * they are recorded only.
 */
import { decide, detectorFactors, gather, signalsOf, type PhasePolicy } from './evaluate.js';
import { combineRisk, factor, worse } from './risk.js';
import type { MatchedRule, Outcome, PolicyInput, PolicyResult, PolicySignals, ResponseScanner, RiskFactor, ScanVerdict } from './types.js';

export interface ScannerOptions {
  /** Characters of earlier text re-scanned with each delta (default 512): the longest match caught across a chunk boundary. */
  overlap?: number;
  /** Path reported for the response text (default `choices[0].message.content`). */
  path?: string;
}

const MAX_ERRORS = 20;

/** Keeps the last `n` chars, starting after a whitespace near the cut so the window does not begin mid-word. */
function tailOf(text: string, n: number): string {
  if (text.length <= n) return text;
  let start = text.length - n;
  const c = text.charCodeAt(start);
  if (c >= 0xdc00 && c <= 0xdfff) start--; // never start inside a surrogate pair
  if (/\s/.test(text[start - 1])) return text.slice(start); // already at a word start
  const ws = text.slice(start, start + 64).search(/\s/);
  return text.slice(ws === -1 ? start : start + ws + 1);
}

export function createResponseScanner(p: PhasePolicy, input: PolicyInput, options: ScannerOptions = {}): ResponseScanner {
  const overlap = Math.max(0, options.overlap ?? 512);
  const path = options.path ?? 'choices[0].message.content';
  let tail = '';
  let blocked = false;
  let outcome: Outcome = 'ALLOW';
  let shadowOutcome: Outcome | null = p.hasShadow ? 'ALLOW' : null;
  const matched = new Map<string, MatchedRule>();
  const errors = new Set<string>();
  const signals: PolicySignals = { pii_detected: false, pii_types: [], secrets_detected: false, secret_types: [], injection_score: 0, blocked_terms: [] };
  const detectorMax = new Map<string, RiskFactor>();

  const union = (a: string[], b: string[]): string[] => (b.every((x) => a.includes(x)) ? a : [...new Set([...a, ...b])].sort());

  function absorb(w: PolicySignals, factors: RiskFactor[]): void {
    signals.pii_types = union(signals.pii_types, w.pii_types);
    signals.secret_types = union(signals.secret_types, w.secret_types);
    signals.pii_detected = signals.pii_types.length > 0;
    signals.secrets_detected = signals.secret_types.length > 0;
    signals.injection_score = Math.max(signals.injection_score, w.injection_score);
    for (const f of factors) {
      const prev = detectorMax.get(f.factor);
      if (prev === undefined || f.signal > prev.signal) detectorMax.set(f.factor, f);
    }
  }

  return {
    push(delta: string): ScanVerdict {
      if (blocked) return { block: true, ruleIds: [] };
      if (delta.length === 0 || p.rules.length === 0) return { block: false, ruleIds: [] };
      const text = tail + delta;
      const ev = gather([{ path, text }], p.needs, tail.length);
      const factors = detectorFactors(ev, p.weights);
      absorb(signalsOf(ev), factors);
      const r = decide(p, ev, input, 'response', signals, [...detectorMax.values()], false);
      const ruleIds: string[] = [];
      for (const m of r.matchedRules) {
        if (matched.has(m.id)) continue;
        matched.set(m.id, m);
        if (!m.shadow) ruleIds.push(m.id);
      }
      signals.blocked_terms = union(signals.blocked_terms, r.signals.blocked_terms);
      for (const e of r.errors) if (errors.size < MAX_ERRORS) errors.add(e);
      outcome = worse(outcome, r.outcome);
      if (shadowOutcome !== null && r.shadowOutcome !== null) shadowOutcome = worse(shadowOutcome, r.shadowOutcome);
      blocked = outcome === 'BLOCK';
      tail = tailOf(text, overlap);
      return { block: blocked, ruleIds };
    },

    result(): PolicyResult {
      const riskFactors = [...detectorMax.values()];
      for (const m of matched.values()) {
        const rule = p.rules.find((x) => x.id === m.id)!;
        if (!m.shadow && rule.weight > 0) riskFactors.push(factor(`rule:${m.id}`, 1, rule.weight));
      }
      return {
        outcome,
        riskScore: combineRisk(riskFactors),
        riskFactors,
        policyVersion: p.version,
        policyName: p.name,
        matchedRules: [...matched.values()],
        redactions: [],
        shadowOutcome,
        signals: { ...signals },
        errors: [...errors],
        reviewMode: p.review.mode,
        reviewTimeoutMs: p.review.timeout,
        reviewOnTimeout: p.review.on_timeout,
      };
    },
  };
}
