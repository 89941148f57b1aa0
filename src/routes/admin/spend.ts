/** Admin API: spend per tenant / team / agent / model per day, budgets' state and alerts. */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../../app.js';
import { parseSince, spendReport } from '../../audit/spend.js';
import { GatewayError } from '../../errors.js';

export function spendRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  app.get<{ Querystring: { tenant?: string; since?: string } }>('/spend', async (request) => {
    let since: number;
    try {
      since = parseSince(request.query.since ?? '7d');
    } catch (err) {
      throw new GatewayError('invalid_request', (err as Error).message, { param: 'since' });
    }
    await deps.audit.flush();
    const rows = await spendReport(deps.stores.auditQuery, { tenantId: request.query.tenant, since, timeZone: deps.config.budgets.timezone });
    return { object: 'list', since: new Date(since).toISOString(), timezone: deps.config.budgets.timezone, data: rows };
  });

  app.get<{ Querystring: { tenant?: string } }>('/alerts', async (request) => ({ object: 'list', data: deps.alerts.recent(request.query.tenant) }));
}
