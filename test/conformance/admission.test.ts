/**
 * Combined admission: quotas and budget holds in one Redis round trip, all or nothing, shared by
 * replicas; settled through the Redis limiter and ledger on the same prefix. The in-process
 * SequentialAdmission is checked for the same admitted/refused outcomes.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetScope } from '../../src/budget/ledger.js';
import { MemoryBudgetLedger } from '../../src/budget/memory-ledger.js';
import { MemoryRateLimiter } from '../../src/ratelimit/memory-limiter.js';
import { SequentialAdmission, type Admission } from '../../src/store/admission.js';
import { RedisAdmission } from '../../src/store/redis/admission.js';
import { RedisBudgetLedger } from '../../src/store/redis/budget-ledger.js';
import { RedisRateLimiter } from '../../src/store/redis/rate-limiter.js';
import { connect, dropPrefix, randomPrefix, redisVariantsEnabled, TestClock } from './redis-harness.js';

const uid = (): string => randomBytes(4).toString('hex');
const TZ = 'UTC';
const budget = (limitUsd: number): BudgetScope => ({ key: `tenant:${uid()}`, limitUsd, period: 'monthly', alerts: [] });

describe('SequentialAdmission (memory back ends)', () => {
  it('admits within both limits and refuses naming what refused', async () => {
    const limiter = new MemoryRateLimiter({ sweepIntervalMs: 0 });
    const ledger = new MemoryBudgetLedger({ timeZone: TZ, sweepIntervalMs: 0 });
    const admission = new SequentialAdmission(limiter, ledger);
    const rules = [{ key: 'key:a', rpm: 2 }];
    const scopes = [budget(0.05)];
    const req = { rules, tokens: 10, maxWaitMs: 0, scopes, amountUsd: 0.03, ttlMs: 60_000 };
    const ok = await admission.admit(req);
    expect(ok).toMatchObject({ admitted: true, budget: { ok: true } });
    expect(await admission.admit(req)).toMatchObject({ admitted: false, refusedBy: 'budget', budget: { scope: scopes[0] } });
    expect(await admission.admit({ ...req, scopes: [] })).toMatchObject({ admitted: false, refusedBy: 'rate', rate: { rule: rules[0] } });
    limiter.close();
    ledger.close();
  });
});

if (await redisVariantsEnabled()) {
  describe('RedisAdmission', () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanup.splice(0)) await c();
    });
    function replicas(n: number, now?: () => number) {
      const prefix = randomPrefix();
      const conns = Array.from({ length: n }, () => connect());
      cleanup.push(async () => {
        await dropPrefix(conns[0], prefix);
        for (const c of conns) c.disconnect();
      });
      return conns.map((redis) => ({
        admission: new RedisAdmission({ redis, prefix, timeZone: TZ, now }),
        limiter: new RedisRateLimiter({ redis, prefix, now }),
        ledger: new RedisBudgetLedger({ redis, prefix, timeZone: TZ, now }),
      }));
    }

    it('takes quotas and the budget hold in one round trip; settles through the limiter and ledger', async () => {
      const [r] = replicas(1);
      const rules = [{ key: `key:${uid()}`, rpm: 10, tpm: 1000 }];
      const scopes = [budget(1)];
      await r.admission.admit({ rules: [{ key: `key:${uid()}`, rpm: 1 }], tokens: 1, maxWaitMs: 0, scopes: [budget(1)], amountUsd: 0, ttlMs: 1000 }); // loads the script
      const before = r.admission.roundTrips;
      const res = await r.admission.admit({ rules, tokens: 300, maxWaitMs: 0, scopes, amountUsd: 0.4, ttlMs: 60_000 });
      expect(r.admission.roundTrips - before).toBe(1);
      if (!res.admitted || !res.budget) throw new Error('refused');
      expect(res.rate).toMatchObject({ allowed: true, remainingRequests: 9, remainingTokens: 700, limitTokens: 1000 });
      expect(res.budget.remainingUsd[scopes[0].key]).toBeCloseTo(0.6, 9);
      expect((await r.ledger.status(scopes))[scopes[0].key].reservedUsd).toBeCloseTo(0.4, 9);
      await r.limiter.adjust(rules, -200);
      const c = await r.ledger.commit(res.budget.reservation, 0.1);
      expect(c.remainingUsd[scopes[0].key]).toBeCloseTo(0.9, 9);
      expect(await r.limiter.consume(rules, 0, 0)).toMatchObject({ allowed: true, remainingTokens: 900, remainingRequests: 8 });
    });

    it('settles the token difference and the hold in one round trip: commit (with alerts) or release', async () => {
      const [r] = replicas(1);
      const rules = [{ key: `key:${uid()}`, rpm: 10, tpm: 1000 }];
      const scope: BudgetScope = { key: `tenant:${uid()}`, limitUsd: 1, period: 'monthly', alerts: [0.5] };
      const admit = async (amountUsd: number) => {
        const res = await r.admission.admit({ rules, tokens: 300, maxWaitMs: 0, scopes: [scope], amountUsd, ttlMs: 60_000 });
        if (!res.admitted || !res.budget) throw new Error('refused');
        return res.budget.reservation;
      };
      await r.admission.settle({ rules, tokenDelta: 0, reservation: await admit(0), costUsd: 0 }); // loads the scripts
      const held = await admit(0.4);
      const before = r.admission.roundTrips;
      const committed = await r.admission.settle({ rules, tokenDelta: -200, reservation: held, costUsd: 0.6 });
      expect(r.admission.roundTrips - before).toBe(1);
      expect(committed.commit!.remainingUsd[scope.key]).toBeCloseTo(0.4, 9);
      expect(committed.commit!.utilization[scope.key]).toBeCloseTo(0.6, 9);
      expect(committed.commit!.crossed).toMatchObject([{ threshold: 0.5, spentUsd: 0.6 }]);
      // 300 + 300 taken, 200 given back; the hold is gone and its cost spent.
      expect(await r.limiter.consume(rules, 0, 0)).toMatchObject({ remainingTokens: 600 });
      expect((await r.ledger.status([scope]))[scope.key]).toMatchObject({ spentUsd: 0.6, reservedUsd: 0 });

      const other = await admit(0.3);
      const released = await r.admission.settle({ rules: [], tokenDelta: 0, reservation: other });
      expect(released.remainingUsd![scope.key]).toBeCloseTo(0.4, 9);
      expect((await r.ledger.status([scope]))[scope.key]).toMatchObject({ spentUsd: 0.6, reservedUsd: 0 });
      // Same outcome as the limiter's and ledger's own calls, in memory.
      const limiter = new MemoryRateLimiter({ sweepIntervalMs: 0 });
      const ledger = new MemoryBudgetLedger({ timeZone: TZ, sweepIntervalMs: 0 });
      const local = new SequentialAdmission(limiter, ledger);
      const res = await local.admit({ rules, tokens: 300, maxWaitMs: 0, scopes: [scope], amountUsd: 0.4, ttlMs: 60_000 });
      if (!res.admitted || !res.budget) throw new Error('refused');
      const localCommit = await local.settle({ rules, tokenDelta: -200, reservation: res.budget.reservation, costUsd: 0.6 });
      expect(localCommit.commit!.remainingUsd[scope.key]).toBeCloseTo(0.4, 9);
      expect(await limiter.consume(rules, 0, 0)).toMatchObject({ remainingTokens: 900 });
      limiter.close();
      ledger.close();
    });

    it('all or nothing: a budget refusal takes no quota, a quota refusal holds no budget', async () => {
      const [r] = replicas(1);
      const rules = [{ key: `key:${uid()}`, rpm: 1 }];
      const poor = budget(0.01);
      const refused = await r.admission.admit({ rules, tokens: 0, maxWaitMs: 0, scopes: [poor], amountUsd: 0.02, ttlMs: 60_000 });
      expect(refused).toMatchObject({ admitted: false, refusedBy: 'budget', budget: { ok: false, scope: poor } });
      const rich = budget(10);
      expect(await r.admission.admit({ rules, tokens: 0, maxWaitMs: 0, scopes: [rich], amountUsd: 0.02, ttlMs: 60_000 })).toMatchObject({ admitted: true });
      const overQuota = await r.admission.admit({ rules, tokens: 0, maxWaitMs: 0, scopes: [rich], amountUsd: 0.02, ttlMs: 60_000 });
      expect(overQuota).toMatchObject({ admitted: false, refusedBy: 'rate', rate: { reason: 'rate_limited', rule: rules[0] } });
      expect((await r.ledger.status([rich]))[rich.key].reservedUsd).toBeCloseTo(0.02, 9); // only the admitted one
    });

    it('three replicas racing 300 requests: a budget affording 50 admits exactly 50; a 60/min quota exactly 60', async () => {
      const rs = replicas(3);
      const scopes = [budget(1)];
      const byBudget = await Promise.all(
        Array.from({ length: 300 }, (_, i) => rs[i % 3].admission.admit({ rules: [{ key: `key:${uid()}`, rpm: 1000 }], tokens: 0, maxWaitMs: 0, scopes, amountUsd: 0.02, ttlMs: 60_000 })),
      );
      expect(byBudget.filter((r) => r.admitted)).toHaveLength(50);
      expect(byBudget.filter((r) => !r.admitted && r.refusedBy === 'budget')).toHaveLength(250);
      const rules = [{ key: `key:${uid()}`, rpm: 60 }];
      const roomy = [budget(100)];
      const byQuota = await Promise.all(Array.from({ length: 300 }, (_, i) => rs[i % 3].admission.admit({ rules, tokens: 0, maxWaitMs: 0, scopes: roomy, amountUsd: 0.02, ttlMs: 60_000 })));
      expect(byQuota.filter((r) => r.admitted)).toHaveLength(60);
      expect((await rs[0].ledger.status(roomy))[roomy[0].key].reservedUsd).toBeCloseTo(60 * 0.02, 9);
      const trips = rs.reduce((n, r) => n + r.admission.roundTrips, 0);
      expect(trips).toBeLessThanOrEqual(600 + 3); // one per request (plus one script load per connection)
    });

    it('a request waiting for its slot holds its budget; abandoning the wait gives both back', async () => {
      const clock = new TestClock(Date.parse('2026-03-10T12:00:00Z'));
      const [r] = replicas(1, clock.now);
      const rules = [{ key: `key:${uid()}`, rpm: 1 }];
      const scopes = [budget(1)];
      expect((await r.admission.admit({ rules, tokens: 0, maxWaitMs: 0, scopes, amountUsd: 0.1, ttlMs: 60_000 })).admitted).toBe(true);
      clock.advance(60_000 - 500);
      const ac = new AbortController();
      const waiting = r.admission.admit({ rules, tokens: 0, maxWaitMs: 1000, scopes, amountUsd: 0.5, ttlMs: 60_000, signal: ac.signal });
      await new Promise((res) => setTimeout(res, 100));
      expect((await r.ledger.status(scopes))[scopes[0].key].reservedUsd).toBeCloseTo(0.6, 9);
      ac.abort();
      expect(await waiting).toMatchObject({ admitted: false, refusedBy: 'rate', rate: { reason: 'aborted' } });
      expect((await r.ledger.status(scopes))[scopes[0].key].reservedUsd).toBeCloseTo(0.1, 9);
      const next: Admission = r.admission;
      const admitted = await next.admit({ rules, tokens: 0, maxWaitMs: 1000, scopes, amountUsd: 0.5, ttlMs: 60_000 });
      expect(admitted).toMatchObject({ admitted: true });
      if (admitted.admitted) expect(admitted.rate.waitedMs).toBeLessThan(500);
    });
  });
}

if (await redisVariantsEnabled()) {
  describe('openRedisCounters', () => {
    it('opens limiter, ledger and admission on one connection and one prefix, counting round trips', async () => {
      const { openRedisCounters } = await import('../../src/store/redis/counters.js');
      const { REDIS_URL } = await import('./redis-harness.js');
      const prefix = randomPrefix();
      const c = await openRedisCounters({ url: REDIS_URL, keyPrefix: prefix, timeZone: TZ });
      try {
        const rules = [{ key: `key:${uid()}`, rpm: 5, tpm: 1000 }];
        const scopes = [budget(1)];
        const r = await c.admission.admit({ rules, tokens: 100, maxWaitMs: 0, scopes, amountUsd: 0.5, ttlMs: 60_000 });
        if (!r.admitted || !r.budget) throw new Error('refused');
        await c.limiter.adjust(rules, -50);
        await c.ledger.commit(r.budget.reservation, 0.25);
        expect((await c.ledger.status(scopes))[scopes[0].key]).toMatchObject({ spentUsd: 0.25, reservedUsd: 0 });
        expect(await c.limiter.consume(rules, 0, 0)).toMatchObject({ remainingRequests: 3, remainingTokens: 950 });
        expect(c.roundTrips()).toBeGreaterThanOrEqual(5); // admit, adjust, commit, status, consume (+ script loads)
        expect(c.roundTrips()).toBeLessThanOrEqual(10);
      } finally {
        await dropPrefix(c.redis, prefix);
        await c.close();
      }
    });
  });
}
