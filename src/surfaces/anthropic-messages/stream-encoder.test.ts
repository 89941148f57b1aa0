/**
 * The encoder's output is served over real HTTP to the official SDK's MessageStream, which
 * checks the event order and accumulates the final message as a client would.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { GatewayError } from '../../errors.js';
import type { ChatCompletionChunk } from '../../providers/adapter.js';
import { MessagesStreamEncoder } from './stream-encoder.js';

type Delta = ChatCompletionChunk.Choice.Delta;
const base = { id: 'chatcmpl-s1', object: 'chat.completion.chunk' as const, created: 1, model: 'gpt-4o-2024-08-06' };
const delta = (d: Delta, finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => ({
  ...base,
  choices: [{ index: 0, delta: d, finish_reason: finish }],
});
const usage = (prompt: number, completion: number, cached = 0): ChatCompletionChunk => ({
  ...base,
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } },
});
const call = (index: number, fn: { name?: string; arguments?: string }, id?: string) => ({
  tool_calls: [{ index, ...(id ? { id, type: 'function' as const } : {}), function: fn }],
});

/** Encodes the chunks (and an optional error after them) into one SSE body. */
function encode(chunks: ChatCompletionChunk[], error?: GatewayError, inputTokens?: number): string {
  const enc = new MessagesStreamEncoder({ model: 'gpt-4o' }, { inputTokens });
  let out = chunks.map((c) => enc.push(c)).join('');
  out += error ? enc.error(error) : enc.end();
  return out;
}

let server: Server;
let body = '';
let client: Anthropic;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new Anthropic({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'test', maxRetries: 0 });
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function sdkFinal(sse: string): Promise<Anthropic.Message> {
  body = sse;
  return client.messages.stream({ model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
}

function events(sse: string): string[] {
  return [...sse.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]!);
}

describe('MessagesStreamEncoder, read by the SDK', () => {
  it('text: deltas join; usage from the final usage chunk', async () => {
    const sse = encode([delta({ role: 'assistant', content: '' }), delta({ content: 'Hel' }), delta({ content: 'lo' }), delta({}, 'stop'), usage(120, 5, 100)], undefined, 118);
    expect(events(sse)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(sse).toContain('"usage":{"input_tokens":118,');
    const msg = await sdkFinal(sse);
    expect(msg).toMatchObject({
      id: 'msg_s1',
      model: 'gpt-4o-2024-08-06',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hello' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 5, cache_read_input_tokens: 100 },
    });
  });

  it('text then parallel tool calls: one block per call, the text block closed first, input parsed', async () => {
    const sse = encode([
      delta({ role: 'assistant', content: 'Checking.' }),
      delta(call(0, { name: 'weather', arguments: '' }, 'call_a')),
      delta(call(0, { arguments: '{"ci' })),
      delta(call(0, { arguments: 'ty":"Paris"}' })),
      delta(call(1, { name: 'weather', arguments: '{"city":"Rome"}' }, 'call_b')),
      delta(call(2, { name: 'clock' }, 'call_c')),
      delta({}, 'tool_calls'),
      usage(50, 30),
    ]);
    expect(events(sse)).toEqual([
      'message_start', 'ping',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_stop',
      'message_delta', 'message_stop',
    ]);
    const msg = await sdkFinal(sse);
    expect(msg.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'call_a', name: 'weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_b', name: 'weather', input: { city: 'Rome' } },
      { type: 'tool_use', id: 'call_c', name: 'clock', input: {} },
    ]);
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.usage).toMatchObject({ input_tokens: 50, output_tokens: 30 });
  });

  it.each([
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
  ] as const)('finish_reason %s → stop_reason %s', async (finish, stop) => {
    const msg = await sdkFinal(encode([delta({ content: 'cut' }, finish)]));
    expect(msg.stop_reason).toBe(stop);
  });

  it('a stream without usage or any content still closes as a valid message', async () => {
    const sse = encode([]);
    expect(events(sse)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
    const msg = await sdkFinal(sse);
    expect(msg).toMatchObject({ id: expect.stringMatching(/^msg_/), model: 'gpt-4o', content: [], stop_reason: 'end_turn', usage: { output_tokens: 0 } });
  });

  it('a refusal delta is text with stop_reason refusal', async () => {
    const msg = await sdkFinal(encode([delta({ refusal: 'No.' }), delta({}, 'stop')]));
    expect(msg).toMatchObject({ content: [{ type: 'text', text: 'No.' }], stop_reason: 'refusal' });
  });

  it('a mid-stream error frame raises an APIError with the Anthropic type and message', async () => {
    const sse = encode([delta({ content: 'Partial' })], new GatewayError('upstream_error', 'Provider "p" failed mid-stream (overloaded_error): Overloaded'));
    expect(sse.endsWith('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Provider \\"p\\" failed mid-stream (overloaded_error): Overloaded"}}\n\n')).toBe(true);
    const err = await sdkFinal(sse).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Provider "p" failed mid-stream (overloaded_error): Overloaded' } });
  });

  it('nothing is written after end() or error()', () => {
    const enc = new MessagesStreamEncoder({ model: 'm' });
    enc.push(delta({ content: 'a' }));
    enc.end();
    expect(enc.push(delta({ content: 'b' }))).toBe('');
    expect(enc.end()).toBe('');
  });
});
