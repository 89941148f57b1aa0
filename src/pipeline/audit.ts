/** Stage (always last, in a `finally`): settle the meter and queue exactly one audit record. */
import { buildAuditRecord, type GatewayIdentity } from '../audit/record.js';
import type { AuditWriter } from '../audit/writer.js';
import type { RequestContext } from './context.js';
import { meter } from './meter.js';

export function auditRequest(ctx: RequestContext, writer: AuditWriter, identity: GatewayIdentity): void {
  if (ctx.audited) return;
  ctx.audited = true;
  meter(ctx);
  writer.append(buildAuditRecord(ctx, identity));
}
