/**
 * Spend reports from the audit trail: USD and tokens per tenant / team / agent / model per day
 * (days in the budgets' time zone). Rows are aggregated in SQL by 15-minute buckets, which fold
 * exactly into days of any time zone (all UTC offsets are multiples of 15 minutes).
 */
import { periodStart } from '../budget/periods.js';
import type { AuditQuery } from '../store/types.js';

export interface SpendRow {
  day: string;
  tenant_id: string;
  team_id: string | null;
  agent_id: string | null;
  model: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

export interface SpendQuery {
  tenantId?: string;
  since: number;
  until?: number;
  timeZone: string;
}

export async function spendReport(store: AuditQuery, q: SpendQuery): Promise<SpendRow[]> {
  const days = new Map<string, SpendRow>();
  const dayLabel = new Map<number, string>();
  for (const r of await store.spendBuckets({ tenantId: q.tenantId, since: q.since, until: q.until })) {
    const start = periodStart('daily', Number(r.bucket), q.timeZone);
    let day = dayLabel.get(start);
    if (!day) {
      day = new Intl.DateTimeFormat('en-CA', { timeZone: q.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(start);
      dayLabel.set(start, day);
    }
    const key = `${day}|${r.tenant_id}|${r.team_id}|${r.agent_id}|${r.model_resolved}`;
    const row = days.get(key) ?? { day, tenant_id: r.tenant_id!, team_id: r.team_id, agent_id: r.agent_id, model: r.model_resolved, requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
    row.requests += Number(r.requests);
    row.input_tokens += Number(r.input_tokens);
    row.output_tokens += Number(r.output_tokens);
    row.cost_usd += Number(r.cost_usd);
    days.set(key, row);
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day) || a.tenant_id.localeCompare(b.tenant_id) || String(a.team_id).localeCompare(String(b.team_id)) || String(a.agent_id).localeCompare(String(b.agent_id)) || String(a.model).localeCompare(String(b.model)));
}

/** Parses `7d`, `24h`, `30m` or an ISO date into epoch ms (relative to `now`). */
export function parseSince(value: string, now = Date.now()): number {
  const m = /^(\d+)\s*(m|h|d)$/.exec(value.trim());
  if (m) return now - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new Error(`--since must look like 7d, 24h, 30m or a date, got "${value}"`);
  return at;
}
