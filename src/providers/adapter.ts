/**
 * The contract between the gateway and one provider API. The gateway speaks OpenAI's chat and
 * embeddings formats to clients; an adapter translates a request to the provider's wire format
 * and the provider's answer (JSON or SSE events) back to OpenAI's. Adapters are pure: no I/O,
 * no clocks; the forward stage owns connections, timeouts, retries and metering.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
} from 'openai/resources/chat/completions';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { ProviderConfig } from '../config/schema.js';
import type { GatewayError } from '../errors.js';

export type ChatRequest = ChatCompletionCreateParams;
export type EmbeddingsRequest = EmbeddingCreateParams;
export type { ChatCompletion, ChatCompletionChunk, CreateEmbeddingResponse };

/** What an adapter may read of a provider's configuration (routing settings stay with the router). */
export type ProviderSettings = Pick<ProviderConfig, 'type' | 'base_url' | 'api_key' | 'headers' | 'timeout' | 'connections'>;

/** Where one request goes: a configured provider and the model name it knows. */
export interface UpstreamTarget {
  /** The provider's name in the configuration (for errors and audit). */
  readonly providerName: string;
  readonly provider: ProviderSettings;
  /** The provider's API root, with the type's default applied, without a trailing slash. */
  readonly baseUrl: string;
  /** The model name the provider expects (e.g. `claude-opus-4-6`, an Azure deployment name). */
  readonly upstreamModel: string;
  /** The public model name the client asked for (after alias resolution). */
  readonly publicModel: string;
}

/** A provider request, ready to send. `url` is absolute; the body is already encoded. */
export interface UpstreamRequest {
  readonly url: string;
  readonly method: 'POST' | 'GET';
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** One Server-Sent Event as received from the provider. */
export interface SseEvent {
  readonly event?: string | undefined;
  readonly data: string;
}

/**
 * Turns a provider's event stream into OpenAI `chat.completion.chunk` objects, one request at a
 * time (it may keep state: the message id, tool-call indexes, usage seen so far).
 * The final chunk(s) must carry `usage` when the provider reports it, as OpenAI does with
 * `stream_options.include_usage` (a chunk with `choices: []` and `usage`).
 */
export interface StreamTranslator {
  /** Feeds one upstream event; returns the OpenAI chunks it yields (often one, maybe none). */
  push(event: SseEvent): ChatCompletionChunk[];
  /** The upstream ended cleanly; returns any chunks still owed. */
  end(): ChatCompletionChunk[];
  /**
   * True when every chunk `push` returns is exactly `JSON.parse(event.data)` (OpenAI's own
   * format): the forward stage may then send the provider's bytes instead of re-encoding.
   */
  readonly passthrough?: boolean;
  /**
   * Set when the provider sent an error event inside a 200 stream (Anthropic's `error` event,
   * a Gemini error object, …): the forward stage ends the client stream with this error.
   */
  readonly error?: GatewayError | undefined;
  /** The provider's own final answer object, when its stream carries one (Responses' `response.completed`). */
  readonly final?: unknown;
}

export interface ProviderAdapter {
  /** Builds the provider request for an OpenAI chat request. `stream` already reflects the client's wish. */
  chatRequest(body: ChatRequest, target: UpstreamTarget): UpstreamRequest;
  /** Translates a provider's non-streaming chat answer. Throws GatewayError on an unusable body. */
  chatResponse(json: unknown, target: UpstreamTarget): ChatCompletion;
  /** A fresh translator for one streamed response. */
  chatStream(target: UpstreamTarget): StreamTranslator;
  /** Absent when the provider has no embeddings API. */
  embeddingsRequest?(body: EmbeddingsRequest, target: UpstreamTarget): UpstreamRequest;
  /** `request` is the client's request (e.g. its `encoding_format`, which the provider may not support natively). */
  embeddingsResponse?(json: unknown, target: UpstreamTarget, request?: EmbeddingsRequest): CreateEmbeddingResponse;
  /** Maps a non-2xx provider answer to the gateway's error catalog (see providers/upstream-errors.ts). */
  mapError(status: number, body: string, headers: IncomingHttpHeaders, target: UpstreamTarget): GatewayError;
  /** The provider's request id from its response headers, kept for the audit. */
  requestId(headers: IncomingHttpHeaders): string | undefined;
}
