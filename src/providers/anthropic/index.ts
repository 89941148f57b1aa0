/** Anthropic's Messages API (`POST /v1/messages`), behind the gateway's OpenAI chat format. No embeddings API. */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderAdapter } from '../adapter.js';
import { anthropicChatRequest, anthropicChatResponse } from './chat.js';
import { anthropicMapError } from './errors.js';
import { AnthropicStreamTranslator } from './stream.js';

export const anthropicAdapter: ProviderAdapter = {
  chatRequest: anthropicChatRequest,
  chatResponse: anthropicChatResponse,
  chatStream: (target) => new AnthropicStreamTranslator(target),
  mapError: anthropicMapError,
  requestId: (headers: IncomingHttpHeaders) => first(headers['request-id']),
};

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
