/** Stage (always last, in a `finally`): settle the meter and queue exactly one audit record. */
import { buildAuditRecord, type AuditRecord, type GatewayIdentity } from '../audit/record.js';
import type { AuditWriter } from '../audit/writer.js';
import { scrubAuditRecord } from '../audit/scrub-record.js';
import type { Scrubber } from '../security/scrub.js';
import type { RequestContext } from './context.js';
import { meter } from './meter.js';

export interface AuditObserver {
  /** Called once per finished request with its record (metrics, traces). Must not throw. */
  (record: AuditRecord): void;
}

export function auditRequest(
  ctx: RequestContext,
  deps: { audit: AuditWriter; identity: GatewayIdentity; observeRecord: AuditObserver; upstream: { scrubber: Scrubber } },
): void {
  if (ctx.audited) return;
  ctx.audited = true;
  meter(ctx);
  // Scrubbed once here, so the store, its export, the admin API, metrics and spans all get the clean copy.
  const record = scrubAuditRecord(buildAuditRecord(ctx, deps.identity), deps.upstream.scrubber);
  deps.audit.append(record);
  deps.observeRecord(record);
}
