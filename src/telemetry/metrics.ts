/**
 * Prometheus metrics, fed by one audit record per request plus a few gauges read at scrape time.
 * Each instance owns its registry so tests and several gateways in one process never collide.
 * Label values come from configuration (tenants, models, providers, budget scopes) or small
 * enums; free text (errors, end users, requested model names, raw paths) never becomes a label.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditRecord } from '../audit/record.js';

export interface DeploymentState {
  circuit: string;
  in_flight: number;
  queued: number;
  opened: number;
}

/** Read at scrape time; each is optional so metrics work before the rest is wired. */
export interface MetricsSources {
  /** `RouteTable.deploymentStates()`. */
  deploymentStates?: () => Record<string, DeploymentState>;
  /** `AuditWriter.pending`. */
  auditQueueDepth?: () => number;
  /** `ReviewQueue.held`. */
  reviewHeld?: () => number;
  /** Concerns running degraded (1) or not (0), e.g. `{ counters: 1 }` while Redis is away. */
  degraded?: () => Record<string, number>;
  /** Back ends answering (1) or not (0), e.g. `{ postgres: 1, redis: 0 }`. */
  backendsUp?: () => Record<string, number>;
  /** Degraded decisions so far (they only grow). */
  degradedDecisions?: () => { concern: string; decision: string; count: number }[];
  /** `AuditWriter.spooled`. */
  auditSpooled?: () => number;
  /** Redis round trips of the shared counters so far (quotas and budgets). */
  redisRoundTrips?: () => number;
}

export interface GatewayMetricsOptions {
  /** Node process metrics (`omega_process_*`); off in benchmarks that create many instances. */
  defaultMetrics?: boolean;
}

/** Sub-millisecond resolution where the gateway's own work lives. */
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30];
const RISK_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

const CIRCUIT_VALUE: Record<string, number> = { closed: 0, half_open: 1, open: 2 };

/** Fixed endpoint labels: the raw path is client-chosen (any /v1/* reaches the audit). */
export function endpointLabel(path: string): string {
  switch (path) {
    case '/v1/chat/completions':
    case '/v1/embeddings':
    case '/v1/models':
      return path;
    default:
      return path.startsWith('/v1/models/') ? '/v1/models/{model}' : 'other';
  }
}

/** Outcome of one upstream attempt, as a small enum. */
export function attemptResult(status: number | null, error: string | null): string {
  if (error === null) return 'ok';
  if (status === null) return error.startsWith('throttled locally') ? 'throttled' : 'no_response';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'client_error';
  return 'invalid_response'; // a 2xx that failed anyway: unreadable body or a cut stream
}

export class GatewayMetrics {
  readonly registry = new Registry();

  private readonly requests: Counter<'tenant' | 'model' | 'provider' | 'endpoint' | 'outcome' | 'status'>;
  private readonly overhead: Histogram<'endpoint'>;
  private readonly upstreamLatency: Histogram<'provider' | 'model'>;
  private readonly ttft: Histogram<'provider' | 'model'>;
  private readonly tokens: Counter<'tenant' | 'model' | 'direction'>;
  private readonly cost: Counter<'tenant' | 'model'>;
  private readonly policyOutcomes: Counter<'tenant' | 'outcome'>;
  private readonly risk: Histogram<string>;
  private readonly rateLimited: Counter<'tenant'>;
  private readonly budgetRefusals: Counter<'tenant' | 'scope'>;
  private readonly budgetUtilization: Gauge<'scope'>;
  private readonly attempts: Counter<'provider' | 'model' | 'result'>;
  private readonly fallbacks: Counter<'from' | 'to'>;
  private readonly interruptions: Counter<'reason'>;
  private readonly refusals: Counter<'code'>;
  /** deployment id → provider name (ids are `provider/upstream-model`; names contain no '/'). */
  private readonly providerOf = new Map<string, string>();

