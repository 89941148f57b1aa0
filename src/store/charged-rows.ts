/**
 * What each request charged its budgets, read from the audit trail — one row per request, so
 * that a crash can neither forget spend nor count it twice:
 * - its final `request` record (cost_usd);
 * - else strict mode's `cost` record, committed before the answer ended (cost_usd);
 * - else its `decision` record, committed before forwarding, at the worst case the request
 *   held (budget_reserved_usd) — the request was forwarded and may have been billed.
 * Budget seeding and spend reports both read this (through AuditQuery.sumCost and spendBuckets
 * of every back end), so they agree after a restart. The builder is portable SQL: SQLite and
 * PostgreSQL run the same query over their `audit_records` tables.
 */
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { AuditRecord } from '../audit/record.js';
import type { CostScope, SpendBucket } from './types.js';

const BUCKET_MS = 15 * 60_000;

/** The columns the charged-rows query reads; both back ends' `audit_records` tables have them. */
export interface ChargedColumns {
  seq: number;
  decision_id: string;
  kind: string;
  received_at: number;
  tenant_id: string | null;
  team_id: string | null;
  agent_id: string | null;
  key_id: string | null;
  model_resolved: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number;
  budget_reserved_usd: number;
  record: string;
}

export interface ChargedTables {
  audit_records: ChargedColumns;
}

type Charged = SelectQueryBuilder<ChargedTables & { a: ChargedColumns }, 'a', object>;

/** `db` is any Kysely whose `audit_records` table has ChargedColumns (SQLite's and PostgreSQL's do). */
export function chargedRows(db: Kysely<ChargedTables>): Charged {
  return db.selectFrom('audit_records as a').where(({ eb, or, and, not, exists, selectFrom }) => {
    const later = (kinds: string[]) =>
      not(exists(selectFrom('audit_records as b').select('b.seq').whereRef('b.decision_id', '=', 'a.decision_id').where('b.kind', 'in', kinds)));
    return or([eb('a.kind', '=', 'request'), and([eb('a.kind', '=', 'cost'), later(['request'])]), and([eb('a.kind', '=', 'decision'), later(['request', 'cost'])])]);
  }) as Charged;
}

/** A charged row's amount in USD. */
export const chargedUsd = sql<number>`case a.kind when 'decision' then a.budget_reserved_usd else a.cost_usd end`;

/** AuditQuery.spendBuckets over charged rows (numbers normalised: PostgreSQL sums come back as numeric). */
export async function chargedSpendBuckets(db: Kysely<ChargedTables>, q: { tenantId?: string; since: number; until?: number }): Promise<SpendBucket[]> {
  let query = chargedRows(db)
    .select([
      sql<number>`(a.received_at / ${sql.lit(BUCKET_MS)}) * ${sql.lit(BUCKET_MS)}`.as('bucket'),
      'a.tenant_id',
      'a.team_id',
      'a.agent_id',
      'a.model_resolved',
      sql<number>`count(*)`.as('requests'),
      sql<number>`coalesce(sum(a.input_tokens), 0)`.as('input_tokens'),
      sql<number>`coalesce(sum(a.output_tokens), 0)`.as('output_tokens'),
      sql<number>`coalesce(sum(${chargedUsd}), 0)`.as('cost_usd'),
    ])
    .where('a.received_at', '>=', q.since)
    .where('a.tenant_id', 'is not', null)
    // PostgreSQL cannot group by an output alias inside an expression; position 1 works on both.
    .groupBy([sql`1`, 'a.tenant_id', 'a.team_id', 'a.agent_id', 'a.model_resolved']);
  if (q.until !== undefined) query = query.where('a.received_at', '<', q.until);
  if (q.tenantId) query = query.where('a.tenant_id', '=', q.tenantId);
  return (await query.execute()).map((r) => ({
    bucket: Number(r.bucket),
    tenant_id: r.tenant_id!,
    team_id: r.team_id,
    agent_id: r.agent_id,
    model_resolved: r.model_resolved,
    requests: Number(r.requests),
    input_tokens: Number(r.input_tokens),
    output_tokens: Number(r.output_tokens),
    cost_usd: Number(r.cost_usd),
  }));
}

