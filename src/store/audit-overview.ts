/**
 * The admin overview's time series, aggregated in SQL (portable: SQLite and PostgreSQL run the
 * same statements): per bucket, finished requests by policy outcome, errors, cost, and the
 * latency median and 95th percentile (window functions: the first row, in latency order, at or
 * past the percentile's rank).
 */
import { sql, type Kysely } from 'kysely';
import type { AuditRecordsTable } from './sqlite/database.js';

export interface OverviewQuery {
  since: number;
  until: number;
  bucketMs: number;
  tenantId?: string;
}

export interface OverviewRow {
  bucket: number;
  requests: number;
  allow: number;
  review: number;
  block: number;
  errors: number;
  cost_usd: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
}

type Db = Kysely<{ audit_records: AuditRecordsTable }>;

/** Finished requests (kind `request`) in [since, until), optionally of one tenant. */
function finished(db: Db, q: OverviewQuery) {
  let query = db.selectFrom('audit_records').where('kind', '=', 'request').where('received_at', '>=', q.since).where('received_at', '<', q.until);
  if (q.tenantId !== undefined) query = query.where('tenant_id', '=', q.tenantId);
  return query;
}

export async function overviewBuckets(db: Db, q: OverviewQuery): Promise<OverviewRow[]> {
  const size = sql.lit(Math.floor(q.bucketMs));
  const bucket = sql<number>`(received_at / ${size}) * ${size}`;
  // Errors: requests that failed for a reason other than a policy block or a reviewer's rejection.
  const counts = await finished(db, q)
    .select([
      bucket.as('bucket'),
      sql<number>`count(*)`.as('requests'),
      sql<number>`sum(case when policy_outcome = 'ALLOW' then 1 else 0 end)`.as('allow'),
      sql<number>`sum(case when policy_outcome = 'REVIEW' then 1 else 0 end)`.as('review'),
      sql<number>`sum(case when policy_outcome = 'BLOCK' then 1 else 0 end)`.as('block'),
      sql<number>`sum(case when http_status >= 400 and policy_outcome <> 'BLOCK' and (error_code is null or error_code <> 'review_rejected') then 1 else 0 end)`.as('errors'),
      sql<number>`coalesce(sum(cost_usd), 0)`.as('cost_usd'),
    ])
    .groupBy(sql`1`)
    .execute();
  const ranked = finished(db, q)
    .where('total_latency_ms', 'is not', null)
    .select([
      bucket.as('bucket'),
      'total_latency_ms',
      sql<number>`row_number() over (partition by (received_at / ${size}) order by total_latency_ms)`.as('rn'),
      sql<number>`count(*) over (partition by (received_at / ${size}))`.as('n'),
    ]);
  const percentiles = await db
    .selectFrom(ranked.as('r'))
    .select([
      'r.bucket',
      sql<number | null>`min(case when r.rn * 100 >= r.n * 50 then r.total_latency_ms end)`.as('p50'),
      sql<number | null>`min(case when r.rn * 100 >= r.n * 95 then r.total_latency_ms end)`.as('p95'),
    ])
    .groupBy('r.bucket')
    .execute();
  const latency = new Map(percentiles.map((p) => [Number(p.bucket), p]));
  return counts.map((c) => {
    const l = latency.get(Number(c.bucket));
    return {
      bucket: Number(c.bucket),
      requests: Number(c.requests),
      allow: Number(c.allow),
      review: Number(c.review),
      block: Number(c.block),
      errors: Number(c.errors),
      cost_usd: Number(c.cost_usd),
      latency_p50_ms: l?.p50 == null ? null : Number(l.p50),
      latency_p95_ms: l?.p95 == null ? null : Number(l.p95),
    };
  });
}
