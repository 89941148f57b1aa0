/**
 * The translated path end to end, without the gateway's runner: the official Anthropic SDK talks
 * to a minimal loopback server that chains the surface (parse → toChat), the OpenAI adapter, the
 * fake OpenAI upstream, and back (renderCompletion / the stream encoder / renderError). It shows
 * the pieces fit as the runner will join them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic, { BadRequestError, RateLimitError } from '@anthropic-ai/sdk';
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { asGatewayError } from '../../errors.js';
import type { UpstreamTarget } from '../../providers/adapter.js';
import { openAIAdapter } from '../../providers/openai/index.js';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../../../test/fakes/openai-upstream.js';
import { anthropicMessagesSurface as surface } from './index.js';

let fake: FakeOpenAI;
let server: Server;
let client: Anthropic;
const target = (): UpstreamTarget => ({
  providerName: 'openai',
  provider: { type: 'openai', api_key: FAKE_UPSTREAM_KEY, headers: {}, connections: 4 },
  baseUrl: fake.baseUrl,
  upstreamModel: 'gpt-4o',
  publicModel: 'gpt-4o',
});

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const parsed = surface.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')), { headers: req.headers, query: '' });
    const up = openAIAdapter.chatRequest(surface.toChat(parsed.wire), target());
    const answer = await fetch(up.url, { method: up.method, headers: up.headers, body: up.body });
    if (!answer.ok) throw openAIAdapter.mapError(answer.status, await answer.text(), Object.fromEntries(answer.headers), target());
    if (!parsed.stream) {
      const body = JSON.stringify(surface.renderCompletion(openAIAdapter.chatResponse(await answer.json(), target()), parsed.wire));
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(body);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const translator = openAIAdapter.chatStream(target());
    const encoder = surface.streamEncoder(parsed.wire, { clientWantsUsage: true, inputTokens: 3 });
    const parser = createParser({ onEvent: (e) => translator.push({ event: e.event, data: e.data }).forEach((c) => res.write(encoder.push(c))) });
    parser.feed(await answer.text());
    translator.end().forEach((c) => res.write(encoder.push(c)));
    res.end(translator.error ? encoder.error(translator.error) : encoder.end());
  } catch (err) {
    const { status, body } = surface.renderError(asGatewayError(err));
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new Anthropic({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'omk_test', maxRetries: 0 });
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await fake.close();
});

const weather = { name: 'get_weather', description: 'Weather now', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } }, required: ['location'] } };

describe('Messages → OpenAI by translation, read by the Anthropic SDK', () => {
  it('messages.create: the echo comes back as a message; the upstream got a chat request', async () => {
    const msg = await client.messages.create({ model: 'gpt-4o', max_tokens: 50, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Echo: Hello there' }], stop_reason: 'end_turn' });
    expect(msg.id).toMatch(/^msg_fake/);
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(fake.requests.at(-1)!.body).toEqual({
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }],
      max_completion_tokens: 50,
    });
  });

  it('messages.stream: text deltas, final message and usage', async () => {
    const stream = client.messages.stream({ model: 'gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: 'one two three' }] });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const msg = await stream.finalMessage();
    expect(deltas.join('')).toBe('Echo: one two three');
    expect(msg.content).toEqual([{ type: 'text', text: 'Echo: one two three' }]);
    expect(msg.usage).toMatchObject({ output_tokens: 4 });
    expect(msg.usage.input_tokens).toBeGreaterThan(3);
    expect(fake.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  it('a streamed tool round trip', async () => {
    const first = await client.messages.stream({ model: 'gpt-4o', max_tokens: 50, tools: [weather], messages: [{ role: 'user', content: 'Weather? [tool]' }] }).finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([{ type: 'tool_use', id: 'call_fake_1', name: 'get_weather', input: { location: 'Paris' } }]);

    const second = await client.messages.create({
      model: 'gpt-4o',
      max_tokens: 50,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_fake_1', content: 'sunny' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'Echo: Weather?' }]);
    expect(fake.requests.at(-1)!.body.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_fake_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_fake_1', content: 'sunny' },
    ]);
  });

  it('errors arrive in Anthropic shape: an upstream 429, a server tool refused', async () => {
    const limited = await client.messages.create({ model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: '[error:429]' }] }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });

    const refused = await client.messages
      .create({ model: 'gpt-4o', max_tokens: 5, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'tools[0].type: The server tool "web_search_20250305" is only supported for Anthropic models.' },
    });
  });
});
