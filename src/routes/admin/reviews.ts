/** Admin API: the review queue. The token's id is recorded as the reviewer. */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../../app.js';
import { recordAdminEvent } from '../../admin/events.js';
import { GatewayError } from '../../errors.js';
import type { ReviewStatus } from '../../review/types.js';

const STATUSES = new Set(['pending', 'approved', 'rejected', 'expired', 'abandoned', 'failed']);

export function reviewRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  app.get<{ Querystring: { status?: string; tenant?: string; limit?: string; before?: string } }>('/reviews', async (request) => {
    const { status, tenant, limit, before } = request.query;
    if (status && !STATUSES.has(status)) throw new GatewayError('invalid_request', `status must be one of ${[...STATUSES].join(', ')}.`, { param: 'status' });
    // Checked here: a non-number reached the SQL LIMIT as NaN (500), and a negative one meant "no limit" to SQLite.
    if (limit !== undefined && !/^[1-9]\d{0,5}$/.test(limit)) throw new GatewayError('invalid_request', 'limit must be a positive whole number (at most 500 items are returned).', { param: 'limit' });
    const items = await deps.reviews.store.list({ status: status as ReviewStatus | undefined, tenantId: tenant, limit: limit ? Number(limit) : undefined, before });
    return { object: 'list', data: items, next_cursor: items.length > 0 ? items.at(-1)!.id : null };
  });

  app.get<{ Params: { id: string } }>('/reviews/:id', async (request) => {
    const item = await deps.reviews.store.get(request.params.id);
    if (!item) throw new GatewayError('unknown_endpoint', `No review item "${request.params.id}".`);
    return item;
  });

  for (const [verb, decision] of [['approve', 'approved'], ['reject', 'rejected']] as const) {
    app.post<{ Params: { id: string }; Body: { reason?: unknown } | undefined }>(`/reviews/:id/${verb}`, async (request, reply) => {
      const reason = request.body?.reason;
      if (reason !== undefined && typeof reason !== 'string') throw new GatewayError('invalid_request', 'reason must be a string.', { param: 'reason' });
      const item = await deps.reviews.decide(request.params.id, decision, request.adminActor!, reason ?? null);
      if (item) {
        await recordAdminEvent(deps, request.admin, { action: `review.${verb}`, target: { type: 'review', id: item.id }, tenant: item.tenantId, team: item.teamId, agent: item.agentId, before: { status: 'pending' }, after: { status: item.status, reviewer: item.reviewer, decision_id: item.decisionId }, reason: item.reason });
        return item;
      }
      const existing = await deps.reviews.store.get(request.params.id);
      if (!existing) throw new GatewayError('unknown_endpoint', `No review item "${request.params.id}".`);
      reply.code(409);
      return { error: { message: `Review ${existing.id} is already ${existing.status}.`, type: 'invalid_request_error', param: null, code: 'review_already_decided' }, item: existing };
    });
  }
}
