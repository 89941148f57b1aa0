/**
 * The audit_records columns mirrored from a record (indexed for queries; verification checks
 * each against the hashed record). One mapping for SQLite and PostgreSQL; imports nothing, so the
 * audit thread stays small.
 */
import type { TrailRecord } from '../audit/admin-event.js';

export function auditColumns(r: TrailRecord) {
  return {
    decision_id: r.decision_id,
    received_at: r.received_at_ms,
    tenant_id: r.tenant_id,
    team_id: r.team_id,
    agent_id: r.agent_id,
    key_id: r.key_id,
    endpoint: r.endpoint,
    model_requested: r.model_requested,
    model_resolved: r.model_resolved,
    provider: r.provider,
    stream: r.stream ? 1 : 0,
    policy_outcome: r.policy_outcome,
    risk_score: r.risk_score,
    http_status: r.http_status,
    error_code: r.error_code,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    cost_usd: r.cost_usd,
    budget_reserved_usd: r.budget_reserved_usd,
    total_latency_ms: 'total_latency_ms' in r ? r.total_latency_ms : null,
  };
}
