import { GatewayError } from '../../errors.js';
import type { ChatCompletionChunk, SseEvent, StreamTranslator, UpstreamTarget } from '../adapter.js';
import { readErrorBody } from '../upstream-errors.js';

/** OpenAI chunks are already in the client's format: parse, check for an in-stream error, pass on. */
export class OpenAIStreamTranslator implements StreamTranslator {
  error: GatewayError | undefined;
  readonly passthrough = true;

  constructor(private readonly target: UpstreamTarget) {}

  push(event: SseEvent): ChatCompletionChunk[] {
    if (event.data === '[DONE]' || this.error) return [];
    let chunk: ChatCompletionChunk & { error?: unknown };
    try {
      chunk = JSON.parse(event.data);
    } catch {
      this.error = new GatewayError('upstream_invalid_response', `Provider "${this.target.providerName}" sent a stream event that is not JSON`);
      return [];
    }
    if (chunk.error !== undefined) {
      const details = readErrorBody(event.data);
      this.error = new GatewayError('upstream_error', `Provider "${this.target.providerName}" failed mid-stream: ${details.message ?? 'unknown error'}`);
      return [];
    }
    return [chunk];
  }

  end(): ChatCompletionChunk[] {
    return [];
  }
}
