/** Cohere's native v2 API (`/v2/chat`, `/v2/embed`): Command and Embed models. */
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../errors.js';
import type { ProviderAdapter, UpstreamTarget } from '../adapter.js';
import { mapUpstreamError, readErrorBody } from '../upstream-errors.js';
import { cohereChatRequest, cohereChatResponse } from './chat.js';
import { cohereEmbeddingsRequest, cohereEmbeddingsResponse } from './embed.js';
import { CohereStreamTranslator } from './stream.js';

export const cohereAdapter: ProviderAdapter = {
  chatRequest: cohereChatRequest,
  chatResponse: (json, target) => cohereChatResponse(json, target),
  chatStream: (target) => new CohereStreamTranslator(target),
  embeddingsRequest: cohereEmbeddingsRequest,
  // Takes the original request as an optional third argument, for `encoding_format: base64`.
  embeddingsResponse: cohereEmbeddingsResponse,
  mapError: cohereMapError,
  requestId: (headers: IncomingHttpHeaders) => first(headers['x-request-id']),
};

/**
 * Cohere errors are `{"message": "…"}` (sometimes with an `id`). Two statuses need care:
 * 402 (the gateway's Cohere account is out of credit) is the operator's problem, not the client's;
 * 499 (Cohere cancelled the request) is transient, so it is treated as a provider failure.
 */
export function cohereMapError(status: number, body: string, headers: IncomingHttpHeaders, target: UpstreamTarget): GatewayError {
  const details = readErrorBody(body);
  const name = target.providerName;
  if (status === 402) {
    return new GatewayError('upstream_auth_failed', `Provider "${name}" refused the gateway's account (HTTP 402, payment required); an operator must fix billing.`);
  }
  if (status === 499) {
    return new GatewayError('upstream_error', `Provider "${name}" cancelled the request (HTTP 499)${details.message ? `: ${details.message.slice(0, 500)}` : ''}`);
  }
  return mapUpstreamError(name, status, headers, details);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
