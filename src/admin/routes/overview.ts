/** GET /admin/v1/overview: requests, outcomes, errors, cost and latency over time, aggregated in SQL from the audit trail. */
import { z } from 'zod';
import type { AdminModule } from '../api.js';
import { listTenant } from '../principal.js';
import { defineRoute, READERS } from '../route.js';

/** Each window's bucket size: 12, 24 and 28 points. */
export const OVERVIEW_WINDOWS = {
  '1h': { span: 3_600_000, bucket: 5 * 60_000 },
  '24h': { span: 86_400_000, bucket: 3_600_000 },
  '7d': { span: 7 * 86_400_000, bucket: 6 * 3_600_000 },
} as const;

const Counts = { requests: z.number(), allow: z.number(), review: z.number(), block: z.number(), errors: z.number().describe('Failed for another reason than a policy block or a reviewer\'s rejection.'), cost_usd: z.number() };

export const overviewRoutes: AdminModule = (router, deps) => {
  router.add(
    defineRoute({
      method: 'GET',
      path: '/overview',
      tag: 'overview',
      summary: 'Show requests, outcomes, cost and latency over time.',
      description: 'Finished requests in the window, in buckets (1h: 5 min, 24h: 1 h, 7d: 6 h; empty buckets included), aligned to the bucket size in UTC. Latency percentiles are of total request time.',
      roles: READERS,
      query: z.object({ window: z.enum(['1h', '24h', '7d']).default('24h'), tenant: z.string().min(1).optional() }),
      response: z.object({
        window: z.string(),
        buckets: z.array(z.object({ start: z.string(), ...Counts, latency_p50_ms: z.number().nullable(), latency_p95_ms: z.number().nullable() })),
        totals: z.object(Counts),
      }),
      handler: async ({ principal, query }) => {
        const tenantId = listTenant(principal, query.tenant);
        const { span, bucket } = OVERVIEW_WINDOWS[query.window];
        const now = Date.now();
        const first = Math.floor((now - span) / bucket) * bucket + bucket;
        await deps.audit.flush();
        const rows = await deps.stores.auditQuery.overview({ since: first, until: now + 1, bucketMs: bucket, tenantId });
        const byStart = new Map(rows.map((r) => [r.bucket, r]));
        const buckets = [];
        const totals = { requests: 0, allow: 0, review: 0, block: 0, errors: 0, cost_usd: 0 };
        for (let start = first; start <= now; start += bucket) {
          const r = byStart.get(start);
          const b = { start: new Date(start).toISOString(), requests: r?.requests ?? 0, allow: r?.allow ?? 0, review: r?.review ?? 0, block: r?.block ?? 0, errors: r?.errors ?? 0, cost_usd: r?.cost_usd ?? 0, latency_p50_ms: r?.latency_p50_ms ?? null, latency_p95_ms: r?.latency_p95_ms ?? null };
          for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += b[k];
          buckets.push(b);
        }
        return { window: query.window, buckets, totals };
      },
    }),
  );
};
