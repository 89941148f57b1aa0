/** The fake Cohere over HTTP, and the Cohere adapter end to end against it. */
import { createParser } from 'eventsource-parser';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SseEvent, UpstreamRequest, UpstreamTarget } from '../../src/providers/adapter.js';
import { cohereChatResponse } from '../../src/providers/cohere/chat.js';
import { cohereEmbeddingsResponse } from '../../src/providers/cohere/embed.js';
import { cohereAdapter } from '../../src/providers/cohere/index.js';
import { CohereStreamTranslator } from '../../src/providers/cohere/stream.js';
import { type FakeUpstream, startFakeCohere } from './cohere-upstream.js';

let fake: FakeUpstream;
let target: UpstreamTarget;
const NOW = 1_760_000_000;
const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } },
};

beforeAll(async () => {
  fake = await startFakeCohere();
  target = {
    providerName: 'cohere',
    provider: { type: 'cohere', api_key: 'co-test', headers: {}, connections: 8 },
    baseUrl: fake.url,
    upstreamModel: 'command-a-03-2025',
    publicModel: 'command-a',
  };
});
afterAll(() => fake.close());

async function send(req: UpstreamRequest) {
  const res = await request(req.url, { method: req.method, headers: req.headers, body: req.body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

function sseEvents(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  parser.feed(text);
  return events;
}

describe('fake Cohere', () => {
  it('answers a chat with an echo and word-count usage, and records the request', async () => {
    const res = await send(cohereAdapter.chatRequest({ model: 'command-a', messages: [{ role: 'user', content: 'hello there' }] }, target));
    expect(res.status).toBe(200);
    expect(cohereChatResponse(JSON.parse(res.text), target, NOW)).toMatchObject({
      choices: [{ message: { content: 'Echo: hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
    const recorded = fake.requests.at(-1)!;
    expect(recorded).toMatchObject({ method: 'POST', path: '/v2/chat', body: { model: 'command-a-03-2025', stream: false } });
    expect(recorded.headers.authorization).toBe('Bearer co-test');
  });

  it('streams Cohere events that the translator turns into OpenAI chunks', async () => {
    const res = await send(cohereAdapter.chatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi you' }], stream: true }, target));
    expect(res.headers['content-type']).toBe('text/event-stream');
    const events = sseEvents(res.text);
    expect(events.map((e) => e.event)).toEqual([
      'message-start',
      'content-start',
      'content-delta',
      'content-delta',
      'content-delta',
      'content-end',
      'message-end',
    ]);
    const t = new CohereStreamTranslator(target, NOW);
    const chunks = [...events.flatMap((e) => t.push(e)), ...t.end()];
    expect(t.error).toBeUndefined();
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null)).toEqual(['', 'Echo:', ' hi', ' you', null, null]);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  });

  it('calls the first tool with schema-shaped arguments, streamed and not', async () => {
    const body = { model: 'm', messages: [{ role: 'user' as const, content: 'weather [tool]' }], tools: [weather] };
    const plain = cohereChatResponse(JSON.parse((await send(cohereAdapter.chatRequest(body, target))).text), target, NOW);
    expect(plain.choices[0]!.finish_reason).toBe('tool_calls');
    expect(plain.choices[0]!.message.tool_calls).toEqual([
      { id: expect.stringMatching(/^get_weather_/), type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
    ]);

    const streamed = await send(cohereAdapter.chatRequest({ ...body, stream: true }, target));
    const t = new CohereStreamTranslator(target, NOW);
    const chunks = sseEvents(streamed.text).flatMap((e) => t.push(e));
    const args = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((d) => d.function?.arguments ?? '');
    expect(args.join('')).toBe('{"location":"Paris"}');
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it.each([
    [429, 'upstream_rate_limited'],
    [500, 'upstream_error'],
  ])('answers [error:%i] in Cohere shape', async (status, code) => {
    const res = await send(cohereAdapter.chatRequest({ model: 'm', messages: [{ role: 'user', content: `x [error:${status}]` }] }, target));
    expect(res.status).toBe(status);
    expect(Object.keys(JSON.parse(res.text))).toContain('message');
    expect(cohereAdapter.mapError(res.status, res.text, res.headers, target).code).toBe(code);
  });

  it('refuses a request without a bearer token', async () => {
    const res = await send({ ...cohereAdapter.chatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, target), headers: {} });
    expect(res.status).toBe(401);
    expect(cohereAdapter.mapError(res.status, res.text, res.headers, target).code).toBe('upstream_auth_failed');
  });

  it('embeds deterministically, 8 dims or output_dimension', async () => {
    const req = cohereAdapter.embeddingsRequest!({ model: 'e', input: ['alpha beta', 'gamma'] }, target);
    const a = cohereEmbeddingsResponse(JSON.parse((await send(req)).text), target);
    const b = cohereEmbeddingsResponse(JSON.parse((await send(req)).text), target);
    expect(a).toEqual(b);
    expect(a.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    expect(a.data[0]!.embedding).not.toEqual(a.data[1]!.embedding);
    expect(a.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });

    const wide = await send(cohereAdapter.embeddingsRequest!({ model: 'e', input: 'x', dimensions: 40 }, target));
    expect(cohereEmbeddingsResponse(JSON.parse(wide.text), target).data[0]!.embedding).toHaveLength(40);
  });
});
