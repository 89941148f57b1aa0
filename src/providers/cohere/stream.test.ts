import { describe, expect, it } from 'vitest';
import type { SseEvent, UpstreamTarget } from '../adapter.js';
import { CohereStreamTranslator } from './stream.js';

const target: UpstreamTarget = {
  providerName: 'cohere',
  provider: { type: 'cohere', api_key: 'k', headers: {}, connections: 128 },
  baseUrl: 'https://api.cohere.com',
  upstreamModel: 'command-a-03-2025',
  publicModel: 'command-a',
};
const NOW = 1_760_000_000;
const ID = '29f14a5a-11de-4cae-9800-25e4747408ea';
const base = { id: ID, object: 'chat.completion.chunk', created: NOW, model: 'command-a-03-2025' };
const chunk = (delta: object, finish_reason: string | null = null) => ({ ...base, choices: [{ index: 0, delta, finish_reason, logprobs: null }] });

/** Events as Cohere sends them: the type in both the SSE `event:` field and the JSON. */
function sse(...events: object[]): SseEvent[] {
  return events.map((e) => ({ event: (e as { type: string }).type, data: JSON.stringify(e) }));
}

function run(events: SseEvent[]) {
  const t = new CohereStreamTranslator(target, NOW);
  const chunks = events.flatMap((e) => t.push(e));
  chunks.push(...t.end());
  return { chunks, error: t.error };
}

const textStream = sse(
  { type: 'message-start', id: ID, delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } },
  { type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } },
  { type: 'content-delta', index: 0, delta: { message: { content: { text: 'Hello' } } } },
  { type: 'content-delta', index: 0, delta: { message: { content: { text: ' world' } } } },
  { type: 'content-end', index: 0 },
  {
    type: 'message-end',
    delta: { finish_reason: 'COMPLETE', usage: { billed_units: { input_tokens: 3, output_tokens: 2 }, tokens: { input_tokens: 69, output_tokens: 2 } } },
  },
);

const toolStream = sse(
  { type: 'message-start', id: ID, delta: { message: { role: 'assistant' } } },
  { type: 'tool-plan-delta', delta: { message: { tool_plan: 'I will check' } } },
  { type: 'tool-plan-delta', delta: { message: { tool_plan: ' the weather.' } } },
  {
    type: 'tool-call-start',
    index: 0,
    delta: { message: { tool_calls: { id: 'get_weather_7gx2', type: 'function', function: { name: 'get_weather', arguments: '' } } } },
  },
  { type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: '{"location":' } } } } },
  { type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: '"Paris"}' } } } } },
  { type: 'tool-call-end', index: 0 },
  {
    type: 'tool-call-start',
    index: 1,
    delta: { message: { tool_calls: { id: 'get_time_9k1q', type: 'function', function: { name: 'get_time', arguments: '{}' } } } },
  },
  { type: 'tool-call-end', index: 1 },
  { type: 'message-end', delta: { finish_reason: 'TOOL_CALL', usage: { billed_units: { input_tokens: 40, output_tokens: 19 } } } },
);

describe('CohereStreamTranslator', () => {
  it('translates a text stream: role, deltas, finish, usage', () => {
    const { chunks, error } = run(textStream);
    expect(error).toBeUndefined();
    expect(chunks).toEqual([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hello' }),
      chunk({ content: ' world' }),
      chunk({}, 'stop'),
      { ...base, choices: [], usage: { prompt_tokens: 69, completion_tokens: 2, total_tokens: 71 } },
    ]);
  });

  it('translates tool calls: the plan as content, then index/id/name and argument fragments', () => {
    const { chunks, error } = run(toolStream);
    expect(error).toBeUndefined();
    expect(chunks).toEqual([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'I will check' }),
      chunk({ content: ' the weather.' }),
      chunk({ tool_calls: [{ index: 0, id: 'get_weather_7gx2', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'get_time_9k1q', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
      { ...base, choices: [], usage: { prompt_tokens: 40, completion_tokens: 19, total_tokens: 59 } },
    ]);
  });

  it('reads the type from the SSE event field alone, or from the JSON alone', () => {
    const eventOnly = textStream.map((e) => {
      const { type: _type, ...rest } = JSON.parse(e.data);
      return { event: e.event, data: JSON.stringify(rest) };
    });
    const jsonOnly = textStream.map((e) => ({ data: e.data }));
    expect(run(eventOnly).chunks).toEqual(run(textStream).chunks);
    expect(run(jsonOnly).chunks).toEqual(run(textStream).chunks);
  });

  it('maps MAX_TOKENS to length', () => {
    const events = sse({ type: 'message-start', id: ID }, { type: 'message-end', delta: { finish_reason: 'MAX_TOKENS' } });
    expect(run(events).chunks.slice(1)).toEqual([
      chunk({}, 'length'),
      { ...base, choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } },
    ]);
  });

  it('ignores thinking deltas, citations and unknown events', () => {
    const events = sse(
      { type: 'message-start', id: ID },
      { type: 'content-start', index: 0, delta: { message: { content: { type: 'thinking', thinking: '' } } } },
      { type: 'content-delta', index: 0, delta: { message: { content: { thinking: 'hmm' } } } },
      { type: 'citation-start', index: 0, delta: { message: { citations: {} } } },
      { type: 'debug', prompt: 'x' },
    );
    const t = new CohereStreamTranslator(target, NOW);
    expect(events.flatMap((e) => t.push(e))).toEqual([chunk({ role: 'assistant', content: '' })]);
  });

  it('reports an error carried by message-end', () => {
    const events = sse(
      { type: 'message-start', id: ID },
      { type: 'content-delta', index: 0, delta: { message: { content: { text: 'Hi' } } } },
      { type: 'message-end', delta: { finish_reason: 'ERROR', error: 'internal failure' } },
    );
    const { chunks, error } = run(events);
    expect(chunks).toEqual([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hi' })]);
    expect(error?.code).toBe('upstream_error');
    expect(error?.message).toBe('Provider "cohere" failed mid-stream: internal failure');
  });

  it('reports a non-JSON event and stops translating', () => {
    const t = new CohereStreamTranslator(target, NOW);
    expect(t.push({ event: 'content-delta', data: '{oops' })).toEqual([]);
    expect(t.error?.code).toBe('upstream_invalid_response');
    expect(t.push(textStream[0]!)).toEqual([]);
  });

  it('reports a stream that ends before message-end', () => {
    const { error } = run(textStream.slice(0, 3));
    expect(error?.code).toBe('upstream_invalid_response');
  });
});
