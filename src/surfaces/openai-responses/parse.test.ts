import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import { applyRedactions } from '../../policy/redact-request.js';
import { parseResponsesRequest, responsesSegments } from './parse.js';

const parseWithSegments = (raw: unknown) => {
  const parsed = parseResponsesRequest(raw);
  return { ...parsed, segments: responsesSegments(parsed.wire) };
};

const base = { model: 'gpt-4.1' };

describe('parseResponsesRequest: accepted bodies and their facts', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['string input', { ...base, input: 'Hello' }, { messageCount: 1, systemPromptPresent: false, hasImages: false, toolsCount: 0, maxTokens: null, n: 1 }],
    ['instructions make a system prompt', { ...base, input: 'Hi', instructions: 'Be brief' }, { systemPromptPresent: true }],
    ['developer message makes a system prompt', { ...base, input: [{ role: 'developer', content: 'x' }, { role: 'user', content: 'y' }] }, { systemPromptPresent: true, messageCount: 2 }],
    ['image part', { ...base, input: [{ role: 'user', content: [{ type: 'input_text', text: 'what?' }, { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'low' }] }] }, { hasImages: true }],
    ['settings', { ...base, input: 'x', max_output_tokens: 50, temperature: 0.2, top_p: 0.9, user: 'u1', tool_choice: 'required', text: { format: { type: 'json_object' } } }, { maxTokens: 50, temperature: 0.2, topP: 0.9, endUser: 'u1', toolChoice: 'required', responseFormat: 'json_object' }],
    ['function tool choice', { ...base, input: 'x', tools: [{ type: 'function', name: 'f', parameters: {} }, { type: 'web_search' }], tool_choice: { type: 'function', name: 'f' } }, { toolsCount: 2, toolChoice: 'function' }],
    [
      'every item kind',
      {
        ...base,
        input: [
          { type: 'message', role: 'user', content: [{ type: 'input_file', file_data: 'data:application/pdf;base64,AA', filename: 'a.pdf' }] },
          { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAA' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }, { type: 'refusal', refusal: 'no' }] },
          { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: 'done' },
          { type: 'item_reference', id: 'msg_1' },
          { type: 'web_search_call', id: 'ws_1', status: 'completed' },
        ],
        reasoning: { effort: 'low', summary: 'auto' },
        include: ['reasoning.encrypted_content'],
        store: false,
        metadata: { a: 'b' },
        parallel_tool_calls: false,
      },
      { messageCount: 7 },
    ],
    ['previous_response_id without input', { ...base, previous_response_id: 'resp_1' }, { messageCount: 0 }],
  ];
  it.each(cases)('%s', (_name, body, facts) => {
    const parsed = parseResponsesRequest(body);
    expect(parsed.model).toBe('gpt-4.1');
    expect(parsed.wire).toBe(body);
    expect(parsed.clientWantsUsage).toBe(true);
    expect(parsed.facts).toMatchObject(facts);
  });

  it('hashes the canonical JSON of the input and counts instructions as input characters', () => {
    const input = [{ role: 'user', content: 'Hello' }];
    const { facts, stream } = parseResponsesRequest({ ...base, input, instructions: 'abc', stream: true });
    expect(facts.inputHash).toBe(createHash('sha256').update(JSON.stringify(input)).digest('hex'));
    expect(facts.inputChars).toBe(JSON.stringify(input).length + 3);
    expect(stream).toBe(true);
  });
});

