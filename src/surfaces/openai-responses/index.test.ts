/** The translated path end to end: Responses body → chat pivot → a chat provider → Responses answer read by the SDK. */
import { createParser } from 'eventsource-parser';
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveCanned } from '../../../test/support/canned-server.js';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../../../test/fakes/openai-upstream.js';
import type { UpstreamTarget } from '../../providers/adapter.js';
import { openAIAdapter } from '../../providers/openai/index.js';
import { MemoryResponseStore } from '../../store/memory/response-store.js';
import { createResponsesSurface } from './index.js';

const surface = createResponsesSurface(new MemoryResponseStore(), { store: true, retentionMs: 60_000 });
const inbound = { headers: {}, query: '' };
const options = { clientWantsUsage: true, inputTokens: 0 };

let fake: FakeOpenAI;
let target: UpstreamTarget;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  target = { providerName: 'compat', provider: { type: 'openai-compatible', base_url: fake.baseUrl, api_key: FAKE_UPSTREAM_KEY, headers: {}, connections: 4 }, baseUrl: fake.baseUrl, upstreamModel: 'llama', publicModel: 'llama-pub' };
});
afterAll(() => fake.close());

async function readBack<T>(contentType: string, body: string, run: (c: OpenAI) => Promise<T>): Promise<T> {
  const server = await serveCanned({ contentType, body });
  try {
    return await run(new OpenAI({ baseURL: server.baseURL, apiKey: 'k', maxRetries: 0 }));
  } finally {
    await server.close();
  }
}

const tools = [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } }];

describe('openaiResponsesSurface (translated path)', () => {
  it('declares itself', () => {
    expect(surface.name).toBe('openai-responses');
    expect([...surface.native!.providerTypes]).toEqual(['openai']);
  });

  it('JSON: the provider gets a chat request; the client gets a Response', async () => {
    const { wire } = surface.parse({ model: 'llama-pub', instructions: 'Be brief', input: 'Hello', max_output_tokens: 20 }, inbound);
    const req = openAIAdapter.chatRequest({ ...surface.toChat(wire), model: target.upstreamModel }, target);
    const res = await request(req.url, { method: 'POST', headers: req.headers, body: req.body });
    expect(fake.requests.at(-1)!.body).toMatchObject({ model: 'llama', messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Hello' }], max_completion_tokens: 20 });
    const rendered = surface.renderCompletion(openAIAdapter.chatResponse(await res.body.json(), target), wire);
    const r = await readBack('application/json', JSON.stringify(rendered), (c) => c.responses.create({ model: 'llama-pub', input: 'Hello' }));
    expect(r.output_text).toBe('Echo: Hello');
    expect(r.usage?.output_tokens).toBe(2);
  });

  it.each([
    ['text', 'Hello [words:5]', (r: OpenAI.Responses.Response) => expect(r.output_text).toBe('w0 w1 w2 w3 w4')],
    ['tool call', 'weather? [tool]', (r: OpenAI.Responses.Response) => expect(r.output).toMatchObject([{ type: 'function_call', name: 'get_weather', arguments: '{"location":"Paris"}', call_id: 'call_fake_1' }])],
  ])('stream (%s): chat chunks re-encoded as Responses events the SDK accumulates', async (_name, input, check) => {
    const { wire } = surface.parse({ model: 'llama-pub', input, tools, stream: true }, inbound);
    const req = openAIAdapter.chatRequest({ ...surface.toChat(wire), model: target.upstreamModel }, target);
    const res = await request(req.url, { method: 'POST', headers: req.headers, body: req.body });
    const translator = openAIAdapter.chatStream(target);
    const encoder = surface.streamEncoder(wire, options);
    let out = '';
    const parser = createParser({ onEvent: (e) => (out += translator.push({ event: e.event, data: e.data }).map((c) => encoder.push(c)).join('')) });
    parser.feed(await res.body.text());
    out += encoder.end();
    const final = await readBack('text/event-stream', out, (c) => c.responses.stream({ model: 'llama-pub', input }).finalResponse());
    expect(final.id).toMatch(/^resp_/);
    expect(final.usage?.total_tokens).toBeGreaterThan(0);
    check(final);
  });
});
