/**
 * Conformance suite for BudgetLedger implementations: all-or-nothing holds over every scope,
 * settlement (spend, refunds of the hold, alerts once), idempotent commit/release, holds that
 * expire, period rollover, seeding, and two replicas racing for one budget.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetLedger, BudgetScope } from '../../src/budget/ledger.js';
import { TestClock } from './redis-harness.js';

export type SeedingLedger = BudgetLedger & { seed(scope: BudgetScope, spentUsd: number): unknown };

export interface BudgetLedgerFixture {
  /** Two handles on one shared state: two replicas (memory: the same instance twice). */
  replicas: [SeedingLedger, SeedingLedger];
  /** Whether the two handles are separate processes' views of shared state (then seeding must be idempotent across them). */
  shared: boolean;
  close(): Promise<void>;
}

export type BudgetLedgerFactory = (now: () => number, timeZone: string) => Promise<BudgetLedgerFixture>;

const uid = (): string => randomBytes(4).toString('hex');
const scope = (kind: string, limitUsd: number, extra: Partial<BudgetScope> = {}): BudgetScope => ({ key: `${kind}:${uid()}`, limitUsd, period: 'monthly', alerts: [], ...extra });
const TZ = 'Europe/Berlin';

export function budgetLedgerConformance(name: string, factory: BudgetLedgerFactory): void {
  describe(`BudgetLedger conformance: ${name}`, () => {
    const open: BudgetLedgerFixture[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((f) => f.close()));
    });
    async function setup(start = '2026-03-10T12:00:00Z'): Promise<{ clock: TestClock; a: SeedingLedger; b: SeedingLedger; shared: boolean }> {
      const clock = new TestClock(Date.parse(start));
      const f = await factory(clock.now, TZ);
      open.push(f);
      return { clock, a: f.replicas[0], b: f.replicas[1], shared: f.shared };
    }

    it('holds, settles to the actual cost and reports status', async () => {
      const { a } = await setup();
      const s = scope('tenant', 1);
      const r = await a.reserve([s], 0.3, 60_000);
      if (!r.ok) throw new Error('refused');
      expect(r.remainingUsd[s.key]).toBeCloseTo(0.7, 9);
      expect(r.reservation).toMatchObject({ scopes: [s], amountUsd: 0.3 });
      expect((await a.status([s]))[s.key]).toMatchObject({ spentUsd: 0, limitUsd: 1, periodStart: Date.parse('2026-02-28T23:00:00Z'), periodEnd: Date.parse('2026-03-31T22:00:00Z') });
      expect((await a.status([s]))[s.key].reservedUsd).toBeCloseTo(0.3, 9);
      const c = await a.commit(r.reservation, 0.2);
      expect(c.remainingUsd[s.key]).toBeCloseTo(0.8, 9);
      expect(c.utilization[s.key]).toBeCloseTo(0.2, 9);
      expect(c.crossed).toEqual([]);
      const st = (await a.status([s]))[s.key];
      expect(st.spentUsd).toBeCloseTo(0.2, 9);
      expect(st.reservedUsd).toBe(0);
    });

    it('refuses naming the first scope that would overrun, and takes nothing', async () => {
      const { a } = await setup();
      const tenant = scope('tenant', 10);
      const key = scope('key', 1);
      const first = await a.reserve([tenant, key], 0.8, 60_000);
      expect(first.ok).toBe(true);
      const refused = await a.reserve([tenant, key], 0.5, 60_000);
      expect(refused).toMatchObject({ ok: false, scope: key });
      if (refused.ok) return;
      expect(refused.remainingUsd).toBeCloseTo(0.2, 9);
      expect((await a.status([tenant]))[tenant.key].reservedUsd).toBeCloseTo(0.8, 9); // the tenant was not held for the refused one
      expect((await a.reserve([tenant, key], 0.2, 60_000)).ok).toBe(true); // fits exactly
      // an exhausted budget refuses even a zero estimate
      const tiny = scope('agent', 0.1);
      const r = await a.reserve([tiny], 0.1, 60_000);
      if (r.ok) await a.commit(r.reservation, 0.1);
      expect(await a.reserve([tiny], 0, 60_000)).toMatchObject({ ok: false, scope: tiny, remainingUsd: 0 });
    });

    it('reports each alert threshold once, and commits and releases are idempotent', async () => {
      const { a, b } = await setup();
      const s = scope('team', 1, { alerts: [0.5, 0.8, 1] });
      const r1 = await a.reserve([s], 0.6, 60_000);
      if (!r1.ok) throw new Error('refused');
      const c1 = await a.commit(r1.reservation, 0.55);
      expect(c1.crossed.map((c) => [c.scope.key, c.threshold])).toEqual([[s.key, 0.5]]);
      expect(c1.crossed[0].spentUsd).toBeCloseTo(0.55, 9);
      expect(c1.crossed[0].periodStart).toBe(r1.reservation.periodStarts[0]);
      expect((await b.commit(r1.reservation, 0.55)).crossed).toEqual([]); // again, from the other replica: nothing more
      expect((await a.status([s]))[s.key].spentUsd).toBeCloseTo(0.55, 9);
      const r2 = await b.reserve([s], 0.45, 60_000);
      if (!r2.ok) throw new Error('refused');
      const c2 = await b.commit(r2.reservation, 0.45); // to 1.0: both 0.8 and 1 at once
      expect(c2.crossed.map((c) => c.threshold)).toEqual([0.8, 1]);
      const r3 = await a.reserve([scope('team', 5)], 0.1, 60_000);
      if (!r3.ok) throw new Error('refused');
      await a.release(r3.reservation);
      await b.release(r3.reservation);
      expect((await a.commit(r3.reservation, 0.1)).crossed).toEqual([]); // released: a later commit spends nothing
      expect((await a.status(r3.reservation.scopes))[r3.reservation.scopes[0].key]).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
    });

    it("frees a hold when its TTL passes (a crashed replica's holds), and a late commit still records the spend", async () => {
      const { clock, a, b } = await setup();
      const s = scope('key', 1);
      const r = await a.reserve([s], 0.9, 5_000);
      if (!r.ok) throw new Error('refused');
      expect(await b.reserve([s], 0.5, 5_000)).toMatchObject({ ok: false, scope: s });
      clock.advance(5_001);
      expect((await b.status([s]))[s.key].reservedUsd).toBe(0);
      const other = await b.reserve([s], 0.5, 60_000);
      expect(other.ok).toBe(true);
      await a.commit(r.reservation, 0.3); // the crashed-and-recovered request settles late
      const st = (await b.status([s]))[s.key];
      expect(st.spentUsd).toBeCloseTo(0.3, 9);
      expect(st.reservedUsd).toBeCloseTo(0.5, 9);
    });

    it('settles a reservation into the period it was made in; the new period starts clean', async () => {
      const { clock, a } = await setup('2026-03-10T22:59:00Z'); // 23:59 in Berlin
      const s = scope('agent', 1, { period: 'daily' });
      const r = await a.reserve([s], 0.5, 600_000);
      if (!r.ok) throw new Error('refused');
      expect(r.reservation.periodStarts).toEqual([Date.parse('2026-03-09T23:00:00Z')]);
      clock.advance(120_000); // past local midnight
      const c = await a.commit(r.reservation, 0.4);
      expect(c.remainingUsd[s.key]).toBe(1);
      expect((await a.status([s]))[s.key]).toMatchObject({ spentUsd: 0, reservedUsd: 0, periodStart: Date.parse('2026-03-10T23:00:00Z') });
    });

    it('seeds audited spend without repeating alerts already crossed', async () => {
      const { a, b, shared } = await setup();
      const s = scope('tenant', 10, { alerts: [0.5, 0.9] });
      await a.seed(s, 6);
      if (shared) await b.seed(s, 6); // a second replica starting with the same audit counts it once
      expect((await a.status([s]))[s.key].spentUsd).toBeCloseTo(6, 9);
      const r = await b.reserve([s], 3.5, 60_000);
      if (!r.ok) throw new Error('refused');
      expect(await a.reserve([s], 1, 60_000)).toMatchObject({ ok: false, scope: s });
      const c = await b.commit(r.reservation, 3.5);
      expect(c.crossed.map((x) => x.threshold)).toEqual([0.9]); // 0.5 was crossed before the restart
    });

    it('two replicas racing 300 reserves against a budget affording 50: exactly 50 succeed', async () => {
      const { a, b } = await setup();
      const tenant = scope('tenant', 1);
      const key = scope('key', 100);
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).reserve([key, tenant], 0.02, 60_000)));
      const ok = results.filter((r) => r.ok);
      expect(ok).toHaveLength(50);
      expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.scope.key === tenant.key)).toBe(true);
      // settling half of them at a lower cost makes room for exactly that much more
      await Promise.all(ok.slice(0, 25).map((r, i) => (i % 2 ? a : b).commit(r.ok ? r.reservation : (undefined as never), 0.01)));
      const more = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).reserve([tenant], 0.01, 60_000)));
      expect(more.filter((r) => r.ok)).toHaveLength(25);
      const st = (await a.status([tenant]))[tenant.key];
      expect(st.spentUsd + st.reservedUsd).toBeCloseTo(1, 9);
    });
  });
}
