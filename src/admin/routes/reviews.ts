/**
 * The review queue: list and read items (the request as forwarded, redacted per policy, with
 * its risk breakdown, matched rules and tool call), approve or reject with a reason (recorded
 * as an admin event), and a live feed (SSE) of items created and decided on any replica.
 * Reviewers and admins decide; auditors may read. A tenant-scoped principal sees its tenant only.
 */
import { z } from 'zod';
import type { AdminModule } from '../api.js';
import { recordAdminEvent } from '../events.js';
import { assertVisible, listTenant, notFound } from '../principal.js';
import { Cursor, defineRoute, Limit, listOf } from '../route.js';
import { GatewayError } from '../../errors.js';
import type { ReviewItem } from '../../review/types.js';
import { ReviewFeed } from '../review-feed.js';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'abandoned', 'failed'] as const;
const READ = ['admin', 'reviewer', 'auditor'] as const;
const DECIDE = ['admin', 'reviewer'] as const;

export const ReviewView = z.object({
  id: z.string(),
  decision_id: z.string().describe('The audit record of the request (GET /audit/{decision_id}).'),
  status: z.enum(STATUSES),
  mode: z.enum(['hold', 'flag']).describe('hold: the request waits for the decision; flag: it went through and is only recorded.'),
  tenant: z.string(),
  team: z.string(),
  agent: z.string(),
  key_id: z.string(),
  model: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable().describe('hold mode: when `on_timeout` applies.'),
  on_timeout: z.enum(['allow', 'block']),
  risk: z.object({ score: z.number(), factors: z.array(z.unknown()).describe('Each factor: `{factor, signal, weight, contribution}`.') }),
  matched_rules: z.array(z.unknown()),
  policy: z.object({ name: z.string().nullable(), version: z.string().nullable() }),
  request: z.unknown().describe('The request as forwarded (the policy\'s redactions applied).'),
  tool_call: z.object({ name: z.string(), arguments: z.unknown() }).nullable().describe('The tool call under review: an MCP tools/call, or the last tool call in the conversation.'),
  decided_at: z.string().nullable(),
  reviewer: z.string().nullable(),
  reason: z.string().nullable(),
});
export type ReviewView = z.infer<typeof ReviewView>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The tool call a reviewer judges: an MCP `tools/call`, else the newest assistant tool call in the messages. */
function toolCallOf(request: unknown): ReviewView['tool_call'] {
  if (!request || typeof request !== 'object') return null;
  const r = request as Record<string, any>;
  if (r.method === 'tools/call' && r.params && typeof r.params.name === 'string') return { name: r.params.name, arguments: r.params.arguments ?? null };
  if (typeof r.tool === 'string') return { name: r.tool, arguments: r.arguments ?? r.args ?? null };
  const messages = Array.isArray(r.messages) ? r.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const calls = messages[i]?.tool_calls;
    if (Array.isArray(calls) && calls.length > 0) {
      const last = calls.at(-1);
      return { name: String(last?.function?.name ?? last?.name ?? ''), arguments: last?.function?.arguments ?? last?.arguments ?? null };
    }
    const blocks = Array.isArray(messages[i]?.content) ? messages[i].content : [];
    const use = blocks.findLast?.((b: any) => b?.type === 'tool_use');
    if (use) return { name: String(use.name ?? ''), arguments: use.input ?? null };
  }
  return null;
}

export function reviewView(item: ReviewItem): ReviewView {
  return {
    id: item.id,
    decision_id: item.decisionId,
    status: item.status,
    mode: item.mode,
    tenant: item.tenantId,
    team: item.teamId,
    agent: item.agentId,
    key_id: item.keyId,
    model: item.model,
    created_at: new Date(item.createdAt).toISOString(),
    expires_at: iso(item.expiresAt),
    on_timeout: item.onTimeout,
    risk: { score: item.riskScore, factors: item.riskFactors },
    matched_rules: item.matchedRules,
    policy: { name: item.policyName, version: item.policyVersion },
    request: item.request,
    tool_call: toolCallOf(item.request),
    decided_at: iso(item.decidedAt),
    reviewer: item.reviewer,
    reason: item.reason,
  };
}

