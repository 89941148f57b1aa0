import type { Detector, Finding } from './types.js';

export type { Detector, DetectorId, Finding } from './types.js';
export { createPiiDetector, luhnValid, PII_TYPES, type PiiType } from './pii.js';
export { createSecretsDetector, shannonEntropy, type SecretType } from './secrets.js';
export { createInjectionDetector, injectionScore } from './injection.js';
export { createTermsDetector, MAX_REGEX_LENGTH } from './terms.js';
export { redact, defaultMask } from './redact.js';

/** Runs every detector over `text`; findings sorted by start, then longer spans first, then detector id. */
export function scanAll(text: string, detectors: readonly Detector[]): Finding[] {
  const all: Finding[] = [];
  for (const d of detectors) for (const f of d.scan(text)) all.push(f);
  return all.sort(
    (a, b) => a.start - b.start || b.end - a.end || (a.detector < b.detector ? -1 : a.detector > b.detector ? 1 : 0),
  );
}
