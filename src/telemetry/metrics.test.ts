import { describe, expect, it } from 'vitest';
import { GatewayMetrics, attemptResult, endpointLabel, type DeploymentState } from './metrics.js';
import { auditRecord, budgetBlocked, fallbackServed, streamCut } from '../../test/support/audit-fixtures.js';

/** Value of one series, by series name (`_bucket`/`_sum`/`_count` for histograms) and labels it must have. */
async function value(m: GatewayMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name) ?? m.registry.getSingleMetric(name.replace(/_(bucket|sum|count)$/, ''));
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const want = Object.entries(labels);
  const hit = values.find((v) => ((v as { metricName?: string }).metricName ?? name) === name && want.every(([k, x]) => String(v.labels[k]) === x));
  return hit?.value;
}

describe('GatewayMetrics', () => {
  it('counts an allowed request', async () => {
    const m = new GatewayMetrics({}, { defaultMetrics: false });
    m.observe(auditRecord());
    m.observe(auditRecord());
    const req = { tenant: 'acme', model: 'gpt-4o-mini', provider: 'openai', endpoint: '/v1/chat/completions', outcome: 'ALLOW', status: '200' };
    expect(await value(m, 'omega_requests_total', req)).toBe(2);
    expect(await value(m, 'omega_tokens_total', { tenant: 'acme', model: 'gpt-4o-mini', direction: 'input' })).toBe(260);
    expect(await value(m, 'omega_tokens_total', { tenant: 'acme', model: 'gpt-4o-mini', direction: 'output' })).toBe(160);
    expect(await value(m, 'omega_cost_usd_total', { tenant: 'acme', model: 'gpt-4o-mini' })).toBeCloseTo(0.000135, 12);
    expect(await value(m, 'omega_policy_outcomes_total', { tenant: 'acme', outcome: 'ALLOW' })).toBe(2);
    expect(await value(m, 'omega_upstream_attempts_total', { provider: 'openai', model: 'gpt-4o-mini', result: 'ok' })).toBe(2);
    expect(await value(m, 'omega_budget_utilization', { scope: 'tenant:acme' })).toBe(0.005);
    // 0.42 ms lands in the 0.5 ms bucket, not the 0.25 ms one.
    expect(await value(m, 'omega_gateway_overhead_seconds_bucket', { endpoint: '/v1/chat/completions', le: '0.00025' })).toBe(0);
    expect(await value(m, 'omega_gateway_overhead_seconds_bucket', { endpoint: '/v1/chat/completions', le: '0.0005' })).toBe(2);
    expect(await value(m, 'omega_upstream_latency_seconds_sum', { provider: 'openai', model: 'gpt-4o-mini' })).toBeCloseTo(0.841, 9);
    expect(await value(m, 'omega_risk_score_count')).toBe(2);
  });

  it('counts a budget refusal without upstream series', async () => {
    const m = new GatewayMetrics({}, { defaultMetrics: false });
    m.observe(budgetBlocked());
    expect(await value(m, 'omega_budget_refusals_total', { tenant: 'acme', scope: 'team:acme/research' })).toBe(1);
    expect(await value(m, 'omega_requests_total', { outcome: 'ALLOW', status: '429' })).toBe(1);
    expect(await value(m, 'omega_upstream_latency_seconds_count', { provider: 'openai', model: 'gpt-4o-mini' })).toBeUndefined();
    expect(await value(m, 'omega_tokens_total', { direction: 'input' })).toBeUndefined();
    expect(await value(m, 'omega_cost_usd_total')).toBeUndefined();
  });

  it('counts failed attempts and the fallback that served', async () => {
    const m = new GatewayMetrics({}, { defaultMetrics: false });
    m.observe(fallbackServed());
    expect(await value(m, 'omega_upstream_attempts_total', { provider: 'openai', model: 'gpt-4o-mini', result: 'server_error' })).toBe(2);
    expect(await value(m, 'omega_upstream_attempts_total', { provider: 'anthropic', model: 'claude-haiku', result: 'ok' })).toBe(1);
    expect(await value(m, 'omega_fallbacks_total', { from: 'gpt-4o-mini', to: 'claude-haiku' })).toBe(1);
    expect(await value(m, 'omega_requests_total', { model: 'claude-haiku', provider: 'anthropic', status: '200' })).toBe(1);
  });

  it('counts an interrupted stream by cause, and its time to first token', async () => {
    const m = new GatewayMetrics({}, { defaultMetrics: false });
    m.observe(streamCut());
    m.observe(auditRecord({ stream: true, stream_interrupted: true, client_disconnected: true, http_status: 499, time_to_first_token_ms: 200 }));
    expect(await value(m, 'omega_stream_interruptions_total', { reason: 'upstream' })).toBe(1);
    expect(await value(m, 'omega_stream_interruptions_total', { reason: 'client' })).toBe(1);
    expect(await value(m, 'omega_upstream_attempts_total', { result: 'invalid_response' })).toBe(1);
    expect(await value(m, 'omega_time_to_first_token_seconds_count', { provider: 'openai', model: 'gpt-4o-mini' })).toBe(2);
    expect(await value(m, 'omega_time_to_first_token_seconds_bucket', { provider: 'openai', model: 'gpt-4o-mini', le: '0.25' })).toBe(1);
  });

  it('keeps review holds and rate-limit waits out of the overhead', async () => {
    const m = new GatewayMetrics({}, { defaultMetrics: false });
    m.observe(auditRecord({ review_wait_ms: 5000, ratelimit_wait_ms: 40, gateway_overhead_ms: 5040.8 }));
    expect(await value(m, 'omega_gateway_overhead_seconds_sum', { endpoint: '/v1/chat/completions' })).toBeCloseTo(0.0008, 9);
  });

  it('never uses free text as a label', async () => {
    const m = new GatewayMetrics({}, { defaultMetrics: false });
    m.observe(auditRecord({ tenant_id: null, model_requested: 'whatever-the-client-typed', model_resolved: null, provider: null, endpoint: '/v1/../secret?x', policy_outcome: 'BLOCK', http_status: 401, attempts: 0, attempt_log: [], policy_name: null }));
    m.observe(auditRecord({ rate_limited: true, http_status: 429 }));
    const { body } = await m.render();
    expect(body).not.toContain('whatever-the-client-typed');
    expect(body).not.toContain('secret');
    expect(body).not.toContain('user-42');
    expect(body).toContain('omega_requests_total{tenant="",model="",provider="",endpoint="other",outcome="BLOCK",status="401"} 1');
    expect(body).toContain('omega_rate_limited_total{tenant="acme"} 1');
  });

  it('ignores strict mode decision records', async () => {
    const m = new GatewayMetrics({}, { defaultMetrics: false });
    m.observe({ ...auditRecord(), kind: 'decision' } as Parameters<GatewayMetrics['observe']>[0]);
    expect(await value(m, 'omega_requests_total')).toBeUndefined();
  });

  it('reads deployment, audit and review state at scrape time', async () => {
    let states: Record<string, DeploymentState> = {
      'openai/gpt-4o-mini': { circuit: 'open', in_flight: 0, queued: 0, opened: 3 },
      'anthropic/claude-3-5-haiku-latest': { circuit: 'half_open', in_flight: 2, queued: 5, opened: 1 },
    };
    let pending = 17;
    const m = new GatewayMetrics({ deploymentStates: () => states, auditQueueDepth: () => pending, reviewHeld: () => 2 });
    let { body, contentType } = await m.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('omega_circuit_state{deployment="openai/gpt-4o-mini"} 2');
    expect(body).toContain('omega_circuit_state{deployment="anthropic/claude-3-5-haiku-latest"} 1');
    expect(body).toContain('# TYPE omega_circuit_opened_total counter');
    expect(body).toContain('omega_circuit_opened_total{deployment="openai/gpt-4o-mini"} 3');
    expect(body).toContain('omega_deployment_in_flight{deployment="anthropic/claude-3-5-haiku-latest"} 2');
    expect(body).toContain('omega_deployment_queued{deployment="anthropic/claude-3-5-haiku-latest"} 5');
    expect(body).toContain('omega_audit_queue_depth 17');
    expect(body).toContain('omega_review_held 2');
    expect(body).toContain('omega_process_process_cpu_user_seconds_total');
    expect(body).toContain('omega_process_nodejs_eventloop_lag_seconds');

    states = { 'openai/gpt-4o-mini': { circuit: 'closed', in_flight: 1, queued: 0, opened: 3 } };
    pending = 0;
    ({ body } = await m.render());
    expect(body).toContain('omega_circuit_state{deployment="openai/gpt-4o-mini"} 0');
    expect(body).not.toContain('anthropic/claude-3-5-haiku-latest');
    expect(body).toContain('omega_audit_queue_depth 0');
  });

  it('keeps registries of two instances apart', async () => {
    const a = new GatewayMetrics();
    const b = new GatewayMetrics();
    a.observe(auditRecord());
    expect(await value(a, 'omega_requests_total')).toBe(1);
    expect(await value(b, 'omega_requests_total')).toBeUndefined();
  });

  it('maps endpoints and attempt results to small enums', () => {
    expect(endpointLabel('/v1/models/gpt-4o')).toBe('/v1/models/{model}');
    expect(endpointLabel('/v1/embeddings')).toBe('/v1/embeddings');
    expect(endpointLabel('/v1/completions')).toBe('other');
    expect(attemptResult(null, 'throttled locally (queue timeout)')).toBe('throttled');
    expect(attemptResult(null, 'connect ECONNREFUSED')).toBe('no_response');
    expect(attemptResult(429, 'rate limited')).toBe('rate_limited');
    expect(attemptResult(400, 'bad request')).toBe('client_error');
  });

  it('observes cheaply', () => {
    const m = new GatewayMetrics({}, { defaultMetrics: false });
    const records = [auditRecord(), budgetBlocked(), fallbackServed(), streamCut()];
    for (let i = 0; i < 20_000; i++) m.observe(records[i & 3]!); // warm up the JIT
    const n = 200_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) m.observe(records[i & 3]!);
    const meanUs = Number(process.hrtime.bigint() - t0) / n / 1000;
    console.log(`GatewayMetrics.observe: ${meanUs.toFixed(2)} µs mean over ${n} records (mix of 4 shapes)`);
  });
});
