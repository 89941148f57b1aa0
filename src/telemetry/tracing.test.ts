import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditRecord, budgetBlocked, fallbackServed } from '../../test/support/audit-fixtures.js';
import { createTracing, tracesUrl } from './tracing.js';

const SDK_MODULES = [
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/semantic-conventions',
];

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status?: { code?: number; message?: string };
  attributes: { key: string; value: OtlpValue }[];
}

function plain(v: OtlpValue): unknown {
  if (v.arrayValue) return v.arrayValue.values.map(plain);
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.stringValue ?? v.doubleValue ?? v.boolValue;
}
const attrs = (s: OtlpSpan) => Object.fromEntries(s.attributes.map((a) => [a.key, plain(a.value)]));

describe('tracing without an endpoint', () => {
  it('loads no SDK and does nothing', async () => {
    const loaded: string[] = [];
    for (const name of SDK_MODULES) vi.doMock(name, () => (loaded.push(name), {}));
    vi.resetModules();
    try {
      const fresh = await import('./tracing.js');
      const tracing = fresh.createTracing({ serviceName: 'omega-gateway', serviceVersion: '0.1.0' });
      expect(tracing.enabled).toBe(false);
      tracing.requestSpan(auditRecord(), 1, 2);
      await tracing.ready;
      await tracing.shutdown();
      expect(loaded).toEqual([]);

      // The same mocks do see an import when an endpoint is set (and a broken SDK stays harmless).
      const onError = vi.fn();
      const configured = fresh.createTracing({ otlpEndpoint: 'http://127.0.0.1:9', serviceName: 'x', serviceVersion: '1', onError });
      await configured.ready;
      expect(loaded.length).toBeGreaterThan(0);
      expect(onError).toHaveBeenCalledOnce();
      configured.requestSpan(auditRecord(), 1, 2);
      await configured.shutdown();
    } finally {
      for (const name of SDK_MODULES) vi.doUnmock(name);
      vi.resetModules();
    }
  });
});

describe('tracing to an OTLP/HTTP receiver', () => {
  let server: Server;
  let endpoint: string;
  const requests: { path: string; contentType: string; body: unknown }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        requests.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: JSON.parse(raw.toString('utf8')) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('exports one span per request with GenAI attributes, and a child per attempt', async () => {
    const tracing = createTracing({
      otlpEndpoint: endpoint,
      serviceName: 'omega-gateway',
      serviceVersion: '0.1.0',
      instanceId: 'host:1',
      headers: { authorization: 'Bearer collector-token' },
      providerTypes: { openai: 'openai', anthropic: 'anthropic' },
    });
    expect(tracing.enabled).toBe(true);
    const start = Date.UTC(2025, 0, 1);
    tracing.requestSpan(fallbackServed(), start, start + 1265.6); // before the SDK is ready: buffered
    await tracing.ready;
    tracing.requestSpan(budgetBlocked(), start, start + 1);
    tracing.requestSpan(auditRecord({ endpoint: '/v1/embeddings', model_resolved: 'text-embedding-3-small', output_tokens: null, finish_reason: null }), start, start + 50);
    tracing.requestSpan(auditRecord({ kind: 'decision' } as never), start, start + 1); // strict mode's early record: no span
    await tracing.shutdown();

    expect(requests.length).toBeGreaterThan(0);
    expect(requests[0]!.path).toBe('/v1/traces');
    expect(requests[0]!.contentType).toContain('application/json');
    type Body = { resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
    const bodies = requests.map((r) => r.body as Body);
    const spans = bodies.flatMap((b) => b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    const resource = Object.fromEntries(bodies[0]!.resourceSpans[0]!.resource.attributes.map((a) => [a.key, plain(a.value)]));
    expect(resource).toMatchObject({ 'service.name': 'omega-gateway', 'service.version': '0.1.0', 'service.instance.id': 'host:1' });

    const chat = spans.find((s) => s.name === 'chat claude-haiku')!;
    expect(chat).toBeDefined();
    expect(chat.kind).toBe(2); // SERVER
    expect(BigInt(chat.startTimeUnixNano)).toBe(BigInt(start) * 1_000_000n);
    expect(attrs(chat)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.system': 'anthropic',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'claude-3-5-haiku-latest',
      'gen_ai.request.max_tokens': 256,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 1,
      'gen_ai.usage.input_tokens': 140,
      'gen_ai.usage.output_tokens': 90,
      'gen_ai.response.finish_reasons': ['stop'],
      'omega.decision_id': 'dec_0123456789abcdef0123456789abcdef',
      'omega.tenant': 'acme',
      'omega.policy_outcome': 'ALLOW',
      'omega.risk_score': 0.15,
      'omega.cost_usd': 0.00042,
      'http.response.status_code': 200,
    });
    const all = JSON.stringify(spans);
    expect(all).not.toContain('user-42'); // end_user
    expect(all).not.toContain('10.0.0.1'); // client_ip
    expect(all).not.toContain('overloaded'); // upstream error text

    const attempts = spans.filter((s) => s.parentSpanId === chat.spanId).sort((a, b) => attrs(a)['omega.attempt'] as number - (attrs(b)['omega.attempt'] as number));
    expect(attempts.map((s) => s.name)).toEqual(['upstream openai/gpt-4o-mini-2024-07-18', 'upstream openai/gpt-4o-mini-2024-07-18', 'upstream anthropic/claude-3-5-haiku-latest']);
    expect(attempts.every((s) => s.traceId === chat.traceId && s.kind === 3)).toBe(true); // CLIENT
    expect(attrs(attempts[0]!)).toMatchObject({ 'http.response.status_code': 503, 'error.type': 'server_error' });
    expect(attempts[0]!.status?.code).toBe(2); // ERROR
    expect(BigInt(attempts[2]!.endTimeUnixNano)).toBe(BigInt(chat.endTimeUnixNano));

    const refused = spans.find((s) => s.name === 'chat gpt-4o-mini')!;
    expect(attrs(refused)).toMatchObject({ 'http.response.status_code': 429, 'error.type': 'budget_exceeded', 'omega.budget_scope_hit': 'team:acme/research' });
    expect(refused.status).toMatchObject({ code: 2, message: 'budget_exceeded' });
    expect(spans.filter((s) => s.parentSpanId === refused.spanId)).toEqual([]);

    const embed = spans.find((s) => s.name === 'embeddings text-embedding-3-small')!;
    expect(attrs(embed)['gen_ai.operation.name']).toBe('embeddings');
    expect(spans).toHaveLength(4 + 1 + 2); // fallback (3 attempts), refusal (none), embeddings (1)
  });

  it('appends /v1/traces to a collector base URL only', () => {
    expect(tracesUrl('http://otel:4318')).toBe('http://otel:4318/v1/traces');
    expect(tracesUrl('http://otel:4318/')).toBe('http://otel:4318/v1/traces');
    expect(tracesUrl('https://x.example/otlp/v1/traces')).toBe('https://x.example/otlp/v1/traces');
  });
});
