import { describe, expect, it } from 'vitest';
import type { EmbeddingsRequest, UpstreamTarget } from '../adapter.js';
import { cohereEmbeddingsRequest, cohereEmbeddingsResponse, float32Base64 } from './embed.js';

const target: UpstreamTarget = {
  providerName: 'cohere',
  provider: { type: 'cohere', api_key: 'co-secret', headers: {}, connections: 128 },
  baseUrl: 'https://api.cohere.com',
  upstreamModel: 'embed-v4.0',
  publicModel: 'embed-v4',
};

describe('cohereEmbeddingsRequest', () => {
  it.each<{ name: string; in: EmbeddingsRequest; out: Record<string, unknown> }>([
    {
      name: 'a single string',
      in: { model: 'embed-v4', input: 'hello' },
      out: { model: 'embed-v4.0', texts: ['hello'], input_type: 'search_document', embedding_types: ['float'] },
    },
    {
      name: 'a list with dimensions',
      in: { model: 'embed-v4', input: ['a', 'b'], dimensions: 256, encoding_format: 'base64', user: 'u' },
      out: { model: 'embed-v4.0', texts: ['a', 'b'], input_type: 'search_document', embedding_types: ['float'], output_dimension: 256 },
    },
  ])('$name', ({ in: body, out }) => {
    const req = cohereEmbeddingsRequest(body, target);
    expect(req.url).toBe('https://api.cohere.com/v2/embed');
    expect(req.method).toBe('POST');
    expect(req.headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer co-secret' });
    expect(JSON.parse(req.body!)).toEqual(out);
  });

  it.each([[[1, 2, 3]], [[[1, 2], [3]]]])('refuses token input %j', (input) => {
    expect(() => cohereEmbeddingsRequest({ model: 'e', input }, target)).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'input' }),
    );
  });
});

describe('cohereEmbeddingsResponse', () => {
  const recorded = {
    id: 'da6886b8-7b55-4d0e-b3f0-0d9a1e5b4c39',
    texts: ['a', 'b'],
    embeddings: { float: [[0.5, -0.25], [1, 0]] },
    meta: { api_version: { version: '2' }, billed_units: { input_tokens: 2 } },
    response_type: 'embeddings_by_type',
  };

  it('maps float vectors and billed input tokens', () => {
    expect(cohereEmbeddingsResponse(recorded, target)).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, -0.25] },
        { object: 'embedding', index: 1, embedding: [1, 0] },
      ],
      model: 'embed-v4.0',
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
  });

  it('encodes little-endian float32 base64 when the request asked for it', () => {
    const res = cohereEmbeddingsResponse(recorded, target, { model: 'e', input: ['a', 'b'], encoding_format: 'base64' });
    // 0.5 = 0x3f000000, -0.25 = 0xbe800000, little-endian.
    expect(res.data.map((d) => d.embedding)).toEqual(['AAAAPwAAgL4=', 'AACAPwAAAAA=']);
    const decoded = new Float32Array(new Uint8Array(Buffer.from(float32Base64([0.5, -0.25]), 'base64')).buffer);
    expect(Array.from(decoded)).toEqual([0.5, -0.25]);
  });

  it.each([null, {}, { embeddings: { int8: [[1]] } }])('refuses an unusable body %#', (body) => {
    expect(() => cohereEmbeddingsResponse(body, target)).toThrow(expect.objectContaining({ code: 'upstream_invalid_response' }));
  });
});
