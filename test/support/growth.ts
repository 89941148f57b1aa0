/**
 * Timing growth checks for the bounded-work property tests: is f's time on an input 4x as long
 * at most ~linear? Robust on a busy machine: warm-up, median of a few runs, generous slack, and
 * times too small to matter are accepted outright.
 */

/** Median wall time of `runs` calls of f(input), in ms, after one warm-up call. */
export function medianMs(f: (s: string) => unknown, input: string, runs = 3): number {
  f(input);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f(input);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

export interface Growth {
  small: number;
  large: number;
  ratio: number;
}

/** Times f on `make(n)` and `make(4n)`. */
export function growth(f: (s: string) => unknown, make: (n: number) => string, n: number): Growth {
  const small = medianMs(f, make(n));
  const large = medianMs(f, make(4 * n));
  return { small, large, ratio: large / Math.max(small, 0.05) };
}

/** Below this the large input's time says nothing about growth (timer and GC noise). */
export const NOISE_FLOOR_MS = 30;
/** Linear growth is 4x; quadratic would be 16x. */
export const MAX_RATIO = 8;

/** True when the growth is plausibly linear (or too fast to matter). */
export function linearEnough(g: Growth): boolean {
  return g.large < NOISE_FLOOR_MS || g.ratio < MAX_RATIO;
}

/**
 * Measures up to `tries` times and returns the first linear-enough growth, else the last one:
 * a stall (GC, another process) inflates one sample, a real quadratic inflates every sample.
 */
export function settledGrowth(f: (s: string) => unknown, make: (n: number) => string, n: number, tries = 3): Growth {
  let g = growth(f, make, n);
  for (let i = 1; i < tries && !linearEnough(g); i++) g = growth(f, make, n);
  return g;
}

/** `unit` repeated to exactly n UTF-16 units (whole units only, so no surrogate is split). */
export function repeatTo(unit: string, n: number): string {
  return unit.repeat(Math.max(1, Math.floor(n / unit.length)));
}
