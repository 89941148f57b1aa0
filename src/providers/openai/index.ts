/** OpenAI, and every OpenAI-compatible host (Mistral, vLLM, Ollama, Together, Groq, …): same wire format. */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderAdapter } from '../adapter.js';
import { mapUpstreamError, readErrorBody } from '../upstream-errors.js';
import { openAIChatRequest, openAIChatResponse } from './chat.js';
import { openAIEmbeddingsRequest, openAIEmbeddingsResponse } from './embed.js';
import { OpenAIStreamTranslator } from './stream.js';

export const openAIAdapter: ProviderAdapter = {
  chatRequest: openAIChatRequest,
  chatResponse: openAIChatResponse,
  chatStream: (target) => new OpenAIStreamTranslator(target),
  embeddingsRequest: openAIEmbeddingsRequest,
  embeddingsResponse: openAIEmbeddingsResponse,
  mapError: (status, body, headers, target) => mapUpstreamError(target.providerName, status, headers, readErrorBody(body)),
  requestId: (headers: IncomingHttpHeaders) => first(headers['x-request-id']),
};

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
