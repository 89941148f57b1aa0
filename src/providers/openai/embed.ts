import { GatewayError } from '../../errors.js';
import type { CreateEmbeddingResponse, EmbeddingsRequest, UpstreamRequest, UpstreamTarget } from '../adapter.js';
import { openAIHeaders } from './auth.js';

export function openAIEmbeddingsRequest(body: EmbeddingsRequest, target: UpstreamTarget): UpstreamRequest {
  return {
    url: `${target.baseUrl}/embeddings`,
    method: 'POST',
    headers: openAIHeaders(target),
    body: JSON.stringify({ ...body, model: target.upstreamModel }),
  };
}

export function openAIEmbeddingsResponse(json: unknown, target: UpstreamTarget): CreateEmbeddingResponse {
  const res = json as CreateEmbeddingResponse | null;
  if (!res || typeof res !== 'object' || !Array.isArray(res.data)) {
    throw new GatewayError('upstream_invalid_response', `Provider "${target.providerName}" returned a body that is not an embeddings list`);
  }
  return res;
}
