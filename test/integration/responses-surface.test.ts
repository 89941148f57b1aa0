/**
 * `/v1/responses` driven with the official `openai` SDK against a real gateway, for an OpenAI
 * model (native passthrough) and Anthropic and Gemini models (translated) behind fakes:
 * create streamed and not, function tools, `previous_response_id` chains, retrieve and delete,
 * tenant isolation of stored responses, `store: false`, and a built-in tool refused by a
 * translated provider.
 */
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeGemini } from '../fakes/gemini-upstream.js';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI } from '../fakes/openai-upstream.js';
import { OTHER_TENANT_KEY, startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';
import { refused } from '../support/requests.js';

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
  anthropic: { type: anthropic, base_url: "${anthropic.url}", api_key: sk-ant-test-key-789, circuit_breaker: { enabled: false } }
  google: { type: gemini, base_url: "${gemini.url}", api_key: gk-fake-upstream-345, circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: openai, model: gpt-upstream, retries: 0, price: { input: 1, output: 2 } }
  claude-test: { provider: anthropic, model: claude-upstream-1, retries: 0, price: { input: 1, output: 2 } }
  gemini-test: { provider: google, model: gemini-upstream, retries: 0, price: { input: 1, output: 2 } }
tenants:
  acme:
    teams: { t: { agents: { bot: { keys: [ { id: k, key: "${TENANT_KEY}" } ] } } } }
  globex:
    teams: { o: { agents: { runner: { keys: [ { id: k2, key: "${OTHER_TENANT_KEY}" } ] } } } }
`);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), gemini?.close()]);
});

function client(key = TENANT_KEY): OpenAI {
  return gw.client(key, {
    fetch: async (url: RequestInfo | URL, init?: RequestInit) => {
      if (typeof init?.body === 'string') sent.push(init.body);
      return fetch(url, init);
    },
  });
}

/**
 * The native passthrough: the fake got the SDK's bytes with only `model` replaced, and the
 * provider key only. A continued conversation is expanded by the gateway (for policy and
 * fallback): then `input` holds the stored turns and `previous_response_id` is gone.
 */
function expectNativeBytes(expandedInput?: unknown[]): void {
  const got = openai.requests.at(-1)!;
  expect(got.path).toBe('/v1/responses');
  const body = JSON.parse(sent.at(-1)!);
  if (expandedInput) {
    delete body.previous_response_id;
    body.input = expandedInput;
  }
  expect(got.raw.toString('utf8')).toBe(JSON.stringify({ ...body, model: 'gpt-upstream' }));
  expect(got.headers.authorization).toBe(`Bearer ${FAKE_UPSTREAM_KEY}`);
  expect(JSON.stringify(got.headers)).not.toContain(TENANT_KEY);
}

const weather: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false },
  strict: true,
};

describe.each([
  ['gpt-test', 'openai'],
  ['claude-test', 'anthropic'],
  ['gemini-test', 'gemini'],
] as const)('%s (%s upstream)', (model, upstream) => {
  const native = upstream === 'openai';
  const upstreamCount = () => (upstream === 'openai' ? openai.requests : upstream === 'anthropic' ? anthropic.requests : gemini.requests).length;

  it('responses.create answers a Response, and the audit names the surface', async () => {
    const before = upstreamCount();
    const { data, response } = await client().responses.create({ model, instructions: 'Be brief.', input: 'Hello responses' }).withResponse();
    expect(upstreamCount()).toBe(before + 1);
    expect(data).toMatchObject({ object: 'response', status: 'completed' });
    expect(data.output_text).toContain('Hello responses');
    expect(data.usage!.output_tokens).toBeGreaterThan(0);
    const record = await gw.auditRecord(response.headers.get('x-omega-decision-id')!);
    expect(record).toMatchObject({ surface: 'openai-responses', endpoint: '/v1/responses', model_requested: model, http_status: 200 });
    if (native) expectNativeBytes();
  });

  it('streams with typed events; the SDK accumulates the final response', async () => {
    const stream = await client().responses.create({ model, input: 'Stream these words', stream: true });
    const types: string[] = [];
    let deltas = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') deltas += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(types[0]).toBe('response.created');
    expect(types).toContain('response.output_item.added');
    expect(types.at(-1)).toBe('response.completed');
    expect(deltas).toContain('Stream these words');
    expect(completed!.output_text ?? completed!.output.map((o: any) => o.content?.map((c: any) => c.text).join('')).join('')).toContain('Stream these words');
    if (native) expectNativeBytes();

    const final = await client().responses.stream({ model, input: 'Helper stream' }).finalResponse();
    expect(final.output_text).toContain('Helper stream');
  });

  it('runs a function tool round trip: function_call, then function_call_output', async () => {
    const c = client();
    const first = await c.responses.create({ model, tools: [weather], input: 'Weather in Paris? [tool]' });
    const call = first.output.find((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === 'function_call')!;
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather' });
    expect(JSON.parse(call.arguments)).toMatchObject({ location: expect.any(String) });
    if (native) expectNativeBytes();

    const second = await c.responses.create({
      model,
      tools: [weather],
      previous_response_id: first.id,
      input: [
        { type: 'function_call_output', call_id: call.call_id, output: 'Sunny, 21 degrees' },
        { role: 'user', content: 'Now answer briefly' },
      ],
    });
    expect(second.status).toBe('completed');
    expect(second.output_text.length).toBeGreaterThan(0);
    if (native) {
      expectNativeBytes([
        { type: 'message', role: 'user', content: 'Weather in Paris? [tool]' },
        ...first.output,
        { type: 'function_call_output', call_id: call.call_id, output: 'Sunny, 21 degrees' },
        { role: 'user', content: 'Now answer briefly' },
      ]);
    }
    else {
      const body = JSON.stringify((upstream === 'anthropic' ? anthropic.requests : gemini.requests).at(-1)!.body);
      // The translated provider got the whole conversation: question, call and result.
      expect(body).toContain('Weather in Paris? [tool]');
      expect(body).toContain('Sunny, 21 degrees');
    }
  });

  it('chains three turns with previous_response_id, then retrieves and deletes', async () => {
    const c = client();
    const one = await c.responses.create({ model, input: 'Turn one alpha' });
    const two = await c.responses.create({ model, input: 'Turn two bravo', previous_response_id: one.id });
    const three = await c.responses.create({ model, input: 'Turn three charlie', previous_response_id: two.id });
    expect(three.output_text).toContain('Turn three charlie');
    if (native) {
      const said = (content: string) => ({ type: 'message', role: 'user', content });
      expectNativeBytes([said('Turn one alpha'), ...one.output, said('Turn two bravo'), ...two.output, said('Turn three charlie')]);
    } else {
      const body = JSON.stringify((upstream === 'anthropic' ? anthropic.requests : gemini.requests).at(-1)!.body);
      for (const said of ['Turn one alpha', 'Turn two bravo', 'Turn three charlie']) expect(body).toContain(said);
    }

    const got = await c.responses.retrieve(three.id);
    expect(got).toMatchObject({ id: three.id, object: 'response', status: 'completed' });
    expect(got.output_text).toContain('Turn three charlie');

    // Another tenant sees neither the response nor can continue it.
    const other = client(OTHER_TENANT_KEY);
    expect((await refused(other.responses.retrieve(three.id))).status).toBe(404);
    const cont = await refused(other.responses.create({ model, input: 'Steal it', previous_response_id: three.id }));
    expect(cont.status).toBe(404);

    await c.responses.delete(three.id);
    expect((await refused(c.responses.retrieve(three.id))).status).toBe(404);
    // The rest of the chain is still there.
    expect((await c.responses.retrieve(two.id)).id).toBe(two.id);
  });

  it('keeps nothing with store: false', async () => {
    const c = client();
    const r = await c.responses.create({ model, input: 'Forget me', store: false });
    expect(r.output_text).toContain('Forget me');
    const err = await refused(c.responses.retrieve(r.id));
    expect(err.status).toBe(404);
    if (native) expectNativeBytes();
  });
});

describe('what a translated provider cannot honour', () => {
  it.each(['claude-test', 'gemini-test'])('refuses a built-in web_search tool for %s with a clear 400, forwarding nothing', async (model) => {
    const before = anthropic.requests.length + gemini.requests.length;
    const err = await refused(client().responses.create({ model, tools: [{ type: 'web_search' }], input: 'Search the news' }));
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/web_search|tools/);
    expect(anthropic.requests.length + gemini.requests.length).toBe(before);
  });

  it('passes the same built-in tool to the native OpenAI model unchanged', async () => {
    const r = await client().responses.create({ model: 'gpt-test', tools: [{ type: 'web_search' }], input: 'Search the news' });
    expect(r.output_text).toContain('Search the news');
    expectNativeBytes();
  });
});
