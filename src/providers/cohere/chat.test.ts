import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import type { ChatRequest, UpstreamTarget } from '../adapter.js';
import { cohereChatRequest, cohereChatResponse } from './chat.js';

const target: UpstreamTarget = {
  providerName: 'cohere',
  provider: { type: 'cohere', api_key: 'co-secret', headers: { 'x-client-name': 'omega' }, connections: 128 },
  baseUrl: 'https://api.cohere.com',
  upstreamModel: 'command-a-03-2025',
  publicModel: 'command-a',
};

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};
const timeTool = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };

describe('cohereChatRequest', () => {
  it('sends POST /v2/chat with the bearer key and the provider headers', () => {
    const req = cohereChatRequest({ model: 'command-a', messages: [{ role: 'user', content: 'Hi' }] }, target);
    expect(req.url).toBe('https://api.cohere.com/v2/chat');
    expect(req.method).toBe('POST');
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'x-client-name': 'omega', authorization: 'Bearer co-secret' });
    expect(JSON.parse(req.body!)).toEqual({ model: 'command-a-03-2025', messages: [{ role: 'user', content: 'Hi' }], stream: false });
  });

  it('does not double the version when base_url already ends in /v2', () => {
    const req = cohereChatRequest({ model: 'm', messages: [] }, { ...target, baseUrl: 'http://127.0.0.1:9999/v2' });
    expect(req.url).toBe('http://127.0.0.1:9999/v2/chat');
  });

  const cases: Array<{ name: string; in: Partial<ChatRequest>; out: Record<string, unknown> }> = [
    {
      name: 'all roles, images, tool calls and tool results',
      in: {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use metric.' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
            ],
          },
          { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: '{"temp":21}' }] },
          { role: 'assistant', content: [{ type: 'text', text: 'It is 21°C.' }] },
        ],
      },
      out: {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'system', content: 'Use metric.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
            ],
          },
          { role: 'assistant', tool_plan: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
          { role: 'assistant', content: 'It is 21°C.' },
        ],
        stream: false,
      },
    },
    {
      name: 'sampling parameters renamed, stop as a list, streaming',
      in: {
        messages: [{ role: 'user', content: 'Hi' }],
        max_completion_tokens: 100,
        max_tokens: 50,
        temperature: 0.2,
        top_p: 0.9,
        stop: 'END',
        seed: 7,
        frequency_penalty: 0.1,
        presence_penalty: 0.3,
        stream: true,
        stream_options: { include_usage: true },
        user: 'u-1',
      },
      out: {
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 100,
        temperature: 0.2,
        p: 0.9,
        stop_sequences: ['END'],
        seed: 7,
        frequency_penalty: 0.1,
        presence_penalty: 0.3,
        stream: true,
      },
    },
    {
      name: 'tools with tool_choice required; strict becomes strict_tools',
      in: {
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [{ ...weatherTool, function: { ...weatherTool.function, strict: true } }, timeTool],
        tool_choice: 'required',
      },
      out: {
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [
          { type: 'function', function: weatherTool.function },
          { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
        ],
        tool_choice: 'REQUIRED',
        strict_tools: true,
        stream: false,
      },
    },
    {
      name: 'tool_choice none',
      in: { messages: [{ role: 'user', content: 'x' }], tools: [timeTool], tool_choice: 'none' },
      out: { messages: [{ role: 'user', content: 'x' }], tools: [timeTool], tool_choice: 'NONE', stream: false },
    },
    {
      name: 'tool_choice auto sends no choice',
      in: { messages: [{ role: 'user', content: 'x' }], tools: [timeTool], tool_choice: 'auto' },
      out: { messages: [{ role: 'user', content: 'x' }], tools: [timeTool], stream: false },
    },
    {
      name: 'a named tool choice keeps only that tool and requires it',
      in: { messages: [{ role: 'user', content: 'x' }], tools: [weatherTool, timeTool], tool_choice: { type: 'function', function: { name: 'get_time' } } },
      out: { messages: [{ role: 'user', content: 'x' }], tools: [timeTool], tool_choice: 'REQUIRED', stream: false },
    },
    {
      name: 'allowed_tools in auto mode filters the tools without forcing',
      in: {
        messages: [{ role: 'user', content: 'x' }],
        tools: [weatherTool, timeTool],
        tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_weather' } }] } },
      },
      out: { messages: [{ role: 'user', content: 'x' }], tools: [weatherTool], stream: false },
    },
    {
      name: 'json_object response format',
      in: { messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } },
      out: { messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' }, stream: false },
    },
    {
      name: 'json_schema response format carries the schema',
      in: {
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { a: { type: 'string' } } } } },
      },
      out: {
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_object', json_schema: { type: 'object', properties: { a: { type: 'string' } } } },
        stream: false,
      },
    },
    {
      name: 'text response format is the default and is left out',
      in: { messages: [{ role: 'user', content: 'x' }], response_format: { type: 'text' } },
      out: { messages: [{ role: 'user', content: 'x' }], stream: false },
    },
  ];

  it.each(cases)('$name', ({ in: body, out }) => {
    const req = cohereChatRequest({ model: 'command-a', messages: [], ...body } as ChatRequest, target);
    expect(JSON.parse(req.body!)).toEqual({ model: 'command-a-03-2025', ...out });
  });

  const refusals: Array<{ name: string; in: Partial<ChatRequest>; param: string }> = [
    { name: 'n > 1', in: { n: 2 }, param: 'n' },
    { name: 'audio content', in: { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }] }] }, param: 'messages[0].content' },
    { name: 'the function role', in: { messages: [{ role: 'function', name: 'f', content: 'x' }] }, param: 'messages[0].role' },
    { name: 'custom tools', in: { tools: [{ type: 'custom', custom: { name: 'c' } }] }, param: 'tools' },
    { name: 'a tool choice naming an unknown tool', in: { tools: [timeTool], tool_choice: { type: 'function', function: { name: 'nope' } } }, param: 'tool_choice' },
  ];

  it.each(refusals)('refuses $name as invalid_request', ({ in: body, param }) => {
    let err: unknown;
    try {
      cohereChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], ...body } as ChatRequest, target);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('invalid_request');
    expect((err as GatewayError).param).toBe(param);
  });
});

