/**
 * Issue 10 item 7 (inputs and numbers): deep nesting and huge arrays are a 400 naming the
 * field, not a 500; output-token parameters are bounded by the model's maximum output (or a
 * documented cap when the model's limit is unknown); `n` is bounded.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { MAX_ARRAY_LENGTH, MAX_JSON_DEPTH } from '../../src/surfaces/input-bounds.js';
import { MAX_OUTPUT_TOKENS_CAP } from '../../src/surfaces/input-bounds.js';

const KEY = 'omk_test_bounds_key_0123456789abcdef';

function config(upstreamBaseUrl: string): string {
  return `
server:
  upstream_timeout: 2s
  body_limit: 2mb
storage:
  url: sqlite://\${DATA_DIR}/omega.db
audit:
  flush_interval: 20ms
providers:
  fake-openai: { type: openai, base_url: "${upstreamBaseUrl}", api_key: "${FAKE_UPSTREAM_KEY}", circuit_breaker: { enabled: false } }
models:
  small-out: { provider: fake-openai, model: gpt-upstream, retries: 0, max_output_tokens: 1000, price: { input: 1, output: 1 } }
  unknown-out: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 1, output: 1 } }
  embed-test: { provider: fake-openai, embeddings: true, price: { input: 0.1, output: 0 } }
tenants:
  acme:
    models: [small-out, unknown-out, embed-test]
    teams:
      t:
        agents:
          a: { keys: [ { id: key_bounds, key: "${KEY}" } ] }
`;
}

let upstream: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(config(upstream.baseUrl));
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

async function post(path: string, body: string): Promise<{ status: number; json: any }> {
  const r = await request(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body });
  return { status: r.statusCode, json: await r.body.json() };
}
const chat = (o: object) => JSON.stringify({ model: 'small-out', messages: [{ role: 'user', content: 'hi' }], ...o });

describe('input bounds', () => {
  it('refuses nesting deeper than the limit with a 400 naming the field (a 100k-deep nest too)', async () => {
    for (const depth of [MAX_JSON_DEPTH + 1, 100_000]) {
      const deep = '['.repeat(depth) + ']'.repeat(depth);
      const r = await post('/v1/chat/completions', `{"model":"small-out","messages":[{"role":"user","content":"hi"}],"metadata":{"x":${deep}}}`);
      expect(r.status, String(depth)).toBe(400);
      expect(r.json.error).toMatchObject({ code: 'invalid_request', param: 'metadata' });
      expect(r.json.error.message).toMatch(/nests deeper than 64/);
    }
  });

  it('accepts nesting at the limit', async () => {
    // body (1) > tools (2) > tool (3) > function (4) > parameters (5) > ... a JSON schema nests well within 64.
    let schema: object = { type: 'string', description: 'leaf' };
    for (let i = 0; i < 20; i++) schema = { type: 'object', properties: { p: schema } };
    const r = await post('/v1/chat/completions', chat({ tools: [{ type: 'function', function: { name: 'f', parameters: schema } }] }));
    expect(r.status).toBe(200);
  });

  it('refuses an array longer than the limit', async () => {
    const r = await post('/v1/embeddings', JSON.stringify({ model: 'embed-test', input: new Array(MAX_ARRAY_LENGTH + 1).fill(1) }));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'invalid_request', param: 'input' });
  });

  it("bounds max_tokens / max_completion_tokens by the model's maximum output", async () => {
    for (const key of ['max_tokens', 'max_completion_tokens']) {
      const over = await post('/v1/chat/completions', chat({ [key]: 1001 }));
      expect(over.status, key).toBe(400);
      expect(over.json.error).toMatchObject({ code: 'invalid_request', param: key });
      expect(over.json.error.message).toMatch(/maximum output of 1000/);
      expect((await post('/v1/chat/completions', chat({ [key]: 1000 }))).status, key).toBe(200);
    }
  });

  it('caps output tokens at a documented maximum when the model limit is unknown', async () => {
    const big = await post('/v1/chat/completions', chat({ model: 'unknown-out', max_tokens: MAX_OUTPUT_TOKENS_CAP + 1 }));
    expect(big.status).toBe(400);
    expect(big.json.error).toMatchObject({ code: 'invalid_request', param: 'max_tokens' });
    const huge = await post('/v1/chat/completions', chat({ model: 'unknown-out', max_tokens: 1e300 }));
    expect(huge.status).toBe(400);
    expect((await post('/v1/chat/completions', chat({ model: 'unknown-out', max_tokens: 50_000 }))).status).toBe(200);
  });

  it('bounds n', async () => {
    const r = await post('/v1/chat/completions', chat({ n: 129 }));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'invalid_request', param: 'n' });
  });
});
