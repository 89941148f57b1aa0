import { describe, expect, it } from 'vitest';
import type { ChatRequest, UpstreamTarget } from '../adapter.js';
import { geminiAdapter } from './index.js';
import { SKIP_SIGNATURE } from './messages.js';

const target: UpstreamTarget = {
  providerName: 'google',
  provider: { type: 'gemini', api_key: 'AIza-test-key', headers: {}, connections: 128 },
  baseUrl: 'https://generativelanguage.googleapis.com',
  upstreamModel: 'gemini-2.5-flash',
  publicModel: 'flash',
};
const URL_GENERATE = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent';
const user = (content: string) => ({ role: 'user' as const, content });

function translate(body: Partial<ChatRequest>, t: UpstreamTarget = target) {
  const req = geminiAdapter.chatRequest({ model: 'flash', ...body } as ChatRequest, t);
  return { url: req.url, method: req.method, headers: req.headers, body: JSON.parse(req.body!) };
}

describe('gemini chatRequest: URL and headers', () => {
  const cases: Array<{ name: string; body: Partial<ChatRequest>; target?: Partial<UpstreamTarget>; url: string; headers: Record<string, string> }> = [
    {
      name: 'non-stream: generateContent, key in x-goog-api-key',
      body: { messages: [user('Hi')] },
      url: URL_GENERATE,
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-key' },
    },
    {
      name: 'stream: streamGenerateContent with alt=sse',
      body: { messages: [user('Hi')], stream: true },
      url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-key' },
    },
    {
      name: 'provider headers added; the configured key wins over a header of the same name',
      body: { messages: [user('Hi')] },
      target: { provider: { type: 'gemini', api_key: 'AIza-real', headers: { 'x-goog-api-key': 'spoof', 'x-extra': '1' }, connections: 1 } },
      url: URL_GENERATE,
      headers: { 'content-type': 'application/json', 'x-extra': '1', 'x-goog-api-key': 'AIza-real' },
    },
    {
      name: 'empty baseUrl falls back to the public endpoint; keyless provider sends no key',
      body: { messages: [user('Hi')] },
      target: { baseUrl: '', provider: { type: 'gemini', headers: {}, connections: 1 } },
      url: URL_GENERATE,
      headers: { 'content-type': 'application/json' },
    },
    {
      name: 'base URL that already names the version; model given as models/…',
      body: { messages: [user('Hi')] },
      target: { baseUrl: 'http://127.0.0.1:9999/v1beta', upstreamModel: 'models/gemini-2.0-flash' },
      url: 'http://127.0.0.1:9999/v1beta/models/gemini-2.0-flash:generateContent',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-key' },
    },
    {
      name: 'tuned model keeps its collection',
      body: { messages: [user('Hi')] },
      target: { upstreamModel: 'tunedModels/my-model-42' },
      url: 'https://generativelanguage.googleapis.com/v1beta/tunedModels/my-model-42:generateContent',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-key' },
    },
  ];
  it.each(cases)('$name', ({ body, target: t, url, headers }) => {
    const out = translate(body, { ...target, ...t });
    expect(out.method).toBe('POST');
    expect(out.url).toBe(url);
    expect(out.headers).toEqual(headers);
    expect(out.url).not.toContain('key=');
  });
});