describe('cohereChatResponse', () => {
  const NOW = 1_760_000_000;

  it('maps a text answer, preferring usage.tokens', () => {
    const res = cohereChatResponse(
      {
        id: 'c14c80c3-18eb-4519-9460-6c92edd8cfb4',
        finish_reason: 'COMPLETE',
        message: { role: 'assistant', content: [{ type: 'text', text: 'Hello ' }, { type: 'text', text: 'there.' }] },
        usage: { billed_units: { input_tokens: 5, output_tokens: 3 }, tokens: { input_tokens: 71, output_tokens: 3 } },
      },
      target,
      NOW,
    );
    expect(res).toEqual({
      id: 'c14c80c3-18eb-4519-9460-6c92edd8cfb4',
      object: 'chat.completion',
      created: NOW,
      model: 'command-a-03-2025',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there.', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 71, completion_tokens: 3, total_tokens: 74 },
    });
  });

  it('maps tool calls; the tool plan becomes the content; billed units when tokens are absent', () => {
    const res = cohereChatResponse(
      {
        id: 'r-2',
        finish_reason: 'TOOL_CALL',
        message: {
          role: 'assistant',
          tool_plan: 'I will look up the weather in Paris.',
          tool_calls: [{ id: 'get_weather_1x2y', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }],
        },
        usage: { billed_units: { input_tokens: 30, output_tokens: 12 } },
      },
      target,
      NOW,
    );
    expect(res.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'I will look up the weather in Paris.',
          refusal: null,
          tool_calls: [{ id: 'get_weather_1x2y', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }],
        },
        finish_reason: 'tool_calls',
        logprobs: null,
      },
    ]);
    expect(res.usage).toEqual({ prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 });
  });

  it.each([
    ['STOP_SEQUENCE', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SOMETHING_NEW', 'stop'],
  ])('maps finish_reason %s to %s', (reason, expected) => {
    const res = cohereChatResponse({ id: 'x', finish_reason: reason, message: { role: 'assistant', content: [] } }, target, NOW);
    expect(res.choices[0]!.finish_reason).toBe(expected);
    expect(res.choices[0]!.message.content).toBeNull();
    expect(res.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  it('fails with upstream_error on finish_reason ERROR', () => {
    expect(() => cohereChatResponse({ id: 'x', finish_reason: 'ERROR', message: {} }, target, NOW)).toThrow(
      expect.objectContaining({ code: 'upstream_error' }),
    );
  });

  it.each([null, 'text', { id: 'x' }, { message: 'nope' }])('refuses an unusable body %#', (body) => {
    expect(() => cohereChatResponse(body, target, NOW)).toThrow(expect.objectContaining({ code: 'upstream_invalid_response' }));
  });
});
