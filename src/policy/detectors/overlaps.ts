import type { Finding } from './types.js';

/**
 * Keeps, among overlapping findings, the one of best rank (lower is better); among equal ranks
 * the one that starts first (then the one collected first). O(k log k + ranks·k) for k
 * candidates: a text full of matches (thousands of e-mails) must not cost k² comparisons.
 * Returns the kept findings sorted by start.
 */
export function keepBestRanked(candidates: readonly Finding[], rank: (f: Finding) => number): Finding[] {
  if (candidates.length <= 1) return candidates.slice();
  const groups = new Map<number, Finding[]>();
  for (const f of candidates) {
    const r = rank(f);
    const g = groups.get(r);
    if (g === undefined) groups.set(r, [f]);
    else g.push(f);
  }
  let kept: Finding[] = [];
  for (const r of [...groups.keys()].sort((a, b) => a - b)) {
    const group = groups.get(r)!.sort((a, b) => a.start - b.start); // stable: collection order on ties
    const fresh: Finding[] = [];
    let lastEnd = -1;
    for (const f of group) {
      if (f.start < lastEnd || overlapsKept(kept, f)) continue;
      fresh.push(f);
      lastEnd = f.end;
    }
    kept = mergeByStart(kept, fresh);
  }
  return kept;
}

/** `kept` is sorted by start and non-overlapping, so ends are sorted too: binary search. */
function overlapsKept(kept: readonly Finding[], f: Finding): boolean {
  let lo = 0;
  let hi = kept.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (kept[mid].end <= f.start) lo = mid + 1;
    else hi = mid;
  }
  return lo < kept.length && kept[lo].start < f.end;
}

function mergeByStart(a: readonly Finding[], b: readonly Finding[]): Finding[] {
  if (b.length === 0) return a as Finding[];
  const out: Finding[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].start <= b[j].start)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}
