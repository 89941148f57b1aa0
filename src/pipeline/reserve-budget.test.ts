import { afterEach, describe, expect, it } from 'vitest';
import { AlertNotifier } from '../budget/alerts.js';
import { MemoryBudgetLedger } from '../budget/memory-ledger.js';
import { GatewayError } from '../errors.js';
import { acmeTenant, firstRoute, principalOf, readContext, stageConfig } from '../../test/support/stage-fixtures.js';
import { meter } from './meter.js';
import { budgetScopes, reserveBudget, settleBudget, tightestRemaining, worstCaseCost } from './reserve-budget.js';
import { Pipeline, type Exchange, type PipelineDeps } from './run.js';
import { RouteTable } from './select-route.js';

const TTL = 60_000;
const ledgers: MemoryBudgetLedger[] = [];
function ledger(): MemoryBudgetLedger {
  const l = new MemoryBudgetLedger({ timeZone: 'UTC', sweepIntervalMs: 0 });
  ledgers.push(l);
  return l;
}
afterEach(() => {
  for (const l of ledgers.splice(0)) l.close();
});

const BIG = '  gpt-big: { provider: fake-openai, retries: 0, price: { input: 10, output: 30 }, max_output_tokens: 2000 }';

async function setup(scopes: Parameters<typeof acmeTenant>[0], body: Parameters<typeof readContext>[1] = {}) {
  const config = stageConfig(acmeTenant(scopes), { models: BIG });
  const routes = new RouteTable(config);
  const principal = await principalOf(config);
  const { ctx } = readContext(principal, body);
  const chain = routes.chain(routes.resolve('gpt-test', principal, 'chat'), principal);
  return { config, routes, principal, ctx, chain, again: () => readContext(principal, body).ctx };
}

const quietAlerts = () => {
  const warned: object[] = [];
  return { alerts: new AlertNotifier({ logger: { warn: (o: object) => void warned.push(o) } }), warned };
};

