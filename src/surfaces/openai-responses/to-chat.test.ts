import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import { parseResponsesRequest } from './parse.js';
import { responsesToChat } from './to-chat.js';

const chat = (body: Record<string, unknown>) => responsesToChat(parseResponsesRequest({ model: 'm', ...body }).wire);

describe('responsesToChat', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['string input, instructions as system', { input: 'Hi', instructions: 'Be brief' }, { model: 'm', messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Hi' }] }],
    [
      'user parts: text, image, file',
      { input: [{ role: 'user', content: [{ type: 'input_text', text: 'see' }, { type: 'input_image', image_url: 'https://x/i.png', detail: 'high' }, { type: 'input_file', file_data: 'data:application/pdf;base64,AA', filename: 'a.pdf' }] }] },
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'https://x/i.png', detail: 'high' } }, { type: 'file', file: { file_data: 'data:application/pdf;base64,AA', filename: 'a.pdf' } }] }] },
    ],
    ['developer and system text parts', { input: [{ role: 'developer', content: [{ type: 'input_text', text: 'rules' }] }, { role: 'system', content: 's' }] }, { messages: [{ role: 'developer', content: [{ type: 'text', text: 'rules' }] }, { role: 'system', content: 's' }] }],
    [
      'assistant text + function calls → one assistant turn; outputs → tool messages; reasoning dropped',
      {
        input: [
          { role: 'user', content: 'weather?' },
          { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAA' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking', annotations: [] }] },
          { type: 'function_call', call_id: 'c1', name: 'get', arguments: '{"city":"Paris"}' },
          { type: 'function_call', call_id: 'c2', name: 'get', arguments: '{"city":"Rome"}' },
          { type: 'function_call_output', call_id: 'c1', output: 'sunny' },
          { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'rain' }] },
        ],
      },
      {
        messages: [
          { role: 'user', content: 'weather?' },
          {
            role: 'assistant',
            content: 'Checking',
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'get', arguments: '{"city":"Paris"}' } },
              { id: 'c2', type: 'function', function: { name: 'get', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
          { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: 'rain' }] },
        ],
      },
    ],
    ['function call without preceding text', { input: [{ type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' }] }, { messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }] }],
    ['assistant refusal', { input: [{ role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] }] }, { messages: [{ role: 'assistant', content: null, refusal: 'no' }] }],
    [
      'tools, tool_choice and parallel_tool_calls',
      { input: 'x', tools: [{ type: 'function', name: 'f', description: 'does f', parameters: { type: 'object' }, strict: true }], tool_choice: { type: 'function', name: 'f' }, parallel_tool_calls: false },
      { tools: [{ type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object' }, strict: true } }], tool_choice: { type: 'function', function: { name: 'f' } }, parallel_tool_calls: false },
    ],
    ['allowed_tools choice', { input: 'x', tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'f' }] } }, { tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'f' } }] } } }],
    ['json_object', { input: 'x', text: { format: { type: 'json_object' } } }, { response_format: { type: 'json_object' } }],
    ['json_schema', { input: 'x', text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } } }, { response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } } }],
    ['limits and sampling', { input: 'x', max_output_tokens: 99, reasoning: { effort: 'high' }, temperature: 0.5, top_p: 0.7, user: 'u' }, { max_completion_tokens: 99, reasoning_effort: 'high', temperature: 0.5, top_p: 0.7, user: 'u' }],
    ['stream asks for usage', { input: 'x', stream: true }, { stream: true, stream_options: { include_usage: true } }],
  ];
  it.each(cases)('%s', (_name, body, expected) => {
    expect(chat(body)).toMatchObject(expected);
  });

  it('keeps no Responses-only field (store, metadata, include, text format "text")', () => {
    const out = chat({ input: 'x', store: true, metadata: { a: 'b' }, include: ['reasoning.encrypted_content'], text: { format: { type: 'text' } } }) as unknown as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['messages', 'model']);
  });

  const refused: [string, Record<string, unknown>, string][] = [
    ['built-in tool', { input: 'x', tools: [{ type: 'function', name: 'f' }, { type: 'web_search' }] }, 'tools[1].type'],
    ['built-in tool choice', { input: 'x', tool_choice: { type: 'file_search' } }, 'tool_choice'],
    ['built-in call item', { input: [{ type: 'web_search_call', id: 'ws', status: 'completed' }] }, 'input[0].type'],
    ['unresolved item_reference', { input: [{ type: 'item_reference', id: 'msg_x' }] }, 'input[0].id'],
    ['image by file id', { input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, 'input[0].content[0].file_id'],
    ['file by url', { input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://x/a.pdf' }] }] }, 'input[0].content[0].file_url'],
    ['image in system', { input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'https://x' }] }] }, 'input[0].content[0].type'],
    ['image in tool output', { input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'https://x' }] }] }, 'input[0].output[0].type'],
    ['unexpanded previous_response_id', { input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id'],
    ['background', { input: 'x', background: true }, 'background'],
    ['conversation', { input: 'x', conversation: 'conv_1' }, 'conversation'],
    ['context_management', { input: 'x', context_management: [{ type: 'compaction' }] }, 'context_management'],
  ];
  it.each(refused)('refuses %s (param %s)', (_name, body, param) => {
    try {
      chat(body);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(400);
      expect((err as GatewayError).param).toBe(param);
    }
  });

  it('names the built-in tool in the message', () => {
    expect(() => chat({ input: 'x', tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] })).toThrow(/"code_interpreter" is only available when the model is served by OpenAI natively/);
  });
});
