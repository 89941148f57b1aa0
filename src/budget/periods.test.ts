import { describe, it, expect } from 'vitest';
import { assertTimeZone, periodEnd, periodStart } from './periods.js';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (s: string) => Date.parse(s);

describe('periodStart / periodEnd', () => {
  it('UTC days, weeks (Monday) and months, including month ends', () => {
    const t = at('2025-01-31T23:59:59.999Z'); // a Friday
    expect(iso(periodStart('daily', t, 'UTC'))).toBe('2025-01-31T00:00:00.000Z');
    expect(iso(periodEnd('daily', t, 'UTC'))).toBe('2025-02-01T00:00:00.000Z');
    expect(iso(periodStart('weekly', t, 'UTC'))).toBe('2025-01-27T00:00:00.000Z');
    expect(iso(periodEnd('weekly', t, 'UTC'))).toBe('2025-02-03T00:00:00.000Z');
    expect(iso(periodStart('monthly', t, 'UTC'))).toBe('2025-01-01T00:00:00.000Z');
    expect(iso(periodEnd('monthly', t, 'UTC'))).toBe('2025-02-01T00:00:00.000Z');
    // the boundary instant belongs to the new period
    expect(iso(periodStart('monthly', at('2025-02-01T00:00:00.000Z'), 'UTC'))).toBe('2025-02-01T00:00:00.000Z');
    expect(iso(periodStart('weekly', at('2025-02-02T23:59:59Z'), 'UTC'))).toBe('2025-01-27T00:00:00.000Z'); // Sunday
    expect(iso(periodStart('weekly', at('2025-02-03T00:00:00Z'), 'UTC'))).toBe('2025-02-03T00:00:00.000Z'); // Monday
    expect(iso(periodStart('monthly', at('2025-12-31T12:00:00Z'), 'UTC'))).toBe('2025-12-01T00:00:00.000Z');
    expect(iso(periodEnd('monthly', at('2025-12-31T12:00:00Z'), 'UTC'))).toBe('2026-01-01T00:00:00.000Z');
  });

  it('leap-year February', () => {
    expect(iso(periodStart('daily', at('2024-02-29T12:00:00Z'), 'UTC'))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(periodEnd('monthly', at('2024-02-29T12:00:00Z'), 'UTC'))).toBe('2024-03-01T00:00:00.000Z');
    expect(iso(periodEnd('monthly', at('2023-02-28T12:00:00Z'), 'UTC'))).toBe('2023-03-01T00:00:00.000Z');
    expect(iso(periodStart('monthly', at('2024-02-29T23:30:00Z'), 'Europe/Berlin'))).toBe('2024-02-29T23:00:00.000Z'); // already March there
  });

  it('Europe/Berlin across the March DST change (a 23-hour day)', () => {
    const t = at('2025-03-30T12:00:00Z'); // Sunday, 14:00 CEST
    const start = periodStart('daily', t, 'Europe/Berlin');
    const end = periodEnd('daily', t, 'Europe/Berlin');
    expect(iso(start)).toBe('2025-03-29T23:00:00.000Z'); // 00:00 CET
    expect(iso(end)).toBe('2025-03-30T22:00:00.000Z'); // 00:00 CEST
    expect(end - start).toBe(23 * 3_600_000);
    expect(iso(periodStart('weekly', t, 'Europe/Berlin'))).toBe('2025-03-23T23:00:00.000Z');
    expect(iso(periodEnd('weekly', t, 'Europe/Berlin'))).toBe('2025-03-30T22:00:00.000Z');
    expect(iso(periodStart('monthly', t, 'Europe/Berlin'))).toBe('2025-02-28T23:00:00.000Z');
    expect(iso(periodEnd('monthly', t, 'Europe/Berlin'))).toBe('2025-03-31T22:00:00.000Z');
    // just before and after local midnight
    expect(iso(periodStart('daily', at('2025-03-30T21:59:59.999Z'), 'Europe/Berlin'))).toBe('2025-03-29T23:00:00.000Z');
    expect(iso(periodStart('daily', at('2025-03-30T22:00:00Z'), 'Europe/Berlin'))).toBe('2025-03-30T22:00:00.000Z');
  });

  it('America/New_York: 23-hour day in March, 25-hour day in November', () => {
    const march = at('2025-03-09T15:00:00Z');
    expect(iso(periodStart('daily', march, 'America/New_York'))).toBe('2025-03-09T05:00:00.000Z');
    expect(iso(periodEnd('daily', march, 'America/New_York'))).toBe('2025-03-10T04:00:00.000Z');
    const nov = at('2025-11-02T15:00:00Z');
    const s = periodStart('daily', nov, 'America/New_York');
    const e = periodEnd('daily', nov, 'America/New_York');
    expect(iso(s)).toBe('2025-11-02T04:00:00.000Z');
    expect(iso(e)).toBe('2025-11-03T05:00:00.000Z');
    expect(e - s).toBe(25 * 3_600_000);
    // 2025-01-01 03:00Z is still Dec 31 in New York
    expect(iso(periodStart('monthly', at('2025-01-01T03:00:00Z'), 'America/New_York'))).toBe('2024-12-01T05:00:00.000Z');
  });

  it('a day whose midnight does not exist starts when the clock jumps (America/Santiago)', () => {
    // 2024-09-08: 00:00 -04 jumps to 01:00 -03, at 04:00Z
    expect(iso(periodStart('daily', at('2024-09-08T12:00:00Z'), 'America/Santiago'))).toBe('2024-09-08T04:00:00.000Z');
    expect(iso(periodEnd('daily', at('2024-09-07T12:00:00Z'), 'America/Santiago'))).toBe('2024-09-08T04:00:00.000Z');
  });

  it('fractional and far-east offsets', () => {
    expect(iso(periodStart('daily', at('2025-06-15T20:00:00Z'), 'Asia/Kolkata'))).toBe('2025-06-15T18:30:00.000Z');
    expect(iso(periodStart('daily', at('2025-06-15T09:00:00Z'), 'Pacific/Kiritimati'))).toBe('2025-06-14T10:00:00.000Z');
  });

  it("'total' starts at 0 and never ends", () => {
    expect(periodStart('total', Date.now(), 'UTC')).toBe(0);
    expect(periodEnd('total', Date.now(), 'UTC')).toBe(Number.POSITIVE_INFINITY);
  });

  it('is consistent over a year of hours (start <= t < end, contiguous periods)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'];
    for (const tz of zones) {
      for (const period of ['daily', 'weekly', 'monthly'] as const) {
        let prevEnd = -1;
        for (let t = at('2025-01-01T00:00:00Z'); t < at('2026-01-01T00:00:00Z'); t += 3_600_000) {
          const s = periodStart(period, t, tz);
          const e = periodEnd(period, t, tz);
          expect(s <= t && t < e).toBe(true);
          if (prevEnd !== -1 && s !== periodStart(period, t - 3_600_000, tz)) expect(s).toBe(prevEnd);
          prevEnd = e;
        }
      }
    }
  });

  it('rejects unknown zones and is cheap when cached', () => {
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(RangeError);
    const t0 = performance.now();
    const base = Date.now();
    for (let i = 0; i < 100_000; i++) periodStart('daily', base + i, 'Europe/Berlin');
    console.log(`periodStart cached: ${(((performance.now() - t0) / 100_000) * 1e6).toFixed(0)} ns/call`);
  });
});
