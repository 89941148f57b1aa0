/** Which detector produced a finding; rules refer to findings as `<detector>.<type>`. */
export type DetectorId = 'pii' | 'secrets' | 'prompt_injection' | 'terms';

/**
 * One match. `start`/`end` are UTF-16 code-unit offsets into the scanned string
 * (what `String#slice` uses), half-open: [start, end). `confidence` is in (0, 1].
 */
export interface Finding {
  detector: DetectorId;
  type: string;
  start: number;
  end: number;
  confidence: number;
}

/** Detectors are pure and stateless per call, so one instance can be shared across requests. */
export interface Detector {
  readonly id: DetectorId;
  scan(text: string): Finding[];
}