describe('parseResponsesRequest: refused bodies name the field', () => {
  const cases: [string, unknown, string][] = [
    ['not an object', [], 'body'],
    ['no model', { input: 'x' }, 'model'],
    ['no input', { ...base }, 'input'],
    ['input number', { ...base, input: 3 }, 'input'],
    ['unknown field', { ...base, input: 'x', messages: [] }, 'messages'],
    ['bad role', { ...base, input: [{ role: 'tool', content: 'x' }] }, 'input[0].role'],
    ['bad content', { ...base, input: [{ role: 'user', content: 5 }] }, 'input[0].content'],
    ['bad part type', { ...base, input: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] }, 'input[0].content[0].type'],
    ['part text missing', { ...base, input: [{ role: 'user', content: [{ type: 'input_text' }] }] }, 'input[0].content[0].text'],
    ['image without source', { ...base, input: [{ role: 'user', content: [{ type: 'input_image' }] }] }, 'input[0].content[0].image_url'],
    ['function_call without call_id', { ...base, input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id'],
    ['function_call args object', { ...base, input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: {} }] }, 'input[0].arguments'],
    ['function_call_output number', { ...base, input: [{ type: 'function_call_output', call_id: 'c', output: 1 }] }, 'input[0].output'],
    ['item_reference without id', { ...base, input: [{ type: 'item_reference' }] }, 'input[0].id'],
    ['item without type or role', { ...base, input: [{ content: 'x' }] }, 'input[0].type'],
    ['tools not array', { ...base, input: 'x', tools: {} }, 'tools'],
    ['tool name', { ...base, input: 'x', tools: [{ type: 'function', name: 'a b' }] }, 'tools[0].name'],
    ['tool parameters', { ...base, input: 'x', tools: [{ type: 'function', name: 'f', parameters: 'x' }] }, 'tools[0].parameters'],
    ['tool_choice string', { ...base, input: 'x', tool_choice: 'any' }, 'tool_choice'],
    ['tool_choice function without name', { ...base, input: 'x', tool_choice: { type: 'function' } }, 'tool_choice.name'],
    ['format type', { ...base, input: 'x', text: { format: { type: 'xml' } } }, 'text.format.type'],
    ['json_schema without schema', { ...base, input: 'x', text: { format: { type: 'json_schema', name: 's' } } }, 'text.format.schema'],
    ['max_output_tokens', { ...base, input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
    ['temperature', { ...base, input: 'x', temperature: 3 }, 'temperature'],
    ['top_p', { ...base, input: 'x', top_p: -1 }, 'top_p'],
    ['effort', { ...base, input: 'x', reasoning: { effort: 'max' } }, 'reasoning.effort'],
    ['stream', { ...base, input: 'x', stream: 'yes' }, 'stream'],
    ['store', { ...base, input: 'x', store: 1 }, 'store'],
    ['include', { ...base, input: 'x', include: 'x' }, 'include'],
    ['metadata value', { ...base, input: 'x', metadata: { a: 1 } }, 'metadata'],
  ];
  it.each(cases)('%s → param %s', (_name, body, param) => {
    try {
      parseResponsesRequest(body);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('invalid_request');
      expect((err as GatewayError).param).toBe(param);
    }
  });
});

describe('responses segments', () => {
  const body = {
    model: 'gpt-4.1',
    instructions: 'sys secret',
    input: [
      { role: 'user', content: 'plain text' },
      { role: 'user', content: [{ type: 'input_text', text: 'part text' }, { type: 'input_image', image_url: 'https://x/y.png' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'said', annotations: [] }, { type: 'refusal', refusal: 'refused' }] },
      { type: 'function_call', call_id: 'c1', name: 'lookup', arguments: '{"q":"args"}' },
      { type: 'function_call_output', call_id: 'c1', output: 'tool result' },
      { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'tool part' }] },
      { type: 'reasoning', id: 'rs', summary: [{ type: 'summary_text', text: 'thought' }] },
    ],
    tools: [
      {
        type: 'function',
        name: 'lookup',
        description: 'tool desc',
        parameters: { type: 'object', properties: { q: { type: 'string', description: 'q desc' }, description: { type: 'string', description: 'nested' }, 'bad-key': { description: 'odd key' } } },
      },
    ],
  };

  it('lists every text at a path into the body', () => {
    const { segments } = parseWithSegments(body);
    expect(segments).toEqual([
      { path: 'instructions', text: 'sys secret' },
      { path: 'input[0].content', text: 'plain text' },
      { path: 'input[1].content[0].text', text: 'part text' },
      { path: 'input[2].content[0].text', text: 'said' },
      { path: 'input[2].content[1].refusal', text: 'refused' },
      { path: 'input[3].arguments', text: '{"q":"args"}' },
      { path: 'input[4].output', text: 'tool result' },
      { path: 'input[5].output[0].text', text: 'tool part' },
      { path: 'input[6].summary[0].text', text: 'thought' },
      { path: 'tools[0].name', text: 'lookup' },
      { path: 'tools[0].description', text: 'tool desc' },
      { path: 'tools[0].parameters.properties.q.description', text: 'q desc' },
      { path: 'tools[0].parameters.properties.description.description', text: 'nested' },
      // A key that is not an identifier is addressed in brackets, so it is judged and redactable too.
      { path: 'tools[0].parameters.properties["bad-key"].description', text: 'odd key' },
    ]);
  });

  it('string input is one segment, and every path is one applyRedactions can reach', () => {
    expect(parseWithSegments({ model: 'm', input: 'hi there' }).segments).toEqual([{ path: 'input', text: 'hi there' }]);
    const { wire, segments } = parseWithSegments(body);
    // Tool names are judged but kept out of this round trip: a masked name is no longer a valid function name.
    const masked = segments.filter((s) => !s.path.endsWith('.name'));
    const redacted = applyRedactions(wire, masked.map((s) => ({ path: s.path, type: 'T', start: 0, end: s.text.length })));
    const again = responsesSegments(redacted).filter((s) => !s.path.endsWith('.name'));
    expect(again.every((s) => s.text === '[REDACTED:T]')).toBe(true);
    expect(again).toHaveLength(masked.length);
    expect(body.instructions).toBe('sys secret');
  });
});
