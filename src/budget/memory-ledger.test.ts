import { describe, it, expect, afterEach } from 'vitest';
import { MemoryBudgetLedger } from './memory-ledger.js';
import type { BudgetScope, Reservation } from './ledger.js';

const ledgers: MemoryBudgetLedger[] = [];
function make(now?: () => number, timeZone = 'UTC'): MemoryBudgetLedger {
  const l = new MemoryBudgetLedger({ timeZone, now });
  ledgers.push(l);
  return l;
}
afterEach(() => {
  for (const l of ledgers.splice(0)) l.close();
});

const scope = (key: string, limitUsd: number, alerts: number[] = [], period: BudgetScope['period'] = 'monthly'): BudgetScope => ({ key, limitUsd, period, alerts });

describe('MemoryBudgetLedger', () => {
  it('never overspends under concurrency and leaves no phantom holds', async () => {
    const ledger = make();
    const tenant = scope('tenant:acme', 50);
    const results = await Promise.all(Array.from({ length: 200 }, () => ledger.reserve([tenant], 1, 60_000)));
    const ok = results.filter((r) => r.ok);
    expect(ok).toHaveLength(50);
    for (const r of results) if (!r.ok) expect(r.scope.key).toBe('tenant:acme');
    expect((await ledger.status([tenant]))['tenant:acme'].reservedUsd).toBe(50);

    let actualTotal = 0;
    await Promise.all(
      results.map((r) => {
        if (!r.ok) return undefined;
        const actual = 0.5 + Math.random() * 0.5;
        actualTotal += actual;
        return ledger.commit(r.reservation, actual);
      }),
    );
    const st = (await ledger.status([tenant]))['tenant:acme'];
    expect(st.spentUsd).toBeCloseTo(actualTotal, 9);
    expect(st.spentUsd).toBeLessThanOrEqual(50);
    expect(st.reservedUsd).toBe(0);
    expect(ledger.activeReservations).toBe(0);

    // what is left is really available: no phantom refusals
    const left = 50 - st.spentUsd;
    const again = await Promise.all(Array.from({ length: 100 }, () => ledger.reserve([tenant], 0.25, 60_000)));
    expect(again.filter((r) => r.ok)).toHaveLength(Math.floor(left / 0.25 + 1e-9));
  });

  it('a request that fits exactly is not refused because of float drift', async () => {
    const ledger = make();
    const s = scope('agent:a', 0.3);
    const a = await ledger.reserve([s], 0.1, 1000);
    const b = await ledger.reserve([s], 0.2, 1000);
    expect(a.ok && b.ok).toBe(true);
    expect((await ledger.reserve([s], 0.01, 1000)).ok).toBe(false);
  });

  it('expired holds are freed (fake clock) and a late commit still records the spend', async () => {
    let t = Date.parse('2025-05-10T10:00:00Z');
    const ledger = make(() => t);
    const s = scope('key:key_1', 10);
    const r = await ledger.reserve([s], 10, 30_000);
    expect(r.ok).toBe(true);
    expect((await ledger.reserve([s], 1, 30_000)).ok).toBe(false);
    t += 30_000;
    const after = await ledger.reserve([s], 1, 30_000);
    expect(after.ok).toBe(true); // the crashed request's hold is gone
    if (!r.ok || !after.ok) throw new Error('unreachable');
    await ledger.release(after.reservation);
    expect((await ledger.status([s]))['key:key_1'].reservedUsd).toBe(0);

    const res = await ledger.commit(r.reservation, 4);
    expect((await ledger.status([s]))['key:key_1'].spentUsd).toBe(4);
    expect(res.remainingUsd['key:key_1']).toBe(6);
    expect(res.utilization['key:key_1']).toBe(0.4);
    await ledger.commit(r.reservation, 4); // idempotent after expiry too
    expect((await ledger.status([s]))['key:key_1'].spentUsd).toBe(4);
  });

  it('the background timer sweeps without traffic', async () => {
    const ledger = new MemoryBudgetLedger({ timeZone: 'UTC', sweepIntervalMs: 20 });
    ledgers.push(ledger);
    await ledger.reserve([scope('tenant:t', 5)], 1, 10);
    expect(ledger.activeReservations).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(ledger.activeReservations).toBe(0);
  });

  it('multi-scope refusal names the overrunning scope and holds nothing elsewhere', async () => {
    const ledger = make();
    const tenant = scope('tenant:acme', 100);
    const team = scope('team:acme/research', 10);
    const agent = scope('agent:acme/bot', 5);
    const first = await ledger.reserve([tenant, team, agent], 4, 60_000);
    expect(first.ok).toBe(true);
    if (first.ok) expect(first.remainingUsd).toEqual({ 'tenant:acme': 96, 'team:acme/research': 6, 'agent:acme/bot': 1 });
    const refused = await ledger.reserve([tenant, team, agent], 2, 60_000);
    expect(refused).toEqual({ ok: false, scope: agent, remainingUsd: 1 });
    const st = await ledger.status([tenant, team, agent]);
    expect(st['tenant:acme'].reservedUsd).toBe(4);
    expect(st['team:acme/research'].reservedUsd).toBe(4);
    // the first scope that would overrun is named
    const r2 = await ledger.reserve([tenant, team], 7, 60_000);
    expect(!r2.ok && r2.scope.key).toBe('team:acme/research');
  });

  it('an exhausted or zero budget refuses even zero-cost estimates', async () => {
    const ledger = make();
    expect((await ledger.reserve([scope('tenant:z', 0)], 0, 1000)).ok).toBe(false);
    const s = scope('tenant:y', 1);
    const r = await ledger.reserve([s], 1, 1000);
    if (r.ok) await ledger.commit(r.reservation, 1);
    expect((await ledger.reserve([s], 0, 1000)).ok).toBe(false);
  });

  it('alerts fire once per scope, period and threshold, and again next period (time zone days)', async () => {
    let t = Date.parse('2025-03-29T12:00:00Z'); // Berlin: Saturday 13:00 CET
    const ledger = make(() => t, 'Europe/Berlin');
    const s = scope('team:acme/research', 10, [0.5, 0.8, 1], 'daily');
    const spend = async (usd: number) => {
      const r = await ledger.reserve([s], usd, 60_000);
      if (!r.ok) throw new Error('refused');
      return (await ledger.commit(r.reservation, usd)).crossed.map((c) => c.threshold);
    };
    expect(await spend(4)).toEqual([]);
    expect(await spend(1)).toEqual([0.5]);
    expect(await spend(0.5)).toEqual([]);
    expect(await spend(3)).toEqual([0.8]);
    expect(await spend(1.5)).toEqual([1]);
    expect((await ledger.reserve([s], 0.01, 60_000)).ok).toBe(false);

    t = Date.parse('2025-03-29T22:59:59Z'); // 23:59:59 local: same day
    expect((await ledger.reserve([s], 0.01, 60_000)).ok).toBe(false);
    t = Date.parse('2025-03-29T23:00:00Z'); // local midnight: a new period
    const st = (await ledger.status([s]))['team:acme/research'];
    expect(st.spentUsd).toBe(0);
    expect(new Date(st.periodStart).toISOString()).toBe('2025-03-29T23:00:00.000Z');
    expect(new Date(st.periodEnd).toISOString()).toBe('2025-03-30T22:00:00.000Z'); // 23-hour DST day
    expect(await spend(10)).toEqual([0.5, 0.8, 1]);
  });

  it('a request straddling a period boundary settles into the period it was reserved in', async () => {
    let t = Date.parse('2025-06-30T23:59:00Z');
    const ledger = make(() => t);
    const s = scope('tenant:acme', 10, [0.5], 'daily');
    const r = await ledger.reserve([s], 8, 600_000);
    if (!r.ok) throw new Error('refused');
    t = Date.parse('2025-07-01T00:01:00Z');
    expect((await ledger.reserve([s], 10, 1000)).ok).toBe(true); // the new day starts clean
    const res = await ledger.commit(r.reservation, 6);
    expect(res.crossed).toEqual([{ scope: s, threshold: 0.5, spentUsd: 6, periodStart: Date.parse('2025-06-30T00:00:00Z') }]);
    expect((await ledger.status([s]))['tenant:acme'].spentUsd).toBe(0);
  });

  it('commit and release are idempotent', async () => {
    const ledger = make();
    const s = scope('agent:a', 10, [0.5]);
    const r = (await ledger.reserve([s], 3, 60_000)) as { ok: true; reservation: Reservation };
    const first = await ledger.commit(r.reservation, 6);
    expect(first.crossed).toHaveLength(1);
    const second = await ledger.commit(r.reservation, 6);
    expect(second.crossed).toHaveLength(0);
    await ledger.release(r.reservation);
    let st = (await ledger.status([s]))['agent:a'];
    expect([st.spentUsd, st.reservedUsd]).toEqual([6, 0]);

    const r2 = (await ledger.reserve([s], 2, 60_000)) as { ok: true; reservation: Reservation };
    await ledger.release(r2.reservation);
    await ledger.release(r2.reservation);
    await ledger.commit(r2.reservation, 1); // settled by release: ignored
    st = (await ledger.status([s]))['agent:a'];
    expect([st.spentUsd, st.reservedUsd]).toEqual([6, 0]);
  });

  it('reserve + commit cost well under 0.05 ms', async () => {
    const ledger = make();
    const scopes = [scope('tenant:acme', 1e12, [0.5, 0.8, 1]), scope('team:acme/r', 1e12, [0.5]), scope('agent:acme/b', 1e12), scope('key:k1', 1e12)];
    const N = 100_000;
    for (let i = 0; i < 1000; i++) {
      const r = await ledger.reserve(scopes, 0.01, 60_000);
      if (r.ok) await ledger.commit(r.reservation, 0.005);
    }
    let t0 = performance.now();
    const held: Reservation[] = [];
    for (let i = 0; i < N; i++) {
      const r = await ledger.reserve(scopes, 0.01, 60_000);
      if (r.ok) held.push(r.reservation);
    }
    const reserveUs = ((performance.now() - t0) / N) * 1000;
    t0 = performance.now();
    for (const r of held) await ledger.commit(r, 0.005);
    const commitUs = ((performance.now() - t0) / N) * 1000;
    console.log(`MemoryBudgetLedger, 4 scopes: reserve ${reserveUs.toFixed(2)} µs, commit ${commitUs.toFixed(2)} µs (incl. await)`);
    expect(held).toHaveLength(N);
    expect(reserveUs).toBeLessThan(50);
  });
});
