// Phone numbers: a linear candidate regex, then a small parser that checks group structure.

// Candidates: optional '+' or '(' then 7-26 digits/separators; never inside words, versions or URLs.
const PHONE_RE = /(?<![\w+@/.:-])(?:\+|\()?\d[\d(). -]{5,24}\d(?![\w@]|[.-]\d)/g;

// Scratch buffers for phone parsing (scan is synchronous, so sharing them is safe).
const gStart = new Int32Array(32);
const gEnd = new Int32Array(32);
const gDepth = new Int8Array(32);
let phoneConf = 0;

function len(j: number): number {
  return gEnd[j] - gStart[j];
}

function sameAsFirst(s: string, j: number): boolean {
  if (len(j) !== len(0)) return false;
  for (let i = 0; i < len(0); i++) if (s.charCodeAt(gStart[j] + i) !== s.charCodeAt(gStart[0] + i)) return false;
  return true;
}

/** First digit after skipping `skip` digits of group 0 (spilling into group 1). */
function digitAfter(s: string, n: number, skip: number): number {
  return len(0) > skip ? s.charCodeAt(gStart[0] + skip) : n > 1 ? s.charCodeAt(gStart[1]) : 48;
}

/**
 * Splits a phone candidate into digit groups and returns the end offset of the longest
 * prefix that looks like a phone number (0 if none); sets `phoneConf`. Plain digit runs
 * without '+' never qualify, which keeps order numbers, dates and versions out.
 */
function phonePrefix(s: string): number {
  let n = 0;
  let depth = 0;
  let i = 0;
  const c0 = s.charCodeAt(0);
  if (c0 === 43) i = 1;
  else if (c0 === 40) (depth = 1), (i = 1);
  while (i < s.length && n < 32) {
    const st = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    gStart[n] = st;
    gEnd[n] = i;
    gDepth[n++] = depth;
    let plain = 0;
    let paren = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 48 && c <= 57) break;
      if (c === 40) paren++, depth++;
      else if (c === 41) paren++, depth--;
      else plain++;
    }
    if (i < s.length && (plain > 1 || paren > 1 || depth < 0 || depth > 1)) break;
  }
  const plus = c0 === 43;
  // Byte dumps ("00 1a 2b ...", "01 02 03 04 05 06") are runs of 2-digit groups, not phones.
  let small = 0;
  let same = true;
  for (let j = 0; j < n; j++) {
    if (len(j) <= 2) small++;
    if (j > 0 && same && !sameAsFirst(s, j)) same = false;
  }
  if ((small >= 6 && !plus) || (n >= 3 && same)) return 0;
  for (let k = n; k >= 1; k--) {
    if (gDepth[k - 1] !== 0) continue;
    let digits = 0;
    let minGroup = 99;
    for (let j = 0; j < k; j++) {
      digits += len(j);
      if (len(j) < minGroup) minGroup = len(j);
    }
    const g0 = gStart[0];
    const lead = s.charCodeAt(g0);
    if (plus) {
      if (digits >= 8 && digits <= 15 && lead !== 48) return (phoneConf = 0.9), gEnd[k - 1];
      continue;
    }
    if (lead === 48 && s.charCodeAt(g0 + 1) === 48) {
      // Trunk "0" and international "00" prefixes are followed by 1-9.
      if (k >= 2 && digits >= 10 && digits <= 17 && digitAfter(s, n, 2) !== 48) return (phoneConf = 0.7), gEnd[k - 1];
      continue;
    }
    if (lead === 48) {
      if (k >= 2 && digits >= 9 && digits <= 11 && minGroup >= 2 && digitAfter(s, n, 1) !== 48) return (phoneConf = 0.6), gEnd[k - 1];
      continue;
    }
    const o = k === 4 && len(0) === 1 && lead === 49 ? 1 : 0; // optional NANP country code "1"
    if (k - o === 3 && len(o) === 3 && len(o + 1) === 3 && len(o + 2) === 4) {
      const area = s.charCodeAt(gStart[o]);
      const exch = s.charCodeAt(gStart[o + 1]);
      if (area >= 50 && exch >= 50) return (phoneConf = 0.8), gEnd[k - 1];
    }
  }
  return n >= 2 ? -gStart[1] : 0; // negative: caller may retry from the second group
}

/** Reports phones found in `w`, a window of the scanned text starting at `offset`. */
export function scanPhones(w: string, offset: number, push: (type: 'phone', s: number, e: number, c: number) => void): void {
  const re = PHONE_RE;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(w)) !== null) {
    const end = phonePrefix(m[0]);
    if (end > 0) {
      push('phone', offset + m.index, offset + m.index + end, phoneConf);
      re.lastIndex = m.index + end;
    } else if (end < 0) re.lastIndex = m.index - end;
  }
}
