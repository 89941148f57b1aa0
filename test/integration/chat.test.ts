/** The official `openai` SDK, pointed at the gateway, works unchanged. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_UPSTREAM_KEY, fakePromptTokens, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, TENANT_KEY, OTHER_TENANT_KEY, type TestGateway } from '../support/gateway.js';

let upstream: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(baseConfig(upstream.baseUrl));
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

describe('chat completions through the openai SDK', () => {
  it('answers a plain request, with the x-omega headers and metered cost', async () => {
    const { data, response } = await gw.client().chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('Echo: Hello there');
    const sent = upstream.requests.at(-1)!;
    expect(sent.body.model).toBe('gpt-upstream');
    const usage = data.usage!;
    expect(usage.prompt_tokens).toBe(fakePromptTokens(sent.body));

    const h = response.headers;
    expect(h.get('x-omega-decision-id')).toMatch(/^dec_[0-9a-f]{32}$/);
    expect(h.get('x-omega-policy-outcome')).toBe('ALLOW');
    expect(h.get('x-omega-risk-score')).toBe('0.00');
    expect(h.get('x-request-id')).toMatch(/^req_/);
    expect(h.get('x-omega-model')).toBe('gpt-test');
    expect(Number(h.get('x-omega-latency-ms'))).toBeGreaterThanOrEqual(0);
    const expectedCost = (usage.prompt_tokens * 2 + usage.completion_tokens * 8) / 1e6;
    expect(Number(h.get('x-omega-cost-usd'))).toBeCloseTo(expectedCost, 10);

    const record = await gw.auditRecord(h.get('x-omega-decision-id')!);
    expect(record).toMatchObject({
      tenant_id: 'acme',
      team_id: 'research',
      agent_id: 'bot',
      key_id: 'key_acme_bot',
      model_requested: 'gpt-test',
      model_resolved: 'gpt-test',
      provider: 'fake-openai',
      stream: false,
      input_tokens: usage.prompt_tokens,
      output_tokens: usage.completion_tokens,
      http_status: 200,
      policy_outcome: 'ALLOW',
      message_count: 2,
      system_prompt_present: true,
      finish_reason: 'stop',
      upstream_status: 200,
      attempts: 1,
    });
    expect(record!.cost_usd).toBeCloseTo(expectedCost, 12);
    expect(record!.input_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(record!.upstream_request_id).toMatch(/^req_upstream_/);
    expect(record!.gateway_overhead_ms).toBeLessThan(record!.total_latency_ms);
  });

  it('injects the provider credential and never forwards the tenant key or hop-by-hop headers', async () => {
    await gw.client(TENANT_KEY, {
      defaultHeaders: { 'proxy-authorization': 'Basic c2VjcmV0', 'x-forwarded-for': '1.2.3.4', te: 'trailers', 'x-custom-client': 'yes' },
    }).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'credential check' }] });
    const sent = upstream.requests.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${FAKE_UPSTREAM_KEY}`);
    const everything = JSON.stringify(sent.headers) + sent.rawBody;
    expect(everything).not.toContain(TENANT_KEY);
    for (const h of ['proxy-authorization', 'x-forwarded-for', 'te', 'x-custom-client', 'x-stainless-lang']) {
      expect(sent.headers[h], h).toBeUndefined();
    }
  });

  it('resolves a tenant alias to its model', async () => {
    const { response } = await gw.client().chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'alias' }] }).withResponse();
    expect(response.headers.get('x-omega-model')).toBe('gpt-test');
    expect(upstream.requests.at(-1)!.body.model).toBe('gpt-upstream');
  });

  it('returns tool calls and forwards tools, vision parts and response_format unchanged', async () => {
    const messages = [
      {
        role: 'user' as const,
        content: [
          { type: 'text' as const, text: 'What is in this image? [tool]' },
          { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ];
    const res = await gw.client().chat.completions.create({
      model: 'gpt-test',
      messages,
      tools: [weatherTool],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      temperature: 0.2,
    });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.choices[0]!.message.tool_calls).toEqual([
      { id: 'call_fake_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
    ]);
    const sent = upstream.requests.at(-1)!.body;
    expect(sent.messages).toEqual(messages);
    expect(sent.tools).toEqual([weatherTool]);
    expect(sent.response_format).toEqual({ type: 'json_object' });
    expect(sent.temperature).toBe(0.2);

    const records = await gw.auditRecords();
    const record = records.at(-1)!;
    expect(record).toMatchObject({ has_images: true, tools_count: 1, tool_choice: 'auto', response_format: 'json_object', tool_calls_count: 1, finish_reason: 'tool_calls' });
  });

  it('streams with client.chat.completions.stream() and meters the stream from upstream usage', async () => {
    const stream = gw.client().chat.completions.stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'stream me please' }] });
    const deltas: string[] = [];
    stream.on('content', (delta) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe('Echo: stream me please');
    expect(deltas.join('')).toBe('Echo: stream me please');
    expect(deltas.length).toBeGreaterThan(1);

    const sent = upstream.requests.at(-1)!.body;
    expect(sent.stream).toBe(true);
    expect(sent.stream_options).toEqual({ include_usage: true });
    const records = await gw.auditRecords();
    const record = records.at(-1)!;
    expect(record.stream).toBe(true);
    expect(record.input_tokens).toBe(fakePromptTokens(sent));
    expect(record.output_tokens).toBe(4); // "Echo: ", "stream ", "me ", "please"
    expect(record.usage_estimated).toBe(false);
    expect(record.cost_usd).toBeCloseTo((record.input_tokens! * 2 + 4 * 8) / 1e6, 12);
    expect(record.time_to_first_token_ms).toBeGreaterThan(0);
  });

  it('hides the forced usage chunk from clients that did not ask for it, and passes it to those who did', async () => {
    const withoutUsage = await gw.client().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'a b' }], stream: true });
    const plain: any[] = [];
    for await (const chunk of withoutUsage) plain.push(chunk);
    expect(plain.every((c) => c.choices.length > 0 && !c.usage)).toBe(true);

    const withUsage = await gw.client().chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'a b' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage.completion_tokens).toBe(3);
  });

  it('streams tool calls', async () => {
    const stream = gw.client().chat.completions.stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'weather? [tool]' }], tools: [weatherTool] });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls![0]!.function).toEqual({ name: 'get_weather', arguments: '{"location":"Paris"}' });
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('serves embeddings and meters them', async () => {
    const { data, response } = await gw.client().embeddings.create({ model: 'embed-test', input: ['one', 'two'] }).withResponse();
    expect(data.data).toHaveLength(2);
    expect(data.data[0]!.embedding).toHaveLength(3);
    const record = await gw.auditRecord(response.headers.get('x-omega-decision-id')!);
    expect(record).toMatchObject({ endpoint: '/v1/embeddings', model_resolved: 'embed-test', input_tokens: data.usage.prompt_tokens, http_status: 200 });
    expect(record!.cost_usd).toBeCloseTo((data.usage.prompt_tokens * 0.1) / 1e6, 12);
  });

  it('lists only the models the caller’s tenant may use', async () => {
    const acme = (await gw.client().models.list()).data.map((m) => m.id).sort();
    expect(acme).toEqual(['dead-model', 'embed-test', 'gpt-test', 'keyless-model']);
    const globex = (await gw.client(OTHER_TENANT_KEY).models.list()).data.map((m) => m.id);
    expect(globex).toEqual(['gpt-other']);
    const one = await gw.client().models.retrieve('gpt-test');
    expect(one.id).toBe('gpt-test');
    await expect(gw.client(OTHER_TENANT_KEY).models.retrieve('gpt-test')).rejects.toMatchObject({ status: 404 });
  });

  it('refuses a model of another tenant with model_not_found', async () => {
    const err = await gw.client(OTHER_TENANT_KEY).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err.status).toBe(404);
    expect(err.error).toMatchObject({ code: 'model_not_found', param: 'model', type: 'not_found_error' });
    expect(err.headers.get('x-omega-policy-outcome')).toBe('BLOCK');
  });

  it('records the SDK that made the call', async () => {
    const records = await gw.auditRecords();
    expect(records.at(-1)!.sdk).toMatch(/^js\//);
  });
});
