import { describe, it, expect } from 'vitest';
import { GatewayError } from '../../errors.js';
import type { ChatRequest, UpstreamTarget } from '../adapter.js';
import { anthropicAdapter } from './index.js';

const target: UpstreamTarget = {
  providerName: 'claude',
  provider: { type: 'anthropic', api_key: 'sk-ant-test', headers: {}, connections: 128 },
  baseUrl: 'https://api.anthropic.com',
  upstreamModel: 'claude-sonnet-4-5-20250929',
  publicModel: 'sonnet',
};

const M = 'claude-sonnet-4-5-20250929';
const weatherParams = { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] };
const weatherTool = { type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: weatherParams } } as const;
const weatherToolOut = { name: 'get_weather', description: 'Current weather', input_schema: weatherParams };
const toolHistory = [
  { role: 'user', content: 'Weather in Paris and Rome?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
      { id: 'toolu_02', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'toolu_01', content: '18°C, cloudy' },
  { role: 'tool', tool_call_id: 'toolu_02', content: [{ type: 'text', text: '25°C' }, { type: 'text', text: 'sunny' }] },
] as const;

function upstreamBody(req: Record<string, unknown>): unknown {
  const out = anthropicAdapter.chatRequest({ model: 'sonnet', ...req } as unknown as ChatRequest, target);
  return JSON.parse(out.body!);
}

describe('anthropic chatRequest: body translation', () => {
  const cases: Array<{ name: string; req: Record<string, unknown>; body: unknown }> = [
    {
      name: 'plain text gets the upstream model and the default max_tokens',
      req: { messages: [{ role: 'user', content: 'Hello' }] },
      body: { model: M, max_tokens: 4096, messages: [{ role: 'user', content: 'Hello' }] },
    },
    {
      name: 'system and developer messages are hoisted and joined',
      req: {
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }, { type: 'text', text: 'No emoji.' }] },
          { role: 'user', content: 'Hi' },
        ],
      },
      body: { model: M, max_tokens: 4096, system: 'Be terse.\n\nAnswer in French.\nNo emoji.', messages: [{ role: 'user', content: 'Hi' }] },
    },
    {
      name: 'multi-turn keeps order; consecutive same-role messages merge; empty turns vanish',
      req: {
        messages: [
          { role: 'user', content: 'One' },
          { role: 'user', content: [{ type: 'text', text: 'Two' }] },
          { role: 'assistant', content: 'Ack' },
          { role: 'assistant', content: '' },
          { role: 'user', content: 'Three' },
        ],
      },
      body: {
        model: M,
        max_tokens: 4096,
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'One' }, { type: 'text', text: 'Two' }] },
          { role: 'assistant', content: 'Ack' },
          { role: 'user', content: 'Three' },
        ],
      },
    },
    {
      name: 'images: data URLs become base64 sources, http(s) URLs url sources',
      req: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            ],
          },
        ],
      },
      body: {
        model: M,
        max_tokens: 4096,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            ],
          },
        ],
      },
    },
    {
      name: 'inline PDF files become document blocks',
      req: { messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } }] }] },
      body: {
        model: M,
        max_tokens: 4096,
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'a.pdf' }] }],
      },
    },
    {
      name: 'tools, tool calls and tool results (consecutive results share one user turn)',
      req: { messages: toolHistory, tools: [weatherTool] },
      body: {
        model: M,
        max_tokens: 4096,
        tools: [weatherToolOut],
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } },
              { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: { location: 'Rome' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_01', content: '18°C, cloudy' },
              { type: 'tool_result', tool_use_id: 'toolu_02', content: [{ type: 'text', text: '25°C' }, { type: 'text', text: 'sunny' }] },
            ],
          },
        ],
      },
    },
    {
      name: 'assistant text before a tool call; a user text after tool results merges behind them',
      req: {
        messages: [
          { role: 'user', content: 'Go' },
          { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 't1', type: 'function', function: { name: 'ping', arguments: '' } }] },
          { role: 'tool', tool_call_id: 't1', content: 'pong' },
          { role: 'user', content: 'And now?' },
        ],
        tools: [{ type: 'function', function: { name: 'ping' } }],
      },
      body: {
        model: M,
        max_tokens: 4096,
        tools: [{ name: 'ping', input_schema: { type: 'object', properties: {} } }],
        messages: [
          { role: 'user', content: 'Go' },
          { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 't1', name: 'ping', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'pong' }, { type: 'text', text: 'And now?' }] },
        ],
      },
    },
    {
      name: 'sampling parameters, stop string, stream and user',
      req: {
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 100,
        temperature: 0.3,
        top_p: 0.9,
        stop: 'END',
        stream: true,
        stream_options: { include_usage: false },
        user: 'user-42',
        seed: 7,
        presence_penalty: 0.5,
      },
      body: {
        model: M,
        max_tokens: 100,
        temperature: 0.3,
        top_p: 0.9,
        stop_sequences: ['END'],
        stream: true,
        metadata: { user_id: 'user-42' },
        messages: [{ role: 'user', content: 'Hi' }],
      },
    },
    {
      name: 'max_completion_tokens wins over max_tokens; stop array; temperature above 1 is clamped; n=1 is fine',
      req: { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 50, max_completion_tokens: 60, stop: ['a', 'b'], temperature: 1.7, n: 1, stream: false },
      body: { model: M, max_tokens: 60, stop_sequences: ['a', 'b'], temperature: 1, messages: [{ role: 'user', content: 'Hi' }] },
    },
    {
      name: 'response_format json_object becomes a system instruction',
      req: { messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }], response_format: { type: 'json_object' } },
      body: {
        model: M,
        max_tokens: 4096,
        system: 'Be terse.\n\nRespond with a single valid JSON object and nothing else: no prose, no markdown code fences.',
        messages: [{ role: 'user', content: 'Hi' }],
      },
    },
    {
      name: 'response_format json_schema inlines the schema',
      req: { messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'json_schema', json_schema: { name: 'greeting', schema: { type: 'object' } } } },
      body: {
        model: M,
        max_tokens: 4096,
        system:
          'Respond with a single valid JSON value and nothing else: no prose, no markdown code fences. The JSON must conform to this JSON Schema (named "greeting"):\n{"type":"object"}',
        messages: [{ role: 'user', content: 'Hi' }],
      },
    },
  ];

  it.each(cases)('$name', ({ req, body }) => {
    expect(upstreamBody(req)).toEqual(body);
  });
});

