/**
 * `/v1/messages` driven with the official `@anthropic-ai/sdk` against a real gateway, for an
 * Anthropic (native passthrough), an OpenAI and a Gemini model (translated) behind fakes:
 * create, stream, a tool-use round trip, countTokens, errors in Anthropic's shape, both ways of
 * sending the key, and `/v1/models` in Anthropic's list shape.
 */
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeGemini } from '../fakes/gemini-upstream.js';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';

const ANT_KEY = 'sk-ant-test-key-789';
const GEM_KEY = 'gk-fake-upstream-345';

let gw: TestGateway;
let anthropic: Awaited<ReturnType<typeof startFakeAnthropic>>;
let openai: Awaited<ReturnType<typeof startFakeOpenAI>>;
let gemini: Awaited<ReturnType<typeof startFakeGemini>>;
/** Request bodies exactly as the SDK sent them to the gateway, newest last. */
const sent: string[] = [];

beforeAll(async () => {
  [anthropic, openai, gemini] = await Promise.all([startFakeAnthropic(), startFakeOpenAI(), startFakeGemini()]);
  gw = await startTestGateway(`
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
providers:
  openai: { type: openai, base_url: "${openai.baseUrl}", api_key: ${FAKE_UPSTREAM_KEY}, circuit_breaker: { enabled: false } }
  anthropic: { type: anthropic, base_url: "${anthropic.url}", api_key: ${ANT_KEY}, circuit_breaker: { enabled: false } }
  google: { type: gemini, base_url: "${gemini.url}", api_key: ${GEM_KEY}, circuit_breaker: { enabled: false } }
models:
  claude-test: { provider: anthropic, model: claude-upstream-1, retries: 0, price: { input: 1, output: 2 } }
  gpt-test: { provider: openai, model: gpt-upstream, retries: 0, price: { input: 1, output: 2 } }
  gemini-test: { provider: google, model: gemini-upstream, retries: 0, price: { input: 1, output: 2 } }
tenants:
  acme:
    teams: { t: { agents: { bot: { keys: [ { id: k, key: "${TENANT_KEY}" } ] } } } }
`);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), gemini?.close()]);
});

function client(options: ConstructorParameters<typeof Anthropic>[0] = {}): Anthropic {
  return new Anthropic({
    apiKey: TENANT_KEY,
    baseURL: gw.url,
    maxRetries: 0,
    fetch: async (url: RequestInfo | URL, init?: RequestInit) => {
      if (typeof init?.body === 'string') sent.push(init.body);
      return fetch(url, init);
    },
    ...options,
  });
}

const text = (m: Anthropic.Message) => m.content.filter((b): b is Anthropic.TextBlock => b.type === 'text').map((b) => b.text).join('');

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
};

/** Checks the native passthrough: the fake got the SDK's bytes with only `model` replaced, and only the provider key. */
function expectNativeBytes(): void {
  const got = anthropic.requests.at(-1)!;
  const body = JSON.parse(sent.at(-1)!);
  expect(got.raw).toBe(JSON.stringify({ ...body, model: 'claude-upstream-1' }));
  expect(got.headers['x-api-key']).toBe(ANT_KEY);
  expect(JSON.stringify(got.headers)).not.toContain(TENANT_KEY);
  expect(got.raw).not.toContain(TENANT_KEY);
}

