import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import Anthropic, { APIError, OverloadedError, RateLimitError } from '@anthropic-ai/sdk';
import { createParser } from 'eventsource-parser';
import type { ChatCompletionChunk, ChatRequest, UpstreamTarget } from '../../src/providers/adapter.js';
import { anthropicAdapter } from '../../src/providers/anthropic/index.js';
import { nativeCountTokensRequest, nativeRequest, observeNative, observeNativeStream } from '../../src/surfaces/anthropic-messages/native.js';
import { parseCountTokensRequest, parseMessagesRequest } from '../../src/surfaces/anthropic-messages/parse.js';

/** The Messages surface's native path, piece by piece (the runner chains them in the gateway). */
const surface = { parse: parseMessagesRequest, parseCountTokens: parseCountTokensRequest, nativeRequest, nativeCountTokensRequest, observeNative, observeNativeStream };
import { startFakeAnthropic } from './anthropic-upstream.js';

let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
let client: Anthropic;
const weather = {
  name: 'get_weather',
  description: 'Current weather',
  input_schema: { type: 'object' as const, properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] },
};

beforeAll(async () => {
  fake = await startFakeAnthropic();
  // No retries: the error cases must reach the test as they were sent.
  client = new Anthropic({ apiKey: 'sk-ant-fake', baseURL: fake.url, maxRetries: 0 });
});
afterAll(async () => {
  await fake.close();
});