describe('anthropic chatRequest: tool_choice', () => {
  const two = [weatherTool, { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } }];
  const cases: Array<{ name: string; extra: Record<string, unknown>; tool_choice: unknown; tools?: string[] }> = [
    { name: 'absent → none sent', extra: {}, tool_choice: undefined },
    { name: 'auto', extra: { tool_choice: 'auto' }, tool_choice: { type: 'auto' } },
    { name: 'required → any', extra: { tool_choice: 'required' }, tool_choice: { type: 'any' } },
    { name: 'none keeps the tools declared', extra: { tool_choice: 'none' }, tool_choice: { type: 'none' } },
    { name: 'named function → tool', extra: { tool_choice: { type: 'function', function: { name: 'get_time' } } }, tool_choice: { type: 'tool', name: 'get_time' } },
    { name: 'parallel_tool_calls=false alone', extra: { parallel_tool_calls: false }, tool_choice: { type: 'auto', disable_parallel_tool_use: true } },
    { name: 'parallel_tool_calls=false with required', extra: { tool_choice: 'required', parallel_tool_calls: false }, tool_choice: { type: 'any', disable_parallel_tool_use: true } },
    {
      name: 'allowed_tools filters the declared tools',
      extra: { tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'get_time' } }] } } },
      tool_choice: { type: 'any' },
      tools: ['get_time'],
    },
  ];

  it.each(cases)('$name', ({ extra, tool_choice, tools }) => {
    const body = upstreamBody({ messages: [{ role: 'user', content: 'Hi' }], tools: two, ...extra }) as Record<string, unknown>;
    expect(body.tool_choice).toEqual(tool_choice);
    expect((body.tools as Array<{ name: string }>).map((t) => t.name)).toEqual(tools ?? ['get_weather', 'get_time']);
  });

  it('drops tool_choice when no tools are declared', () => {
    expect(upstreamBody({ messages: [{ role: 'user', content: 'Hi' }], tool_choice: 'required' })).toEqual({
      model: M,
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });
});

describe('anthropic chatRequest: refusals', () => {
  const user = [{ role: 'user', content: 'Hi' }];
  const cases: Array<{ name: string; req: Record<string, unknown>; param: string }> = [
    { name: 'n > 1', req: { messages: user, n: 2 }, param: 'n' },
    { name: 'logprobs', req: { messages: user, logprobs: true }, param: 'logprobs' },
    { name: 'only a system message', req: { messages: [{ role: 'system', content: 'x' }] }, param: 'messages' },
    { name: 'audio input', req: { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, param: 'messages[0].content[0]' },
    { name: 'ftp image', req: { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }, param: 'messages[0].content[0].image_url.url' },
    { name: 'file by id', req: { messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] }, param: 'messages[0].content[0].file' },
    {
      name: 'tool call arguments that are not a JSON object',
      req: { messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '[1]' } }] }] },
      param: 'messages[0].tool_calls[0].function.arguments',
    },
    { name: 'custom tools', req: { messages: user, tools: [{ type: 'custom', custom: { name: 'grep' } }] }, param: 'tools[0].type' },
    { name: 'legacy function role', req: { messages: [{ role: 'function', name: 'f', content: 'x' }] }, param: 'messages[0].role' },
  ];

  it.each(cases)('$name → invalid_request on $param', ({ req, param }) => {
    let thrown: unknown;
    try {
      upstreamBody(req);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).code).toBe('invalid_request');
    expect((thrown as GatewayError).status).toBe(400);
    expect((thrown as GatewayError).param).toBe(param);
  });
});

describe('anthropic chatRequest: url and headers', () => {
  it('posts to /v1/messages with the key, version and configured headers', () => {
    const t = { ...target, baseUrl: 'http://127.0.0.1:9999', provider: { ...target.provider, headers: { 'Anthropic-Beta': 'x-2025', 'anthropic-version': '2024-01-01' } } };
    const req = anthropicAdapter.chatRequest({ model: 'sonnet', messages: [{ role: 'user', content: 'Hi' }] }, t);
    expect(req.url).toBe('http://127.0.0.1:9999/v1/messages');
    expect(req.method).toBe('POST');
    expect(req.headers).toEqual({
      'content-type': 'application/json',
      'anthropic-version': '2024-01-01',
      'anthropic-beta': 'x-2025',
      'x-api-key': 'sk-ant-test',
    });
  });

  it('omits x-api-key when no key is configured', () => {
    const t = { ...target, provider: { ...target.provider, api_key: undefined } };
    const req = anthropicAdapter.chatRequest({ model: 'sonnet', messages: [{ role: 'user', content: 'Hi' }] }, t);
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'anthropic-version': '2023-06-01' });
  });
});
