import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import { serveCanned } from '../../../test/support/canned-server.js';
import { GatewayError } from '../../errors.js';
import type { ChatCompletionChunk } from '../../providers/adapter.js';
import { ResponsesStreamEncoder } from './encode-stream.js';
import { parseResponsesRequest } from './parse.js';

type Delta = ChatCompletionChunk.Choice.Delta;
const chunk = (delta: Delta, finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => ({
  id: 'c1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'up-model', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});
const usageChunk: ChatCompletionChunk = { id: 'c1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'up-model', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } };
const wire = parseResponsesRequest({ model: 'my-model', input: 'Hi', stream: true }).wire;

const TEXT = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'), usageChunk];
const CALLS = [
  chunk({ role: 'assistant', content: 'Checking' }),
  chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get', arguments: '' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'put', arguments: '{}' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({}, 'tool_calls'),
  usageChunk,
];

function encode(chunks: ChatCompletionChunk[], finish = true): string {
  const e = new ResponsesStreamEncoder(wire, { id: 'resp_test', createdAt: 1_700_000_001 });
  return chunks.map((c) => e.push(c)).join('') + (finish ? e.end() : '');
}

function events(sse: string): { type: string; data: any }[] {
  return sse
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const [eventLine, dataLine] = frame.split('\n');
      const type = eventLine!.replace(/^event: /, '');
      const data = JSON.parse(dataLine!.replace(/^data: /, ''));
      expect(data.type).toBe(type);
      return { type, data };
    });
}

describe('ResponsesStreamEncoder', () => {
  it('text: the full lifecycle, numbered from 0', () => {
    const ev = events(encode(TEXT));
    expect(ev.map((e) => e.type)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      'response.output_text.delta', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done',
      'response.output_item.done', 'response.completed',
    ]);
    expect(ev.map((e) => e.data.sequence_number)).toEqual(ev.map((_, i) => i));
    expect(ev[0]!.data.response).toMatchObject({ id: 'resp_test', created_at: 1_700_000_001, status: 'in_progress', model: 'up-model', output: [] });
    expect(ev[6]!.data).toMatchObject({ text: 'Hello', output_index: 0, content_index: 0 });
    const done = ev.at(-1)!.data.response;
    expect(done).toMatchObject({ id: 'resp_test', status: 'completed', usage: { input_tokens: 7, output_tokens: 3, total_tokens: 10 } });
    expect(done.output).toEqual([{ id: expect.stringMatching(/^msg_/), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello', annotations: [], logprobs: [] }] }]);
  });

  it('text then two function calls: the message closes before the calls open; calls close in output order', () => {
    const ev = events(encode(CALLS));
    expect(ev.map((e) => e.type)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.output_item.added', 'response.function_call_arguments.delta',
      'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
      'response.function_call_arguments.done', 'response.output_item.done', 'response.function_call_arguments.done', 'response.output_item.done',
      'response.completed',
    ]);
    const done = ev.at(-1)!.data.response;
    expect(done.output).toMatchObject([
      { type: 'message' },
      { type: 'function_call', call_id: 'call_a', name: 'get', arguments: '{"city":"Paris"}', status: 'completed' },
      { type: 'function_call', call_id: 'call_b', name: 'put', arguments: '{}', status: 'completed' },
    ]);
    expect(ev[11]!.data).toMatchObject({ output_index: 2, delta: '{}' });
  });

  it('length ends with response.incomplete (max_output_tokens)', () => {
    const ev = events(encode([chunk({ content: 'cut' }), chunk({}, 'length')]));
    expect(ev.at(-1)).toMatchObject({ type: 'response.incomplete', data: { response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } } });
  });

  it('an empty stream still opens and completes', () => {
    expect(events(encode([])).map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
  });

  it('error(): an `error` event continuing the numbering, nothing after it', () => {
    const e = new ResponsesStreamEncoder(wire);
    const head = e.push(chunk({ content: 'x' }));
    const err = e.error(new GatewayError('upstream_error', 'Provider "p" failed mid-stream: boom'));
    expect(events(err)).toEqual([{ type: 'error', data: { type: 'error', code: 'upstream_error', message: 'Provider "p" failed mid-stream: boom', param: null, sequence_number: events(head).length } }]);
    expect(e.push(chunk({ content: 'more' })) + e.end()).toBe('');
  });
});

describe('the openai SDK reads the encoded stream', () => {
  it.each([['text', TEXT], ['calls', CALLS]] as const)('%s: the SDK accumulator, fed every event but the last, builds the final output', (_name, chunks) => {
    const ev = events(encode(chunks as ChatCompletionChunk[]));
    let snapshot: any;
    for (const e of ev.slice(0, -1)) snapshot = accumulateResponse(e.data, snapshot);
    expect(snapshot.output).toEqual(ev.at(-1)!.data.response.output);
  });

  async function withServer<T>(sse: string, run: (client: OpenAI) => Promise<T>): Promise<T> {
    const server = await serveCanned({ contentType: 'text/event-stream', body: sse });
    try {
      return await run(new OpenAI({ baseURL: server.baseURL, apiKey: 'k', maxRetries: 0 }));
    } finally {
      await server.close();
    }
  }

  it('responses.stream(): text deltas and finalResponse().output_text', async () => {
    await withServer(encode(TEXT), async (client) => {
      const stream = client.responses.stream({ model: 'my-model', input: 'Hi' });
      const deltas: string[] = [];
      stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
      const final = await stream.finalResponse();
      expect(deltas).toEqual(['Hel', 'lo']);
      expect(final.output_text).toBe('Hello');
      expect(final.usage?.total_tokens).toBe(10);
    });
  });

  it('responses.stream(): function calls with their accumulated arguments', async () => {
    await withServer(encode(CALLS), async (client) => {
      const final = await client.responses.stream({ model: 'my-model', input: 'Hi' }).finalResponse();
      expect(final.output_text).toBe('Checking');
      const calls = final.output.filter((o) => o.type === 'function_call');
      expect(calls.map((c) => [c.call_id, c.name, c.arguments])).toEqual([['call_a', 'get', '{"city":"Paris"}'], ['call_b', 'put', '{}']]);
    });
  });

  it('responses.create({stream: true}): every event, ending in response.completed', async () => {
    await withServer(encode(TEXT), async (client) => {
      const stream = await client.responses.create({ model: 'my-model', input: 'Hi', stream: true });
      const types: string[] = [];
      let text = '';
      for await (const e of stream) {
        types.push(e.type);
        if (e.type === 'response.output_text.delta') text += e.delta;
      }
      expect(text).toBe('Hello');
      expect(types.at(-1)).toBe('response.completed');
    });
  });

  it('an error event: responses.stream() rejects with it; create({stream}) yields it as an event', async () => {
    const e = new ResponsesStreamEncoder(wire);
    const sse = e.push(chunk({ content: 'partial' })) + e.error(new GatewayError('upstream_timeout', 'Provider "p" timed out'));
    await withServer(sse, async (client) => {
      const rejected = await client.responses.stream({ model: 'my-model', input: 'Hi' }).finalResponse().catch((err: unknown) => err);
      expect(rejected).toMatchObject({ type: 'error', code: 'upstream_timeout', message: 'Provider "p" timed out' });
    });
    await withServer(sse, async (client) => {
      const seen: unknown[] = [];
      for await (const ev of await client.responses.create({ model: 'my-model', input: 'Hi', stream: true })) seen.push(ev);
      expect(seen.at(-1)).toMatchObject({ type: 'error', code: 'upstream_timeout' });
    });
  });
});
