/**
 * What detectors read: text after Unicode normalisation, so look-alike spellings do not slip
 * past them. Steps, per base character with its combining marks:
 *   1. zero-width and invisible format characters are dropped (ZWSP, ZWNJ, ZWJ, word joiner,
 *      BOM, soft hyphen, bidi marks, tag characters);
 *   2. NFKC (fullwidth "ｐａｓｓｗｏｒｄ" → "password", ligatures, compatibility digits);
 *   3. common confusables fold to Latin: Cyrillic and Greek letters that look like Latin ones.
 *
 * Redaction stays correct: every normalised character remembers the original range it came
 * from, and a finding [start, end) on the normalised text maps back to the original range
 * covering all of it (a finding that starts or ends inside a multi-char expansion widens to the
 * whole source character). The body forwarded upstream is the original with those ranges masked.
 * ASCII-only text (the common case) is returned as is, without a map.
 */

import { nextTurn, SLICE_CHARS } from './scan-slices.js';
import type { TextSegment } from './types.js';

// Cyrillic / Greek letters that render like a Latin letter in common fonts.
const CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', і: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l', ү: 'y', һ: 'h',
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X', Ѕ: 'S', І: 'I', Ј: 'J', Ԁ: 'D', Ԛ: 'Q', Ԝ: 'W', Ү: 'Y', Һ: 'H',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
  α: 'a', ο: 'o', ρ: 'p', ν: 'v', ι: 'i', κ: 'k', τ: 't', υ: 'u', χ: 'x', ϲ: 'c', ϳ: 'j',
};

const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]|\udb40[\udc00-\udc7f]/;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'g');
const NEEDS_WORK = /[^\x00-\x7f]/;
const MARK = /\p{M}/u;

export interface Normalised {
  text: string;
  /** Original [start, end) covering normalised [start, end); absent when text is unchanged. */
  span?: (start: number, end: number) => [number, number];
}

/** See the header. Linear: one pass over code points, NFKC per short cluster. */
export function normaliseText(original: string): Normalised {
  const steps = normaliseSteps(original);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/** `normaliseText` with a turn of the event loop every SLICE_CHARS characters (large texts). */
export async function normaliseTextInSlices(original: string): Promise<Normalised> {
  const steps = normaliseSteps(original);
  let r = steps.next();
  while (!r.done) {
    await nextTurn();
    r = steps.next();
  }
  return r.value;
}

/** The normalised segments, each with a `span` map when its text changed (TextSegment docs). */
export function normaliseSegments(segments: readonly TextSegment[]): TextSegment[] {
  return segments.map((s) => withNormal(s, normaliseText(s.text)));
}

export async function normaliseSegmentsInSlices(segments: readonly TextSegment[]): Promise<TextSegment[]> {
  const out: TextSegment[] = [];
  for (const s of segments) out.push(withNormal(s, s.text.length > SLICE_CHARS ? await normaliseTextInSlices(s.text) : normaliseText(s.text)));
  return out;
}

function withNormal(s: TextSegment, n: Normalised): TextSegment {
  return n.span === undefined ? s : { path: s.path, text: n.text, span: n.span };
}

function* normaliseSteps(original: string): Generator<void, Normalised, void> {
  if (!NEEDS_WORK.test(original)) return { text: original };
  const n = original.length;
  const parts: string[] = [];
  // For each output UTF-16 unit: the original range [from, to) of the cluster it came from.
  let from: Int32Array = new Int32Array(n + 16);
  let to: Int32Array = new Int32Array(n + 16);
  let pauseAt = SLICE_CHARS;
  let k = 0;
  let run = 0; // start of the current run of unchanged characters
  let changed = false;
  let i = 0;
  while (i < n) {
    if (i >= pauseAt) {
      pauseAt = i + SLICE_CHARS;
      yield;
    }
    const c = original.charCodeAt(i);
    // Fast path: ASCII and CJK ideographs are NFKC-stable and fold to themselves.
    if ((c < 128 || (c >= 0x4e00 && c <= 0x9fff)) && (i + 1 >= n || stableNext(original.charCodeAt(i + 1)))) {
      if (k + 1 > from.length) [from, to] = [grow(from), grow(to)];
      from[k] = i;
      to[k++] = ++i;
      continue;
    }
    if (run < i) parts.push(original.slice(run, i));
    const start = i;
    i += codePointLength(original, i);
    // A base with its combining marks, so NFKC composes "e" + U+0301 into "é".
    while (i < n && isMark(original, i)) i += codePointLength(original, i);
    run = i;
    let norm: string;
    if (i === start + 1) {
      norm = SINGLE[c] ??= normaliseCluster(original[start]);
      if (norm.length !== 1 || norm.charCodeAt(0) !== c) changed = true;
    } else {
      norm = normaliseCluster(original.slice(start, i));
      if (norm !== original.slice(start, i)) changed = true;
    }
    parts.push(norm);
    if (k + norm.length > from.length) [from, to] = [grow(from, norm.length), grow(to, norm.length)];
    for (let j = 0; j < norm.length; j++) {
      from[k] = start;
      to[k++] = i;
    }
  }
  if (!changed) return { text: original };
  if (run < n) parts.push(original.slice(run));
  const text = parts.join('');
  return {
    text,
    span: (s, e) => {
      if (k === 0) return [0, n];
      const a = from[Math.min(Math.max(s, 0), k - 1)];
      const b = e <= s ? a : to[Math.min(e, k) - 1];
      return [a, b];
    },
  };
}

function grow(a: Int32Array, extra = 0): Int32Array {
  const b = new Int32Array(a.length * 2 + extra + 16);
  b.set(a);
  return b;
}

// Per BMP code unit: its normalised form, and whether it is a combining mark (0 unknown, 1 yes, 2 no).
const SINGLE: (string | undefined)[] = new Array(0x10000);
const MARKS = new Uint8Array(0x10000);

function isMark(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 0x300) return false;
  if (c >= 0xd800 && c <= 0xdfff) return MARK.test(String.fromCodePoint(s.codePointAt(i)!));
  if (MARKS[c] === 0) MARKS[c] = MARK.test(s[i]) ? 1 : 2;
  return MARKS[c] === 1;
}

function normaliseCluster(cluster: string): string {
  if (INVISIBLE.test(cluster)) cluster = cluster.replace(INVISIBLE_ALL, '');
  let norm = '';
  for (const ch of cluster.normalize('NFKC')) norm += CONFUSABLES[ch] ?? ch;
  return norm;
}

/** The next unit cannot be a combining mark (which would change the current cluster). */
function stableNext(c: number): boolean {
  return c < 0x300 || (c >= 0x4e00 && c <= 0x9fff);
}

function codePointLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}
