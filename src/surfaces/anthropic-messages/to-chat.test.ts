import { describe, it, expect } from 'vitest';
import { GatewayError } from '../../errors.js';
import type { UpstreamTarget } from '../../providers/adapter.js';
import { anthropicChatRequest } from '../../providers/anthropic/chat.js';
import { parseMessagesRequest } from './parse.js';
import { toChat } from './to-chat.js';

const M = 'gpt-4o';
const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const png = { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' };

/** Parsed first, as the runner does: toChat only ever sees validated bodies. */
function chat(body: Record<string, unknown>): unknown {
  return toChat(parseMessagesRequest({ model: M, max_tokens: 100, ...body }).wire);
}

describe('toChat: translation to the chat pivot', () => {
  const cases: Array<{ name: string; body: Record<string, unknown>; out: unknown }> = [
    {
      name: 'plain text; max_tokens becomes max_completion_tokens',
      body: { messages: [{ role: 'user', content: 'Hi' }] },
      out: { model: M, messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 100 },
    },
    {
      name: 'system string and sampling parameters, metadata.user_id as user',
      body: {
        system: 'Be terse.',
        temperature: 0.2,
        top_p: 0.5,
        stop_sequences: ['END'],
        metadata: { user_id: 'u-1' },
        messages: [{ role: 'user', content: 'Hi' }],
      },
      out: {
        model: M,
        messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }],
        max_completion_tokens: 100,
        temperature: 0.2,
        top_p: 0.5,
        stop: ['END'],
        user: 'u-1',
      },
    },
    {
      name: 'system blocks (cache_control ignored) become text parts; a stream asks for usage',
      body: {
        stream: true,
        cache_control: { type: 'ephemeral' },
        system: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B', cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }] }],
      },
      out: {
        model: M,
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }] },
          { role: 'user', content: 'Hi' },
        ],
        max_completion_tokens: 100,
        stream: true,
        stream_options: { include_usage: true },
      },
    },
    {
      name: 'images (base64 and url) and documents (pdf as a file part, text as text)',
      body: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Look' },
              { type: 'image', source: png },
              { type: 'image', source: { type: 'url', url: 'https://x.test/a.jpg' } },
              { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'spec.pdf' },
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Body' }, title: 'notes', context: 'wiki' },
              { type: 'document', source: { type: 'content', content: [{ type: 'text', text: 'C1' }, { type: 'image', source: png }] } },
            ],
          },
        ],
      },
      out: {
        model: M,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Look' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://x.test/a.jpg' } },
              { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'spec.pdf' } },
              { type: 'text', text: 'notes\n\nwiki\n\nBody' },
              { type: 'text', text: 'C1' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            ],
          },
        ],
        max_completion_tokens: 100,
      },
    },
    {
      name: 'a tool round trip: tool_use → tool_calls, tool_result → tool messages first, thinking dropped',
      body: {
        tools: [{ name: 'weather', description: 'Weather now', input_schema: schema, cache_control: { type: 'ephemeral' } }],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        messages: [
          { role: 'user', content: 'Paris and Rome?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'two calls', signature: 'sig' },
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
              { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Rome' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Here:' },
              { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
              { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'no data' }], is_error: true },
            ],
          },
          { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'x' }] },
        ],
      },
      out: {
        model: M,
        messages: [
          { role: 'user', content: 'Paris and Rome?' },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
              { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
          { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: 'Error:' }, { type: 'text', text: 'no data' }] },
          { role: 'user', content: 'Here:' },
        ],
        max_completion_tokens: 100,
        tools: [{ type: 'function', function: { name: 'weather', description: 'Weather now', parameters: schema } }],
        tool_choice: 'required',
        parallel_tool_calls: false,
      },
    },
    {
      name: 'tool_choice tool/none; an error result without content; strict tools',
      body: {
        tools: [{ name: 'f', input_schema: schema, strict: true }],
        tool_choice: { type: 'tool', name: 'f' },
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', is_error: true }] }],
      },
      out: {
        model: M,
        messages: [{ role: 'tool', tool_call_id: 't', content: 'Error' }],
        max_completion_tokens: 100,
        tools: [{ type: 'function', function: { name: 'f', parameters: schema, strict: true } }],
        tool_choice: { type: 'function', function: { name: 'f' } },
      },
    },
    {
      name: 'a tool_choice without tools is dropped',
      body: { tool_choice: { type: 'none' }, messages: [{ role: 'user', content: 'x' }] },
      out: { model: M, messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 100 },
    },
    {
      name: 'thinking budget → reasoning_effort; output_config effort wins; json_schema format → strict response_format',
      body: {
        thinking: { type: 'enabled', budget_tokens: 2048 },
        output_config: { effort: 'max', format: { type: 'json_schema', schema } },
        messages: [{ role: 'user', content: 'x' }],
      },
      out: {
        model: M,
        messages: [{ role: 'user', content: 'x' }],
        max_completion_tokens: 100,
        reasoning_effort: 'max',
        response_format: { type: 'json_schema', json_schema: { name: 'output', schema, strict: true } },
      },
    },
  ];
  it.each(cases)('$name', ({ body, out }) => {
    expect(chat(body)).toEqual(out);
  });

  it.each([
    [1024, 'low'],
    [4096, 'medium'],
    [16384, 'high'],
  ])('thinking budget %i → %s', (budget_tokens, effort) => {
    expect(chat({ thinking: { type: 'enabled', budget_tokens }, messages: [{ role: 'user', content: 'x' }] })).toMatchObject({ reasoning_effort: effort });
  });

  it('disabled, adaptive and other thinking types add nothing', () => {
    for (const type of ['disabled', 'adaptive', 'between_tools']) {
      expect(chat({ thinking: { type }, messages: [{ role: 'user', content: 'x' }] })).not.toHaveProperty('reasoning_effort');
    }
  });
});

