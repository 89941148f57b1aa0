import { describe, expect, it } from 'vitest';
import type { SseEvent, UpstreamTarget } from '../adapter.js';
import { azureOpenAIAdapter } from './index.js';

function target(baseUrl: string, extra: Partial<UpstreamTarget['provider']> = {}): UpstreamTarget {
  return {
    providerName: 'azure',
    provider: { type: 'azure-openai', api_key: 'az-secret', headers: {}, connections: 128, ...extra },
    baseUrl,
    upstreamModel: 'gpt-4o-prod',
    publicModel: 'gpt-4o',
  };
}
const azure = target('https://myres.openai.azure.com');

describe('azureOpenAIAdapter.chatRequest', () => {
  it.each([
    ['https://myres.openai.azure.com', 'https://myres.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21'],
    ['https://myres.openai.azure.com/openai', 'https://myres.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21'],
    [
      'https://myres.openai.azure.com/?api-version=2025-01-01-preview',
      'https://myres.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2025-01-01-preview',
    ],
    [
      'https://gw.example.com/azure/openai?api-version=2024-06-01&x=1',
      'https://gw.example.com/azure/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-06-01&x=1',
    ],
  ])('base %s → %s', (baseUrl, url) => {
    expect(azureOpenAIAdapter.chatRequest({ model: 'gpt-4o', messages: [] }, target(baseUrl)).url).toBe(url);
  });

  it('escapes the deployment name', () => {
    const req = azureOpenAIAdapter.chatRequest({ model: 'x', messages: [] }, { ...azure, upstreamModel: 'my dep/1' });
    expect(req.url).toBe('https://myres.openai.azure.com/openai/deployments/my%20dep%2F1/chat/completions?api-version=2024-10-21');
  });

  it('sends api-key (never Authorization), provider headers, and the OpenAI body without model', () => {
    const req = azureOpenAIAdapter.chatRequest(
      {
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Hi' }],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
        temperature: 0.5,
        stream: true,
      },
      target('https://myres.openai.azure.com', { headers: { 'x-ms-useragent': 'omega' } }),
    );
    expect(req.method).toBe('POST');
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'x-ms-useragent': 'omega', 'api-key': 'az-secret' });
    expect(JSON.parse(req.body!)).toEqual({
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      temperature: 0.5,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('sends no api-key when none is configured (Entra ID bearer via headers)', () => {
    const req = azureOpenAIAdapter.chatRequest(
      { model: 'x', messages: [] },
      target('https://myres.openai.azure.com', { api_key: undefined, headers: { authorization: 'Bearer entra' } }),
    );
    expect(req.headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer entra' });
  });

  it('refuses an unusable base_url as provider_not_configured', () => {
    expect(() => azureOpenAIAdapter.chatRequest({ model: 'x', messages: [] }, target(''))).toThrow(
      expect.objectContaining({ code: 'provider_not_configured' }),
    );
  });
});

describe('azureOpenAIAdapter responses', () => {
  it('passes a chat completion through, content filter annotations included', () => {
    const recorded = {
      id: 'chatcmpl-AZ1',
      object: 'chat.completion',
      created: 1_760_000_000,
      model: 'gpt-4o-2024-11-20',
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi!', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
          content_filter_results: { hate: { filtered: false, severity: 'safe' } },
        },
      ],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    };
    expect(azureOpenAIAdapter.chatResponse(recorded, azure)).toEqual(recorded);
  });

  it('drops the content-filter preamble chunk and keeps the usage chunk', () => {
    const events: SseEvent[] = [
      { data: '{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}' },
      { data: '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}' },
      { data: '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}' },
      { data: '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}' },
      { data: '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}' },
      { data: '[DONE]' },
    ];
    const t = azureOpenAIAdapter.chatStream(azure);
    const chunks = [...events.flatMap((e) => t.push(e)), ...t.end()];
    expect(chunks.map((c) => JSON.stringify(c))).toEqual(events.slice(1, 5).map((e) => JSON.stringify(JSON.parse(e.data))));
    expect(t.error).toBeUndefined();
  });

  it('surfaces an in-stream error', () => {
    const t = azureOpenAIAdapter.chatStream(azure);
    expect(t.push({ data: '{"error":{"code":"content_filter","message":"filtered"}}' })).toEqual([]);
    expect(t.error?.code).toBe('upstream_error');
  });
});

describe('azureOpenAIAdapter embeddings', () => {
  it('builds the embeddings request on the deployment URL without model', () => {
    const req = azureOpenAIAdapter.embeddingsRequest!({ model: 'emb', input: ['a'], dimensions: 8, encoding_format: 'base64' }, {
      ...azure,
      upstreamModel: 'te3-small',
    });
    expect(req.url).toBe('https://myres.openai.azure.com/openai/deployments/te3-small/embeddings?api-version=2024-10-21');
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'api-key': 'az-secret' });
    expect(JSON.parse(req.body!)).toEqual({ input: ['a'], dimensions: 8, encoding_format: 'base64' });
  });

  it('passes the embeddings list through', () => {
    const recorded = {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 1, total_tokens: 1 },
    };
    expect(azureOpenAIAdapter.embeddingsResponse!(recorded, azure)).toEqual(recorded);
  });
});

describe('azureOpenAIAdapter errors and request ids', () => {
  it.each([
    {
      status: 404,
      body: '{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}',
      want: { code: 'upstream_rejected', status: 404 },
    },
    {
      status: 400,
      body: '{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI\'s content management policy.","type":null,"param":"prompt","code":"content_filter","status":400}}',
      want: { code: 'upstream_rejected', status: 400, param: 'prompt' },
    },
    { status: 401, body: '{"error":{"code":"401","message":"Access denied due to invalid subscription key."}}', want: { code: 'upstream_auth_failed' } },
    { status: 429, body: '{"error":{"code":"429","message":"Rate limit is exceeded."}}', want: { code: 'upstream_rate_limited', headers: { 'retry-after': '3' } } },
    { status: 500, body: '{"error":{"code":"InternalServerError","message":"boom"}}', want: { code: 'upstream_error', status: 502 } },
  ])('maps HTTP $status', ({ status, body, want }) => {
    expect(azureOpenAIAdapter.mapError(status, body, { 'retry-after': '3' }, azure)).toMatchObject(want);
  });

  it('prefers apim-request-id, then x-request-id', () => {
    expect(azureOpenAIAdapter.requestId({ 'apim-request-id': 'apim-1', 'x-request-id': 'x-1' })).toBe('apim-1');
    expect(azureOpenAIAdapter.requestId({ 'x-request-id': 'x-1' })).toBe('x-1');
    expect(azureOpenAIAdapter.requestId({})).toBeUndefined();
  });
});
