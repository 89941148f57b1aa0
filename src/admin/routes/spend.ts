/**
 * Spend by tenant, team, agent or model (aggregated in SQL from the audit trail, counting each
 * request once even when a crash lost its final record), the budgets' live state from the
 * ledger (limit, spent, reserved, period), and the budget alert history. Admins and auditors.
 */
import { z } from 'zod';
import type { AdminModule } from '../api.js';
import { listTenant } from '../principal.js';
import { defineRoute, READERS, TimeParam } from '../route.js';
import type { BudgetScope } from '../../budget/ledger.js';
import type { BudgetConfig } from '../../config/schema.js';

const SpendRow = z.object({
  tenant: z.string().nullable(),
  team: z.string().nullable(),
  agent: z.string().nullable(),
  model: z.string().nullable(),
  requests: z.number(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cost_usd: z.number(),
});

const Budget = z.object({
  scope: z.string().describe('`tenant:<t>`, `team:<t>/<team>`, `agent:<t>/<agent>` or `key:<id>`.'),
  tenant: z.string(),
  kind: z.enum(['tenant', 'team', 'agent', 'key']),
  limit_usd: z.number(),
  spent_usd: z.number(),
  reserved_usd: z.number().describe('Held by requests in flight.'),
  utilization: z.number().describe('spent / limit.'),
  period: z.enum(['daily', 'weekly', 'monthly', 'total']),
  period_start: z.string(),
  period_end: z.string().nullable().describe('null for `total`.'),
  alerts: z.array(z.number()),
});

const Alert = z.object({ tenant: z.string(), scope: z.string(), threshold: z.number(), spent_usd: z.number(), limit_usd: z.number(), period_start: z.string(), at: z.string() });

export const spendRoutes: AdminModule = (router, deps) => {
  /** Every budget the configuration declares, with its tenant. */
  const configuredBudgets = (tenantId: string | undefined): { scope: BudgetScope; tenant: string; kind: 'tenant' | 'team' | 'agent' | 'key' }[] => {
    const out: { scope: BudgetScope; tenant: string; kind: 'tenant' | 'team' | 'agent' | 'key' }[] = [];
    const add = (key: string, b: BudgetConfig | undefined, tenant: string, kind: 'tenant' | 'team' | 'agent' | 'key') => {
      if (b) out.push({ scope: { key, limitUsd: b.usd, period: b.period, alerts: b.alerts }, tenant, kind });
    };
    for (const [t, tenant] of Object.entries(deps.config.tenants)) {
      if (tenantId !== undefined && t !== tenantId) continue;
      add(`tenant:${t}`, tenant.budget, t, 'tenant');
      for (const [teamId, team] of Object.entries(tenant.teams)) {
        add(`team:${t}/${teamId}`, team.budget, t, 'team');
        for (const [agentId, agent] of Object.entries(team.agents)) {
          add(`agent:${t}/${agentId}`, agent.budget, t, 'agent');
          for (const key of agent.keys) add(`key:${key.id}`, key.budget, t, 'key');
        }
      }
    }
    return out;
  };

  router.add(
    defineRoute({
      method: 'GET',
      path: '/spend',
      tag: 'spend',
      summary: 'Report spend by tenant, team, agent or model.',
      description: 'Cost and tokens of requests received in [from, to) (default: the last 30 days), largest cost first. A team or agent is reported with its tenant (and team).',
      roles: READERS,
      query: z.object({
        group_by: z.enum(['tenant', 'team', 'agent', 'model']).default('tenant'),
        from: TimeParam.optional(),
        to: TimeParam.optional(),
        tenant: z.string().min(1).optional(),
      }),
      response: z.object({ object: z.literal('list'), group_by: z.string(), from: z.string(), to: z.string(), data: z.array(SpendRow), next_cursor: z.null(), total: z.object({ requests: z.number(), cost_usd: z.number() }) }),
      handler: async ({ principal, query }) => {
        const tenantId = listTenant(principal, query.tenant);
        const to = query.to ?? Date.now();
        const from = query.from ?? to - 30 * 86_400_000;
        await deps.audit.flush();
        const rows = await deps.stores.auditQuery.spendBy({ group: query.group_by, tenantId, since: from, until: to });
        return {
          object: 'list' as const,
          group_by: query.group_by,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          data: rows.map((r) => ({ tenant: r.tenant_id, team: r.team_id, agent: r.agent_id, model: r.model, requests: r.requests, input_tokens: r.input_tokens, output_tokens: r.output_tokens, cost_usd: r.cost_usd })),
          next_cursor: null,
          total: { requests: rows.reduce((n, r) => n + r.requests, 0), cost_usd: rows.reduce((n, r) => n + r.cost_usd, 0) },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/budgets',
      tag: 'spend',
      summary: 'List budgets with their limit, spend, holds and period.',
      description: 'Live state from the budget ledger (Redis when configured, shared by every replica).',
      roles: READERS,
      query: z.object({ tenant: z.string().min(1).optional() }),
      response: z.object({ object: z.literal('list'), data: z.array(Budget), next_cursor: z.null() }),
      handler: async ({ principal, query }) => {
        const budgets = configuredBudgets(listTenant(principal, query.tenant));
        const status = budgets.length === 0 ? {} : await deps.budgets.status(budgets.map((b) => b.scope));
        return {
          object: 'list' as const,
          data: budgets.map((b) => {
            const s = status[b.scope.key];
            const spent = s?.spentUsd ?? 0;
            return {
              scope: b.scope.key,
              tenant: b.tenant,
              kind: b.kind,
              limit_usd: b.scope.limitUsd,
              spent_usd: spent,
              reserved_usd: s?.reservedUsd ?? 0,
              utilization: b.scope.limitUsd > 0 ? spent / b.scope.limitUsd : 0,
              period: b.scope.period,
              period_start: new Date(s?.periodStart ?? 0).toISOString(),
              period_end: s && Number.isFinite(s.periodEnd) ? new Date(s.periodEnd).toISOString() : null,
              alerts: b.scope.alerts,
            };
          }),
          next_cursor: null,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/alerts',
      tag: 'spend',
      summary: 'List budget alerts, newest first.',
      description: 'Thresholds crossed (`budgets.*.alerts`) as seen by this replica since it started (the webhook, when configured, receives every replica\'s).',
      roles: READERS,
      query: z.object({ tenant: z.string().min(1).optional() }),
      response: z.object({ object: z.literal('list'), data: z.array(Alert), next_cursor: z.null() }),
      handler: async ({ principal, query }) => ({
        object: 'list' as const,
        data: deps.alerts.recent(listTenant(principal, query.tenant)).map((a) => ({
          tenant: a.tenantId,
          scope: a.scope.key,
          threshold: a.threshold,
          spent_usd: a.spentUsd,
          limit_usd: a.scope.limitUsd,
          period_start: new Date(a.periodStart).toISOString(),
          at: new Date(a.at).toISOString(),
        })),
        next_cursor: null,
      }),
    }),
  );
};
