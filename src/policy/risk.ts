/**
 * The risk score. Detector signals are independent evidence and combine like independent
 * probabilities (noisy-OR); matched rules are operator verdicts, so only the strongest counts
 * (two redact rules on one e-mail address are not twice the evidence):
 *
 *   score = 1 − (1 − max_r w_r) · Π_d (1 − w_d · s_d)        clamped to [0, 1], 3 decimals
 *
 * computed from the rounded contributions exactly as reported in risk_factors, so anyone can
 * recompute a recorded score from its factors.
 */
import type { Outcome, RiskFactor } from './types.js';

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : Number.isFinite(x) ? x : 0);

export function factor(name: string, signal: number, weight: number): RiskFactor {
  const s = round3(clamp01(signal));
  return { factor: name, signal: s, weight, contribution: round3(s * weight) };
}

/** Combines detector factors (noisy-OR) with rule factors (`rule:` prefix, strongest only). */
export function combineRisk(factors: readonly RiskFactor[]): number {
  let miss = 1;
  let rule = 0;
  for (const f of factors) {
    if (f.factor.startsWith('rule:')) rule = Math.max(rule, f.contribution);
    else miss *= 1 - f.contribution;
  }
  return round3(clamp01(1 - miss * (1 - rule)));
}

const SEVERITY: Record<Outcome, number> = { ALLOW: 0, REVIEW: 1, BLOCK: 2 };

export function worse(a: Outcome, b: Outcome): Outcome {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

export function thresholdOutcome(score: number, t: { review: number; block: number }): Outcome {
  return score >= t.block ? 'BLOCK' : score >= t.review ? 'REVIEW' : 'ALLOW';
}
