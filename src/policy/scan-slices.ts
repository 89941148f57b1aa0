/**
 * Scanning a large request without holding the event loop: a detector is linear, but ~1 µs a
 * character over a 4 MB body is seconds. Texts longer than `SLICE_CHARS` are scanned in slices
 * (cut at whitespace where possible) with `CONTEXT_CHARS` of text on each side, and the caller
 * yields to the event loop between slices, so other requests (and /healthz) run in between.
 *
 * A finding belongs to the slice it starts in; with the context it is found whole unless it is
 * longer than CONTEXT_CHARS (a longer one is cut at the slice end and the rest is found by the next
 * slice — redaction still covers it, as two spans). Lookbehinds see CONTEXT_CHARS back.
 */
import type { Detector, Finding } from './detectors/types.js';

/** Characters scanned between two yields to the event loop. */
export const SLICE_CHARS = 32_768;
/** Text read on each side of a slice so matches across its edges are found whole. */
export const CONTEXT_CHARS = 4_096;

/** Resolves on the next turn of the event loop (after pending I/O callbacks). */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** Slice boundaries [a, b) covering `text`; each b is just after a whitespace when one is near. */
export function slicesOf(length: number, text: string): [number, number][] {
  const out: [number, number][] = [];
  let a = 0;
  while (a < length) {
    let b = Math.min(length, a + SLICE_CHARS);
    if (b < length) {
      let c = b;
      while (c > a + SLICE_CHARS / 2 && !isSpace(text.charCodeAt(c - 1))) c--;
      if (c > a + SLICE_CHARS / 2) b = c;
    }
    out.push([a, b]);
    a = b;
  }
  return out;
}

/**
 * `det.scan(text)` in slices, awaiting `pause` between them. Same findings as one scan for
 * matches shorter than CONTEXT_CHARS; findings stay non-overlapping and sorted by start.
 */
export async function scanInSlices(det: Detector, text: string, pause: () => Promise<void>): Promise<Finding[]> {
  if (text.length <= SLICE_CHARS + CONTEXT_CHARS) return det.scan(text);
  const out: Finding[] = [];
  let prevEnd = 0;
  for (const [a, b] of slicesOf(text.length, text)) {
    const ws = Math.max(0, a - CONTEXT_CHARS);
    const we = Math.min(text.length, b + CONTEXT_CHARS);
    let end = prevEnd;
    for (const f of det.scan(text.slice(ws, we))) {
      const s = f.start + ws;
      if (s < a || s >= b || s < prevEnd) continue;
      out.push({ ...f, start: s, end: f.end + ws });
      end = Math.max(end, f.end + ws);
    }
    prevEnd = end;
    await pause();
  }
  return out;
}

/** Findings kept one by one per detector and segment; past it, see `capFindings`. */
export const MAX_FINDINGS_PER_SEGMENT = 1_000;

/**
 * A text packed with matches (150k e-mails in 1 MB) would make every later step (rules,
 * redaction, audit) pay per finding. Past MAX_FINDINGS_PER_SEGMENT, the remaining findings are
 * folded into one span per type, from the first to the last of that type: every type is still
 * seen by rules, and redaction masks at least everything it would have (more, never less).
 */
export function capFindings(findings: Finding[]): Finding[] {
  if (findings.length <= MAX_FINDINGS_PER_SEGMENT) return findings;
  const out = findings.slice(0, MAX_FINDINGS_PER_SEGMENT - 1);
  const folded = new Map<string, Finding>();
  for (let i = MAX_FINDINGS_PER_SEGMENT - 1; i < findings.length; i++) {
    const f = findings[i];
    const g = folded.get(f.type);
    if (g === undefined) folded.set(f.type, { ...f });
    else {
      g.end = Math.max(g.end, f.end);
      g.confidence = Math.max(g.confidence, f.confidence);
    }
  }
  return out.concat([...folded.values()]).sort((a, b) => a.start - b.start);
}
