/** Stage (always last, in a `finally`): settle the meter and queue exactly one audit record. */
import { buildAuditRecord, type AuditRecord, type GatewayIdentity } from '../audit/record.js';
import type { AuditWriter } from '../audit/writer.js';
import type { RequestContext } from './context.js';
import { meter } from './meter.js';

export interface AuditObserver {
  /** Called once per finished request with its record (metrics, traces). Must not throw. */
  (record: AuditRecord): void;
}

export function auditRequest(ctx: RequestContext, deps: { audit: AuditWriter; identity: GatewayIdentity; observeRecord: AuditObserver }): void {
  if (ctx.audited) return;
  ctx.audited = true;
  meter(ctx);
  const record = buildAuditRecord(ctx, deps.identity);
  deps.audit.append(record);
  deps.observeRecord(record);
}