describe('toChat: what only Anthropic can serve is refused, naming the field', () => {
  const user = (content: unknown) => ({ messages: [{ role: 'user', content }] });
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['top_k', { top_k: 5, ...user('x') }, 'top_k'],
    ['an unknown top-level field', { container: 'c1', ...user('x') }, 'container'],
    ['a server tool', { tools: [{ type: 'web_search_20250305', name: 'web_search' }], ...user('x') }, 'tools[0].type'],
    ['an unknown output_config key', { output_config: { task_budget: 3 }, ...user('x') }, 'output_config.task_budget'],
    ['an image by file id', user([{ type: 'image', source: { type: 'file', file_id: 'file_1' } }]), 'messages[0].content[0].source'],
    ['a document by url', user([{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } }]), 'messages[0].content[0].source'],
    ['a document with citations', user([{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' }, citations: { enabled: true } }]), 'messages[0].content[0].citations'],
    ['a search result', user([{ type: 'search_result', source: 's', title: 't', content: [{ type: 'text', text: 'x' }] }]), 'messages[0].content[0].type'],
    ['an image in a tool result', user([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: png }] }]), 'messages[0].content[0].content[0]'],
    ['a server tool block in history', { messages: [{ role: 'assistant', content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }] }] }, 'messages[0].content[0].type'],
    ['a tool_use block in a user turn', user([{ type: 'tool_use', id: 't', name: 'f', input: {} }]), 'messages[0].content[0].type'],
    ['an image in an assistant turn', { messages: [{ role: 'assistant', content: [{ type: 'image', source: png }] }] }, 'messages[0].content[0].type'],
  ];
  it.each(cases)('%s', (_name, body, param) => {
    let err: unknown;
    try {
      chat(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('invalid_request');
    expect((err as GatewayError).param).toBe(param);
  });
});

describe('toChat is the inverse of the Anthropic adapter', () => {
  const target: UpstreamTarget = {
    providerName: 'claude',
    provider: { type: 'anthropic', api_key: 'k', headers: {}, connections: 1 },
    baseUrl: 'https://api.anthropic.com',
    upstreamModel: 'claude-x',
    publicModel: 'claude-x',
  };
  it('a body the adapter can express comes back as it was sent', () => {
    const wire = {
      model: 'claude-x',
      max_tokens: 100,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image', source: png }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' }, { type: 'text', text: 'Thanks' }] },
      ],
      system: 'Be terse.',
      temperature: 0.5,
      top_p: 0.9,
      stop_sequences: ['END'],
      stream: true,
      metadata: { user_id: 'u-1' },
      tools: [{ name: 'weather', description: 'Weather now', input_schema: schema }],
      tool_choice: { type: 'tool', name: 'weather', disable_parallel_tool_use: true },
    };
    const back = JSON.parse(anthropicChatRequest(toChat(parseMessagesRequest(wire).wire), target).body!);
    expect(back).toEqual(wire);
  });
});
