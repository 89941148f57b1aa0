/**
 * At start: every request a crashed process (kill -9) left without a final record gets one,
 * so the trail has one `request` record per request and reports agree with the budgets.
 * - A forwarded request (strict mode committed its `decision`, maybe its `cost`, but not its
 *   final record): the latest of those rows becomes the final record, charged what
 *   store/charged-rows.ts counts for it — its committed cost, else its reserved worst case.
 * - A request held for review (never forwarded): its failed review item becomes the record;
 *   nothing was spent, so it costs 0 and its budget hold is gone with the process.
 * Both carry `error_code: gateway_restarted` and `http_status: 0` (no answer was sent).
 * Only this instance's requests are recovered (as failPendingHolds fails only its own holds):
 * with replicas sharing the database, another replica's unfinished rows are requests it is
 * still forwarding. A replica must therefore keep its instance name across restarts.
 */
import { RequestContext } from '../pipeline/context.js';
import type { ReviewItem } from '../review/types.js';
import type { AuditQuery } from '../store/types.js';
import { buildAuditRecord, type AuditRecord, type GatewayIdentity } from './record.js';
import type { AuditWriter } from './writer.js';

export const RESTARTED = 'gateway_restarted';

/** Writes the missing final records (committed before it returns); returns how many. */
export async function auditLostRequests(store: AuditQuery, audit: AuditWriter, identity: GatewayIdentity, failedHolds: readonly ReviewItem[]): Promise<number> {
  const records = [...(await lostForwarded(store, identity.instance)), ...failedHolds.map((item) => lostHold(item, identity))];
  for (const record of records) await audit.writeNow(record);
  return records.length;
}

/** Keeps the process that handled the request as `gateway_instance`. */
async function lostForwarded(store: AuditQuery, instance: string): Promise<AuditRecord[]> {
  const rows = await store.unfinished(instance);
  // The cost row, when there is one, is later and knows more (usage, cost).
  const latest = new Map<string, { kind: string; record: AuditRecord }>();
  for (const r of rows) {
    const record = r.record;
    if (r.kind === 'cost' || !latest.has(record.decision_id)) latest.set(record.decision_id, { kind: r.kind, record });
  }
  return [...latest.values()].map(({ kind, record }) => ({
    ...record,
    kind: 'request',
    ...(kind === 'decision' ? { cost_usd: record.budget_reserved_usd, usage_estimated: true } : {}),
    ...restarted(`the gateway stopped before this request's final record was written; it is charged ${kind === 'cost' ? 'its committed cost' : 'its reserved worst case'}`),
  }));
}

function lostHold(item: ReviewItem, identity: GatewayIdentity): AuditRecord {
  const endpoint = item.request && typeof item.request === 'object' && 'input' in item.request ? '/v1/embeddings' : '/v1/chat/completions';
  const base = buildAuditRecord(new RequestContext('', endpoint, 'POST', '', null, null), identity);
  const ruleIds = (item.matchedRules as { id?: unknown; shadow?: boolean }[]).filter((r) => r && !r.shadow).map((r) => String(r.id));
  return {
    ...base,
    decision_id: item.decisionId,
    request_id: item.decisionId,
    received_at: new Date(item.createdAt).toISOString(),
    received_at_ms: item.createdAt,
    tenant_id: item.tenantId,
    team_id: item.teamId,
    agent_id: item.agentId,
    key_id: item.keyId,
    model_requested: item.model,
    policy_outcome: 'REVIEW',
    policy_name: item.policyName,
    policy_version: item.policyVersion,
    matched_rules: ruleIds,
    risk_score: item.riskScore,
    risk_factors: item.riskFactors,
    review_id: item.id,
    review_mode: item.mode,
    review_decision: item.status,
    reviewer: item.reviewer,
    review_wait_ms: Math.max(0, (item.decidedAt ?? item.createdAt) - item.createdAt),
    total_latency_ms: 0,
    gateway_overhead_ms: 0,
    ...restarted('the gateway stopped while the request was held for review; it was not forwarded'),
  };
}

function restarted(why: string): Partial<AuditRecord> {
  return { http_status: 0, error_code: RESTARTED, error_type: 'api_error', upstream_error: why };
}
