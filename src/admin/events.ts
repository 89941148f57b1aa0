/**
 * `recordAdminEvent`: every admin write and review decision is appended to the audit trail's hash
 * chain (the target tenant's chain, else the gateway chain '_') before the API answers, with
 * the target's before/after state masked: fields named like credentials are replaced, and every
 * string goes through the configuration's scrubber (configured secrets, credential shapes).
 */
import { randomUUID } from 'node:crypto';
import type { GatewayDeps } from '../app.js';
import type { AdminEventRecord } from '../audit/admin-event.js';
import { REDACTED, scrubberFor, type Scrubber } from '../security/scrub.js';
import type { AdminPrincipal } from './principal.js';

export interface AdminEventInput {
  /** `<object>.<verb>`, e.g. `policy.publish`, `review.approve`, `key.create`. */
  action: string;
  target: { type: string; id: string };
  /** The tenant the target belongs to; null/absent for gateway-wide objects. */
  tenant?: string | null;
  team?: string | null;
  agent?: string | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

/** Field names whose values are never written to an admin event (they hold or derive from a credential). */
const SECRET_FIELD = /(^|_)(secret|token|password|passwd|api_?key|key|hash|credential|credentials|authorization|cookie|private_key|client_secret)$/i;
/** Values of these maps are all secret (header maps carry credentials). */
const SECRET_MAP = /(^|_)headers$/i;

/** A copy of `value` with credential-named fields replaced and every string scrubbed. */
export function maskSecrets(value: unknown, scrubber: Scrubber, depth = 0): unknown {
  if (value === undefined) return null;
  if (typeof value === 'string') return scrubber.scrub(value, 4096);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 10) return '[truncated]';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.slice(0, 1000).map((v) => maskSecrets(v, scrubber, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (SECRET_FIELD.test(k) && v !== null && v !== false) out[k] = REDACTED;
    else if (SECRET_MAP.test(k) && v !== null && typeof v === 'object') out[k] = Object.fromEntries(Object.keys(v).map((h) => [h, REDACTED]));
    else out[k] = maskSecrets(v, scrubber, depth + 1);
  }
  return out;
}

export function buildAdminEvent(deps: Pick<GatewayDeps, 'config' | 'identity'>, principal: AdminPrincipal, input: AdminEventInput, now = Date.now()): AdminEventRecord {
  const scrubber = scrubberFor(deps.config);
  return {
    kind: 'admin',
    decision_id: `adm_${randomUUID().replaceAll('-', '')}`,
    received_at: new Date(now).toISOString(),
    received_at_ms: now,
    tenant_id: input.tenant ?? null,
    team_id: input.team ?? null,
    agent_id: input.agent ?? null,
    key_id: null,
    endpoint: `admin:${input.action}`,
    model_requested: null,
    model_resolved: null,
    provider: null,
    stream: false,
    policy_outcome: '',
    risk_score: 0,
    http_status: 0,
    error_code: null,
    input_tokens: null,
    output_tokens: null,
    cost_usd: 0,
    budget_reserved_usd: 0,
    actor: { id: principal.id, kind: principal.kind, role: principal.role, tenant: principal.tenant, ...(principal.name ? { name: principal.name } : {}) },
    action: input.action,
    target: { type: input.target.type, id: input.target.id },
    before: maskSecrets(input.before ?? null, scrubber),
    after: maskSecrets(input.after ?? null, scrubber),
    reason: input.reason == null ? null : scrubber.scrub(input.reason, 2000),
    gateway_instance: deps.identity.instance,
    gateway_version: deps.identity.version,
    config_version: deps.identity.configVersion,
  };
}

/**
 * Appends an admin event to the chain and waits until it is committed (or spooled to disk when
 * the store refuses writes; replayed later), so an acknowledged admin action is never unrecorded.
 */
export async function recordAdminEvent(deps: Pick<GatewayDeps, 'config' | 'identity' | 'audit'>, principal: AdminPrincipal, input: AdminEventInput): Promise<AdminEventRecord> {
  const event = buildAdminEvent(deps, principal, input);
  await deps.audit.writeNow(event);
  return event;
}
