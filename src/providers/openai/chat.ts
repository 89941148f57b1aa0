import { GatewayError } from '../../errors.js';
import type { ChatCompletion, ChatRequest, UpstreamRequest, UpstreamTarget } from '../adapter.js';
import { openAIHeaders } from './auth.js';

/**
 * The body goes upstream as the client sent it, with the upstream model name, and with
 * `stream_options.include_usage` forced on for streams so that every stream is metered.
 */
export function openAIChatRequest(body: ChatRequest, target: UpstreamTarget): UpstreamRequest {
  const upstreamBody: Record<string, unknown> = { ...body, model: target.upstreamModel };
  if (body.stream) upstreamBody.stream_options = { ...(body.stream_options ?? {}), include_usage: true };
  return {
    url: `${target.baseUrl}/chat/completions`,
    method: 'POST',
    headers: openAIHeaders(target),
    body: JSON.stringify(upstreamBody),
  };
}

export function openAIChatResponse(json: unknown, target: UpstreamTarget): ChatCompletion {
  const completion = json as ChatCompletion | null;
  if (!completion || typeof completion !== 'object' || !Array.isArray(completion.choices)) {
    throw new GatewayError('upstream_invalid_response', `Provider "${target.providerName}" returned a body that is not a chat completion`);
  }
  return completion;
}