describe('fake Anthropic upstream, driven by the real SDK', () => {
  it('answers a non-streaming create with an echo and word-count usage', async () => {
    const msg = await client.messages.create({ model: 'claude-test', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(msg.content).toEqual([{ type: 'text', text: 'Echo: Hello there' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.model).toBe('claude-test');
    expect(msg.usage).toMatchObject({ input_tokens: 4, output_tokens: 3, cache_read_input_tokens: 0 });
    const rec = fake.requests.at(-1)!;
    expect(rec).toMatchObject({ method: 'POST', path: '/v1/messages', body: { model: 'claude-test', max_tokens: 64 } });
    // SDK 1.x sends the key as a bearer token; the gateway adapter uses x-api-key (checked below).
    expect(rec.headers.authorization).toBe('Bearer sk-ant-fake');
    expect(rec.headers['anthropic-version']).toBeTruthy();
  });

  it('streams with messages.stream() into the same final message', async () => {
    const stream = client.messages.stream({ model: 'claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'one two three' }] });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const msg = await stream.finalMessage();
    expect(deltas).toEqual(['Echo:', ' one', ' two', ' three']);
    expect(msg.content).toEqual([{ type: 'text', text: 'Echo: one two three' }]);
    expect(msg.usage).toMatchObject({ input_tokens: 3, output_tokens: 4 });
    expect(msg.stop_reason).toBe('end_turn');
  });

  it('calls the first declared tool with input built from its schema, streamed or not', async () => {
    const params = { model: 'claude-test', max_tokens: 64, tools: [weather], messages: [{ role: 'user' as const, content: "What's the weather? [tool]" }] };
    const msg = await client.messages.create(params);
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content).toEqual([{ type: 'tool_use', id: expect.stringMatching(/^toolu_fake\d{4}$/), name: 'get_weather', input: { location: 'Paris' } }]);
    const streamed = await client.messages.stream(params).finalMessage();
    expect(streamed.content).toMatchObject([{ type: 'tool_use', name: 'get_weather', input: { location: 'Paris' } }]);
  });

  it('cuts at max_tokens and stop sequences', async () => {
    const long = await client.messages.create({ model: 'm', max_tokens: 2, messages: [{ role: 'user', content: 'a b c d' }] });
    expect([long.content, long.stop_reason, long.usage.output_tokens]).toEqual([[{ type: 'text', text: 'Echo: a' }], 'max_tokens', 2]);
    const stopped = await client.messages.create({ model: 'm', max_tokens: 50, stop_sequences: ['STOP'], messages: [{ role: 'user', content: 'a b STOP d' }] });
    expect([stopped.content, stopped.stop_reason, stopped.stop_sequence]).toEqual([[{ type: 'text', text: 'Echo: a b' }], 'stop_sequence', 'STOP']);
  });

  it.each([
    [429, RateLimitError, 'rate_limit_error'],
    [500, APIError, 'api_error'],
    [529, OverloadedError, 'overloaded_error'],
  ] as const)('answers [error:%i] in Anthropic error shape', async (status, cls, type) => {
    const err = await client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: `fail [error:${status}]` }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect((err as APIError).status).toBe(status);
    expect((err as APIError).error).toMatchObject({ type: 'error', error: { type } });
    expect((err as APIError).headers?.get('retry-after')).toBe(status === 429 ? '1' : null);
  });

  it('thinks before answering on [think]: a signed thinking block, streamed as thinking and signature deltas', async () => {
    const params = { model: 'claude-test', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Why? [think]' }] };
    const msg = await client.messages.create(params);
    expect(msg.content).toEqual([
      { type: 'thinking', thinking: 'The user wants an echo of their message.', signature: expect.stringMatching(/^sig_fake\d{4}$/) },
      { type: 'text', text: 'Echo: Why? [think]' },
    ]);
    expect(msg.usage.output_tokens).toBe(8 + 3);
    const stream = client.messages.stream(params);
    const thoughts: string[] = [];
    stream.on('thinking', (delta) => thoughts.push(delta));
    const streamed = await stream.finalMessage();
    expect(thoughts.join('')).toBe('The user wants an echo of their message.');
    expect(streamed.content).toEqual([
      { type: 'thinking', thinking: 'The user wants an echo of their message.', signature: expect.stringMatching(/^sig_fake\d{4}$/) },
      { type: 'text', text: 'Echo: Why? [think]' },
    ]);
  });

  it('counts tokens (words) at /v1/messages/count_tokens and records the exact body bytes', async () => {
    const counted = await client.messages.countTokens({ model: 'claude-test', system: 'Be brief.', messages: [{ role: 'user', content: 'one two three' }] });
    expect(counted).toEqual({ input_tokens: 5 });
    const rec = fake.requests.at(-1)!;
    expect(rec.path).toBe('/v1/messages/count_tokens');
    expect(JSON.parse(rec.raw)).toEqual(rec.body);
  });

  it('rejects a request without x-api-key or anthropic-version with a 401', async () => {
    const cases: Array<Record<string, string>> = [{ 'anthropic-version': '2023-06-01' }, { 'x-api-key': 'k' }, { authorization: 'Basic k', 'anthropic-version': '2023-06-01' }];
    for (const headers of cases) {
      const res = await fetch(`${fake.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    }
  });
});

describe('fake Anthropic upstream, driven by the gateway adapter', () => {
  const target = (): UpstreamTarget => ({
    providerName: 'claude',
    provider: { type: 'anthropic', api_key: 'sk-ant-fake', headers: {}, connections: 4 },
    baseUrl: fake.url,
    upstreamModel: 'claude-test',
    publicModel: 'sonnet',
  });
  const send = (body: ChatRequest) => {
    const req = anthropicAdapter.chatRequest(body, target());
    return fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
  };

  it('round-trips a tool conversation without streaming', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: weather.input_schema } }];
    const first = await send({ model: 'sonnet', tools, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Weather? [tool]' }] });
    expect(fake.requests.at(-1)!.headers).toMatchObject({ 'x-api-key': 'sk-ant-fake', 'anthropic-version': '2023-06-01' });
    const completion = anthropicAdapter.chatResponse(await first.json(), target());
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.type === 'function' && call.function).toEqual({ name: 'get_weather', arguments: '{"location":"Paris"}' });

    const second = await send({
      model: 'sonnet',
      tools,
      messages: [
        { role: 'user', content: 'Weather? [tool]' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny' },
      ],
    });
    expect(second.status).toBe(200);
    expect(anthropicAdapter.chatResponse(await second.json(), target()).choices[0]!.message.content).toBe('Echo: sunny');
  });

  it('translates a live stream and a mid-stream error', async () => {
    const collect = async (content: string) => {
      const res = await send({ model: 'sonnet', stream: true, messages: [{ role: 'user', content }] });
      const translator = anthropicAdapter.chatStream(target());
      const chunks: ChatCompletionChunk[] = [];
      const parser = createParser({ onEvent: (e) => chunks.push(...translator.push({ event: e.event, data: e.data })) });
      parser.feed(await res.text());
      chunks.push(...translator.end());
      return { chunks, translator };
    };
    const ok = await collect('hi [cache]');
    expect(ok.chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: hi [cache]');
    expect(ok.chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(ok.chunks.at(-1)!.usage).toEqual({ prompt_tokens: 152, completion_tokens: 3, total_tokens: 155, prompt_tokens_details: { cached_tokens: 100 } });

    const broken = await collect('hi [error:stream]');
    expect(broken.translator.error?.code).toBe('upstream_error');
  });

  it('maps an HTTP error through mapError', async () => {
    const res = await send({ model: 'sonnet', messages: [{ role: 'user', content: '[error:429]' }] });
    const headers = Object.fromEntries(res.headers);
    const err = anthropicAdapter.mapError(res.status, await res.text(), headers, target());
    expect([err.code, err.headers]).toEqual(['upstream_rate_limited', { 'retry-after': '1' }]);
    expect(anthropicAdapter.requestId(headers)).toMatch(/^req_fake\d{4}$/);
  });
});

describe('fake Anthropic upstream, driven by the Messages surface natively', () => {
  const target = (): UpstreamTarget => ({
    providerName: 'claude',
    provider: { type: 'anthropic', api_key: 'sk-ant-fake', headers: {}, connections: 4 },
    baseUrl: fake.url,
    upstreamModel: 'claude-test',
    publicModel: 'sonnet',
  });
  const clientHeaders = { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'interleaved-thinking-2025-05-14', 'x-api-key': 'omk_client' };

  it('the upstream receives exactly the client body with the model replaced; thinking signatures survive', async () => {
    const body = {
      model: 'sonnet',
      max_tokens: 256,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'Hi [think]' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'Greet back.', signature: 'sig_prev' }, { type: 'text', text: 'Hello!' }] },
        { role: 'user', content: 'Again [think]' },
      ],
    };
    const parsed = surface.parse(JSON.parse(JSON.stringify(body)));
    const req = surface.nativeRequest(parsed.wire, target(), clientHeaders, { beta: 'true' });
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    const rec = fake.requests.at(-1)!;
    expect(rec.raw).toBe(JSON.stringify({ ...body, model: 'claude-test' }));
    expect(rec.path).toBe('/v1/messages?beta=true');
    expect(rec.headers).toMatchObject({ 'x-api-key': 'sk-ant-fake', 'anthropic-beta': 'interleaved-thinking-2025-05-14' });
    const completion = surface.observeNative(await res.json(), target());
    expect(completion.choices[0]!.message.content).toBe('Echo: Again [think]');
  });

  it('a native stream is observed with its usage; count_tokens is forwarded', async () => {
    const parsed = surface.parse({ model: 'sonnet', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'one two [think]' }] });
    const req = surface.nativeRequest(parsed.wire, target(), clientHeaders);
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    const observer = surface.observeNativeStream(target());
    const chunks: ChatCompletionChunk[] = [];
    createParser({ onEvent: (e) => chunks.push(...observer.push({ event: e.event, data: e.data })) }).feed(await res.text());
    chunks.push(...observer.end());
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: one two [think]');
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 8 + 4 });

    const count = surface.parseCountTokens({ model: 'sonnet', messages: [{ role: 'user', content: 'one two three four' }] });
    const countReq = surface.nativeCountTokensRequest(count.wire, target(), clientHeaders);
    const counted = await fetch(countReq.url, { method: countReq.method, headers: countReq.headers, body: countReq.body });
    expect(await counted.json()).toEqual({ input_tokens: 4 });
  });
});
