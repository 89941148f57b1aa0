/** The client's Responses body sent to OpenAI's own `/responses`, with the provider's credential. */
import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamRequest, UpstreamTarget } from '../../providers/adapter.js';
import { openAIHeaders } from '../../providers/openai/auth.js';
import type { ResponsesWire } from './types.js';

/**
 * Only `model` changes; streams need no usage forcing (`response.completed` always carries
 * usage). `wire` is what nativeWire() (conversation.ts) returned. The client's own headers and
 * query are not forwarded: its key is the gateway's, and `/responses` takes no query.
 */
export function nativeRequest(wire: ResponsesWire, target: UpstreamTarget, _clientHeaders: IncomingHttpHeaders = {}, _query = ''): UpstreamRequest {
  return {
    url: `${target.baseUrl}/responses`,
    method: 'POST',
    headers: openAIHeaders(target),
    body: JSON.stringify({ ...wire, model: target.upstreamModel }),
  };
}
