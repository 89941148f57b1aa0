/**
 * OpenAI embeddings ⇄ Cohere v2 `/v2/embed`. Cohere needs an `input_type`; OpenAI has no such
 * notion, so every input is embedded as `search_document` (the type for stored corpora).
 */
import { GatewayError } from '../../errors.js';
import type { CreateEmbeddingResponse, EmbeddingsRequest, UpstreamRequest, UpstreamTarget } from '../adapter.js';
import { cohereHeaders, cohereUrl } from './auth.js';

interface CohereEmbedResponse {
  id?: string;
  embeddings?: { float?: number[][] };
  meta?: { billed_units?: { input_tokens?: number } };
}

/**
 * Builds the `/v2/embed` request. Token-array inputs are refused: Cohere embeds text only.
 *
 * @example cohereEmbeddingsRequest({ model: 'embed-v4', input: ['a', 'b'] }, target)
 */
export function cohereEmbeddingsRequest(body: EmbeddingsRequest, target: UpstreamTarget): UpstreamRequest {
  const texts = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(texts) || !texts.every((t): t is string => typeof t === 'string')) {
    throw new GatewayError('invalid_request', 'Cohere embeds text only: `input` must be a string or an array of strings, not tokens.', {
      param: 'input',
    });
  }
  const out: Record<string, unknown> = {
    model: target.upstreamModel,
    texts,
    input_type: 'search_document',
    embedding_types: ['float'],
  };
  if (body.dimensions != null) out.output_dimension = body.dimensions;
  return { url: cohereUrl(target, 'embed'), method: 'POST', headers: cohereHeaders(target), body: JSON.stringify(out) };
}

/**
 * Translates a `/v2/embed` answer. The client's `encoding_format` is not in the provider's answer,
 * so the caller passes the original request to get OpenAI's base64 form when it was asked for.
 */
export function cohereEmbeddingsResponse(json: unknown, target: UpstreamTarget, request?: EmbeddingsRequest): CreateEmbeddingResponse {
  const res = json as CohereEmbedResponse | null;
  const vectors = res?.embeddings?.float;
  if (!res || typeof res !== 'object' || !Array.isArray(vectors)) {
    throw new GatewayError('upstream_invalid_response', `Provider "${target.providerName}" returned a body that is not a Cohere float embeddings list`);
  }
  const base64 = request?.encoding_format === 'base64';
  const tokens = res.meta?.billed_units?.input_tokens ?? 0;
  return {
    object: 'list',
    data: vectors.map((v, index) => ({
      object: 'embedding',
      index,
      // OpenAI's base64 form is a string where the type says number[]; the SDKs decode it.
      embedding: base64 ? (float32Base64(v) as unknown as number[]) : v,
    })),
    model: target.upstreamModel,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** Little-endian float32 bytes, base64-encoded: what OpenAI returns for `encoding_format: base64`. */
export function float32Base64(vector: readonly number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  return buf.toString('base64');
}
