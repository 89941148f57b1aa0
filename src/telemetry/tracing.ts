/**
 * OpenTelemetry traces: one span per request, built after the fact from its audit record, so the
 * request path never waits on tracing (the batch processor exports in the background and drops
 * spans when its queue is full). Without an OTLP endpoint nothing is loaded and every call is a
 * no-op; with one, the SDK is imported lazily. The provider is deliberately not registered as
 * the global one: several gateways in a process keep separate pipelines.
 *
 * Attributes follow the OpenTelemetry GenAI semantic conventions. Prompts, completions, keys,
 * end users and upstream error messages never become attributes: only ids, numbers and enums.
 */
// Types only: the API package itself (~9 MB) is loaded with the SDK, only when tracing is configured.
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { AuditRecord } from '../audit/record.js';
import { attemptResult, endpointLabel } from './metrics.js';

export interface TracingOptions {
  /** OTLP/HTTP endpoint: a collector base URL (`/v1/traces` is appended) or the full traces URL. */
  otlpEndpoint?: string;
  serviceName: string;
  serviceVersion: string;
  /** Extra exporter headers (collector auth); the OTEL_EXPORTER_OTLP_HEADERS env var also applies. */
  headers?: Record<string, string>;
  /** Provider name → provider type (`config.providers[name].type`), for `gen_ai.provider.name`. */
  providerTypes?: Record<string, string>;
  /** `service.instance.id`, e.g. the audit's `gateway_instance`. */
  instanceId?: string;
  /** Told when the SDK fails to load; tracing then stays a no-op. */
  onError?: (err: unknown) => void;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Settles once the SDK is loaded (at once when disabled); never rejects. */
  readonly ready: Promise<void>;
  /** Records the span of a finished request (times in ms since the epoch). */
  requestSpan(record: AuditRecord, startTimeMs: number, endTimeMs: number): void;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** Well-known `gen_ai.provider.name` values by gateway provider type; others use the provider's name. */
const GEN_AI_PROVIDER: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  cohere: 'cohere',
  'azure-openai': 'azure.ai.openai',
};

/** Spans recorded while the SDK is still loading, replayed once it is. */
const MAX_EARLY_SPANS = 1024;

const NOOP: Tracing = {
  enabled: false,
  ready: Promise.resolve(),
  requestSpan() {},
  shutdown: async () => {},
};

export function createTracing(options: TracingOptions): Tracing {
  if (!options.otlpEndpoint) return NOOP;
  const endpoint = tracesUrl(options.otlpEndpoint);
  let tracer: Tracer | undefined;
  let provider: { shutdown(): Promise<void> } | undefined;
  let early: [AuditRecord, number, number][] | undefined = [];
  let stopped = false;

  const ready = loadSdk(options, endpoint).then(
    (sdk) => {
      provider = sdk.provider;
      tracer = sdk.tracer;
      for (const [r, s, e] of early ?? []) recordRequest(tracer, r, s, e, options.providerTypes);
      early = undefined;
    },
    (err: unknown) => {
      early = undefined;
      options.onError?.(err);
    },
  );

  return {
    enabled: true,
    ready,
    requestSpan(record, startTimeMs, endTimeMs) {
      if (stopped) return;
      if (tracer) recordRequest(tracer, record, startTimeMs, endTimeMs, options.providerTypes);
      else if (early && early.length < MAX_EARLY_SPANS) early.push([record, startTimeMs, endTimeMs]);
    },
    async shutdown() {
      await ready;
      stopped = true;
      await provider?.shutdown();
    },
  };
}

/** The exporter wants the full URL; OTEL convention configures the collector's base URL. */
export function tracesUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return trimmed.endsWith('/v1/traces') ? trimmed : `${trimmed}/v1/traces`;
}

/** The OpenTelemetry API, once a tracer exists (spans are only recorded then). */
let otel: typeof import('@opentelemetry/api') | undefined;

