import { describe, it, expect } from 'vitest';
import type { ChatCompletion } from '../../providers/adapter.js';
import { finishReason } from '../../providers/anthropic/chat.js';
import { messageId, renderCompletion, renderModelList, stopReason } from './render.js';
import type { MessagesWire } from './types.js';

const wire = { model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] } as MessagesWire;

function completion(message: Partial<ChatCompletion.Choice['message']>, finish: ChatCompletion.Choice['finish_reason'], usage?: ChatCompletion['usage']): ChatCompletion {
  return {
    id: 'chatcmpl-AbC123',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, finish_reason: finish, logprobs: null }],
    ...(usage ? { usage } : {}),
  };
}

describe('renderCompletion', () => {
  it('text, with usage split into input and cache reads', () => {
    const out = renderCompletion(
      completion({ content: 'Hello' }, 'stop', { prompt_tokens: 120, completion_tokens: 7, total_tokens: 127, prompt_tokens_details: { cached_tokens: 100 } }),
      wire,
    );
    expect(out).toEqual({
      id: 'msg_AbC123',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-2024-08-06',
      content: [{ type: 'text', text: 'Hello' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 100 },
    });
  });

  it('tool calls become tool_use blocks with parsed input, after the text', () => {
    const out = renderCompletion(
      completion(
        {
          content: 'Let me check.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'clock', arguments: '' } },
            { id: 'call_3', type: 'function', function: { name: 'cut', arguments: '{"a":' } },
          ],
        },
        'tool_calls',
      ),
      wire,
    );
    expect(out.content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'clock', input: {} },
      { type: 'tool_use', id: 'call_3', name: 'cut', input: {} },
    ]);
    expect(out.stop_reason).toBe('tool_use');
    expect(out.usage).toEqual({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it('an empty answer has no blocks; a refusal is text with stop_reason refusal', () => {
    expect(renderCompletion(completion({ content: '' }, 'length'), wire)).toMatchObject({ content: [], stop_reason: 'max_tokens' });
    expect(renderCompletion(completion({ refusal: 'I cannot help.' }, 'stop'), wire)).toMatchObject({
      content: [{ type: 'text', text: 'I cannot help.' }],
      stop_reason: 'refusal',
    });
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
  ])('finish_reason %s → stop_reason %s', (finish, stop) => {
    expect(stopReason(finish)).toBe(stop);
  });

  it('tool calls finished with stop (or no reason) are tool_use', () => {
    expect(stopReason('stop', true)).toBe('tool_use');
    expect(stopReason(null, true)).toBe('tool_use');
    expect(stopReason('length', true)).toBe('max_tokens');
    const out = renderCompletion(completion({ tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, 'stop'), wire);
    expect(out.stop_reason).toBe('tool_use');
  });

  it.each(['end_turn', 'max_tokens', 'tool_use', 'refusal'])('stop_reason %s survives the adapter round trip', (stop) => {
    expect(stopReason(finishReason(stop))).toBe(stop);
  });

  it.each([
    ['chatcmpl-xyz', 'msg_xyz'],
    ['msg_01AbC', 'msg_01AbC'],
    ['gen-1.2/3', 'msg_gen123'],
  ])('message id from %s → %s', (id, out) => {
    expect(messageId(id)).toBe(out);
  });

  it('an empty id gets a fresh msg_ id', () => {
    expect(messageId('')).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(messageId('')).not.toBe(messageId(''));
  });
});

describe('renderModelList', () => {
  it('Anthropic list shape', () => {
    expect(renderModelList([{ id: 'claude-opus', created: 1_767_225_600 }, { id: 'gpt-4o' }])).toEqual({
      data: [
        { type: 'model', id: 'claude-opus', display_name: 'claude-opus', created_at: '2026-01-01T00:00:00.000Z' },
        { type: 'model', id: 'gpt-4o', display_name: 'gpt-4o', created_at: '1970-01-01T00:00:00.000Z' },
      ],
      has_more: false,
      first_id: 'claude-opus',
      last_id: 'gpt-4o',
    });
    expect(renderModelList([])).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
  });
});
