import { createParser } from 'eventsource-parser';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../../../test/fakes/openai-upstream.js';
import type { ChatCompletionChunk, SseEvent, StreamTranslator, UpstreamRequest, UpstreamTarget } from '../../providers/adapter.js';
import { nativeRequest } from './native.js';
import { observeNative, ResponsesStreamObserver } from './observe.js';
import { parseResponsesRequest } from './parse.js';

let fake: FakeOpenAI;
let target: UpstreamTarget;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  target = {
    providerName: 'openai-main',
    provider: { type: 'openai', base_url: fake.baseUrl, api_key: FAKE_UPSTREAM_KEY, headers: { 'openai-organization': 'org-1' }, connections: 4 },
    baseUrl: fake.baseUrl,
    upstreamModel: 'gpt-4.1-2025',
    publicModel: 'gpt-4.1',
  };
});
afterAll(() => fake.close());

async function send(req: UpstreamRequest): Promise<{ status: number; text: string }> {
  const res = await request(req.url, { method: req.method, headers: req.headers, body: req.body });
  return { status: res.statusCode, text: await res.body.text() };
}

function sse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  createParser({ onEvent: (e) => out.push({ event: e.event, data: e.data }) }).feed(text);
  return out;
}

const weatherTool = { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } } }, strict: false };

describe('nativeRequest', () => {
  it('sends the client body with only the model replaced, to /responses, with the provider credential and not the client key', async () => {
    const body = { model: 'gpt-4.1', input: [{ role: 'user', content: 'Héllo ✓' }], instructions: 'Be brief', store: false, metadata: { a: 'b' } };
    const { wire } = parseResponsesRequest(body);
    const req = nativeRequest(wire, target, { authorization: 'Bearer omk_client_key' }, '?x=1');
    expect(req.url).toBe(`${fake.baseUrl}/responses`);
    const { status } = await send(req);
    expect(status).toBe(200);
    const seen = fake.requests.at(-1)!;
    expect(seen.path).toBe('/v1/responses');
    expect(seen.raw.equals(Buffer.from(req.body!, 'utf8'))).toBe(true);
    expect(JSON.parse(seen.rawBody)).toEqual({ ...body, model: 'gpt-4.1-2025' });
    expect(seen.headers.authorization).toBe(`Bearer ${FAKE_UPSTREAM_KEY}`);
    expect(seen.headers['openai-organization']).toBe('org-1');
    expect(JSON.stringify(seen.headers)).not.toContain('omk_client_key');
  });
});

describe('observeNative (JSON)', () => {
  it('reads text, usage and the finish reason of a real-format response', async () => {
    const { text } = await send(nativeRequest(parseResponsesRequest({ model: 'gpt-4.1', input: 'Hi there' }).wire, target));
    const c = observeNative(JSON.parse(text), target);
    expect(c.choices[0]!.message.content).toBe('Echo: Hi there');
    expect(c.choices[0]!.finish_reason).toBe('stop');
    expect(c.model).toBe('gpt-4.1-2025-2026-01-01');
    expect(c.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: 3, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } });
  });

  it('reads function calls', async () => {
    const { text } = await send(nativeRequest(parseResponsesRequest({ model: 'gpt-4.1', input: 'weather [tool]', tools: [weatherTool] }).wire, target));
    const c = observeNative(JSON.parse(text), target);
    expect(c.choices[0]!.finish_reason).toBe('tool_calls');
    expect(c.choices[0]!.message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_fake_/), type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }]);
  });

  const table: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['incomplete (max tokens) → length', { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [] }, { finish_reason: 'length' }],
    ['incomplete (content filter)', { status: 'incomplete', incomplete_details: { reason: 'content_filter' }, output: [] }, { finish_reason: 'content_filter' }],
    [
      'text parts joined, reasoning skipped, refusal kept',
      { status: 'completed', output: [{ type: 'reasoning', id: 'rs', summary: [] }, { type: 'message', content: [{ type: 'output_text', text: 'a' }, { type: 'output_text', text: 'b' }, { type: 'refusal', refusal: 'r' }] }] },
      { finish_reason: 'stop', message: { role: 'assistant', content: 'ab', refusal: 'r' } },
    ],
  ];
  it.each(table)('%s', (_name, json, choice) => {
    expect(observeNative({ id: 'resp_1', created_at: 1, model: 'm', ...json }, target).choices[0]).toMatchObject(choice);
  });

  it('maps cached and reasoning tokens', () => {
    const c = observeNative({ id: 'r', output: [], usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 6 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 14 } }, target);
    expect(c.usage).toEqual({ prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, prompt_tokens_details: { cached_tokens: 6 }, completion_tokens_details: { reasoning_tokens: 3 } });
  });

  it('refuses a body that is not a response', () => {
    expect(() => observeNative({ choices: [] }, target)).toThrow(/not a response/);
  });
});

describe('ResponsesStreamObserver (native SSE → chat chunks, observation only)', () => {
  async function observe(body: Record<string, unknown>): Promise<{ chunks: ChatCompletionChunk[]; observer: ResponsesStreamObserver }> {
    const { text } = await send(nativeRequest(parseResponsesRequest({ model: 'gpt-4.1', stream: true, ...body }).wire, target));
    const observer = new ResponsesStreamObserver(target);
    const chunks = sse(text).flatMap((e) => observer.push(e));
    return { chunks: [...chunks, ...observer.end()], observer };
  }

  it('text deltas, then the finish and a usage chunk from response.completed', async () => {
    const { chunks, observer } = await observe({ input: '[words:3]' });
    expect((observer as StreamTranslator).passthrough).toBeUndefined();
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null).join('')).toBe('w0 w1 w2');
    expect(chunks.every((c) => c.id === chunks[0]!.id && c.id.startsWith('resp_fake'))).toBe(true);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });
  });

  it('function call deltas assemble into one tool call', async () => {
    const { chunks } = await observe({ input: 'x [tool]', tools: [weatherTool] });
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^call_fake_/), function: { name: 'get_weather' } });
    expect(calls.map((c) => c.function?.arguments ?? '').join('')).toBe('{"location":"Paris"}');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it.each([
    ['error event', { event: 'error', data: JSON.stringify({ type: 'error', code: 'server_error', message: 'boom', param: null, sequence_number: 3 }) }, /failed mid-stream: boom/],
    ['response.failed', { event: 'response.failed', data: JSON.stringify({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'kaput' } } }) }, /failed mid-stream: kaput/],
    ['not JSON', { event: 'x', data: '{oops' }, /not JSON/],
  ] as const)('%s sets the error', (_name, event, message) => {
    const o = new ResponsesStreamObserver(target);
    expect(o.push(event)).toEqual([]);
    expect(o.error?.message).toMatch(message);
  });
});