async function loadSdk(options: TracingOptions, url: string): Promise<{ tracer: Tracer; provider: { shutdown(): Promise<void> } }> {
  const [api, { NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, semconv] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const resource = resourceFromAttributes({
    [semconv.ATTR_SERVICE_NAME]: options.serviceName,
    [semconv.ATTR_SERVICE_VERSION]: options.serviceVersion,
    ...(options.instanceId ? { 'service.instance.id': options.instanceId } : {}),
  });
  otel = api;
  const exporter = new OTLPTraceExporter({ url, headers: options.headers });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  return { provider, tracer: provider.getTracer('omega-gateway', options.serviceVersion) };
}

function operationOf(endpoint: string): 'chat' | 'embeddings' | undefined {
  if (endpoint === '/v1/chat/completions') return 'chat';
  if (endpoint === '/v1/embeddings') return 'embeddings';
  return undefined;
}

function recordRequest(tracer: Tracer, r: AuditRecord, startMs: number, endMs: number, providerTypes: Record<string, string> | undefined): void {
  const { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = otel!;
  if ((r as { kind?: string }).kind === 'decision') return; // strict mode's pre-forwarding record
  const op = operationOf(r.endpoint);
  const route = endpointLabel(r.endpoint);
  const name = op ? (r.model_resolved ? `${op} ${r.model_resolved}` : op) : `${r.method} ${route}`;
  const attributes: Attributes = {
    'omega.decision_id': r.decision_id,
    'omega.request_id': r.request_id,
    'omega.policy_outcome': r.policy_outcome,
    'omega.risk_score': r.risk_score,
    'omega.cost_usd': r.cost_usd,
    'omega.attempts': r.attempts,
    'omega.fallback_used': r.fallback_used,
    'omega.stream': r.stream,
    'http.request.method': r.method,
    'http.response.status_code': r.http_status,
  };
  if (route !== 'other') attributes['http.route'] = route;
  set(attributes, 'omega.tenant', r.tenant_id);
  set(attributes, 'omega.team', r.team_id);
  set(attributes, 'omega.agent', r.agent_id);
  set(attributes, 'omega.provider', r.provider);
  set(attributes, 'omega.deployment', r.deployment);
  set(attributes, 'omega.policy_name', r.policy_name);
  set(attributes, 'omega.budget_scope_hit', r.budget_scope_hit);
  set(attributes, 'omega.review_id', r.review_id);
  if (r.rate_limited) attributes['omega.rate_limited'] = true;
  if (r.stream_interrupted) attributes['omega.stream_interrupted'] = true;
  if (op) {
    attributes['gen_ai.operation.name'] = op;
    if (r.provider) {
      const type = providerTypes?.[r.provider];
      const system = (type && GEN_AI_PROVIDER[type]) || r.provider;
      attributes['gen_ai.provider.name'] = system;
      attributes['gen_ai.system'] = system; // the pre-1.37 name, still read by many backends
    }
    set(attributes, 'gen_ai.request.model', r.model_requested?.slice(0, 128) ?? null);
    set(attributes, 'gen_ai.response.model', r.upstream_model);
    set(attributes, 'gen_ai.request.max_tokens', r.max_tokens);
    set(attributes, 'gen_ai.request.temperature', r.temperature);
    set(attributes, 'gen_ai.request.top_p', r.top_p);
    set(attributes, 'gen_ai.usage.input_tokens', r.input_tokens);
    set(attributes, 'gen_ai.usage.output_tokens', r.output_tokens);
    if (r.finish_reason) attributes['gen_ai.response.finish_reasons'] = [r.finish_reason];
  }
  const failed = r.http_status >= 500 || r.error_code !== null;
  if (failed) attributes['error.type'] = r.error_code ?? String(r.http_status);

  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: startMs, attributes }, ROOT_CONTEXT);
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: r.error_code ?? undefined });
  recordAttempts(tracer, span, r, startMs, endMs);
  span.end(endMs);
}

/**
 * One CLIENT child span per upstream attempt. The log has each attempt's duration but not its
 * start, so attempts are laid end to end back from the request's end: durations are exact,
 * offsets approximate (backoff pauses show up before the first attempt).
 */
function recordAttempts(tracer: Tracer, parent: Span, r: AuditRecord, startMs: number, endMs: number): void {
  const log = r.attempt_log;
  if (log.length === 0) return;
  const { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = otel!;
  const ctx = trace.setSpan(ROOT_CONTEXT, parent);
  let cursor = endMs;
  for (let i = log.length - 1; i >= 0; i--) {
    const a = log[i]!;
    const attemptEnd = cursor;
    const attemptStart = Math.max(startMs, attemptEnd - a.latency_ms);
    cursor = attemptStart;
    const attributes: Attributes = { 'omega.attempt': i + 1, 'omega.deployment': a.deployment, 'omega.model': a.model };
    if (a.status !== null) attributes['http.response.status_code'] = a.status;
    if (a.error !== null) attributes['error.type'] = attemptResult(a.status, a.error);
    const child = tracer.startSpan(`upstream ${a.deployment}`, { kind: SpanKind.CLIENT, startTime: attemptStart, attributes }, ctx);
    if (a.error !== null) child.setStatus({ code: SpanStatusCode.ERROR });
    child.end(attemptEnd);
  }
}

function set(attributes: Attributes, key: string, value: string | number | null): void {
  if (value !== null) attributes[key] = value;
}
