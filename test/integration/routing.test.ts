/** Fault tests: retries, fallback chains, circuit breaking and balancing, seen through the SDK and the audit. */
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';

let a: FakeOpenAI;
let b: FakeOpenAI;
let gw: TestGateway;

const ADMIN = 'admin-token-for-routing-tests-0123456789';
const config = (aUrl: string, bUrl: string) => `
server: { upstream_timeout: 300ms }
admin: { tokens: [ { id: ops, token: "${ADMIN}" } ] }
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
routing: { initial_backoff: 10ms, max_backoff: 200ms }
providers:
  a: { type: openai, base_url: "${aUrl}/v1", api_key: sk-upstream-test-key-123, circuit_breaker: { failures: 3, min_requests: 1000, cooldown: 400ms } }
  b: { type: openai, base_url: "${bUrl}/v1", api_key: sk-upstream-test-key-123 }
models:
  primary: { provider: a, retries: 1, fallbacks: [secondary], context_fallback: long, price: { input: 1, output: 1 } }
  secondary: { provider: b, retries: 0, price: { input: 2, output: 2 } }
  long: { provider: b, model: long-context, retries: 0 }
  balanced: { deployments: [ { provider: a, model: m-a, weight: 1 }, { provider: b, model: m-b, weight: 1 } ], retries: 1 }
  busy: { balance: least-busy, deployments: [ { provider: a, model: busy-a }, { provider: b, model: busy-b } ] }
  lonely: { provider: a, retries: 0 }
tenants:
  acme:
    teams: { t: { agents: { bot: { keys: [ { id: k, key: "${TENANT_KEY}" } ] } } } }
`;

beforeAll(async () => {
  a = await startFakeOpenAI();
  b = await startFakeOpenAI();
  gw = await startTestGateway(config(a.url, b.url));
});
afterEach(() => {
  a.setFault(null);
  b.setFault(null);
});
afterAll(async () => {
  await gw?.stop();
  await a?.close();
  await b?.close();
});

async function ask(model: string, content = 'hello', stream = false) {
  const client = gw.client();
  if (stream) {
    const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content }], stream: true }).withResponse();
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    return { text, headers: response.headers, record: await gw.auditRecord(response.headers.get('x-omega-decision-id')!) };
  }
  const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
  return { text: data.choices[0]!.message.content, headers: response.headers, record: await gw.auditRecord(response.headers.get('x-omega-decision-id')!) };
}

const count = (f: FakeOpenAI) => f.requests.length;

