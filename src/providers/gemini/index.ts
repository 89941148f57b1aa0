/** Google's Gemini API (generativelanguage.googleapis.com, v1beta), translated to and from OpenAI's format. */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderAdapter } from '../adapter.js';
import { geminiChatRequest, geminiChatResponse } from './chat.js';
import { geminiEmbeddingsRequest, geminiEmbeddingsResponse } from './embed.js';
import { geminiMapError } from './errors.js';
import { GeminiStreamTranslator } from './stream.js';

export const geminiAdapter: ProviderAdapter = {
  chatRequest: geminiChatRequest,
  chatResponse: geminiChatResponse,
  chatStream: (target) => new GeminiStreamTranslator(target),
  embeddingsRequest: geminiEmbeddingsRequest,
  embeddingsResponse: geminiEmbeddingsResponse,
  mapError: geminiMapError,
  // Gemini has no standard request-id header; a proxy in front of it may add x-request-id.
  requestId: (headers: IncomingHttpHeaders) => {
    const v = headers['x-request-id'];
    return Array.isArray(v) ? v[0] : v;
  },
};
