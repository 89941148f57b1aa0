import { afterAll, beforeAll, describe, it, expect, vi } from 'vitest';
import { createParser } from 'eventsource-parser';
import type { SseEvent, StreamTranslator, UpstreamTarget } from '../adapter.js';
import { anthropicAdapter } from './index.js';

const target: UpstreamTarget = {
  providerName: 'claude',
  provider: { type: 'anthropic', api_key: 'sk-ant-test', headers: {}, connections: 128 },
  baseUrl: 'https://api.anthropic.com',
  upstreamModel: 'claude-sonnet-4-5',
  publicModel: 'sonnet',
};
const NOW = 1_767_225_600;

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW * 1000);
});
afterAll(() => {
  vi.useRealTimers();
});

/** Splits a recorded SSE body into events, as the forward stage does. */
function events(sse: string): SseEvent[] {
  const out: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => out.push({ event: e.event, data: e.data }) });
  parser.feed(sse);
  return out;
}

function run(sse: string): { translator: StreamTranslator; chunks: unknown[] } {
  const translator = anthropicAdapter.chatStream(target);
  const chunks: unknown[] = [];
  for (const e of events(sse)) chunks.push(...translator.push(e));
  chunks.push(...translator.end());
  return { translator, chunks };
}

function sse(...lines: Array<[string, unknown]>): string {
  return lines.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('');
}

const start = (id: string, usage: Record<string, number>) =>
  ['message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', content: [], model: 'claude-sonnet-4-5-20250929', stop_reason: null, stop_sequence: null, usage } }] as [string, unknown];
