/**
 * The Responses surface's wire types (from the `openai` package, never hand-copied) and the
 * surface contract of the surfaces brief, declared here until the runner owns a shared one.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type {
  Response,
  ResponseCreateParams,
  ResponseInputItem,
  ResponseOutputItem,
  ResponseStreamEvent,
  Tool,
} from 'openai/resources/responses/responses';
import type { GatewayError } from '../../errors.js';
import type { RequestFacts } from '../../pipeline/context.js';
import type { TextSegment } from '../../policy/types.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, StreamTranslator, UpstreamRequest, UpstreamTarget } from '../../providers/adapter.js';

export type { Response, ResponseCreateParams, ResponseInputItem, ResponseOutputItem, ResponseStreamEvent, Tool };

/** The validated client body (what goes upstream natively, after policy redactions). */
export type ResponsesWire = ResponseCreateParams;

export interface ParsedSurfaceRequest<W> {
  wire: W;
  model: string;
  stream: boolean;
  clientWantsUsage: boolean;
  facts: RequestFacts;
  segments: TextSegment[];
}

export interface StreamEncoder {
  /** Zero or more full SSE frames (`event: x\ndata: {...}\n\n`). */
  push(chunk: ChatCompletionChunk): string;
  /** Closing frames (`response.completed`). */
  end(): string;
  /** An error frame in the surface's own shape. */
  error(err: GatewayError): string;
}

export interface ResponsesSurface {
  readonly name: 'openai-responses';
  readonly nativeProviderTypes: readonly string[];
  parse(body: unknown): ParsedSurfaceRequest<ResponsesWire>;
  toChat(wire: ResponsesWire): ChatRequest;
  nativeRequest(wire: ResponsesWire, target: UpstreamTarget, clientHeaders: IncomingHttpHeaders, query: string): UpstreamRequest;
  observeNative(json: unknown, target: UpstreamTarget): ChatCompletion;
  observeNativeStream(target: UpstreamTarget): StreamTranslator;
  renderCompletion(completion: ChatCompletion, wire: ResponsesWire, options?: EncoderOptions): Response;
  streamEncoder(wire: ResponsesWire, options?: EncoderOptions): StreamEncoder;
  renderError(err: GatewayError): { status: number; body: unknown };
}

export interface EncoderOptions {
  /** The response id to announce (so the runner can store it under the same id). */
  id?: string;
  /** Seconds since the epoch for `created_at`. */
  createdAt?: number;
}
