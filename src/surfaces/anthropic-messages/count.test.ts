import { describe, it, expect } from 'vitest';
import { estimateInputTokens, IMAGE_TOKENS } from '../../budget/tokens.js';
import { GatewayError } from '../../errors.js';
import { countTokensResponse, estimateMessagesInputTokens } from './count.js';
import { parseCountTokensRequest } from './parse.js';
import { toChat } from './to-chat.js';
import type { MessagesWire } from './types.js';

describe('countTokensResponse', () => {
  it('is the estimate of the translated request, tools included', () => {
    const body = parseCountTokensRequest({
      model: 'gpt-4o',
      system: 'You are terse.',
      tools: [{ name: 'f', description: 'Do f', input_schema: { type: 'object', properties: { x: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'How many tokens is this?' }],
    }).wire;
    const expected = estimateInputTokens(toChat(body) as { messages: unknown[] }, 'gpt-4o');
    expect(countTokensResponse(body)).toEqual({ input_tokens: expected });
    expect(expected).toBeGreaterThan(20);
  });

  it('uses the upstream model to pick the tokenizer, and refuses what the model could not be sent', () => {
    const body = { model: 'fast', messages: [{ role: 'user', content: 'x'.repeat(400) }] } as MessagesWire;
    expect(countTokensResponse(body, 'gemini-2.5-flash')).toEqual({ input_tokens: 3 + 100 + 3 + 1 });
    expect(() => countTokensResponse({ ...body, tools: [{ type: 'web_search_20250305', name: 'web_search' }] })).toThrow(GatewayError);
  });
});

describe('estimateMessagesInputTokens', () => {
  // Approximated families count characters (3.5 a token for Claude), so each piece's share is visible.
  const M = 'claude-opus-4-6';
  const est = (body: Partial<MessagesWire>) => estimateMessagesInputTokens({ model: M, max_tokens: 1, messages: [], ...body } as MessagesWire, M);
  const one = (content: unknown) => est({ messages: [{ role: 'user', content }] as MessagesWire['messages'] });

  it('counts the system prompt, strings and text blocks', () => {
    const empty = est({});
    expect(est({ system: 'x'.repeat(70) })).toBe(empty + 3 + Math.ceil((70 + 'system'.length) / 3.5));
    expect(est({ system: [{ type: 'text', text: 'x'.repeat(35) }, { type: 'text', text: 'y'.repeat(34) }] })).toBe(est({ system: 'x'.repeat(70) }));
    expect(one([{ type: 'text', text: 'abc' }])).toBe(one('abc'));
  });

  it.each([
    ['thinking', { type: 'thinking', thinking: 'x'.repeat(70), signature: 's' }],
    ['a tool call (name and input JSON)', { type: 'tool_use', id: 't', name: 'x'.repeat(60), input: { a: 1 } }],
    ['a tool result', { type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'x'.repeat(70) }] }],
    ['a text document', { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x'.repeat(70) } }],
    ['a server-tool result (as JSON)', { type: 'web_search_tool_result', tool_use_id: 't', content: [{ type: 'web_search_result', title: 'x'.repeat(40) }] }],
  ])('counts %s', (_name, block) => {
    expect(one([block])).toBeGreaterThan(one([]) + 15);
  });

  it('an image at the flat rate; a base64 PDF not at all', () => {
    expect(one([{ type: 'image', source: { type: 'url', url: 'https://x' } }])).toBe(one([]) + IMAGE_TOKENS);
    expect(one([{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'A'.repeat(10_000) } }])).toBe(one([]));
  });

  it('tools count, server tools included (nothing is refused)', () => {
    const tools = [{ type: 'web_search_20250305', name: 'web_search' }, { name: 'f', input_schema: { type: 'object' } }] as MessagesWire['tools'];
    expect(est({ tools })).toBe(est({}) + Math.ceil(JSON.stringify(tools).length / 3.5));
  });
});
