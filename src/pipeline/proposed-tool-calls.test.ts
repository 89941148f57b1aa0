import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../providers/adapter.js';
import { policy, quiet } from '../../test/support/policy-fixtures.js';
import { MAX_HELD_CHARS, StreamedCalls } from './proposed-tool-calls.js';

const chunk = (calls: NonNullable<ChatCompletionChunk.Choice.Delta['tool_calls']>, content?: string): ChatCompletionChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'm',
  choices: [{ index: 0, delta: { content, tool_calls: calls.length > 0 ? calls : undefined }, finish_reason: null }],
});

const rules = policy(
  [
    { id: 'no-refunds', on: 'tool_calls', tools: ['refund_*'], action: 'block' },
    { id: 'log-all', on: 'tool_calls', tools: ['*'], action: 'log' },
  ],
  quiet,
);

describe('StreamedCalls', () => {
  it('lets text and calls no block or review rule can match pass, and holds from the first one that could', () => {
    const calls = new StreamedCalls(rules);
    expect(calls.push(chunk([], 'Let me look.'))).toBe(false);
    expect(calls.push(chunk([{ index: 0, id: 'a', type: 'function', function: { name: 'get_weather', arguments: '' } }]))).toBe(false);
    expect(calls.push(chunk([{ index: 0, function: { arguments: '{"city":"Oslo"}' } }]))).toBe(false);
    expect(calls.push(chunk([{ index: 1, id: 'b', type: 'function', function: { name: 'refund_payment', arguments: '{"id"' } }]))).toBe(true);
    // Held from then on, text included (order is kept).
    expect(calls.push(chunk([{ index: 1, function: { arguments: ':"p1"}' } }]))).toBe(true);
    expect(calls.push(chunk([], 'trailing'))).toBe(true);
    expect(calls.list()).toEqual([
      { id: 'a', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { id: 'b', name: 'refund_payment', arguments: '{"id":"p1"}' },
    ]);
  });

  it('stops collecting past MAX_HELD_CHARS and says so', () => {
    const calls = new StreamedCalls(rules);
    calls.push(chunk([{ index: 0, id: 'a', type: 'function', function: { name: 'refund_all', arguments: '' } }]));
    const big = 'x'.repeat(1024 * 1024);
    for (let i = 0; i * big.length <= MAX_HELD_CHARS; i++) calls.push(chunk([{ index: 0, function: { arguments: big } }]));
    expect(calls.tooLarge).toBe(true);
    expect(calls.list()[0]!.arguments.length).toBeLessThanOrEqual(MAX_HELD_CHARS);
  });
});
