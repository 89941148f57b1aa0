/** Proves the fake Gemini answers in the real wire format, raw and through the adapter. */
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatRequest, UpstreamTarget } from '../../src/providers/adapter.js';
import { geminiAdapter } from '../../src/providers/gemini/index.js';
import { type FakeGemini, startFakeGemini } from './gemini-upstream.js';

let fake: FakeGemini;
beforeAll(async () => {
  fake = await startFakeGemini();
});
afterAll(() => fake.close());

const KEY = { 'x-goog-api-key': 'test-key', 'content-type': 'application/json' };
const userTurn = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });

async function post(path: string, body: unknown, headers: Record<string, string> = KEY) {
  const res = await fetch(`${fake.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

function sseData(text: string): any[] {
  const events: any[] = [];
  const parser = createParser({ onEvent: (e) => events.push(JSON.parse(e.data)) });
  parser.feed(text);
  return events;
}

describe('fake Gemini over HTTP', () => {
  it('generateContent echoes the last user text with deterministic usage, and records the request', async () => {
    const before = fake.requests.length;
    const res = await post('/v1beta/models/gemini-2.5-flash:generateContent', userTurn('hello world'));
    expect(res.status).toBe(200);
    const json = JSON.parse(res.text);
    expect(json.candidates).toStrictEqual([{ content: { parts: [{ text: 'Echo: hello world' }], role: 'model' }, finishReason: 'STOP', index: 0 }]);
    // prompt: 11 chars → 3 tokens; answer: 17 chars → 5 tokens.
    expect(json.usageMetadata).toStrictEqual({ promptTokenCount: 3, candidatesTokenCount: 5, totalTokenCount: 8, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 3 }] });
    expect(json.modelVersion).toBe('gemini-2.5-flash');
    expect(json.responseId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(fake.requests.length).toBe(before + 1);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1beta/models/gemini-2.5-flash:generateContent', body: userTurn('hello world') });
    expect(fake.requests.at(-1)!.headers['x-goog-api-key']).toBe('test-key');
  });

  it('streamGenerateContent?alt=sse sends word chunks, finishReason and usage on the last event', async () => {
    const res = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', userTurn('one two'));
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/event-stream');
    const events = sseData(res.text);
    expect(events.map((e) => e.candidates[0].content.parts[0].text)).toStrictEqual(['Echo: ', 'one ', 'two']);
    expect(events.map((e) => e.candidates[0].finishReason)).toStrictEqual([undefined, undefined, 'STOP']);
    expect(events.at(-1).usageMetadata).toMatchObject({ promptTokenCount: 2, candidatesTokenCount: 4, totalTokenCount: 6 });
  });

  it('[tool] calls the first declared function with args from its schema', async () => {
    const body = {
      ...userTurn('weather? [tool]'),
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['location'] } }] }],
    };
    const json = JSON.parse((await post('/v1beta/models/gemini-2.5-flash:generateContent', body)).text);
    expect(json.candidates[0].content.parts).toStrictEqual([{ functionCall: { name: 'get_weather', args: { location: 'Paris' } } }]);
    expect(json.candidates[0].finishReason).toBe('STOP');
  });

  it.each([
    [429, 'RESOURCE_EXHAUSTED'],
    [500, 'INTERNAL'],
    [503, 'UNAVAILABLE'],
  ])('[error:%i] answers with Gemini’s error shape', async (code, status) => {
    const res = await post('/v1beta/models/gemini-2.5-flash:generateContent', userTurn(`boom [error:${code}]`));
    expect(res.status).toBe(code);
    expect(JSON.parse(res.text)).toStrictEqual({ error: { code, message: expect.any(String), status } });
  });

  it('a missing API key gets 403 PERMISSION_DENIED; an invalid one 400 API_KEY_INVALID', async () => {
    const missing = await post('/v1beta/models/gemini-2.5-flash:generateContent', userTurn('x'), { 'content-type': 'application/json' });
    expect(missing.status).toBe(403);
    expect(JSON.parse(missing.text).error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    const invalid = await post('/v1beta/models/gemini-2.5-flash:generateContent', userTurn('x'), { ...KEY, 'x-goog-api-key': 'invalid-key' });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).error.details[0].reason).toBe('API_KEY_INVALID');
  });
});

describe('Gemini adapter against the fake', () => {
  const target = (): UpstreamTarget => ({
    providerName: 'google',
    provider: { type: 'gemini', api_key: 'test-key', headers: {}, connections: 1 },
    baseUrl: fake.url,
    upstreamModel: 'gemini-2.5-flash',
    publicModel: 'flash',
  });
  const send = (req: { url: string; method: string; headers: Record<string, string>; body: string | undefined }) =>
    fetch(req.url, { method: req.method, headers: req.headers, body: req.body });

  it('a chat completion round trip, tool call and tool result included', async () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false } } }];
    const first: ChatRequest = { model: 'flash', messages: [{ role: 'user', content: 'Weather in Paris? [tool]' }], tools };
    const res1 = await send(geminiAdapter.chatRequest(first, target()));
    const c1 = geminiAdapter.chatResponse(await res1.json(), target());
    expect(c1.choices[0]!.finish_reason).toBe('tool_calls');
    const call = c1.choices[0]!.message.tool_calls![0]!;
    expect(call).toStrictEqual({ id: 'call_0_0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } });

    const second: ChatRequest = { ...first, messages: [...first.messages, c1.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' }] };
    const res2 = await send(geminiAdapter.chatRequest(second, target()));
    const c2 = geminiAdapter.chatResponse(await res2.json(), target());
    expect(c2.choices[0]!.message.content).toBe('Tool result: {"content":{"temp":21}}');
    expect(c2.usage!.prompt_tokens).toBeGreaterThan(0);
  });

  it('a stream through the translator, ending with usage', async () => {
    const req = geminiAdapter.chatRequest({ model: 'flash', messages: [{ role: 'user', content: 'hi there' }], stream: true }, target());
    const res = await send(req);
    const translator = geminiAdapter.chatStream(target());
    const chunks: ChatCompletionChunk[] = [];
    const parser = createParser({ onEvent: (e) => chunks.push(...translator.push({ data: e.data })) });
    parser.feed(await res.text());
    chunks.push(...translator.end());
    expect(translator.error).toBeUndefined();
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null).join('')).toBe('Echo: hi there');
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 });
  });

  it('an error mid-stream sets translator.error; an HTTP error maps via mapError', async () => {
    const streamed = await send(geminiAdapter.chatRequest({ model: 'flash', messages: [{ role: 'user', content: 'x [error:midstream]' }], stream: true }, target()));
    const translator = geminiAdapter.chatStream(target());
    const parser = createParser({ onEvent: (e) => translator.push({ data: e.data }) });
    parser.feed(await streamed.text());
    expect(translator.error).toMatchObject({ code: 'upstream_error' });

    const failed = await send(geminiAdapter.chatRequest({ model: 'flash', messages: [{ role: 'user', content: 'x [error:429]' }] }, target()));
    const err = geminiAdapter.mapError(failed.status, await failed.text(), {}, target());
    expect(err).toMatchObject({ code: 'upstream_rate_limited', status: 429 });
  });

  it('embeddings round trip', async () => {
    const t = { ...target(), upstreamModel: 'gemini-embedding-001' };
    const res = await send(geminiAdapter.embeddingsRequest!({ model: 'embed', input: ['a', 'b'], dimensions: 4 }, t));
    const out = geminiAdapter.embeddingsResponse!(await res.json(), t);
    expect(out.data.map((d) => d.embedding.length)).toStrictEqual([4, 4]);
    expect(out.data[0]!.embedding).not.toStrictEqual(out.data[1]!.embedding);
  });
});
