import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { GatewayError } from '../../errors.js';
import { parseCountTokensRequest, parseMessagesRequest } from './parse.js';

const base = { model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'Hi' }] };
const img = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } };

function refusal(body: unknown, count = false): GatewayError {
  try {
    if (count) parseCountTokensRequest(body);
    else parseMessagesRequest(body);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('parseMessagesRequest: accepted bodies and their facts', () => {
  it('a minimal body: every fact filled, usage always wanted', () => {
    const parsed = parseMessagesRequest(base);
    const canonical = JSON.stringify({ messages: base.messages });
    expect(parsed).toMatchObject({ model: 'claude-sonnet-4-5', stream: false, clientWantsUsage: true });
    expect(parsed.wire).toBe(base);
    expect(parsed.facts).toEqual({
      messageCount: 1,
      systemPromptPresent: false,
      inputHash: createHash('sha256').update(canonical).digest('hex'),
      inputChars: canonical.length,
      maxTokens: 256,
      temperature: null,
      topP: null,
      toolsCount: 0,
      toolChoice: null,
      responseFormat: null,
      hasImages: false,
      n: 1,
      endUser: null,
    });
  });

  it('a coding-agent body: system blocks with cache_control, tools, thinking, metadata, history of every block type', () => {
    const body = {
      model: 'claude-opus-4-6',
      max_tokens: 32000,
      stream: true,
      temperature: 1,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['</done>'],
      metadata: { user_id: 'user_abc' },
      thinking: { type: 'enabled', budget_tokens: 10000 },
      system: [
        { type: 'text', text: 'You are a coding agent.' },
        { type: 'text', text: 'Repo rules…', cache_control: { type: 'ephemeral' } },
      ],
      tools: [
        { name: 'bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
      ],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      output_config: { effort: 'high' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Fix the bug' }, img, { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'log' }, title: 'log.txt' }] },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Look at the logs', signature: 'sig' },
            { type: 'redacted_thinking', data: 'opaque' },
            { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'error' } },
            { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
            { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'ls' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'a.ts' }, img], is_error: false }] },
      ],
    };
    const parsed = parseMessagesRequest(body);
    expect(parsed.stream).toBe(true);
    expect(parsed.facts).toMatchObject({
      messageCount: 3,
      systemPromptPresent: true,
      maxTokens: 32000,
      temperature: 1,
      topP: 0.9,
      toolsCount: 2,
      toolChoice: 'auto',
      hasImages: true,
      endUser: 'user_abc',
    });
  });

  it('the input hash covers the system prompt as well as the messages', () => {
    const a = parseMessagesRequest({ ...base, system: 'Be terse.' }).facts.inputHash;
    const b = parseMessagesRequest({ ...base, system: 'Be verbose.' }).facts.inputHash;
    expect(a).not.toBe(b);
    expect(parseMessagesRequest({ ...base, system: 'x' }).facts.systemPromptPresent).toBe(true);
    expect(parseMessagesRequest({ ...base, system: '' }).facts.systemPromptPresent).toBe(false);
  });

  it('output_config.format and tool_choice show in the facts', () => {
    const parsed = parseMessagesRequest({
      ...base,
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'f' },
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
    });
    expect(parsed.facts).toMatchObject({ toolChoice: 'tool', responseFormat: 'json_schema' });
  });

  it('thinking types other than enabled pass for Anthropic to judge', () => {
    for (const type of ['disabled', 'adaptive', 'between_tools']) expect(parseMessagesRequest({ ...base, thinking: { type } }).wire.thinking).toEqual({ type });
  });

  it('count_tokens bodies need no max_tokens and cannot stream', () => {
    const { max_tokens: _, ...noMax } = base;
    expect(parseCountTokensRequest(noMax).facts.maxTokens).toBeNull();
    expect(refusal({ ...noMax, stream: true }, true).param).toBe('stream');
  });
});

