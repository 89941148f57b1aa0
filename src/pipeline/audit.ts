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

/**
 * Strict durability, just before an answer's last bytes go out: commits what the request cost
 * (a `cost` record), so a kill -9 between the answer and the queued final record cannot give the
 * money back to the budget. Batched mode writes nothing here: its loss window covers spend.
 * Never throws (the writer spools what the store refuses).
 */
export async function commitCost(ctx: RequestContext, deps: { audit: AuditWriter; identity: GatewayIdentity }, strict: boolean): Promise<void> {
  if (!strict || !ctx.route || ctx.audited) return;
  meter(ctx);
  // Content is kept by the final record only.
  const record: AuditRecord = { ...buildAuditRecord(ctx, deps.identity, 'cost'), prompt: null, completion: null };
  try {
    await deps.audit.writeNow(record);
  } catch {
    // Not even the spool took it: the decision record still counts the reserved worst case.
  }
}
