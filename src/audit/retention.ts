/** Applies audit retention: per tenant, records older than its retention are deleted, and the deletion is chained. */
import type { GatewayConfig } from '../config/load.js';
import type { RetentionEvent } from './chain.js';
import type { AuditRetention } from '../store/types.js';

const DAY_MS = 86_400_000;

export async function applyRetention(config: GatewayConfig, sink: AuditRetention, actor: string, now = Date.now()): Promise<RetentionEvent[]> {
  const events: RetentionEvent[] = [];
  for (const [tenantId, tenant] of Object.entries(config.tenants)) {
    const days = tenant.audit_retention_days ?? config.audit.retention_days;
    if (days === undefined) continue;
    const event = await sink.prune(tenantId, now - days * DAY_MS, actor);
    if (event.deleted_count > 0) events.push(event);
  }
  if (config.audit.retention_days !== undefined) {
    const event = await sink.prune(null, now - config.audit.retention_days * DAY_MS, actor);
    if (event.deleted_count > 0) events.push(event);
  }
  return events;
}