describe('budget stage', () => {
  it('counts a request toward every budget of its scopes, most specific last', async () => {
    const { principal } = await setup({ tenant: 'budget: { usd: 100 }', team: 'budget: { usd: 10, period: daily }', key: 'budget: { usd: 1, period: total, alerts: [0.5] }' });
    expect(budgetScopes(principal)).toEqual([
      { key: 'tenant:acme', limitUsd: 100, period: 'monthly', alerts: [] },
      { key: 'team:acme/research', limitUsd: 10, period: 'daily', alerts: [] },
      { key: 'key:key_acme_bot', limitUsd: 1, period: 'total', alerts: [0.5] },
    ]);
  });

  it('holds the worst case: input plus the output bound of every choice, at the chain’s highest price', async () => {
    const { ctx, chain, routes } = await setup({}, { max_tokens: 500, n: 2 });
    ctx.inputTokensEstimated = 1000;
    expect(worstCaseCost(ctx, chain)).toBeCloseTo((1000 * 2 + 1000 * 8) / 1e6, 12);
    const big = routes.resolve('gpt-big', ctx.principal!, 'chat');
    expect(worstCaseCost(ctx, [...chain, big])).toBeCloseTo((1000 * 10 + 1000 * 30) / 1e6, 12);
    // Without max_tokens the model's own output bound applies.
    const { ctx: open } = await setup({});
    open.inputTokensEstimated = 0;
    expect(worstCaseCost(open, [big])).toBeCloseTo((2000 * 30) / 1e6, 12);
  });

  it('records the hold and what each budget has left', async () => {
    const { ctx, chain } = await setup({ tenant: 'budget: { usd: 1 }', agent: 'budget: { usd: 0.5 }' }, { max_tokens: 1000 });
    ctx.inputTokensEstimated = 1000;
    const l = ledger();
    await reserveBudget(ctx, l, chain, TTL);
    expect(ctx.budgetReservedUsd).toBeCloseTo(0.01, 12);
    expect(ctx.reservation?.amountUsd).toBeCloseTo(0.01, 12);
    expect(ctx.budgetRemainingUsd!['tenant:acme']).toBeCloseTo(0.99, 9);
    expect(ctx.budgetRemainingUsd!['agent:acme/bot']).toBeCloseTo(0.49, 9);
    expect(tightestRemaining(ctx.budgetRemainingUsd)).toBeCloseTo(0.49, 9);
    expect(l.activeReservations).toBe(1);
  });

  it('refuses with 402 budget_exceeded when the worst case does not fit, even if another hold is what fills it', async () => {
    const s = await setup({ agent: 'budget: { usd: 0.015 }' }, { max_tokens: 1000 });
    const l = ledger();
    s.ctx.inputTokensEstimated = 1000;
    await reserveBudget(s.ctx, l, s.chain, TTL);
    const ctx = s.again();
    ctx.inputTokensEstimated = 1000;
    const err = (await reserveBudget(ctx, l, s.chain, TTL).catch((e: unknown) => e)) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('budget_exceeded');
    expect(err.status).toBe(402);
    expect(err.message).toContain('agent:acme/bot');
    expect(err.headers).toEqual({ 'x-omega-budget-remaining-usd': '0.005000' });
    expect(ctx.budgetScopeHit).toBe('agent:acme/bot');
    expect(ctx.budgetRemainingUsd!['agent:acme/bot']).toBeCloseTo(0.005, 9);
    expect(ctx.reservation).toBeUndefined();
    expect(l.activeReservations).toBe(1);
  });

  it('settles to the actual cost once usage is known, and raises the alerts it crosses', async () => {
    const { ctx, chain } = await setup({ tenant: 'budget: { usd: 0.01, alerts: [0.5] }' }, { max_tokens: 100 });
    const l = ledger();
    await reserveBudget(ctx, l, chain, TTL);
    ctx.route = firstRoute(chain[0]!);
    ctx.upstreamStatus = 200;
    ctx.usage = { inputTokens: 1000, outputTokens: 500, cachedTokens: 0, reasoningTokens: 0 };
    meter(ctx);
    const { alerts, warned } = quietAlerts();
    await settleBudget(ctx, l, alerts);
    expect(ctx.reservation).toBeUndefined();
    expect(l.activeReservations).toBe(0);
    expect(ctx.budgetRemainingUsd!['tenant:acme']).toBeCloseTo(0.01 - 0.006, 9);
    expect(ctx.budgetUtilization!['tenant:acme']).toBeCloseTo(0.6, 9);
    expect(alerts.recent('acme').map((a) => [a.scope.key, a.threshold])).toEqual([['tenant:acme', 0.5]]);
    expect(warned).toHaveLength(1);
    await settleBudget(ctx, l, alerts); // once only
    expect(alerts.recent('acme')).toHaveLength(1);
  });

  it('releases the hold of a request that never got an answer, and records the settled figures', async () => {
    const { ctx, chain } = await setup({ tenant: 'budget: { usd: 1 }' }, { max_tokens: 1000 });
    const l = ledger();
    await reserveBudget(ctx, l, chain, TTL);
    expect(ctx.budgetRemainingUsd!['tenant:acme']).toBeLessThan(1);
    await settleBudget(ctx, l, quietAlerts().alerts);
    expect(l.activeReservations).toBe(0);
    expect(ctx.budgetRemainingUsd).toEqual({ 'tenant:acme': 1 });
    expect(ctx.budgetUtilization).toBeNull();
  });

  it('does not apply without budgets: no reservation, and the runner awaits nothing', async () => {
    const { ctx, chain } = await setup({});
    const l = ledger();
    const pipeline = new Pipeline({ budgets: l, settings: { reservationTtlMs: TTL } } as unknown as PipelineDeps);
    const stage = pipeline.stages.find((s) => s.name === 'budget')!;
    expect(stage.run({ ctx, chain } as unknown as Exchange)).toBeUndefined();
    await reserveBudget(ctx, l, chain, TTL);
    expect(l.activeReservations).toBe(0);
    expect(ctx.reservation).toBeUndefined();
    expect(ctx.budgetReservedUsd).toBe(0);
    expect(ctx.budgetRemainingUsd).toBeNull();
  });
});
