import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatCompletionChunk, UpstreamTarget } from '../adapter.js';
import { geminiAdapter } from './index.js';

const target: UpstreamTarget = {
  providerName: 'google',
  provider: { type: 'gemini', api_key: 'k', headers: {}, connections: 1 },
  baseUrl: 'https://generativelanguage.googleapis.com',
  upstreamModel: 'gemini-2.5-flash',
  publicModel: 'flash',
};
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => vi.useRealTimers());

const head = { id: 'chatcmpl-r1', object: 'chat.completion.chunk', created: NOW / 1000, model: 'flash' };
const chunk = (delta: object, finish: string | null = null, index = 0) => ({ ...head, choices: [{ index, delta, finish_reason: finish, logprobs: null }] });
const usageChunk = (prompt: number, completion: number, reasoning = 0) => ({
  ...head,
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: reasoning } },
});
const role = chunk({ role: 'assistant', content: '' });

/** A recorded `streamGenerateContent?alt=sse` body, one data payload per entry. */
function sse(...events: object[]): string[] {
  return events.map((e) => JSON.stringify({ ...e, modelVersion: 'gemini-2.5-flash', responseId: 'r1' }));
}
const text = (t: string, extra: object = {}) => ({ candidates: [{ content: { parts: [{ text: t }], role: 'model' }, index: 0, ...extra }] });
const promptOnly = { usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 } };

function run(events: string[]) {
  const translator = geminiAdapter.chatStream(target);
  const chunks: ChatCompletionChunk[] = [];
  for (const data of events) chunks.push(...translator.push({ data }));
  chunks.push(...translator.end());
  return { chunks, error: translator.error };
}

describe('gemini StreamTranslator', () => {
  const cases: Array<{ name: string; events: string[]; chunks: unknown[] }> = [
    {
      name: 'text in several events, finish, usage at end',
      events: sse(
        { ...text('Hel'), ...promptOnly },
        { ...text('lo'), ...promptOnly },
        { ...text(' there', { finishReason: 'STOP' }), usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 3, totalTokenCount: 7 } },
      ),
      chunks: [role, chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({ content: ' there' }), chunk({}, 'stop'), usageChunk(4, 3)],
    },
    {
      name: 'a function call: one tool_calls delta with full arguments, finish tool_calls',
      events: sse({
        candidates: [
          {
            content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'c2ln' }, { functionCall: { name: 'get_time', args: {} } }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 12, totalTokenCount: 42 },
      }),
      chunks: [
        role,
        chunk({
          tool_calls: [
            { index: 0, id: 'call_0_0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' }, extra_content: { google: { thought_signature: 'c2ln' } } },
            { index: 1, id: 'call_0_1', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        }),
        chunk({}, 'tool_calls'),
        usageChunk(30, 12),
      ],
    },
    {
      name: 'thought parts dropped; thoughts counted as reasoning tokens',
      events: sse(
        { candidates: [{ content: { parts: [{ text: 'Hmm…', thought: true }], role: 'model' }, index: 0 }], ...promptOnly },
        { ...text('42', { finishReason: 'STOP' }), usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 1, thoughtsTokenCount: 9, totalTokenCount: 14 } },
      ),
      chunks: [role, chunk({ content: '42' }), chunk({}, 'stop'), usageChunk(4, 10, 9)],
    },
    {
      name: 'MAX_TOKENS → length; SAFETY with empty content → content_filter',
      events: sse({
        candidates: [
          { content: { parts: [{ text: 'Once' }], role: 'model' }, finishReason: 'MAX_TOKENS', index: 0 },
          { finishReason: 'SAFETY', index: 1 },
        ],
      }),
      chunks: [role, chunk({ content: 'Once' }), chunk({}, 'length'), chunk({ role: 'assistant', content: '' }, null, 1), chunk({}, 'content_filter', 1)],
    },
    {
      name: 'a blocked prompt: no candidates',
      events: sse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 6, totalTokenCount: 6 } }),
      chunks: [role, chunk({}, 'content_filter'), usageChunk(6, 0)],
    },
    {
      name: 'a stream that ends without a finishReason still finishes',
      events: sse({ ...text('partial'), ...promptOnly }),
      chunks: [role, chunk({ content: 'partial' }), chunk({}, 'stop'), usageChunk(4, 0)],
    },
  ];
  it.each(cases)('$name', ({ events, chunks }) => {
    const out = run(events);
    expect(out.error).toBeUndefined();
    expect(out.chunks).toStrictEqual(chunks);
  });

  const failures: Array<{ name: string; events: string[]; before: unknown[]; code: string; status: number }> = [
    {
      name: 'an error event mid-stream (429)',
      events: [...sse({ ...text('Hel'), ...promptOnly }), JSON.stringify({ error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } }), ...sse(text('ignored'))],
      before: [role, chunk({ content: 'Hel' })],
      code: 'upstream_rate_limited',
      status: 429,
    },
    {
      name: 'an error event without a usable code',
      events: [JSON.stringify({ error: { message: 'Internal error', status: 'INTERNAL' } })],
      before: [],
      code: 'upstream_error',
      status: 502,
    },
    { name: 'an event that is not JSON', events: ['{"candidates": ['], before: [], code: 'upstream_invalid_response', status: 502 },
  ];
  it.each(failures)('$name sets translator.error', ({ events, before, code, status }) => {
    const out = run(events);
    expect(out.chunks).toEqual(before); // end() owes nothing after an error
    expect(out.error).toMatchObject({ code, status });
  });

  it('falls back to modelVersion and a random id', () => {
    const translator = geminiAdapter.chatStream({ ...target, publicModel: '' });
    const [first] = translator.push({ data: JSON.stringify({ ...text('x'), modelVersion: 'gemini-2.5-flash-002' }) });
    expect(first).toMatchObject({ model: 'gemini-2.5-flash-002', id: expect.stringMatching(/^chatcmpl-[0-9a-f-]{36}$/) });
  });

  it('ignores empty keep-alive events', () => {
    expect(geminiAdapter.chatStream(target).push({ data: '' })).toEqual([]);
  });
});
