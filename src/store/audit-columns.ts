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

export type AuditColumn = keyof ReturnType<typeof auditColumns>;
export type AuditColumnValue = string | number | null;

/** The mirrored columns' names in the order `auditColumnValues` gives them: the mapping's own key order. */
export const AUDIT_COLUMNS = Object.keys(auditColumns({} as TrailRecord)) as readonly AuditColumn[];
const DECISION_ID = AUDIT_COLUMNS.indexOf('decision_id');
const TENANT_ID = AUDIT_COLUMNS.indexOf('tenant_id');

/** The mirrored columns as positional values, in `AUDIT_COLUMNS` order. */
export function auditColumnValues(r: TrailRecord): AuditColumnValue[] {
  const values = Object.values(auditColumns(r)) as (AuditColumnValue | undefined)[];
  // A record missing a field binds NULL, as a missing named parameter's undefined did.
  for (let i = 0; i < values.length; i++) if (values[i] === undefined) values[i] = null;
  return values as AuditColumnValue[];
}

/**
 * A record ready to store, made once on the gateway's thread: `text` is the exact JSON that is
 * stored and hashed (JSON.stringify of the record), `columns` its mirrored columns. Strings and
 * primitives only, so handing it to the audit thread copies flat memory instead of
 * structured-cloning a 118-key object, and the thread never serialises anything.
 */
export interface PreparedRecord {
  text: string;
  kind: string;
  columns: AuditColumnValue[];
}

export function prepareRecord(r: TrailRecord): PreparedRecord {
  return { text: JSON.stringify(r), kind: r.kind, columns: auditColumnValues(r) };
}

export const preparedDecisionId = (p: PreparedRecord): string => p.columns[DECISION_ID] as string;
export const preparedTenantId = (p: PreparedRecord): string | null => p.columns[TENANT_ID] as string | null;