describe('parseMessagesRequest: refusals name the field', () => {
  const user = (content: unknown) => ({ ...base, messages: [{ role: 'user', content }] });
  const cases: Array<[string, unknown, string | null]> = [
    ['not an object', [1, 2], null],
    ['no model', { max_tokens: 1, messages: base.messages }, 'model'],
    ['empty model', { ...base, model: '' }, 'model'],
    ['no max_tokens', { model: 'm', messages: base.messages }, 'max_tokens'],
    ['max_tokens 0', { ...base, max_tokens: 0 }, 'max_tokens'],
    ['max_tokens not an integer', { ...base, max_tokens: 1.5 }, 'max_tokens'],
    ['no messages', { model: 'm', max_tokens: 1 }, 'messages'],
    ['empty messages', { ...base, messages: [] }, 'messages'],
    ['system role in messages', { ...base, messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role'],
    ['content a number', user(3), 'messages[0].content'],
    ['block without type', user([{ text: 'x' }]), 'messages[0].content[0]'],
    ['unknown block type', user([{ type: 'hologram', text: 'x' }]), 'messages[0].content[0].type'],
    ['text block without text', user([{ type: 'text' }]), 'messages[0].content[0].text'],
    ['image with a bad source', user([{ type: 'image', source: { type: 'ftp', url: 'x' } }]), 'messages[0].content[0].source'],
    ['base64 image without data', user([{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }]), 'messages[0].content[0].source.data'],
    ['document url without url', user([{ type: 'document', source: { type: 'url' } }]), 'messages[0].content[0].source.url'],
    ['tool_use input an array', { ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: [] }] }] }, 'messages[0].content[0].input'],
    ['tool_result without id', user([{ type: 'tool_result', content: 'x' }]), 'messages[0].content[0].tool_use_id'],
    ['tool_result with an unknown inner block', user([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'nope' }] }]), 'messages[0].content[0].content[0].type'],
    ['thinking without signature', { ...base, messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 'x' }] }] }, 'messages[0].content[0].signature'],
    ['system a number', { ...base, system: 1 }, 'system'],
    ['system block not text', { ...base, system: [{ type: 'image' }] }, 'system[0]'],
    ['tools not an array', { ...base, tools: {} }, 'tools'],
    ['tool without name', { ...base, tools: [{ input_schema: { type: 'object' } }] }, 'tools[0].name'],
    ['custom tool without schema', { ...base, tools: [{ name: 'f' }] }, 'tools[0].input_schema'],
    ['tool description a number', { ...base, tools: [{ name: 'f', input_schema: {}, description: 1 }] }, 'tools[0].description'],
    ['tool_choice a string', { ...base, tool_choice: 'auto' }, 'tool_choice'],
    ['tool_choice tool without name', { ...base, tool_choice: { type: 'tool' } }, 'tool_choice.name'],
    ['temperature above 1', { ...base, temperature: 1.5 }, 'temperature'],
    ['top_p a string', { ...base, top_p: '0.5' }, 'top_p'],
    ['top_k negative', { ...base, top_k: -1 }, 'top_k'],
    ['stop_sequences a string', { ...base, stop_sequences: 'x' }, 'stop_sequences'],
    ['stop_sequences with a number', { ...base, stop_sequences: ['a', 2] }, 'stop_sequences[1]'],
    ['stream a string', { ...base, stream: 'yes' }, 'stream'],
    ['metadata.user_id a number', { ...base, metadata: { user_id: 7 } }, 'metadata.user_id'],
    ['thinking enabled without budget', { ...base, thinking: { type: 'enabled' } }, 'thinking.budget_tokens'],
    ['thinking without a type', { ...base, thinking: { budget_tokens: 1024 } }, 'thinking'],
  ];
  it.each(cases)('%s', (_name, body, param) => {
    const err = refusal(body);
    expect(err.code).toBe('invalid_request');
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
  });
});