describe('gemini chatRequest: body', () => {
  const cases: Array<{ name: string; body: Partial<ChatRequest>; expected: unknown }> = [
    { name: 'single user text', body: { messages: [user('Hello')] }, expected: { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] } },
    {
      name: 'system and developer messages become systemInstruction',
      body: { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] }, user('Hi')] },
      expected: { systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Use French.' }] }, contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] },
    },
    {
      name: 'multi-turn: assistant → model, consecutive same-role turns merged',
      body: { messages: [user('a'), user('b'), { role: 'assistant', content: 'c' }, { role: 'assistant', content: [{ type: 'text', text: 'd' }] }, user('e')] },
      expected: {
        contents: [
          { role: 'user', parts: [{ text: 'a' }, { text: 'b' }] },
          { role: 'model', parts: [{ text: 'c' }, { text: 'd' }] },
          { role: 'user', parts: [{ text: 'e' }] },
        ],
      },
    },
    {
      name: 'images: data URLs inline, http(s) URLs as fileData with a guessed MIME type',
      body: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=large' } },
              { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
              { type: 'image_url', image_url: { url: 'data:text/plain,hello%20world' } },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
              { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
            ],
          },
        ],
      },
      expected: {
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'Compare' },
              { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
              { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp?size=large' } },
              { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photo' } },
              { inlineData: { mimeType: 'text/plain', data: 'aGVsbG8gd29ybGQ=' } },
              { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
              { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
            ],
          },
        ],
      },
    },
    {
      name: 'tools, parallel tool calls and their results (JSON and plain text)',
      body: {
        messages: [
          user('Weather in Paris and Rome?'),
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_0_0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
              { id: 'call_0_1', type: 'function', function: { name: 'get_time', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_0_0', content: '{"temp":21}' },
          { role: 'tool', tool_call_id: 'call_0_1', content: [{ type: 'text', text: 'noon' }] },
        ],
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Current weather',
              strict: true,
              parameters: {
                $schema: 'http://json-schema.org/draft-07/schema#',
                type: 'object',
                properties: { location: { type: 'string' }, unit: { type: ['string', 'null'], enum: ['c', 'f'] } },
                required: ['location'],
                additionalProperties: false,
              },
            },
          },
          { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
        ],
      },
      expected: {
        contents: [
          { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
          {
            role: 'model',
            parts: [
              { functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: SKIP_SIGNATURE },
              { functionCall: { name: 'get_time', args: {} } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { name: 'get_weather', response: { content: { temp: 21 } } } },
              { functionResponse: { name: 'get_time', response: { content: { result: 'noon' } } } },
            ],
          },
        ],
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'Current weather',
                parameters: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', nullable: true, enum: ['c', 'f'] } }, required: ['location'] },
              },
              { name: 'get_time' },
            ],
          },
        ],
      },
    },
    {
      name: 'a thought signature handed back in extra_content is replayed',
      body: {
        messages: [
          user('Weather?'),
          { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_0_0', type: 'function', function: { name: 'w', arguments: '{}' }, extra_content: { google: { thought_signature: 'c2lnbmF0dXJl' } } } as never] },
          { role: 'tool', tool_call_id: 'call_0_0', content: 'sunny' },
        ],
      },
      expected: {
        contents: [
          { role: 'user', parts: [{ text: 'Weather?' }] },
          { role: 'model', parts: [{ text: 'Checking.' }, { functionCall: { name: 'w', args: {} }, thoughtSignature: 'c2lnbmF0dXJl' }] },
          { role: 'user', parts: [{ functionResponse: { name: 'w', response: { content: { result: 'sunny' } } } }] },
        ],
      },
    },
    {
      name: 'generationConfig from sampling parameters (max_completion_tokens wins over max_tokens)',
      body: { messages: [user('x')], temperature: 0.2, top_p: 0.9, max_tokens: 10, max_completion_tokens: 20, stop: 'END', n: 2, seed: 7, presence_penalty: 0.5, frequency_penalty: -0.5 },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        generationConfig: { temperature: 0.2, topP: 0.9, maxOutputTokens: 20, stopSequences: ['END'], candidateCount: 2, seed: 7, presencePenalty: 0.5, frequencyPenalty: -0.5 },
      },
    },
    {
      name: 'null parameters are left out; stop arrays pass as they are',
      body: { messages: [user('x')], temperature: null, max_tokens: 5, stop: ['a', 'b'] },
      expected: { contents: [{ role: 'user', parts: [{ text: 'x' }] }], generationConfig: { maxOutputTokens: 5, stopSequences: ['a', 'b'] } },
    },
    {
      name: 'response_format json_object',
      body: { messages: [user('x')], response_format: { type: 'json_object' } },
      expected: { contents: [{ role: 'user', parts: [{ text: 'x' }] }], generationConfig: { responseMimeType: 'application/json' } },
    },
    {
      name: 'response_format json_schema: schema cleaned, property names kept',
      body: {
        messages: [user('x')],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'person',
            strict: true,
            schema: {
              type: 'object',
              properties: { additionalProperties: { type: 'string' }, kind: { const: 'person' }, tags: { type: 'array', items: { type: 'string', additionalProperties: false } } },
              required: ['kind'],
              additionalProperties: false,
            },
          },
        },
      },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        generationConfig: {
          responseMimeType: 'application/json',
          responseSchema: { type: 'object', properties: { additionalProperties: { type: 'string' }, kind: { enum: ['person'] }, tags: { type: 'array', items: { type: 'string' } } }, required: ['kind'] },
        },
      },
    },
  ];
  it.each(cases)('$name', ({ body, expected }) => {
    expect(translate(body).body).toStrictEqual(expected);
  });
});

