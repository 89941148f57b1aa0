import { afterAll, beforeAll, describe, it, expect, vi } from 'vitest';
import { GatewayError } from '../../errors.js';
import type { UpstreamTarget } from '../adapter.js';
import { anthropicAdapter } from './index.js';

const target: UpstreamTarget = {
  providerName: 'claude',
  provider: { type: 'anthropic', api_key: 'sk-ant-test', headers: {}, connections: 128 },
  baseUrl: 'https://api.anthropic.com',
  upstreamModel: 'claude-sonnet-4-5',
  publicModel: 'sonnet',
};
const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW * 1000);
});
afterAll(() => {
  vi.useRealTimers();
});

/** A recorded Messages API response, as documented, with the given content and stop reason. */
function recorded(content: unknown[], stop_reason: string, usage: Record<string, unknown> = { input_tokens: 12, output_tokens: 6 }) {
  return {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content,
    stop_reason,
    stop_sequence: stop_reason === 'stop_sequence' ? 'END' : null,
    usage: { cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: 'standard', ...usage },
  };
}

function completion(message: Record<string, unknown>, finish_reason: string, usage: Record<string, unknown>) {
  return {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    object: 'chat.completion',
    created: NOW,
    model: 'claude-sonnet-4-5-20250929',
    choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, finish_reason, logprobs: null }],
    usage,
  };
}

const plainUsage = { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18, prompt_tokens_details: { cached_tokens: 0 } };
const text = [{ type: 'text', text: 'Hello! How can I help?' }];

describe('anthropic chatResponse', () => {
  const cases: Array<{ name: string; json: unknown; out: unknown }> = [
    { name: 'text, end_turn → stop', json: recorded(text, 'end_turn'), out: completion({ content: 'Hello! How can I help?' }, 'stop', plainUsage) },
    { name: 'stop_sequence → stop', json: recorded(text, 'stop_sequence'), out: completion({ content: 'Hello! How can I help?' }, 'stop', plainUsage) },
    { name: 'max_tokens → length', json: recorded(text, 'max_tokens'), out: completion({ content: 'Hello! How can I help?' }, 'length', plainUsage) },
    { name: 'refusal → content_filter', json: recorded(text, 'refusal'), out: completion({ content: 'Hello! How can I help?' }, 'content_filter', plainUsage) },
    {
      name: 'split text blocks join without a separator; thinking is dropped',
      json: recorded(
        [
          { type: 'thinking', thinking: 'Let me see…', signature: 'sig' },
          { type: 'text', text: 'The answer ', citations: null },
          { type: 'text', text: 'is 42.', citations: [] },
        ],
        'end_turn',
      ),
      out: completion({ content: 'The answer is 42.' }, 'stop', plainUsage),
    },
    {
      name: 'tool_use only → tool_calls with null content',
      json: recorded([{ type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'celsius' } }], 'tool_use'),
      out: completion(
        {
          content: null,
          tool_calls: [
            {
              id: 'toolu_01A09q90qw90lq917835lq9',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
            },
          ],
        },
        'tool_calls',
        plainUsage,
      ),
    },
    {
      name: 'text plus two tool_use blocks',
      json: recorded(
        [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
        ],
        'tool_use',
      ),
      out: completion(
        {
          content: 'Checking both.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        'tool_calls',
        plainUsage,
      ),
    },
    {
      name: 'cache writes and reads count as prompt tokens; reads are cached_tokens',
      json: recorded(text, 'end_turn', { input_tokens: 21, cache_creation_input_tokens: 188, cache_read_input_tokens: 1024, output_tokens: 393 }),
      out: completion({ content: 'Hello! How can I help?' }, 'stop', {
        prompt_tokens: 1233,
        completion_tokens: 393,
        total_tokens: 1626,
        prompt_tokens_details: { cached_tokens: 1024 },
      }),
    },
    {
      name: 'null cache counters (older responses) count as zero',
      json: recorded(text, 'end_turn', { input_tokens: 3, cache_creation_input_tokens: null, cache_read_input_tokens: null, output_tokens: 4 }),
      out: completion({ content: 'Hello! How can I help?' }, 'stop', { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, prompt_tokens_details: { cached_tokens: 0 } }),
    },
    {
      name: 'empty content → empty string',
      json: recorded([], 'end_turn'),
      out: completion({ content: '' }, 'stop', plainUsage),
    },
  ];

  it.each(cases)('$name', ({ json, out }) => {
    expect(anthropicAdapter.chatResponse(json, target)).toStrictEqual(out);
  });

  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['an error body', { type: 'error', error: { type: 'api_error', message: 'boom' } }],
    ['content not an array', { id: 'msg_1', type: 'message', content: 'hi' }],
  ])('rejects %s as upstream_invalid_response', (_name, json) => {
    let thrown: unknown;
    try {
      anthropicAdapter.chatResponse(json, target);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).code).toBe('upstream_invalid_response');
    expect((thrown as GatewayError).status).toBe(502);
  });
});
