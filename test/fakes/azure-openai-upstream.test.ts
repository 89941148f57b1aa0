/** The fake Azure OpenAI over HTTP, and the Azure adapter end to end against it. */
import { createParser } from 'eventsource-parser';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletion, CreateEmbeddingResponse, SseEvent, UpstreamRequest, UpstreamTarget } from '../../src/providers/adapter.js';
import { azureOpenAIAdapter } from '../../src/providers/azure-openai/index.js';
import { type FakeUpstream, startFakeAzureOpenAI } from './azure-openai-upstream.js';

let fake: FakeUpstream;
let target: UpstreamTarget;

beforeAll(async () => {
  fake = await startFakeAzureOpenAI();
  target = {
    providerName: 'azure',
    provider: { type: 'azure-openai', api_key: 'az-test', headers: {}, connections: 8 },
    baseUrl: fake.url,
    upstreamModel: 'gpt-4o-prod',
    publicModel: 'gpt-4o',
  };
});
afterAll(() => fake.close());

async function send(req: UpstreamRequest) {
  const res = await request(req.url, { method: req.method, headers: req.headers, body: req.body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

function sseEvents(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) }).feed(text);
  return events;
}

const user = (content: string) => ({ model: 'gpt-4o', messages: [{ role: 'user' as const, content }] });

describe('fake Azure OpenAI', () => {
  it('answers on the deployment URL with api-key and api-version', async () => {
    const res = await send(azureOpenAIAdapter.chatRequest(user('hello there'), target));
    expect(res.status).toBe(200);
    const completion: ChatCompletion = azureOpenAIAdapter.chatResponse(JSON.parse(res.text), target);
    expect(completion).toMatchObject({
      model: 'gpt-4o-prod',
      choices: [{ message: { content: 'Echo: hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
    });
    expect(azureOpenAIAdapter.requestId(res.headers)).toBe('fake-azure');
    const recorded = fake.requests.at(-1)!;
    expect(recorded.path).toBe('/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21');
    expect(recorded.headers['api-key']).toBe('az-test');
    expect(recorded.body.model).toBeUndefined();
  });

  it('streams with the filter preamble, which the adapter drops, and honours include_usage', async () => {
    const res = await send(azureOpenAIAdapter.chatRequest({ ...user('hi you'), stream: true }, target));
    const events = sseEvents(res.text);
    expect(JSON.parse(events[0]!.data).prompt_filter_results).toBeDefined();
    expect(events.at(-1)!.data).toBe('[DONE]');
    const t = azureOpenAIAdapter.chatStream(target);
    const chunks = [...events.flatMap((e) => t.push(e)), ...t.end()];
    expect(t.error).toBeUndefined();
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null)).toEqual(['', 'Echo:', ' hi', ' you', null, null]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } });

    // Without include_usage, no usage chunk (the adapter always forces it on; ask directly).
    const raw = await send({ ...azureOpenAIAdapter.chatRequest(user('x'), target), body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true }) });
    expect(sseEvents(raw.text).some((e) => e.data.includes('"usage":{'))).toBe(false);
  });

  it('calls the first tool with schema-shaped arguments', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }];
    const res = await send(azureOpenAIAdapter.chatRequest({ ...user('weather [tool]'), tools }, target));
    const completion = azureOpenAIAdapter.chatResponse(JSON.parse(res.text), target);
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]!.message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } });
  });

  it.each([
    [429, 'upstream_rate_limited'],
    [500, 'upstream_error'],
  ])('answers [error:%i] in Azure shape', async (status, code) => {
    const res = await send(azureOpenAIAdapter.chatRequest(user(`x [error:${status}]`), target));
    expect(res.status).toBe(status);
    expect(JSON.parse(res.text).error.message).toEqual(expect.any(String));
    expect(azureOpenAIAdapter.mapError(res.status, res.text, res.headers, target).code).toBe(code);
  });

  it('requires api-key (401) and api-version (400)', async () => {
    const req = azureOpenAIAdapter.chatRequest(user('x'), target);
    expect((await send({ ...req, headers: { 'content-type': 'application/json' } })).status).toBe(401);
    const noVersion = await send({ ...req, url: req.url.replace(/\?.*$/, '') });
    expect(noVersion.status).toBe(400);
    expect(JSON.parse(noVersion.text).error.code).toBe('MissingApiVersionParameter');
  });

  it('embeds deterministically, as floats or base64', async () => {
    const req = azureOpenAIAdapter.embeddingsRequest!({ model: 'e', input: ['alpha beta', 'gamma'] }, { ...target, upstreamModel: 'te3' });
    expect(req.url).toBe(`${fake.url}/openai/deployments/te3/embeddings?api-version=2024-10-21`);
    const res: CreateEmbeddingResponse = azureOpenAIAdapter.embeddingsResponse!(JSON.parse((await send(req)).text), target);
    expect(res.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    expect(res.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });

    const b64 = await send(azureOpenAIAdapter.embeddingsRequest!({ model: 'e', input: 'alpha beta', encoding_format: 'base64' }, { ...target, upstreamModel: 'te3' }));
    const encoded = JSON.parse(b64.text).data[0].embedding as string;
    const decoded = Array.from(new Float32Array(new Uint8Array(Buffer.from(encoded, 'base64')).buffer));
    expect(decoded).toEqual(res.data[0]!.embedding.map((x) => Math.fround(x)));
  });
});
