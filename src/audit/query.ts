/**
 * Searching and exporting the audit trail: filters on the indexed columns, newest first, with
 * an opaque cursor (the row's sequence number) for the next page.
 */
import type { Kysely } from 'kysely';
import type { SqliteTables } from '../store/sqlite/database.js';
import type { AuditRecord } from './record.js';

export interface AuditFilter {
  tenantId?: string;
  teamId?: string;
  agentId?: string;
  model?: string;
  outcome?: string;
  riskMin?: number;
  riskMax?: number;
  since?: number;
  until?: number;
  decisionId?: string;
  /** Include strict mode's `decision` and `cost` rows and retention events (default: finished requests only). */
  allKinds?: boolean;
  limit?: number;
  /** From a previous page's `next_cursor`. */
  cursor?: string;
}

export interface AuditPage {
  data: (AuditRecord & { seq: number; record_hash: string; chain_seq: number })[];
  next_cursor: string | null;
}

export async function queryAudit(db: Kysely<SqliteTables>, f: AuditFilter): Promise<AuditPage> {
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  let q = db.selectFrom('audit_records').select(['seq', 'record', 'record_hash', 'chain_seq']).orderBy('seq', 'desc').limit(limit + 1);
  if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
  if (f.teamId) q = q.where('team_id', '=', f.teamId);
  if (f.agentId) q = q.where('agent_id', '=', f.agentId);
  if (f.model) q = q.where((eb) => eb.or([eb('model_resolved', '=', f.model!), eb('model_requested', '=', f.model!)]));
  if (f.outcome) q = q.where('policy_outcome', '=', f.outcome);
  if (f.riskMin !== undefined) q = q.where('risk_score', '>=', f.riskMin);
  if (f.riskMax !== undefined) q = q.where('risk_score', '<=', f.riskMax);
  if (f.since !== undefined) q = q.where('received_at', '>=', f.since);
  if (f.until !== undefined) q = q.where('received_at', '<', f.until);
  if (f.decisionId) q = q.where('decision_id', '=', f.decisionId);
  if (!f.allKinds) q = q.where('kind', '=', 'request');
  if (f.cursor) {
    const seq = Number(Buffer.from(f.cursor, 'base64url').toString('utf8'));
    if (!Number.isInteger(seq)) throw new Error('invalid cursor');
    q = q.where('seq', '<', seq);
  }
  const rows = await q.execute();
  const page = rows.slice(0, limit);
  return {
    data: page.map((r) => ({ ...(JSON.parse(r.record) as AuditRecord), seq: r.seq, record_hash: r.record_hash, chain_seq: r.chain_seq })),
    next_cursor: rows.length > limit ? Buffer.from(String(page.at(-1)!.seq)).toString('base64url') : null,
  };
}

/** Streams every matching record, oldest first, in pages (for exports of any size). */
export async function* exportAudit(db: Kysely<SqliteTables>, f: Omit<AuditFilter, 'cursor' | 'limit'>): AsyncGenerator<AuditRecord> {
  let after = 0;
  for (;;) {
    let q = db.selectFrom('audit_records').select(['seq', 'record']).where('seq', '>', after).orderBy('seq').limit(1000);
    if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
    if (f.since !== undefined) q = q.where('received_at', '>=', f.since);
    if (f.until !== undefined) q = q.where('received_at', '<', f.until);
    if (!f.allKinds) q = q.where('kind', '=', 'request');
    const rows = await q.execute();
    if (rows.length === 0) return;
    for (const r of rows) yield JSON.parse(r.record) as AuditRecord;
    after = rows.at(-1)!.seq;
  }
}

/** Cell starts that spreadsheets read as a formula: = + - @ tab CR. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV line per record; nested values (lists, objects) as JSON text. */
export function csvHeader(fields: readonly string[]): string {
  return fields.join(',');
}

export function csvLine(record: Record<string, unknown>, fields: readonly string[]): string {
  return fields
    .map((f) => {
      const v = record[f];
      if (v === null || v === undefined) return '';
      let text = typeof v === 'object' ? JSON.stringify(v) : String(v);
      // A text cell a spreadsheet would run as a formula is prefixed with a quote (OWASP CSV injection).
      if (typeof v === 'string' && FORMULA_START.test(text)) text = `'${text}`;
      return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(',');
}
