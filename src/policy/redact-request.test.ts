import { describe, expect, it } from 'vitest';
import { compilePolicy } from './compile.js';
import { applyRedactions, parsePath, segmentsOf } from './redact-request.js';
import { PolicySchema } from './schema.js';

const chat = {
  model: 'gpt-5.4-mini',
  messages: [
    { role: 'system', content: 'You are terse.' },
    {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
        { type: 'text', text: 'Card 4111 1111 1111 1111, mail jane@example.com' },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'send', arguments: '{"to":"bob@example.org"}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'sent to bob@example.org' },
    { role: 'assistant', content: '', function_call: { name: 'old', arguments: '{"x":1}' } },
  ],
};

describe('segmentsOf', () => {
  it('lists chat text: string contents, text parts, tool-call arguments, tool results', () => {
    expect(segmentsOf(chat, 'chat')).toEqual([
      { path: 'messages[0].content', text: 'You are terse.' },
      { path: 'messages[1].content[1].text', text: 'Card 4111 1111 1111 1111, mail jane@example.com' },
      { path: 'messages[2].tool_calls[0].function.arguments', text: '{"to":"bob@example.org"}' },
      { path: 'messages[3].content', text: 'sent to bob@example.org' },
      { path: 'messages[4].function_call.arguments', text: '{"x":1}' },
    ]);
  });

  it('lists embeddings input as one string or a list; token ids carry no text', () => {
    expect(segmentsOf({ input: 'hello' }, 'embeddings')).toEqual([{ path: 'input', text: 'hello' }]);
    expect(segmentsOf({ input: ['a', 'b'] }, 'embeddings')).toEqual([
      { path: 'input[0]', text: 'a' },
      { path: 'input[1]', text: 'b' },
    ]);
    expect(segmentsOf({ input: [[1, 2, 3]] }, 'embeddings')).toEqual([]);
  });
});

describe('applyRedactions', () => {
  it('parses paths', () => {
    expect(parsePath('messages[0].content[1].text')).toEqual(['messages', 0, 'content', 1, 'text']);
    expect(parsePath('input[2]')).toEqual(['input', 2]);
    // Keys that are not identifiers are JSON strings in brackets.
    expect(parsePath('messages[1].content[0].input["user-id"].x')).toEqual(['messages', 1, 'content', 0, 'input', 'user-id', 'x']);
    expect(parsePath('a["say \\"hi\\"[0]"]')).toEqual(['a', 'say "hi"[0]']);
  });

  it('masks nested content parts and tool arguments in a copy, sharing untouched parts', () => {
    const before = JSON.stringify(chat);
    const p = compilePolicy('p', PolicySchema.parse({ rules: [{ id: 'mask', detect: 'pii', action: 'redact' }] }));
    const r = p.evaluate({
      segments: segmentsOf(chat, 'chat'),
      model: chat.model,
      endpoint: 'chat',
      estimatedCostUsd: 0,
      inputTokens: 50,
      maxTokens: null,
      tenantId: 't',
      teamId: 'x',
      agentId: 'a',
      stream: false,
      toolsCount: 0,
      hasImages: true,
      endUser: null,
    });
    const out = applyRedactions(chat, r.redactions);
    expect(JSON.stringify(chat)).toBe(before);
    expect(out.messages[1].content).toEqual([
      chat.messages[1].content![0],
      { type: 'text', text: 'Card [REDACTED:payment_card], mail [REDACTED:email]' },
    ]);
    expect(out.messages[2].tool_calls![0].function.arguments).toBe('{"to":"[REDACTED:email]"}');
    expect(out.messages[3].content).toBe('sent to [REDACTED:email]');
    expect(out.messages[0]).toBe(chat.messages[0]);
    expect((out.messages[1].content as unknown[])[0]).toBe(chat.messages[1].content![0]);
  });

  it('merges overlapping spans, ignores paths that lead nowhere, returns the body itself when there is nothing to do', () => {
    const body = { input: ['abcdefghij'] };
    const out = applyRedactions(body, [
      { path: 'input[0]', start: 2, end: 5, type: 'x' },
      { path: 'input[0]', start: 4, end: 7, type: 'y' },
      { path: 'input[3]', start: 0, end: 1, type: 'z' },
      { path: 'missing.deep[0].text', start: 0, end: 1, type: 'z' },
    ]);
    expect(out).toEqual({ input: ['ab[REDACTED:x]hij'] });
    expect(body.input[0]).toBe('abcdefghij');
    expect(applyRedactions(body, [])).toBe(body);
  });
});
