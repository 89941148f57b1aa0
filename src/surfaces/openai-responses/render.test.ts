import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { serveCanned } from '../../../test/support/canned-server.js';
import { GatewayError } from '../../errors.js';
import type { ChatCompletion } from '../../providers/adapter.js';
import { parseResponsesRequest } from './parse.js';
import { renderCompletion, renderError } from './render.js';

const usage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } };

function completion(message: Partial<ChatCompletion.Choice['message']>, finish: ChatCompletion.Choice['finish_reason'] = 'stop'): ChatCompletion {
  return { id: 'chatcmpl-1', object: 'chat.completion', created: 1_700_000_000, model: 'claude-x', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, logprobs: null, finish_reason: finish }], usage };
}

const wire = parseResponsesRequest({ model: 'my-model', input: 'Hi', instructions: 'Be brief', temperature: 0.3, tools: [{ type: 'function', name: 'get', parameters: { type: 'object' } }], metadata: { k: 'v' } }).wire;

describe('renderCompletion', () => {
  it('renders text as a message item with output_text, usage and the request echoed', () => {
    const r = renderCompletion(completion({ content: 'Hello there' }), wire);
    expect(r.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(r).toMatchObject({
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      incomplete_details: null,
      error: null,
      model: 'claude-x',
      instructions: 'Be brief',
      temperature: 0.3,
      top_p: 1,
      tools: [{ type: 'function', name: 'get' }],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      store: true,
      metadata: { k: 'v' },
      text: { format: { type: 'text' } },
      usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 17 },
    });
    expect(r.output).toEqual([{ id: expect.stringMatching(/^msg_/), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello there', annotations: [], logprobs: [] }] }]);
  });

  const cases: [string, ChatCompletion, Record<string, unknown>, unknown[]][] = [
    ['length → incomplete', completion({ content: 'cut' }, 'length'), { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }, [{ type: 'message' }]],
    ['content_filter → incomplete', completion({ content: '' }, 'content_filter'), { status: 'incomplete', incomplete_details: { reason: 'content_filter' } }, [{ type: 'message' }]],
    [
      'tool calls → function_call items',
      completion({ tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } }, { id: 'call_2', type: 'function', function: { name: 'get', arguments: '{}' } }] }, 'tool_calls'),
      { status: 'completed' },
      [
        { id: expect.stringMatching(/^fc_/), type: 'function_call', status: 'completed', call_id: 'call_1', name: 'get', arguments: '{"a":1}' },
        { type: 'function_call', call_id: 'call_2' },
      ],
    ],
    ['text then tool call', completion({ content: 'Let me check', tool_calls: [{ id: 'c', type: 'function', function: { name: 'get', arguments: '{}' } }] }, 'tool_calls'), {}, [{ type: 'message' }, { type: 'function_call' }]],
    ['refusal', completion({ refusal: 'I cannot' }), {}, [{ type: 'message', content: [{ type: 'refusal', refusal: 'I cannot' }] }]],
  ];
  it.each(cases)('%s', (_name, c, fields, output) => {
    const r = renderCompletion(c, wire);
    expect(r).toMatchObject(fields);
    expect(r.output).toMatchObject(output);
    expect(r.output).toHaveLength(output.length);
  });

  it('is what the openai SDK reads as a Response (output_text)', async () => {
    const rendered = renderCompletion(completion({ content: 'Hello from the gateway' }), wire);
    const server = await serveCanned({ contentType: 'application/json', body: JSON.stringify(rendered) });
    try {
      const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'k', maxRetries: 0 });
      const r = await client.responses.create({ model: 'my-model', input: 'Hi' });
      expect(r.output_text).toBe('Hello from the gateway');
      expect(r.id).toBe(rendered.id);
      expect(r.usage?.total_tokens).toBe(17);
      expect(server.requests[0]!.url).toBe('/v1/responses');
    } finally {
      await server.close();
    }
  });
});

describe('renderError', () => {
  it('uses the OpenAI error shape, which the SDK raises with status, code and param', async () => {
    const { status, body } = renderError(new GatewayError('not_found', "Response with id 'resp_x' not found.", { param: 'previous_response_id' }));
    expect(status).toBe(404);
    expect(body).toEqual({ error: { message: "Response with id 'resp_x' not found.", type: 'invalid_request_error', param: 'previous_response_id', code: 'not_found' } });
    const server = await serveCanned({ status, contentType: 'application/json', body: JSON.stringify(body) });
    try {
      const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'k', maxRetries: 0 });
      const err = await client.responses.create({ model: 'm', input: 'x', previous_response_id: 'resp_x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect(err).toMatchObject({ status: 404, code: 'not_found', param: 'previous_response_id' });
    } finally {
      await server.close();
    }
  });
});
