import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import type { ChatCompletionChunk } from '../../providers/adapter.js';
import { chatCompletionsSurface, ChatChunkEncoder } from './index.js';

const chunk = (over: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk => ({
  id: 'c1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }],
  ...over,
});
const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };

describe('chat-completions surface', () => {
  it('parses a body into the pivot form unchanged, with facts and segments', () => {
    const body = { model: 'gpt', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hello' }] }], stream: true, stream_options: { include_usage: true }, max_tokens: 7 };
    const parsed = chatCompletionsSurface.parse(body, { headers: {}, query: '' });
    expect(parsed.wire).toBe(body);
    expect(chatCompletionsSurface.toChat(parsed.wire)).toBe(body);
    expect(parsed).toMatchObject({ model: 'gpt', stream: true, clientWantsUsage: true });
    expect(parsed.facts).toMatchObject({ messageCount: 2, systemPromptPresent: true, maxTokens: 7 });
    expect(chatCompletionsSurface.segments(parsed.wire)).toEqual([
      { path: 'messages[0].content', text: 'be brief' },
      { path: 'messages[1].content[0].text', text: 'hello' },
    ]);
  });

  it('refuses a bad body naming the field', () => {
    expect(() => chatCompletionsSurface.parse({ model: 'gpt', messages: [] }, { headers: {}, query: '' })).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'messages' }),
    );
  });

  it('streams the provider’s own bytes when given, and hides the forced usage chunk from clients that did not ask', () => {
    const quiet = new ChatChunkEncoder(false);
    expect(quiet.push(chunk(), '{"raw":true}')).toBe('data: {"raw":true}\n\n');
    expect(quiet.push(chunk({ choices: [], usage }))).toBe('');
    expect(JSON.parse(quiet.push(chunk({ usage })).slice(6))).toMatchObject({ usage: null, choices: [{ delta: { content: 'hi' } }] });
    expect(quiet.end()).toBe('data: [DONE]\n\n');
    const wants = new ChatChunkEncoder(true);
    expect(JSON.parse(wants.push(chunk({ choices: [], usage })).slice(6)).usage).toEqual(usage);
  });

  it('ends a stream with an OpenAI error event', () => {
    const frame = new ChatChunkEncoder(false).error(new GatewayError('upstream_timeout', 'too slow'));
    expect(JSON.parse(frame.slice(6))).toEqual({ error: { message: 'too slow', type: 'upstream_error', param: null, code: 'upstream_timeout' } });
  });
});
