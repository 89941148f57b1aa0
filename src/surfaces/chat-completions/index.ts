/**
 * POST /v1/chat/completions — OpenAI Chat Completions, the pivot format itself: the body is the
 * pivot, answers pass through (re-encoded only when translated or redacted), errors take the
 * OpenAI shape.
 */
import { toOpenAIError, type GatewayError } from '../../errors.js';
import { readChatRequest } from '../openai-body.js';
import { segmentsOf } from '../../policy/redact-request.js';
import type { ChatCompletionChunk, ChatRequest } from '../../providers/adapter.js';
import type { ChatSurface, StreamEncoder } from '../surface.js';

export const chatCompletionsSurface: ChatSurface<ChatRequest> = {
  kind: 'chat',
  name: 'chat-completions',
  parse(raw) {
    const read = readChatRequest(raw);
    return { wire: read.body, model: read.model, stream: read.stream, clientWantsUsage: read.clientWantsUsage, facts: read.facts };
  },
  segments: (wire) => segmentsOf(wire, 'chat'),
  toChat: (wire) => wire,
  renderCompletion: (completion) => completion,
  streamEncoder: (_wire, { clientWantsUsage }) => new ChatChunkEncoder(clientWantsUsage),
  renderError: (err) => toOpenAIError(err),
};

/** `data: <chunk>` frames and the closing `data: [DONE]`, as OpenAI streams them. */
export class ChatChunkEncoder implements StreamEncoder {
  constructor(private readonly clientWantsUsage: boolean) {}

  push(chunk: ChatCompletionChunk, raw?: string): string {
    // The gateway forces usage reporting upstream; a client that did not ask must not see it.
    if (chunk.usage && !this.clientWantsUsage) {
      if (chunk.choices.length === 0) return '';
      return `data: ${JSON.stringify({ ...chunk, usage: null })}\n\n`;
    }
    return `data: ${raw ?? JSON.stringify(chunk)}\n\n`;
  }

  end(): string {
    return 'data: [DONE]\n\n';
  }

  /** OpenAI SDKs raise an APIError for a data event carrying `error`. */
  error(err: GatewayError): string {
    return `data: ${JSON.stringify(toOpenAIError(err).body)}\n\n`;
  }
}