const IdParams = z.object({ id: z.string().min(1).max(200) });

export const reviewRoutes: AdminModule = (router, deps) => {
  const feed = new ReviewFeed(deps.reviews.store, deps.signals, deps.logger);
  router.onClose(() => feed.close());

  const visibleItem = async (principal: Parameters<typeof assertVisible>[0], id: string) => {
    const item = await deps.reviews.store.get(id);
    if (!item) throw notFound(`review item "${id}"`);
    assertVisible(principal, item.tenantId, `review item "${id}"`);
    return item;
  };

  router.add(
    defineRoute({
      method: 'GET',
      path: '/reviews',
      tag: 'reviews',
      summary: 'List review items.',
      description: 'Newest first. A tenant-scoped principal sees only its tenant\'s items.',
      roles: READ,
      query: z.object({
        status: z.enum(STATUSES).optional(),
        tenant: z.string().min(1).optional(),
        limit: Limit,
        cursor: Cursor,
      }),
      response: listOf(ReviewView),
      handler: async ({ principal, query }) => {
        const tenantId = listTenant(principal, query.tenant);
        const items = await deps.reviews.store.list({ status: query.status, tenantId, limit: query.limit + 1, before: query.cursor });
        const page = items.slice(0, query.limit);
        return { object: 'list' as const, data: page.map(reviewView), next_cursor: items.length > query.limit ? page.at(-1)!.id : null };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/reviews/events',
      tag: 'reviews',
      summary: 'Follow review items as they are created and decided (server-sent events).',
      description:
        'An `text/event-stream` of `review.created` and `review.decided` events whose `data` is the item (as GET /reviews/{id}), from every replica (through the signal bus). A comment line is sent every 15 s to keep proxies from closing the stream. Scoped to the principal\'s tenant.',
      roles: READ,
      stream: { contentType: 'text/event-stream' },
      handler: async ({ principal, request, reply }) => {
        await feed.follow(principal, request, reply);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/reviews/:id',
      tag: 'reviews',
      summary: 'Get a review item.',
      roles: READ,
      params: IdParams,
      response: ReviewView,
      handler: async ({ principal, params }) => reviewView(await visibleItem(principal, params.id)),
    }),
    ...(['approve', 'reject'] as const).map((verb) =>
      defineRoute({
        method: 'POST',
        path: `/reviews/:id/${verb}`,
        tag: 'reviews',
        summary: verb === 'approve' ? 'Approve a review item.' : 'Reject a review item.',
        description: `A held request is ${verb === 'approve' ? 'forwarded' : 'refused (403 review_rejected)'} at once, on whichever replica holds it. Recorded as an admin event (\`review.${verb}\`). 409 \`review_already_decided\` when the item is no longer pending.`,
        roles: DECIDE,
        params: IdParams,
        body: z.object({ reason: z.string().max(2000).optional().describe('Why; shown to the client on a rejection and kept in the audit trail.') }).strict(),
        response: ReviewView,
        handler: async ({ principal, params, body }) => {
          const pending = await visibleItem(principal, params.id);
          const decided = await deps.reviews.decide(params.id, verb === 'approve' ? 'approved' : 'rejected', principal.id, body.reason ?? null);
          if (!decided) {
            const now = (await deps.reviews.store.get(params.id)) ?? pending;
            throw new GatewayError('review_already_decided', `Review ${now.id} is already ${now.status}${now.reviewer ? ` (by ${now.reviewer})` : ''}.`);
          }
          await recordAdminEvent(deps, principal, {
            action: `review.${verb}`,
            target: { type: 'review', id: decided.id },
            tenant: decided.tenantId,
            team: decided.teamId,
            agent: decided.agentId,
            before: { status: pending.status },
            after: { status: decided.status, reviewer: decided.reviewer, decision_id: decided.decisionId },
            reason: decided.reason,
          });
          return reviewView(decided);
        },
      }),
    ),
  );
};
