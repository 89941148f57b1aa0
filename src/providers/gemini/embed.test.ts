import { describe, expect, it } from 'vitest';
import type { EmbeddingsRequest, UpstreamTarget } from '../adapter.js';
import { geminiEmbeddingsResponse } from './embed.js';
import { geminiAdapter } from './index.js';

const target: UpstreamTarget = {
  providerName: 'google',
  provider: { type: 'gemini', api_key: 'AIza-test-key', headers: {}, connections: 1 },
  baseUrl: 'https://generativelanguage.googleapis.com',
  upstreamModel: 'gemini-embedding-001',
  publicModel: 'embed',
};

describe('gemini embeddingsRequest', () => {
  const cases: Array<{ name: string; body: EmbeddingsRequest; expected: unknown }> = [
    {
      name: 'one string',
      body: { model: 'embed', input: 'hello' },
      expected: { requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'hello' }] } }] },
    },
    {
      name: 'several strings with dimensions',
      body: { model: 'embed', input: ['a', 'b'], dimensions: 256 },
      expected: {
        requests: [
          { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 256 },
          { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, outputDimensionality: 256 },
        ],
      },
    },
  ];
  it.each(cases)('$name', ({ body, expected }) => {
    const req = geminiAdapter.embeddingsRequest!(body, target);
    expect(req.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(req.headers).toStrictEqual({ 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-key' });
    expect(JSON.parse(req.body!)).toStrictEqual(expected);
  });

  it.each([{ input: [1, 2, 3] }, { input: [[1, 2]] }])('rejects token arrays %j', ({ input }) => {
    expect(() => geminiAdapter.embeddingsRequest!({ model: 'embed', input }, target)).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'input' }));
  });
});

describe('gemini embeddingsResponse', () => {
  const json = { embeddings: [{ values: [0.5, -0.25] }, { values: [1, 0] }] };
  const data = [
    { object: 'embedding', index: 0, embedding: [0.5, -0.25] },
    { object: 'embedding', index: 1, embedding: [1, 0] },
  ];

  it('without the request (the adapter interface today): usage unknown, reported as 0', () => {
    expect(geminiAdapter.embeddingsResponse!(json, target)).toStrictEqual({ object: 'list', data, model: 'embed', usage: { prompt_tokens: 0, total_tokens: 0 } });
  });

  it('with the request: usage estimated as ceil(chars / 4) per input', () => {
    const out = geminiEmbeddingsResponse(json, target, { model: 'embed', input: ['hello', 'a much longer input'] });
    expect(out.usage).toStrictEqual({ prompt_tokens: 2 + 5, total_tokens: 7 });
  });

  it('with encoding_format base64: little-endian float32, as OpenAI sends', () => {
    const out = geminiEmbeddingsResponse(json, target, { model: 'embed', input: ['a', 'b'], encoding_format: 'base64' });
    const bytes = Buffer.from(out.data[0]!.embedding as unknown as string, 'base64');
    expect(bytes.toString('hex')).toBe('0000003f000080be'); // 0.5, -0.25 as float32 LE
    expect([bytes.readFloatLE(0), bytes.readFloatLE(4)]).toStrictEqual([0.5, -0.25]);
  });

  it.each([null, {}, { embeddings: [{}] }, { embeddings: [{ values: ['x'] }] }])('rejects %j', (body) => {
    expect(() => geminiAdapter.embeddingsResponse!(body, target)).toThrow(expect.objectContaining({ code: 'upstream_invalid_response' }));
  });
});