describe.each([
  ['claude-test', 'anthropic'],
  ['gpt-test', 'openai'],
  ['gemini-test', 'gemini'],
] as const)('%s (%s upstream)', (model, upstream) => {
  const upstreamRequests = () => (upstream === 'anthropic' ? anthropic.requests : upstream === 'openai' ? openai.requests : gemini.requests);

  it('messages.create answers in the Messages shape', async () => {
    const before = upstreamRequests().length;
    const { data: msg, response } = await client()
      .messages.create({ model, max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there friend' }] })
      .withResponse();
    expect(upstreamRequests().length).toBe(before + 1);
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' });
    expect(msg.id).toMatch(/^msg_/);
    expect(text(msg)).toContain('Hello there friend');
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-omega-policy-outcome')).toBe('ALLOW');
    const record = await gw.auditRecord(response.headers.get('x-omega-decision-id')!);
    expect(record).toMatchObject({ surface: 'anthropic-messages', endpoint: '/v1/messages', model_requested: model, http_status: 200 });
    expect(record!.output_tokens).toBe(msg.usage.output_tokens);
    if (upstream === 'anthropic') expectNativeBytes();
    // The tenant key never goes upstream, on any path.
    expect(JSON.stringify(upstreamRequests().at(-1)!.headers)).not.toContain(TENANT_KEY);
  });

  it('messages.stream delivers text events and a final message', async () => {
    const stream = client().messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Stream me a few words' }] });
    const pieces: string[] = [];
    stream.on('text', (delta) => pieces.push(delta));
    const final = await stream.finalMessage();
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(text(final));
    expect(text(final)).toContain('Stream me a few words');
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    if (upstream === 'anthropic') expectNativeBytes();
  });

  it('runs a tool-use round trip: tool_use, tool_result, answer', async () => {
    const c = client();
    const ask: Anthropic.MessageParam = { role: 'user', content: 'What is the weather in Paris? [tool]' };
    const first = await c.messages.create({ model, max_tokens: 200, tools: [weather], messages: [ask] });
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(call).toMatchObject({ type: 'tool_use', name: 'get_weather' });
    expect(call.id).toBeTruthy();
    expect(call.input).toEqual(expect.any(Object));
    if (upstream !== 'openai') expect(call.input).toMatchObject({ city: expect.any(String) }); // the OpenAI fake always calls with {location}
    if (upstream === 'anthropic') expectNativeBytes();

    const second = await c.messages.create({
      model,
      max_tokens: 200,
      tools: [weather],
      messages: [
        ask,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny, 21 degrees' }, { type: 'text', text: 'Now answer briefly' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(text(second).length).toBeGreaterThan(0);
    // The tool result reached the provider in its own format.
    const raw = JSON.stringify(upstreamRequests().at(-1)!.body);
    expect(raw).toContain('Sunny, 21 degrees');
    if (upstream === 'anthropic') expectNativeBytes();
  });

  it('countTokens answers input_tokens', async () => {
    const counted = await client().messages.countTokens({ model, system: 'Be brief.', messages: [{ role: 'user', content: 'Count these four words' }] });
    expect(counted.input_tokens).toBeGreaterThan(0);
    // Anthropic's own count (the fake counts words: 2 system + 4 message).
    if (upstream === 'anthropic') {
      expect(counted.input_tokens).toBe(6);
      expect(anthropic.requests.at(-1)!.path).toBe('/v1/messages/count_tokens');
      expectNativeBytes();
    }
  });

  it('maps an upstream 429 to RateLimitError in Anthropic shape', async () => {
    const err = await client()
      .messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'please [error:429]' }] })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as APIError).status).toBe(429);
    expect((err as APIError).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });
});

describe('errors and keys', () => {
  /** The error a refused request raises (fails the test when it succeeds). */
  const ask = (c: Anthropic, model = 'claude-test', content = 'hi'): Promise<APIError> =>
    c.messages.create({ model, max_tokens: 20, messages: [{ role: 'user', content }] }).then(
      () => {
        throw new Error('expected the gateway to refuse the request');
      },
      (e: unknown) => e as APIError,
    );

  it('accepts the key as x-api-key and as a bearer token (ANTHROPIC_AUTH_TOKEN)', async () => {
    const viaHeader = client({ apiKey: null, authToken: null, defaultHeaders: { 'x-api-key': TENANT_KEY } });
    const msg = await viaHeader.messages.create({ model: 'claude-test', max_tokens: 20, messages: [{ role: 'user', content: 'key header' }] });
    expect(text(msg)).toContain('key header');
    const viaToken = client({ apiKey: null, authToken: TENANT_KEY });
    const msg2 = await viaToken.messages.create({ model: 'gpt-test', max_tokens: 20, messages: [{ role: 'user', content: 'bearer token' }] });
    expect(text(msg2)).toContain('bearer token');
  });

  it('refuses a bad x-api-key with AuthenticationError (401) and forwards nothing', async () => {
    const before = anthropic.requests.length;
    const err = await ask(client({ apiKey: null, authToken: null, defaultHeaders: { 'x-api-key': 'omk_test_wrong_key_0123456789abcdef' } }));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(JSON.stringify(err.error)).not.toContain('omk_test_wrong_key');
    expect(anthropic.requests.length).toBe(before);
  });

  it('answers an unknown model with NotFoundError (404)', async () => {
    const err = await ask(client(), 'no-such-model');
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.status).toBe(404);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('passes an overloaded Anthropic upstream on as 529 overloaded_error', async () => {
    const err = await ask(client(), 'claude-test', 'busy [error:529]');
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(529);
    expect(err).toBeInstanceOf(Anthropic.OverloadedError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  it('lists models in the Anthropic shape with client.models.list()', async () => {
    const ids: string[] = [];
    for await (const m of client().models.list()) {
      expect(m).toMatchObject({ type: 'model', id: expect.any(String), display_name: expect.any(String), created_at: expect.any(String) });
      ids.push(m.id);
    }
    expect(ids).toEqual(expect.arrayContaining(['claude-test', 'gpt-test', 'gemini-test']));
  });
});
