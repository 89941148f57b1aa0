/**
 * Budget periods in the tenant's wall-clock time: a "daily" budget resets at local midnight,
 * "weekly" on Monday 00:00, "monthly" on the 1st, all in an IANA time zone, DST included.
 *
 * Local midnight is found by bisection on the epoch (the first instant whose local date is the
 * target day) rather than by offset arithmetic: it is correct for every zone, including days
 * whose midnight does not exist (DST gaps at 00:00), and it runs only when the cached window
 * misses — once per period and zone — so the hot path is two comparisons.
 */

export type BudgetPeriod = 'daily' | 'weekly' | 'monthly' | 'total';

const DAY_MS = 86_400_000;
/** Offsets lie within UTC-12..UTC+14; a margin covers historical oddities. */
const SEARCH_MARGIN_MS = 16 * 3_600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone: config validation should call `assertTimeZone`.
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', era: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a RangeError naming the zone when `timeZone` is not a valid IANA zone. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

/** Local calendar date of `at` in `timeZone` as a day number (days since 1970-01-01 in a proleptic calendar). */
function localDay(at: number, f: Intl.DateTimeFormat): number {
  let y = 0;
  let m = 0;
  let d = 0;
  let bc = false;
  for (const p of f.formatToParts(at)) {
    if (p.type === 'year') y = Number(p.value);
    else if (p.type === 'month') m = Number(p.value);
    else if (p.type === 'day') d = Number(p.value);
    else if (p.type === 'era') bc = p.value === 'BC' || p.value === 'B';
  }
  if (bc) y = 1 - y;
  return Math.floor(utcDate(y, m, d) / DAY_MS);
}

function utcDate(y: number, m: number, d: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d); // Date.UTC maps years 0..99 to 1900..1999
  return t.getTime();
}

/** First instant whose local date is `day` (or later): local midnight, or the end of a DST gap. */
function startOfLocalDay(day: number, f: Intl.DateTimeFormat): number {
  let lo = day * DAY_MS - SEARCH_MARGIN_MS; // local date < day
  let hi = day * DAY_MS + SEARCH_MARGIN_MS; // local date >= day
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDay(mid, f) >= day) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local day on which the period containing local day `day` starts, and the next period's start day. */
function periodDays(period: Exclude<BudgetPeriod, 'total'>, day: number): [number, number] {
  if (period === 'daily') return [day, day + 1];
  if (period === 'weekly') {
    const sinceMonday = (((day + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    return [day - sinceMonday, day - sinceMonday + 7];
  }
  const t = new Date(day * DAY_MS);
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth();
  const first = new Date(0);
  first.setUTCFullYear(y, m, 1);
  const next = new Date(0);
  next.setUTCFullYear(y, m + 1, 1);
  return [first.getTime() / DAY_MS, next.getTime() / DAY_MS];
}

interface Window {
  readonly start: number;
  readonly end: number;
}
// One cached window per (period, zone): nearly every call falls inside the current period.
const windows = new Map<string, Window>();

/** [start, end) of the period containing `at`, epoch ms (a shared frozen object). */
export function periodWindow(period: BudgetPeriod, at: number, timeZone: string): Window {
  if (period === 'total') return TOTAL;
  const cacheKey = period === 'daily' ? timeZone : `${period}\u0000${timeZone}`;
  const cached = windows.get(cacheKey);
  if (cached && at >= cached.start && at < cached.end) return cached;
  const f = formatter(timeZone);
  const [startDay, endDay] = periodDays(period, localDay(at, f));
  const w = Object.freeze({ start: startOfLocalDay(startDay, f), end: startOfLocalDay(endDay, f) });
  if (windows.size > 1000) windows.clear(); // bounded: keys are config-driven, this never triggers in practice
  windows.set(cacheKey, w);
  return w;
}

const TOTAL: Window = Object.freeze({ start: 0, end: Number.POSITIVE_INFINITY });

/**
 * Epoch ms at which the period containing `at` starts in `timeZone` ('total' → 0).
 * @example periodStart('daily', Date.parse('2025-03-30T12:00:00Z'), 'Europe/Berlin') // 2025-03-29T23:00:00Z
 */
export function periodStart(period: BudgetPeriod, at: number, timeZone: string): number {
  return periodWindow(period, at, timeZone).start;
}

/** Epoch ms at which the period containing `at` ends (exclusive; = next period's start). 'total' → Infinity. */
export function periodEnd(period: BudgetPeriod, at: number, timeZone: string): number {
  return periodWindow(period, at, timeZone).end;
}
