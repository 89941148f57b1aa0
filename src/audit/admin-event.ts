/**
 * An admin event: one admin action (a policy published, a review decided, a key created, …) in
 * the audit trail's hash chain, next to the requests it affects. It carries the record fields the
 * audit table indexes (decision_id, received_at_ms, tenant_id, …, constant where they mean
 * nothing for an action), so it is stored, chained and verified exactly like a request record,
 * and searched with `kind=admin`. Fields: docs/audit-signals.md ("Admin events").
 */
import type { AuditRecord } from './record.js';

export interface AdminEventRecord {
  kind: 'admin';
  /** The event's id (`adm_…`), in the column request records use for their decision id. */
  decision_id: string;
  received_at: string;
  received_at_ms: number;
  /** The tenant the target belongs to (its chain), or null for gateway-wide targets ('_' chain). */
  tenant_id: string | null;
  team_id: string | null;
  agent_id: string | null;
  key_id: null;
  /** `admin:<action>`. */
  endpoint: string;
  model_requested: null;
  model_resolved: null;
  provider: null;
  stream: false;
  policy_outcome: '';
  risk_score: 0;
  http_status: 0;
  error_code: null;
  input_tokens: null;
  output_tokens: null;
  cost_usd: 0;
  budget_reserved_usd: 0;
  /** Who acted. */
  actor: { id: string; kind: 'token' | 'user'; role: string; tenant: string | null; name?: string };
  /** What was done, e.g. `review.approve`, `policy.publish`, `key.create`. */
  action: string;
  /** What it was done to: `{type, id}` (e.g. `{type: 'policy', id: 'default'}`). */
  target: { type: string; id: string };
  /** The target before and after, secrets masked; null where it did not exist (create, delete). */
  before: unknown;
  after: unknown;
  /** Free text given with the action (a review decision's reason). */
  reason: string | null;
  gateway_instance: string;
  gateway_version: string;
  config_version: string;
}

/** Everything the audit chain holds besides retention events. */
export type TrailRecord = AuditRecord | AdminEventRecord;

export function isAdminEvent(record: { kind: string }): record is AdminEventRecord {
  return record.kind === 'admin';
}
