/** `/v1/embeddings` → `batchEmbedContents`: one request per input string, answers in input order. */
import { GatewayError } from '../../errors.js';
import type { CreateEmbeddingResponse, EmbeddingsRequest, UpstreamRequest, UpstreamTarget } from '../adapter.js';
import { geminiHeaders, geminiMethodUrl, geminiModelName } from './auth.js';
import { isObject } from './wire.js';

export function geminiEmbeddingsRequest(body: EmbeddingsRequest, target: UpstreamTarget): UpstreamRequest {
  const model = geminiModelName(target.upstreamModel);
  const requests = inputTexts(body).map((text) => {
    const req: Record<string, unknown> = { model, content: { parts: [{ text }] } };
    if (body.dimensions != null) req.outputDimensionality = body.dimensions;
    return req;
  });
  return {
    url: geminiMethodUrl(target, 'batchEmbedContents'),
    method: 'POST',
    headers: geminiHeaders(target),
    body: JSON.stringify({ requests }),
  };
}

/**
 * `request` is optional because the adapter interface does not pass it: Gemini's embedding
 * answer reports no token count, so usage is estimated as ceil(chars / 4) from the inputs when
 * the caller supplies the request, and reported as 0 otherwise. The same goes for
 * `encoding_format: "base64"`, which needs the request to be honoured.
 */
export function geminiEmbeddingsResponse(json: unknown, target: UpstreamTarget, request?: EmbeddingsRequest): CreateEmbeddingResponse {
  const embeddings = isObject(json) ? json.embeddings : undefined;
  if (!Array.isArray(embeddings)) {
    throw new GatewayError('upstream_invalid_response', `Provider "${target.providerName}" returned a body that is not an embeddings list`);
  }
  const base64 = request?.encoding_format === 'base64';
  const data = embeddings.map((e, index) => {
    const values = isObject(e) ? e.values : undefined;
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) {
      throw new GatewayError('upstream_invalid_response', `Provider "${target.providerName}" returned an embedding without values`);
    }
    // OpenAI's base64 is the little-endian float32 array; the SDK types it as number[] regardless.
    const embedding = base64 ? (Buffer.from(new Float32Array(values).buffer).toString('base64') as unknown as number[]) : values;
    return { object: 'embedding' as const, index, embedding };
  });
  const tokens = request ? inputTexts(request).reduce((sum, t) => sum + Math.ceil(t.length / 4), 0) : 0;
  return { object: 'list', data, model: target.publicModel || target.upstreamModel, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

/** Gemini embeds text only; OpenAI's token-array inputs have no Gemini equivalent. */
function inputTexts(body: EmbeddingsRequest): string[] {
  const input = body.input;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((x) => typeof x === 'string')) return input as string[];
  throw new GatewayError('invalid_request', 'Gemini embeddings take a string or an array of strings, not token arrays', { param: 'input' });
}
