import { describe, it, expect } from 'vitest';
import type { UpstreamTarget } from '../../providers/adapter.js';
import { nativeCountTokensRequest, nativeRequest, observeNative, observeNativeStream } from './native.js';
import type { MessagesWire } from './types.js';

const target = (headers: Record<string, string> = {}): UpstreamTarget => ({
  providerName: 'claude',
  provider: { type: 'anthropic', api_key: 'sk-ant-provider', headers, connections: 8 },
  baseUrl: 'https://api.anthropic.com',
  upstreamModel: 'claude-opus-4-6-20260101',
  publicModel: 'opus',
});

const wire = {
  model: 'opus',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'Sys', cache_control: { type: 'ephemeral', ttl: '1h' } }],
  messages: [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: 'c2ln' }, { type: 'text', text: 'Hello' }] },
    { role: 'user', content: 'More' },
  ],
  thinking: { type: 'enabled', budget_tokens: 2048 },
  tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 2 }],
  context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
  stream: true,
} as unknown as MessagesWire;

describe('nativeRequest', () => {
  it('sends the body as sent, only the model replaced, key order kept', () => {
    const req = nativeRequest(wire, target(), {});
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://api.anthropic.com/v1/messages');
    expect(req.body).toBe(JSON.stringify({ ...wire, model: 'claude-opus-4-6-20260101' }));
    expect(Object.keys(JSON.parse(req.body!))[0]).toBe('model');
  });

  it.each([
    ['no client headers: the default version, the provider key', {}, {}, { 'anthropic-version': '2023-06-01' }],
    ['the client version wins', { 'anthropic-version': '2024-01-01' }, {}, { 'anthropic-version': '2024-01-01' }],
    ['the client beta passes', { 'anthropic-beta': 'interleaved-thinking-2025-05-14' }, {}, { 'anthropic-beta': 'interleaved-thinking-2025-05-14' }],
    [
      'configured and client betas are joined without duplicates',
      { 'anthropic-beta': 'a-1, b-2' },
      { 'Anthropic-Beta': 'b-2,c-3' },
      { 'anthropic-beta': 'b-2,c-3,a-1' },
    ],
    ['repeated client headers: the first version, all betas', { 'anthropic-version': ['v1', 'v2'], 'anthropic-beta': ['x', 'y'] }, {}, { 'anthropic-version': 'v1', 'anthropic-beta': 'x,y' }],
  ])('%s', (_name, client, configured, expected) => {
    const headers = nativeRequest(wire, target(configured), client).headers;
    expect(headers).toMatchObject({ 'content-type': 'application/json', 'x-api-key': 'sk-ant-provider', ...expected });
    if (!('anthropic-beta' in expected)) expect(headers).not.toHaveProperty('anthropic-beta');
  });

  it("never forwards the client's credentials or other headers", () => {
    const headers = nativeRequest(wire, target(), {
      'x-api-key': 'omk_client_key',
      authorization: 'Bearer omk_client_key',
      cookie: 'a=b',
      'x-stainless-lang': 'js',
    }).headers;
    expect(JSON.stringify(headers)).not.toContain('omk_client_key');
    expect(Object.keys(headers).sort()).toEqual(['anthropic-version', 'content-type', 'x-api-key']);
  });

  it.each([
    [{ beta: 'true' }, 'https://api.anthropic.com/v1/messages?beta=true'],
    [new URLSearchParams('beta=true&x=1'), 'https://api.anthropic.com/v1/messages?beta=true'],
    [{ beta: 'false', other: 'x' }, 'https://api.anthropic.com/v1/messages'],
    [undefined, 'https://api.anthropic.com/v1/messages'],
  ])('query %o → %s', (query, url) => {
    expect(nativeRequest(wire, target(), {}, query).url).toBe(url);
  });

  it('count_tokens goes to its own path, the same way', () => {
    const { max_tokens: _m, stream: _s, ...count } = wire;
    const req = nativeCountTokensRequest(count as MessagesWire, target(), { 'anthropic-beta': 'x' }, { beta: 'true' });
    expect(req.url).toBe('https://api.anthropic.com/v1/messages/count_tokens?beta=true');
    expect(JSON.parse(req.body!)).toEqual({ ...count, model: 'claude-opus-4-6-20260101' });
    expect(req.headers['anthropic-beta']).toBe('x');
  });
});

describe('observing native answers', () => {
  it('a message becomes a chat completion (the adapter translation)', () => {
    const completion = observeNative(
      {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-opus-4-6-20260101',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 's' },
          { type: 'text', text: 'Hi' },
          { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
        ],
        stop_reason: 'tool_use',
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 4, cache_creation_input_tokens: 2 },
      },
      target(),
    );
    expect(completion.choices[0]).toMatchObject({
      message: { content: 'Hi', tool_calls: [{ id: 'toolu_1', function: { name: 'f', arguments: '{"a":1}' } }] },
      finish_reason: 'tool_calls',
    });
    expect(completion.usage).toMatchObject({ prompt_tokens: 16, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 } });
  });

  it('a stream is observed as chunks with usage at the end', () => {
    const t = observeNativeStream(target());
    const ev = (data: Record<string, unknown>) => ({ event: data.type as string, data: JSON.stringify(data) });
    const chunks = [
      ev({ type: 'message_start', message: { id: 'msg_1', model: 'm', usage: { input_tokens: 7, output_tokens: 1 } } }),
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hm' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 's' } }),
      ev({ type: 'content_block_stop', index: 0 }),
      ev({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi' } }),
      ev({ type: 'content_block_stop', index: 1 }),
      ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }),
      ev({ type: 'message_stop' }),
    ].flatMap((e) => t.push(e));
    expect(chunks.map((c) => c.choices[0]?.delta.content).filter(Boolean)).toEqual(['Hi']);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3 });
  });
});