  constructor(sources: MetricsSources = {}, options: GatewayMetricsOptions = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'omega_requests_total',
      help: 'Requests to /v1/*, by tenant, resolved model, provider, endpoint, policy outcome and HTTP status sent.',
      labelNames: ['tenant', 'model', 'provider', 'endpoint', 'outcome', 'status'],
      registers,
    });
    this.overhead = new Histogram({
      name: 'omega_gateway_overhead_seconds',
      help: 'Time spent in the gateway itself (total minus upstream, review hold and rate-limit wait).',
      labelNames: ['endpoint'],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.upstreamLatency = new Histogram({
      name: 'omega_upstream_latency_seconds',
      help: 'Time spent waiting on the provider per request, all attempts included.',
      labelNames: ['provider', 'model'],
      buckets: UPSTREAM_BUCKETS,
      registers,
    });
    this.ttft = new Histogram({
      name: 'omega_time_to_first_token_seconds',
      help: 'Arrival to first content delta forwarded, streams only.',
      labelNames: ['provider', 'model'],
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.tokens = new Counter({ name: 'omega_tokens_total', help: 'Tokens used, provider-reported or estimated.', labelNames: ['tenant', 'model', 'direction'], registers });
    this.cost = new Counter({ name: 'omega_cost_usd_total', help: 'Actual cost in USD.', labelNames: ['tenant', 'model'], registers });
    this.policyOutcomes = new Counter({ name: 'omega_policy_outcomes_total', help: 'Policy decisions (ALLOW, REVIEW, BLOCK).', labelNames: ['tenant', 'outcome'], registers });
    this.risk = new Histogram({ name: 'omega_risk_score', help: 'Risk score of requests a policy evaluated.', buckets: RISK_BUCKETS, registers });
    this.rateLimited = new Counter({ name: 'omega_rate_limited_total', help: 'Requests refused by a rate quota.', labelNames: ['tenant'], registers });
    this.budgetRefusals = new Counter({ name: 'omega_budget_refusals_total', help: 'Requests refused by a budget, by the scope that refused.', labelNames: ['tenant', 'scope'], registers });
    this.budgetUtilization = new Gauge({ name: 'omega_budget_utilization', help: 'Spent / limit per budget scope, as of the last settled request.', labelNames: ['scope'], registers });
    this.attempts = new Counter({
      name: 'omega_upstream_attempts_total',
      help: 'Upstream attempts (retries and fallbacks included) by result: ok, rate_limited, server_error, client_error, no_response, throttled, invalid_response.',
      labelNames: ['provider', 'model', 'result'],
      registers,
    });
    this.fallbacks = new Counter({ name: 'omega_fallbacks_total', help: 'Requests served by a fallback model.', labelNames: ['from', 'to'], registers });
    this.interruptions = new Counter({ name: 'omega_stream_interruptions_total', help: 'Streams that ended early, by who ended them.', labelNames: ['reason'], registers });
    this.refusals = new Counter({
      name: 'omega_auth_refusals_total',
      help: 'Unauthenticated requests refused (bad or missing key or admin token, throttled, unknown path, malformed request), by error code; all are counted, only a sample is audited.',
      labelNames: ['code'],
      registers,
    });

    this.registerScrapeGauges(sources, registers);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'omega_process_' });
  }

  /** Counts one refusal of an unauthenticated request (the code is a catalog code, a bounded set). */
  refusal(code: string): void {
    this.refusals.inc({ code });
  }

  /** Updates every per-request series from one record; cheap enough for the event loop. */
  observe(r: AuditRecord): void {
    // Strict mode's pre-forwarding record is followed by the request's own: count only that one.
    if ((r as { kind?: string }).kind === 'decision') return;
    const tenant = r.tenant_id ?? '';
    const model = r.model_resolved ?? '';
    const provider = r.provider ?? '';
    const endpoint = endpointLabel(r.endpoint);
    const outcome = r.policy_outcome;

    this.requests.inc({ tenant, model, provider, endpoint, outcome, status: r.http_status });
    const waited = (r.review_wait_ms ?? 0) + r.ratelimit_wait_ms;
    this.overhead.observe({ endpoint }, Math.max(0, r.gateway_overhead_ms - waited) / 1000);
    if (r.attempts > 0) this.upstreamLatency.observe({ provider, model }, r.upstream_latency_ms / 1000);
    if (r.time_to_first_token_ms !== null) this.ttft.observe({ provider, model }, r.time_to_first_token_ms / 1000);

    if (r.input_tokens) this.tokens.inc({ tenant, model, direction: 'input' }, r.input_tokens);
    if (r.output_tokens) this.tokens.inc({ tenant, model, direction: 'output' }, r.output_tokens);
    if (r.cost_usd > 0) this.cost.inc({ tenant, model }, r.cost_usd);

    this.policyOutcomes.inc({ tenant, outcome });
    if (r.policy_name !== null) this.risk.observe(r.risk_score);
    if (r.rate_limited) this.rateLimited.inc({ tenant });
    if (r.budget_scope_hit !== null) this.budgetRefusals.inc({ tenant, scope: r.budget_scope_hit });
    const util = r.budget_utilization;
    if (util) for (const scope in util) this.budgetUtilization.set({ scope }, util[scope]!);

    const log = r.attempt_log;
    for (let i = 0; i < log.length; i++) {
      const a = log[i]!;
      this.attempts.inc({ provider: this.provider(a.deployment), model: a.model, result: attemptResult(a.status, a.error) });
    }
    if (r.fallback_used && r.fallback_chain.length > 0 && r.model_resolved !== null) {
      this.fallbacks.inc({ from: r.fallback_chain[0]!, to: r.model_resolved });
    }
    if (r.stream_interrupted) this.interruptions.inc({ reason: r.client_disconnected ? 'client' : r.error_code === 'shutting_down' ? 'shutdown' : 'upstream' });
  }

  /** Prometheus text exposition of this gateway's registry. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private provider(deployment: string): string {
    let name = this.providerOf.get(deployment);
    if (name === undefined) {
      const slash = deployment.indexOf('/');
      name = slash < 0 ? deployment : deployment.slice(0, slash);
      this.providerOf.set(deployment, name);
    }
    return name;
  }

  /** Gauges computed from live state on each scrape; reset first so removed deployments vanish. */
  private registerScrapeGauges(sources: MetricsSources, registers: Registry[]): void {
    const states = sources.deploymentStates;
    const gauge = (name: string, help: string, value: (s: DeploymentState) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['deployment'],
        registers,
        collect(this: Gauge<'deployment'>) {
          this.reset();
          const all = states?.() ?? {};
          for (const deployment in all) this.set({ deployment }, value(all[deployment]!));
        },
      });
    gauge('omega_circuit_state', 'Circuit breaker state per deployment: 0 closed, 1 half_open, 2 open.', (s) => CIRCUIT_VALUE[s.circuit] ?? 2);
    gauge('omega_deployment_in_flight', 'Requests in flight to a deployment.', (s) => s.in_flight);
    gauge('omega_deployment_queued', 'Requests waiting for capacity of a deployment.', (s) => s.queued);
    // A counter, since the breaker's count only grows: rate() and increase() apply.
    new Counter({
      name: 'omega_circuit_opened_total',
      help: 'Times the circuit of a deployment opened since start.',
      labelNames: ['deployment'],
      registers,
      collect(this: Counter<'deployment'>) {
        this.reset();
        const all = states?.() ?? {};
        for (const deployment in all) this.inc({ deployment }, all[deployment]!.opened);
      },
    });

    new Gauge({
      name: 'omega_degraded',
      help: 'Whether a concern runs degraded (1): concern="counters" while Redis is unreachable, concern="storage" while the database is.',
      labelNames: ['concern'],
      registers,
      collect(this: Gauge<'concern'>) {
        this.reset();
        const all = sources.degraded?.() ?? {};
        for (const concern in all) this.set({ concern }, all[concern]!);
      },
    });

    new Gauge({
      name: 'omega_backend_up',
      help: 'Whether a back end answers (1) or the gateway runs degraded without it (0): backend="postgres" or "sqlite" (storage), "redis" (counters).',
      labelNames: ['backend'],
      registers,
      collect(this: Gauge<'backend'>) {
        this.reset();
        const all = sources.backendsUp?.() ?? {};
        for (const backend in all) this.set({ backend }, all[backend]!);
      },
    });
    // A counter read from the degraded modes' own tallies (they only grow).
    new Counter({
      name: 'omega_degraded_decisions_total',
      help: 'Requests a degraded mode decided on while a back end was unreachable, by concern (keys, audit, responses: storage.on_unavailable; counters: redis.on_unavailable) and decision (served, refused).',
      labelNames: ['concern', 'decision'],
      registers,
      collect(this: Counter<'concern' | 'decision'>) {
        this.reset();
        for (const d of sources.degradedDecisions?.() ?? []) this.inc({ concern: d.concern, decision: d.decision }, d.count);
      },
    });

    if (sources.redisRoundTrips) {
      const read = sources.redisRoundTrips;
      new Counter({
        name: 'omega_redis_round_trips_total',
        help: 'Redis round trips for rate quotas and budgets (admission, settlement, script loads); divided by omega_requests_total it is the round trips per request (2 with quotas and budgets: admit, settle).',
        registers,
        collect(this: Counter) {
          this.reset();
          this.inc(read());
        },
      });
    }

    const single = (name: string, help: string, read: (() => number) | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          this.set(read ? read() : 0);
        },
      });
    single('omega_audit_queue_depth', 'Audit records queued and not yet committed.', sources.auditQueueDepth);
    single('omega_review_held', 'Requests held for review by this process.', sources.reviewHeld);
    single('omega_audit_spooled', 'Audit records in the spool file, waiting for the store to take them again.', sources.auditSpooled);
  }
}
