/**
 * The edge's bookkeeping of refusals: the brute-force throttle shared by /v1 keys, admin tokens
 * and /metrics, and the audit sampling of unauthenticated refusals (counted in full, audited by
 * sample). Built once per app; its sampler's summaries are written when the app closes.
 */
import type { FastifyRequest } from 'fastify';
import type { GatewayDeps } from '../app.js';
import { GatewayError } from '../errors.js';
import { auditRequest } from '../pipeline/audit.js';
import type { RequestContext } from '../pipeline/context.js';
import { AuthThrottle } from './auth-throttle.js';
import { RefusalSampler } from './refusal-sampler.js';
import { contextOf } from './request-context.js';

export class EdgeGuard {
  readonly throttle: AuthThrottle;
  private readonly sampler: RefusalSampler;

  constructor(private readonly deps: GatewayDeps) {
    const t = deps.config.server.auth_throttle;
    this.throttle = new AuthThrottle({ maxFailures: t.max_failures, windowMs: t.window, blockMs: t.block, keyPrefixLength: t.key_prefix_length, maxTracked: t.max_tracked });
    this.sampler = new RefusalSampler({ sample: t.audit_sample, intervalMs: t.audit_interval, maxTracked: t.max_tracked }, (ctx) => auditRequest(ctx, deps));
  }

  /**
   * Audits a finished request: in full when it was authenticated, else as a counted, sampled
   * refusal. Exactly once per context either way.
   */
  audit(ctx: RequestContext): void {
    if (ctx.audited) return;
    if (ctx.principal) return auditRequest(ctx, this.deps);
    this.deps.metrics.refusal(ctx.error?.code ?? 'unknown');
    this.sampler.record(ctx);
  }

  /**
   * The admin-token check (admin API, /metrics): throttled like API keys. Returns the token's
   * actor, or throws 401/429 with the request's context set, so the refusal is rendered and
   * audited like any other.
   */
  admin(request: FastifyRequest, actorOf: (authorization: string | undefined) => string | null, disabledMessage?: string): string {
    const authorization = request.headers.authorization;
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    const prefix = this.throttle.prefixOf(presented);
    try {
      this.throttle.check(request.ip, prefix);
      const actor = actorOf(authorization);
      if (actor) return actor;
      this.throttle.fail(request.ip, prefix);
      throw new GatewayError('invalid_api_key', disabledMessage ?? 'Missing or incorrect admin token.');
    } catch (err) {
      request.ctx ??= contextOf(request);
      throw err;
    }
  }

  close(): void {
    this.sampler.close();
  }
}