const blockStart = (index: number, content_block: unknown) => ['content_block_start', { type: 'content_block_start', index, content_block }] as [string, unknown];
const text = (index: number, t: string) => ['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: t } }] as [string, unknown];
const json = (index: number, partial_json: string) => ['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }] as [string, unknown];
const blockStop = (index: number) => ['content_block_stop', { type: 'content_block_stop', index }] as [string, unknown];
const ping: [string, unknown] = ['ping', { type: 'ping' }];
const msgDelta = (stop_reason: string, usage: Record<string, number>) => ['message_delta', { type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage }] as [string, unknown];
const stop: [string, unknown] = ['message_stop', { type: 'message_stop' }];

function chunks(id: string, ...parts: Array<{ delta?: unknown; finish?: string; usage?: unknown }>) {
  const base = { id, object: 'chat.completion.chunk', created: NOW, model: 'claude-sonnet-4-5-20250929' };
  return parts.map((p) =>
    p.usage ? { ...base, choices: [], usage: p.usage } : { ...base, choices: [{ index: 0, delta: p.delta ?? {}, finish_reason: p.finish ?? null }] },
  );
}

describe('anthropic stream translator', () => {
  it('translates a text stream (with ping and cache counters)', () => {
    const id = 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY';
    const { translator, chunks: out } = run(
      sse(start(id, { input_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 10, output_tokens: 1 }), blockStart(0, { type: 'text', text: '' }), ping, text(0, 'Hello'), text(0, '!'), blockStop(0), msgDelta('end_turn', { output_tokens: 15 }), stop),
    );
    expect(out).toStrictEqual(
      chunks(
        id,
        { delta: { role: 'assistant', content: '' } },
        { delta: { content: 'Hello' } },
        { delta: { content: '!' } },
        { finish: 'stop' },
        { usage: { prompt_tokens: 35, completion_tokens: 15, total_tokens: 50, prompt_tokens_details: { cached_tokens: 10 } } },
      ),
    );
    expect(translator.error).toBeUndefined();
  });

  it('translates text then tool_use blocks with input_json_delta fragments', () => {
    const id = 'msg_014p7gG3wDgGV9EUtLvnow3U';
    const { translator, chunks: out } = run(
      sse(
        start(id, { input_tokens: 472, output_tokens: 2 }),
        blockStart(0, { type: 'text', text: '' }),
        ping,
        text(0, 'Okay'),
        text(0, ", let's check the weather."),
        blockStop(0),
        blockStart(1, { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: {} }),
        json(1, ''),
        json(1, '{"location":'),
        json(1, ' "San Francisco, CA"'),
        json(1, ', "unit": "fahrenheit"}'),
        blockStop(1),
        blockStart(2, { type: 'tool_use', id: 'toolu_02', name: 'get_time', input: {} }),
        blockStop(2),
        msgDelta('tool_use', { output_tokens: 89 }),
        stop,
      ),
    );
    expect(out).toStrictEqual(
      chunks(
        id,
        { delta: { role: 'assistant', content: '' } },
        { delta: { content: 'Okay' } },
        { delta: { content: ", let's check the weather." } },
        { delta: { tool_calls: [{ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } }] } },
        { delta: { tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] } },
        { delta: { tool_calls: [{ index: 0, function: { arguments: ' "San Francisco, CA"' } }] } },
        { delta: { tool_calls: [{ index: 0, function: { arguments: ', "unit": "fahrenheit"}' } }] } },
        { delta: { tool_calls: [{ index: 1, id: 'toolu_02', type: 'function', function: { name: 'get_time', arguments: '' } }] } },
        // A tool streamed without input still gets parsable arguments.
        { delta: { tool_calls: [{ index: 1, function: { arguments: '{}' } }] } },
        { finish: 'tool_calls' },
        { usage: { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561, prompt_tokens_details: { cached_tokens: 0 } } },
      ),
    );
    expect(translator.error).toBeUndefined();
  });

  it('skips thinking blocks and takes cumulative input counters from message_delta', () => {
    const { chunks: out } = run(
      sse(
        start('msg_t', { input_tokens: 0, output_tokens: 0 }),
        blockStart(0, { type: 'thinking', thinking: '' }),
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'abc' } }],
        blockStop(0),
        blockStart(1, { type: 'text', text: '' }),
        text(1, 'Hi'),
        blockStop(1),
        msgDelta('max_tokens', { input_tokens: 40, cache_read_input_tokens: 5, output_tokens: 7 }),
        stop,
      ),
    );
    expect(out).toStrictEqual(
      chunks(
        'msg_t',
        { delta: { role: 'assistant', content: '' } },
        { delta: { content: 'Hi' } },
        { finish: 'length' },
        { usage: { prompt_tokens: 45, completion_tokens: 7, total_tokens: 52, prompt_tokens_details: { cached_tokens: 5 } } },
      ),
    );
  });

  it('turns an error event into translator.error and ignores what follows', () => {
    const raw =
      sse(start('msg_e', { input_tokens: 9, output_tokens: 1 }), blockStart(0, { type: 'text', text: '' }), text(0, 'Hel')) +
      'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n' +
      sse(text(0, 'lo'), stop);
    const { translator, chunks: out } = run(raw);
    expect(out).toStrictEqual(chunks('msg_e', { delta: { role: 'assistant', content: '' } }, { delta: { content: 'Hel' } }));
    expect(translator.error?.code).toBe('upstream_error');
    expect(translator.error?.status).toBe(502);
    expect(translator.error?.message).toBe('Provider "claude" failed mid-stream (overloaded_error): Overloaded');
  });

  it.each([
    ['overloaded_error', 'upstream_error', 'Provider "claude" failed mid-stream (overloaded_error): boom'],
    ['api_error', 'upstream_error', 'Provider "claude" failed mid-stream (api_error): boom'],
    ['rate_limit_error', 'upstream_rate_limited', 'Provider "claude" failed mid-stream (rate_limit_error): boom'],
    ['timeout_error', 'upstream_timeout', 'Provider "claude" failed mid-stream (timeout_error): boom'],
    ['invalid_request_error', 'upstream_rejected', 'Provider "claude" failed mid-stream (invalid_request_error): boom'],
    ['authentication_error', 'upstream_auth_failed', 'Provider "claude" failed mid-stream (authentication_error)'],
    ['brand_new_error', 'upstream_error', 'Provider "claude" failed mid-stream (brand_new_error): boom'],
  ])('error event %s → %s', (type, code, message) => {
    const { translator, chunks: out } = run(sse(['error', { type: 'error', error: { type, message: 'boom' } }]));
    expect(out).toStrictEqual([]);
    expect(translator.error?.code).toBe(code);
    expect(translator.error?.message).toBe(message);
  });

  it('finishes a stream that lost only message_stop', () => {
    const { translator, chunks: out } = run(sse(start('msg_x', { input_tokens: 2, output_tokens: 1 }), msgDelta('stop_sequence', { output_tokens: 3 })));
    expect(out).toStrictEqual(
      chunks(
        'msg_x',
        { delta: { role: 'assistant', content: '' } },
        { finish: 'stop' },
        { usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5, prompt_tokens_details: { cached_tokens: 0 } } },
      ),
    );
    expect(translator.error).toBeUndefined();
  });

  it('flags a stream cut before message_delta', () => {
    const { translator, chunks: out } = run(sse(start('msg_y', { input_tokens: 2, output_tokens: 1 }), text(0, 'Hi')));
    expect(out).toHaveLength(2);
    expect(translator.error?.code).toBe('upstream_invalid_response');
  });

  it.each(['{oops', 'null', '"text"'])('flags event data %s that is not a JSON object', (data) => {
    const translator = anthropicAdapter.chatStream(target);
    expect(translator.push({ event: 'message_start', data })).toStrictEqual([]);
    expect(translator.error?.code).toBe('upstream_invalid_response');
  });
});