describe('gemini chatRequest: tool_choice', () => {
  const tools = ['a', 'b'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: { q: { type: 'string' } } } } }));
  const decl = (name: string) => ({ name, parameters: { type: 'object', properties: { q: { type: 'string' } } } });
  const cases: Array<{ choice: ChatRequest['tool_choice']; toolConfig: unknown; declared: string[] }> = [
    { choice: undefined, toolConfig: undefined, declared: ['a', 'b'] },
    { choice: 'auto', toolConfig: { functionCallingConfig: { mode: 'AUTO' } }, declared: ['a', 'b'] },
    { choice: 'none', toolConfig: { functionCallingConfig: { mode: 'NONE' } }, declared: ['a', 'b'] },
    { choice: 'required', toolConfig: { functionCallingConfig: { mode: 'ANY' } }, declared: ['a', 'b'] },
    { choice: { type: 'function', function: { name: 'b' } }, toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['b'] } }, declared: ['a', 'b'] },
    {
      choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'a' } }] } },
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['a'] } },
      declared: ['a', 'b'],
    },
    {
      choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'a' } }] } },
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      declared: ['a'],
    },
  ];
  it.each(cases)('tool_choice %j', ({ choice, toolConfig, declared }) => {
    const body = translate({ messages: [user('x')], tools, ...(choice === undefined ? {} : { tool_choice: choice }) }).body;
    expect(body.toolConfig).toEqual(toolConfig);
    expect(body.tools).toEqual([{ functionDeclarations: declared.map(decl) }]);
  });

  it('sends no toolConfig when there are no tools', () => {
    expect(translate({ messages: [user('x')], tool_choice: 'none' }).body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] });
  });
});

describe('gemini chatRequest: refusals', () => {
  const cases: Array<{ name: string; body: Partial<ChatRequest>; param: string }> = [
    { name: 'tool result without a matching call', body: { messages: [user('x'), { role: 'tool', tool_call_id: 'nope', content: 'r' }] }, param: 'messages[1].tool_call_id' },
    { name: 'OpenAI file ids', body: { messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }] }, param: 'messages[0].content[0]' },
    { name: 'non-JSON tool-call arguments', body: { messages: [user('x'), { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }] }] }, param: 'messages[1].tool_calls[0]' },
    { name: 'custom tools', body: { messages: [user('x')], tools: [{ type: 'custom', custom: { name: 'grammar' } }] }, param: 'tools[0]' },
    { name: 'only a system message', body: { messages: [{ role: 'system', content: 'hi' }] }, param: 'messages' },
    { name: 'an image URL that is neither data: nor http(s)', body: { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }, param: 'messages[0].content[0]' },
  ];
  it.each(cases)('$name → invalid_request', ({ body, param }) => {
    expect(() => translate(body)).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400, param }));
  });
});
