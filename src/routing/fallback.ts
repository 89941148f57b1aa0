/**
 * Retries and fallback. A request walks its chain — the requested model, then its fallbacks —
 * and on each model tries up to 1 + `retries` times, across the model's deployments in
 * balancer order, skipping open circuits and deployments that stay throttled past their queue
 * timeout. Only 429, 5xx, timeouts, connection errors and invalid responses move on; any other
 * client error is final (a context-length error goes to `context_fallback` when one is set).
 * Each attempt is recorded on the context for the audit.
 */
import type { RoutingConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ModelRoute, ResolvedRoute, RouteTable } from '../pipeline/select-route.js';
import { backoffDelay } from './backoff.js';
import { sleep } from './traffic-shaper.js';

export interface AttemptRecord {
  model: string;
  deployment: string;
  status: number | null;
  error: string | null;
  latency_ms: number;
}

/** Errors after which another attempt may succeed. */
const RETRYABLE = new Set(['upstream_timeout', 'upstream_unreachable', 'upstream_invalid_response', 'upstream_error', 'upstream_rate_limited']);
/** Errors that say the deployment is unhealthy (429 is throttling, not ill health). */
const UNHEALTHY = new Set(['upstream_timeout', 'upstream_unreachable', 'upstream_invalid_response', 'upstream_error']);

/** Orders a model's deployments for one request: weighted random first pick, or least busy. */
function orderDeployments(model: ModelRoute, random = Math.random): ModelRoute['deployments'][number][] {
  const list = [...model.deployments];
  if (list.length < 2) return list;
  if (model.balance === 'least-busy') return list.sort((a, b) => a.deployment.shaper.inFlight - b.deployment.shaper.inFlight);
  const total = list.reduce((s, d) => s + d.weight, 0);
  let pick = random() * total;
  const first = list.findIndex((d) => (pick -= d.weight) < 0);
  const [chosen] = list.splice(first < 0 ? list.length - 1 : first, 1);
  return [chosen!, ...list.sort((a, b) => b.weight - a.weight)];
}

export async function withFallback<T>(
  ctx: RequestContext,
  chain: readonly ModelRoute[],
  routes: RouteTable,
  routing: RoutingConfig,
  signal: AbortSignal,
  attempt: (route: ResolvedRoute) => Promise<T>,
): Promise<T> {
  let lastError: GatewayError | undefined;
  const queue = [...chain];
  const visited = new Set<string>();
  const estimatedTokens = ctx.inputTokensEstimated + (ctx.facts?.maxTokens ?? 0);
  for (let m = 0; m < queue.length && ctx.attempts < routing.max_attempts; m++) {
    const model = queue[m]!;
    if (visited.has(model.publicModel)) continue;
    visited.add(model.publicModel);
    ctx.fallbackChain.push(model.publicModel);
    const order = orderDeployments(model);
    for (let tries = 0; tries <= model.retries && ctx.attempts < routing.max_attempts; tries++) {
      const candidate = nextAvailable(order, tries);
      if (!candidate) {
        lastError ??= new GatewayError('upstream_unreachable', `Every deployment of "${model.publicModel}" is failing (circuit open); try again shortly.`);
        break;
      }
      const { deployment, target } = candidate;
      const route: ResolvedRoute = { publicModel: model.publicModel, model, price: model.price, adapter: deployment.adapter, target, deployment };
      ctx.route = route;
      // The common case (capacity free) takes no await; only a full deployment queues.
      const acquired =
        deployment.shaper.tryAcquireNow(estimatedTokens) ||
        (await deployment.shaper.acquire(estimatedTokens, signal).catch((err: unknown) => {
          deployment.breaker.onAbandoned();
          throw err;
        }));
      if (!acquired) {
        deployment.breaker.onAbandoned();
        lastError = new GatewayError('upstream_rate_limited', `Deployment "${deployment.id}" is at its configured capacity; the request waited for capacity in vain.`);
        ctx.attemptLog.push({ model: model.publicModel, deployment: deployment.id, status: null, error: 'throttled locally (queue timeout)', latency_ms: 0 });
        continue;
      }
      const started = performance.now();
      const statusBefore = ctx.attempts;
      try {
        const result = await attempt(route);
        deployment.breaker.onSuccess();
        ctx.attemptLog.push({ model: model.publicModel, deployment: deployment.id, status: ctx.upstreamStatus, error: null, latency_ms: round(performance.now() - started) });
        return result;
      } catch (err) {
        const gw = err instanceof GatewayError ? err : new GatewayError('internal_error', 'internal error', { cause: err });
        if (ctx.clientDisconnected) throw gw;
        if (ctx.attempts === statusBefore) deployment.breaker.onAbandoned();
        else if (UNHEALTHY.has(gw.code)) deployment.breaker.onFailure();
        else deployment.breaker.onSuccess();
        ctx.attemptLog.push({ model: model.publicModel, deployment: deployment.id, status: ctx.upstreamStatus, error: gw.message, latency_ms: round(performance.now() - started) });
        lastError = gw;
        if (gw.code === 'context_length_exceeded' && model.contextFallback) {
          const larger = routes.model(model.contextFallback);
          if (larger && !larger.unavailable) queue.splice(m + 1, 0, larger);
          break;
        }
        if (!RETRYABLE.has(gw.code)) throw gw;
        const retryAfter = gw.headers?.['retry-after'];
        const delay = backoffDelay(tries, routing.initial_backoff, routing.max_backoff, retryAfter);
        if (delay > routing.max_backoff) break; // the provider asks for longer than we wait: next model
        const more = tries < model.retries || m + 1 < queue.length;
        if (more && ctx.attempts < routing.max_attempts) await sleep(delay, signal);
      } finally {
        deployment.shaper.release();
      }
    }
  }
  throw lastError ?? new GatewayError('upstream_unreachable', 'No deployment could serve the request.');
}

/** The `tries`-th deployment in order (wrapping around), skipping those whose circuit refuses traffic. */
function nextAvailable(order: ModelRoute['deployments'][number][], tries: number): ModelRoute['deployments'][number] | undefined {
  for (let i = 0; i < order.length; i++) {
    const candidate = order[(tries + i) % order.length]!;
    if (candidate.deployment.breaker.tryAcquire()) return candidate;
  }
  return undefined;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