/** AuditQuery.sumCost over charged rows. */
export async function chargedSum(db: Kysely<ChargedTables>, s: CostScope): Promise<number> {
  const row = await chargedRows(db)
    .select(sql<number>`coalesce(sum(${chargedUsd}), 0)`.as('spent'))
    .where('a.tenant_id', '=', s.tenantId)
    .where(`a.${s.column}`, '=', s.value)
    .where('a.received_at', '>=', s.since)
    .executeTakeFirst();
  return Number(row?.spent ?? 0);
}

/** AuditQuery.unfinished: strict mode's rows of requests that have no final record, oldest first. */
export async function unfinishedRows(db: Kysely<ChargedTables>): Promise<{ kind: 'decision' | 'cost'; record: AuditRecord }[]> {
  const rows = await db
    .selectFrom('audit_records as a')
    .select(['a.kind', 'a.record'])
    .where('a.kind', 'in', ['decision', 'cost'])
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('audit_records as b').select('b.seq').whereRef('b.decision_id', '=', 'a.decision_id').where('b.kind', '=', 'request'))))
    .orderBy('a.seq')
    .execute();
  return rows.map((r) => ({ kind: r.kind as 'decision' | 'cost', record: JSON.parse(r.record) as AuditRecord }));
}

export type SpendGroup = 'tenant' | 'team' | 'agent' | 'model';

/** The columns that identify a group: a team or agent is named within its tenant (and team). */
const GROUP_COLUMNS = {
  tenant: ['a.tenant_id'],
  team: ['a.tenant_id', 'a.team_id'],
  agent: ['a.tenant_id', 'a.team_id', 'a.agent_id'],
  model: ['a.model_resolved'],
} as const;

/** AuditQuery.spendBy: charged rows summed per tenant, team, agent or model, largest cost first. */
export async function chargedSpendBy(db: Kysely<ChargedTables>, q: { group: SpendGroup; tenantId?: string; since: number; until?: number }): Promise<SpendGroupRow[]> {
  const cols = GROUP_COLUMNS[q.group];
  let query = chargedRows(db)
    .select([...cols])
    .select([
      sql<number>`count(*)`.as('requests'),
      sql<number>`coalesce(sum(a.input_tokens), 0)`.as('input_tokens'),
      sql<number>`coalesce(sum(a.output_tokens), 0)`.as('output_tokens'),
      sql<number>`coalesce(sum(${chargedUsd}), 0)`.as('cost_usd'),
    ])
    .where('a.received_at', '>=', q.since)
    .where('a.tenant_id', 'is not', null)
    .groupBy([...cols]);
  if (q.until !== undefined) query = query.where('a.received_at', '<', q.until);
  if (q.tenantId) query = query.where('a.tenant_id', '=', q.tenantId);
  const rows = (await query.execute()) as unknown as Record<string, unknown>[];
  return rows
    .map((r) => ({
      tenant_id: q.group === 'model' ? null : (r.tenant_id as string),
      team_id: q.group === 'team' || q.group === 'agent' ? ((r.team_id as string | null) ?? null) : null,
      agent_id: q.group === 'agent' ? ((r.agent_id as string | null) ?? null) : null,
      model: q.group === 'model' ? ((r.model_resolved as string | null) ?? null) : null,
      requests: Number(r.requests),
      input_tokens: Number(r.input_tokens),
      output_tokens: Number(r.output_tokens),
      cost_usd: Number(r.cost_usd),
    }))
    .sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests);
}

export interface SpendGroupRow {
  tenant_id: string | null;
  team_id: string | null;
  agent_id: string | null;
  model: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}
