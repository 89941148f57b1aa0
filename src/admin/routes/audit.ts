/**
 * The audit trail: search (filters on indexed columns, newest first, cursor pages), one record
 * with every signal, chain verification, and exports (JSON lines or CSV) streamed page by page,
 * never held in memory. Admins and auditors; a tenant-scoped principal sees its tenant's chain.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { AdminModule } from '../api.js';
import { listTenant, notFound } from '../principal.js';
import { Cursor, defineRoute, READERS, TimeParam } from '../route.js';
import { csvHeader, csvLine, exportAudit, queryAudit } from '../../audit/query.js';
import { verifyAudit } from '../../audit/verify.js';
import { GatewayError } from '../../errors.js';
import type { AuditFilter } from '../../store/types.js';

const KINDS = ['request', 'admin', 'decision', 'cost', 'retention'] as const;
const Kind = z.enum([...KINDS, 'all']).default('request').describe('`request` (finished requests, default), `admin` (admin events), `decision`/`cost` (strict mode), `retention`, or `all`.');

const Record_ = z.record(z.string(), z.unknown()).describe('An audit record (docs/audit-signals.md) or admin event, with its `seq`, `chain_seq` and `record_hash`.');

const kindsOf = (kind: z.infer<typeof Kind>): string[] | undefined => (kind === 'all' ? [...KINDS] : [kind]);

export const auditRoutes: AdminModule = (router, deps) => {
  router.add(
    defineRoute({
      method: 'GET',
      path: '/audit',
      tag: 'audit',
      summary: 'Search the audit trail.',
      description: 'Newest first. `q` matches a substring of the decision id, endpoint, model, team, agent, key id or error code.',
      roles: READERS,
      query: z.object({
        tenant: z.string().min(1).optional(),
        team: z.string().min(1).optional(),
        agent: z.string().min(1).optional(),
        model: z.string().min(1).optional().describe('Requested or resolved model name.'),
        outcome: z.enum(['allow', 'review', 'block', 'ALLOW', 'REVIEW', 'BLOCK']).optional(),
        kind: Kind,
        risk_min: z.coerce.number().min(0).max(1).optional(),
        risk_max: z.coerce.number().min(0).max(1).optional(),
        from: TimeParam.optional(),
        to: TimeParam.optional(),
        q: z.string().min(1).max(200).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Records per page (1–1000).'),
        cursor: Cursor,
      }),
      response: z.object({ object: z.literal('list'), data: z.array(Record_), next_cursor: z.string().nullable() }),
      handler: async ({ principal, query }) => {
        const filter: AuditFilter = {
          tenantId: listTenant(principal, query.tenant),
          teamId: query.team,
          agentId: query.agent,
          model: query.model,
          outcome: query.outcome?.toUpperCase(),
          riskMin: query.risk_min,
          riskMax: query.risk_max,
          since: query.from,
          until: query.to,
          kinds: kindsOf(query.kind),
          text: query.q,
          limit: query.limit,
          cursor: query.cursor,
        };
        await deps.audit.flush();
        try {
          const page = await queryAudit(deps.stores.auditQuery, filter);
          return { object: 'list' as const, data: page.data as unknown as Record<string, unknown>[], next_cursor: page.next_cursor };
        } catch (err) {
          if (/cursor/i.test((err as Error).message)) throw new GatewayError('invalid_request', 'cursor is not a cursor this API returned.', { param: 'cursor' });
          throw err;
        }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/audit/verify',
      tag: 'audit',
      summary: 'Verify the audit trail\'s hash chains.',
      description: 'Every chain (or one tenant\'s), checked record by record: the first broken link of each is named. A tenant-scoped principal verifies its tenant\'s chain.',
      roles: READERS,
      query: z.object({ tenant: z.string().min(1).optional() }),
      response: z.object({
        ok: z.boolean(),
        chains: z.array(z.object({ chain: z.string(), records: z.number(), head_seq: z.number(), head_hash: z.string(), broken: z.object({ chain: z.string(), chain_seq: z.number(), decision_id: z.string(), reason: z.string() }).nullable() })),
      }),
      handler: async ({ principal, query }) => {
        await deps.audit.flush();
        const verdicts = await verifyAudit(deps.stores.auditQuery, listTenant(principal, query.tenant));
        return { ok: verdicts.every((v) => !v.broken), chains: verdicts };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/audit/export',
      tag: 'audit',
      summary: 'Export audit records (JSON lines or CSV).',
      description: 'Oldest first, streamed page by page from the store. CSV columns are the first record\'s fields (export one `kind` at a time for uniform columns); text cells a spreadsheet would run as formulas are prefixed with a quote.',
      roles: READERS,
      query: z.object({
        format: z.enum(['jsonl', 'csv']).default('jsonl'),
        tenant: z.string().min(1).optional(),
        kind: Kind,
        from: TimeParam.optional(),
        to: TimeParam.optional(),
      }),
      stream: { contentType: 'application/x-ndjson' },
      handler: async ({ principal, query, reply }) => {
        const tenantId = listTenant(principal, query.tenant);
        await deps.audit.flush();
        const records = exportAudit(deps.stores.auditQuery, { tenantId, since: query.from, until: query.to, kinds: kindsOf(query.kind) });
        const csv = query.format === 'csv';
        async function* lines(): AsyncGenerator<string> {
          let fields: string[] | undefined;
          for await (const record of records) {
            const r = record as unknown as Record<string, unknown>;
            if (!csv) {
              yield JSON.stringify(r) + '\n';
              continue;
            }
            if (!fields) {
              fields = Object.keys(r);
              yield csvHeader(fields) + '\n';
            }
            yield csvLine(r, fields) + '\n';
          }
        }
        const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '');
        reply
          .type(csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
          .header('content-disposition', `attachment; filename="omega-audit-${stamp}.${csv ? 'csv' : 'jsonl'}"`)
          .header('cache-control', 'no-store');
        // A Readable over the pages: Fastify pipes it with backpressure.
        await reply.send(Readable.from(lines(), { objectMode: false }));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/audit/:decision_id',
      tag: 'audit',
      summary: 'Get one audit record with every signal.',
      description: 'The request\'s final record (or, for a request a crash left unfinished, its newest strict-mode row), or an admin event by its id; `rows` lists every row stored under the id.',
      roles: READERS,
      params: z.object({ decision_id: z.string().min(1).max(200) }),
      response: z.object({ record: Record_, rows: z.array(z.object({ kind: z.string(), seq: z.number(), chain_seq: z.number(), record_hash: z.string() })) }),
      handler: async ({ principal, params }) => {
        await deps.audit.flush();
        const tenantId = principal.tenant ?? undefined;
        const page = await queryAudit(deps.stores.auditQuery, { decisionId: params.decision_id, kinds: [...KINDS], tenantId, limit: 10 });
        if (page.data.length === 0) throw notFound(`audit record "${params.decision_id}"`);
        const rank = (kind: string) => ['request', 'admin', 'cost', 'decision', 'retention'].indexOf(kind);
        const best = [...page.data].sort((a, b) => rank(a.kind) - rank(b.kind) || b.seq - a.seq)[0]!;
        return { record: best as unknown as Record<string, unknown>, rows: page.data.map((r) => ({ kind: r.kind, seq: r.seq, chain_seq: r.chain_seq, record_hash: r.record_hash })) };
      },
    }),
  );
};
