import type { Finding } from './types.js';

/** Default mask: `[REDACTED:<type>]`, e.g. `[REDACTED:payment_card]`. */
export function defaultMask(f: Finding): string {
  return `[REDACTED:${f.type}]`;
}

/**
 * Replaces every finding span with a mask. Overlapping spans are merged first and masked once,
 * using the finding that starts first (longest, then most confident, on ties) with its span
 * widened to the merged range, so the output does not depend on the order of `findings`.
 * Adjacent (touching but not overlapping) spans are masked separately. Spans are clamped to
 * the text; empty ones are ignored.
 */
export function redact(text: string, findings: readonly Finding[], mask: (f: Finding) => string = defaultMask): string {
  const spans = findings
    .map((f) => ({ ...f, start: Math.max(0, f.start), end: Math.min(text.length, f.end) }))
    .filter((f) => f.end > f.start)
    .sort(
      (a, b) =>
        a.start - b.start ||
        b.end - a.end ||
        b.confidence - a.confidence ||
        (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) ||
        (a.detector < b.detector ? -1 : a.detector > b.detector ? 1 : 0),
    );
  if (spans.length === 0) return text;

  let out = '';
  let pos = 0;
  let i = 0;
  while (i < spans.length) {
    const head = spans[i];
    let end = head.end;
    while (++i < spans.length && spans[i].start < end) end = Math.max(end, spans[i].end);
    out += text.slice(pos, head.start) + mask({ ...head, end });
    pos = end;
  }
  return out + text.slice(pos);
}
