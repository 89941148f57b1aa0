/**
 * Rebuilds the in-memory ledger's spend from the audit trail at start: for every configured
 * budget scope, what its requests charged since its current period began — including requests
 * whose final record a crash lost (see store/charged-rows.ts), so no budget is spent twice.
 */
import type { GatewayConfig } from '../config/load.js';
import type { AuditQuery } from '../store/types.js';
import type { BudgetScope } from './ledger.js';
import { periodStart } from './periods.js';

type Column = 'tenant_id' | 'team_id' | 'agent_id' | 'key_id';

/** A ledger that can restore audited spend: the memory one adds it, the Redis one only to a period it has never counted. */
export interface SeedableLedger {
  seed(scope: BudgetScope, spentUsd: number): unknown;
}

export async function seedLedgerFromAudit(store: AuditQuery, config: GatewayConfig, ledger: SeedableLedger, now = Date.now()): Promise<number> {
  const tz = config.budgets.timezone;
  const scopes: { scope: BudgetScope; tenant: string; column: Column; value: string }[] = [];
  const add = (key: string, b: { usd: number; period: BudgetScope['period']; alerts: number[] } | undefined, tenant: string, column: Column, value: string) => {
    if (b) scopes.push({ scope: { key, limitUsd: b.usd, period: b.period, alerts: b.alerts }, tenant, column, value });
  };
  for (const [t, tenant] of Object.entries(config.tenants)) {
    add(`tenant:${t}`, tenant.budget, t, 'tenant_id', t);
    for (const [teamId, team] of Object.entries(tenant.teams)) {
      add(`team:${t}/${teamId}`, team.budget, t, 'team_id', teamId);
      for (const [agentId, agent] of Object.entries(team.agents)) {
        add(`agent:${t}/${agentId}`, agent.budget, t, 'agent_id', agentId);
        for (const key of agent.keys) add(`key:${key.id}`, key.budget, t, 'key_id', key.id);
      }
    }
  }
  for (const { scope, tenant, column, value } of scopes) {
    const spent = await store.sumCost({ tenantId: tenant, column, value, since: periodStart(scope.period, now, tz) });
    if (spent > 0) await ledger.seed(scope, spent);
  }
  return scopes.length;
}
