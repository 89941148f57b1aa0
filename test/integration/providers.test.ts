/**
 * The same openai-SDK client code against all six provider families, each behind a fake that
 * speaks its real wire format: answers, tool calls, streaming and usage come back in OpenAI
 * shape, and every provider receives only its own credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeAzureOpenAI } from '../fakes/azure-openai-upstream.js';
import { startFakeCohere } from '../fakes/cohere-upstream.js';
import { startFakeGemini } from '../fakes/gemini-upstream.js';
import { startFakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';

interface Fake {
  url: string;
  requests: { headers: Record<string, unknown>; body: any; path: string }[];
  close(): Promise<void>;
}

const KEYS = {
  openai: 'sk-upstream-test-key-123',
  mistral: 'mistral-test-key-456',
  anthropic: 'sk-ant-test-key-789',
  gemini: 'gemini-test-key-012',
  cohere: 'cohere-test-key-345',
  azure: 'azure-test-key-678',
};

const fakes: Record<string, Fake> = {};
let gw: TestGateway;

beforeAll(async () => {
  fakes.openai = await startFakeOpenAI();
  fakes.mistral = await startFakeOpenAI({ requireKey: KEYS.mistral });
  fakes.llama = await startFakeOpenAI({ requireKey: null });
  fakes.anthropic = (await startFakeAnthropic()) as Fake;
  fakes.gemini = (await startFakeGemini()) as Fake;
  fakes.cohere = (await startFakeCohere()) as Fake;
  fakes.azure = (await startFakeAzureOpenAI()) as Fake;
  gw = await startTestGateway(`
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
# A provider 429 with Retry-After: 1 then fails over at once instead of waiting it out.
routing: { max_backoff: 200ms }
providers:
  openai: { type: openai, base_url: "${fakes.openai.url}/v1", api_key: ${KEYS.openai} }
  mistral: { type: openai-compatible, base_url: "${fakes.mistral.url}/v1", api_key: ${KEYS.mistral} }
  llama-host: { type: openai-compatible, base_url: "${fakes.llama.url}/v1" }
  anthropic: { type: anthropic, base_url: "${fakes.anthropic.url}", api_key: ${KEYS.anthropic} }
  google: { type: gemini, base_url: "${fakes.gemini.url}", api_key: ${KEYS.gemini} }
  cohere: { type: cohere, base_url: "${fakes.cohere.url}", api_key: ${KEYS.cohere} }
  azure: { type: azure-openai, base_url: "${fakes.azure.url}", api_key: ${KEYS.azure} }
models:
  gpt-5.4: { provider: openai, price: { input: 1, output: 2 } }
  mistral-small-4: { provider: mistral, model: mistral-small-latest, price: { input: 1, output: 2 } }
  llama-3.3-70b: { provider: llama-host, model: meta-llama/Llama-3.3-70B-Instruct, price: { input: 1, output: 2 } }
  claude-opus-4-6: { provider: anthropic, price: { input: 1, output: 2 } }
  gemini-3.1-pro: { provider: google, model: gemini-3.1-pro-preview, price: { input: 1, output: 2 } }
  command-r-plus: { provider: cohere, model: command-r-plus-08-2024, price: { input: 1, output: 2 } }
  azure-gpt: { provider: azure, model: my-gpt-deployment, price: { input: 1, output: 2 } }
  embed-v4: { provider: cohere, model: embed-v4.0, embeddings: true, price: { input: 0.1, output: 0 } }
tenants:
  acme:
    teams: { t: { agents: { bot: { keys: [ { id: k, key: "${TENANT_KEY}" } ] } } } }
`);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

const MODELS: [string, string][] = [
  ['gpt-5.4', 'openai'],
  ['mistral-small-4', 'mistral'],
  ['llama-3.3-70b', 'llama'],
  ['claude-opus-4-6', 'anthropic'],
  ['gemini-3.1-pro', 'gemini'],
  ['command-r-plus', 'cohere'],
  ['azure-gpt', 'azure'],
];

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

function credentialsSeen(fake: Fake): string {
  const h = fake.requests.at(-1)!.headers;
  return JSON.stringify(h);
}

describe.each(MODELS)('%s through the openai SDK (%s wire format)', (model, fakeName) => {
  it('answers a text request with usage, and the provider got only its own credential', async () => {
    const { data, response } = await gw.client().chat.completions.create({ model, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }] }).withResponse();
    expect(data.choices[0]!.message.content).toContain('Hello there');
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage!.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-omega-model')).toBe(model);

    const seen = credentialsSeen(fakes[fakeName]!);
    expect(seen).not.toContain(TENANT_KEY);
    for (const [owner, key] of Object.entries(KEYS)) {
      if (owner !== fakeName) expect(seen, `${owner}'s key must not reach ${fakeName}`).not.toContain(key);
    }
    if (fakeName in KEYS) expect(seen).toContain(KEYS[fakeName as keyof typeof KEYS]);

    const record = await gw.auditRecord(response.headers.get('x-omega-decision-id')!);
    expect(record).toMatchObject({ model_resolved: model, input_tokens: data.usage!.prompt_tokens, output_tokens: data.usage!.completion_tokens, http_status: 200 });
    expect(record!.cost_usd).toBeCloseTo((data.usage!.prompt_tokens + 2 * data.usage!.completion_tokens) / 1e6, 12);
  });

  it('returns a tool call', async () => {
    const res = await gw.client().chat.completions.create({ model, messages: [{ role: 'user', content: 'Weather in Paris? [tool]' }], tools: [weatherTool] });
    const call = res.choices[0]!.message.tool_calls?.[0];
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    expect(call && 'function' in call && call.function.name).toBe('get_weather');
    expect(JSON.parse(call && 'function' in call ? call.function.arguments : '{}')).toHaveProperty('location');
  });

  it('streams text with client.chat.completions.stream() and meters it from the provider usage', async () => {
    const stream = gw.client().chat.completions.stream({ model, messages: [{ role: 'user', content: 'Stream a few words please' }], stream_options: { include_usage: true } });
    let deltas = 0;
    stream.on('content', () => deltas++);
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.content).toContain('Stream a few words please');
    expect(deltas).toBeGreaterThan(1);
    expect(final.usage?.completion_tokens).toBeGreaterThan(0);
    const records = await gw.auditRecords();
    const record = records.at(-1)!;
    expect(record).toMatchObject({ stream: true, model_resolved: model, usage_estimated: false, output_tokens: final.usage!.completion_tokens, input_tokens: final.usage!.prompt_tokens });
  });

  it('streams a tool call', async () => {
    const stream = gw.client().chat.completions.stream({ model, messages: [{ role: 'user', content: 'Weather? [tool]' }], tools: [weatherTool] });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls?.[0];
    expect(call && 'function' in call && call.function.name).toBe('get_weather');
    expect(JSON.parse(call && 'function' in call ? call.function.arguments : '{}')).toHaveProperty('location');
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('maps a provider 429 to a 429 in the OpenAI shape', async () => {
    const err = await gw.client().chat.completions.create({ model, messages: [{ role: 'user', content: 'busy [error:429]' }] }).catch((e) => e);
    expect(err.status).toBe(429);
    expect(err.error.code).toBe('upstream_rate_limited');
  });
});

describe('embeddings on Cohere (Embed v4) behind /v1/embeddings', () => {
  it('returns OpenAI-shaped vectors with usage', async () => {
    const res = await gw.client().embeddings.create({ model: 'embed-v4', input: ['alpha', 'beta'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]!.embedding.length).toBeGreaterThan(0);
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    expect(fakes.cohere!.requests.at(-1)!.path).toBe('/v2/embed');
  });
});
