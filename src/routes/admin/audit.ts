/** Admin API: search the audit trail (filters, cursor pagination) and verify its chains. */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../../app.js';
import { queryAudit, type AuditFilter } from '../../audit/query.js';
import { parseSince } from '../../audit/spend.js';
import { verifyAudit } from '../../audit/verify.js';
import { GatewayError } from '../../errors.js';

type Query = Record<'tenant' | 'team' | 'agent' | 'model' | 'outcome' | 'risk_min' | 'risk_max' | 'since' | 'until' | 'decision_id' | 'limit' | 'cursor' | 'all_kinds', string | undefined>;

export function auditRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  app.get<{ Querystring: Query }>('/audit', async (request) => {
    const q = request.query;
    const num = (name: keyof Query) => {
      const v = q[name];
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new GatewayError('invalid_request', `${name} must be a number.`, { param: name });
      return n;
    };
    const time = (name: 'since' | 'until') => {
      const v = q[name];
      if (v === undefined) return undefined;
      try {
        return parseSince(v);
      } catch (err) {
        throw new GatewayError('invalid_request', (err as Error).message, { param: name });
      }
    };
    const filter: AuditFilter = {
      tenantId: q.tenant,
      teamId: q.team,
      agentId: q.agent,
      model: q.model,
      outcome: q.outcome?.toUpperCase(),
      riskMin: num('risk_min'),
      riskMax: num('risk_max'),
      since: time('since'),
      until: time('until'),
      decisionId: q.decision_id,
      allKinds: q.all_kinds === 'true',
      limit: num('limit'),
      cursor: q.cursor,
    };
    await deps.audit.flush();
    try {
      const page = await queryAudit(deps.stores.auditQuery, filter);
      return { object: 'list', ...page };
    } catch (err) {
      // Only a malformed cursor is the caller's fault; a store that is down stays a 503.
      if (err instanceof GatewayError || !/cursor/i.test((err as Error).message)) throw err;
      throw new GatewayError('invalid_request', (err as Error).message, { param: 'cursor' });
    }
  });

  app.get<{ Querystring: { tenant?: string } }>('/audit/verify', async (request) => {
    await deps.audit.flush();
    const verdicts = await verifyAudit(deps.stores.auditQuery, request.query.tenant);
    return { ok: verdicts.every((v) => !v.broken), chains: verdicts };
  });
}