describe('retries and fallback', () => {
  it.each([
    ['HTTP 500', '[error:500]'],
    ['HTTP 503', '[error:503]'],
    ['a timeout', '[slow:1000]'],
    ['a connection reset', '[reset]'],
    ['a non-JSON body', '[nonjson]'],
  ])('retries the model once, then falls back to the next model on %s', async (_name, fault) => {
    a.setFault(fault);
    const [aBefore, bBefore] = [count(a), count(b)];
    const res = await ask('primary');
    expect(res.text).toBe('Echo: hello');
    expect(res.headers.get('x-omega-model')).toBe('secondary');
    expect(count(a) - aBefore).toBe(2);
    expect(count(b) - bBefore).toBe(1);
    expect(b.requests.at(-1)!.body.model).toBe('secondary');
    expect(res.record).toMatchObject({ attempts: 3, fallback_used: true, fallback_chain: ['primary', 'secondary'], model_requested: 'primary', model_resolved: 'secondary', deployment: 'b/secondary', http_status: 200 });
    expect(res.record!.attempt_log.map((x) => [x.model, x.deployment, x.error === null])).toEqual([
      ['primary', 'a/primary', false],
      ['primary', 'a/primary', false],
      ['secondary', 'b/secondary', true],
    ]);
    // The cost is the serving model's.
    expect(res.record!.price_input_per_mtok).toBe(2);
    // Give the circuit of `a` a clean slate for the next case.
    a.setFault(null);
    await ask('primary');
  });

  it('moves on at once on 429 when Retry-After is longer than max_backoff', async () => {
    a.setFault('[error:429]'); // the fake says Retry-After: 1 (s); max_backoff is 200ms
    const started = Date.now();
    const res = await ask('primary');
    expect(Date.now() - started).toBeLessThan(900);
    expect(res.record!.attempts).toBe(2);
    expect(res.record!.attempt_log[0]!.status).toBe(429);
  });

  it('never retries or falls back on an ordinary client error', async () => {
    a.setFault('[error:400]');
    const before = count(b);
    const err = await gw.client().chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(count(b)).toBe(before);
    const record = await gw.auditRecord(err.headers.get('x-omega-decision-id'));
    expect(record).toMatchObject({ attempts: 1, fallback_used: false, error_code: 'upstream_rejected' });
  });

  it('sends a context-length refusal to the larger-context model', async () => {
    a.setFault('[context]');
    const res = await ask('primary');
    expect(res.headers.get('x-omega-model')).toBe('long');
    expect(b.requests.at(-1)!.body.model).toBe('long-context');
    expect(res.record!.fallback_chain).toEqual(['primary', 'long']);
  });

  it('falls back for a stream only before the first byte, and the stream is whole', async () => {
    a.setFault('[error:502]');
    const res = await ask('primary', 'stream this', true);
    expect(res.text).toBe('Echo: stream this');
    expect(res.headers.get('x-omega-model')).toBe('secondary');
    expect(res.record).toMatchObject({ stream: true, attempts: 3, fallback_used: true });
    a.setFault(null);
    await ask('primary'); // a success resets a's consecutive-failure count
  });

  it('answers with the last error when the whole chain fails', async () => {
    a.setFault('[error:500]');
    b.setFault('[error:500]');
    const err = await gw.client().chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err.status).toBe(502);
    const record = await gw.auditRecord(err.headers.get('x-omega-decision-id'));
    expect(record).toMatchObject({ attempts: 3, error_code: 'upstream_error' });
    b.setFault(null);
    a.setFault(null);
    await ask('lonely'); // closes a's circuit again
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures, skips the deployment, shows it in /readyz, and recovers through a probe', async () => {
    a.setFault('[error:500]');
    for (let i = 0; i < 3; i++) await gw.client().chat.completions.create({ model: 'lonely', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
    // The detail of /readyz needs an admin token; without one it is the status alone.
    expect(await (await request(`${gw.url}/readyz`)).body.json()).toEqual({ status: 'ready' });
    const ready = (await (await request(`${gw.url}/readyz`, { headers: { authorization: `Bearer ${ADMIN}` } })).body.json()) as { deployments: Record<string, { circuit: string }> };
    expect(ready.deployments['a/lonely']!.circuit).toBe('open');

    const before = count(a);
    const err = await gw.client().chat.completions.create({ model: 'lonely', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err.status).toBe(502);
    expect(err.error.message).toMatch(/circuit open/);
    expect(count(a)).toBe(before); // skipped: nothing was sent

    a.setFault(null);
    await new Promise((r) => setTimeout(r, 450)); // cooldown 400ms → half-open
    const res = await ask('lonely');
    expect(res.text).toBe('Echo: hello');
    expect(res.record!.circuit_state).toBe('closed');
  });
});

describe('balancing', () => {
  it('spreads a weighted model over its deployments, each with its own upstream model name', async () => {
    const before = { a: count(a), b: count(b) };
    for (let i = 0; i < 40; i++) await ask('balanced');
    const toA = count(a) - before.a;
    const toB = count(b) - before.b;
    expect(toA + toB).toBe(40);
    expect(toA).toBeGreaterThan(5);
    expect(toB).toBeGreaterThan(5);
    expect(a.requests.at(-1)!.body.model).toBe('m-a');
  });

  it('retries on the other deployment of the same model first', async () => {
    a.setFault('[error:500]');
    for (let i = 0; i < 6; i++) {
      const res = await ask('balanced');
      expect(res.text).toBe('Echo: hello');
      expect(res.record!.fallback_used).toBe(false);
    }
  });

  it('sends least-busy traffic to the idle deployment', async () => {
    a.setFault('[slow:150]');
    const slow = ask('busy'); // both idle: lands on the first deployment, a, which is slow
    await new Promise((r) => setTimeout(r, 20));
    const res = await ask('busy');
    const first = await slow;
    expect(first.record!.deployment).toBe('a/busy-a');
    expect(res.record!.deployment).toBe('b/busy-b');
  });
});

describe('traffic shaping', () => {
  it('queues a burst over a deployment’s concurrency cap instead of failing it', async () => {
    const shaped = await startTestGateway(
      config(a.url, b.url).replace('b: { type: openai, base_url: "' + b.url + '/v1", api_key: sk-upstream-test-key-123 }', `b: { type: openai, base_url: "${b.url}/v1", api_key: sk-upstream-test-key-123, limits: { concurrency: 2, queue_timeout: 2s } }`),
    );
    try {
      b.setFault('[slow:100]');
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 6 }, () => shaped.client().chat.completions.create({ model: 'secondary', messages: [{ role: 'user', content: 'q' }] })),
      );
      const elapsed = Date.now() - started;
      expect(results).toHaveLength(6);
      expect(elapsed).toBeGreaterThanOrEqual(290); // 3 waves of 2 × 100 ms
    } finally {
      await shaped.stop();
    }
  });
});

describe('auth header variants', () => {
  it('accepts the Azure-style api-key header too', async () => {
    const res = await request(`${gw.url}/v1/models`, { headers: { 'api-key': TENANT_KEY } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });
});
