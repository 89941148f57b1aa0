/**
 * The contract between an inbound API (a "surface") and the one pipeline runner.
 *
 * A surface owns its wire format: it validates the client's body, tells policy which text the
 * model will read (as paths into that body, so redactions land in the body that is forwarded),
 * translates the body to the pivot form every provider adapter understands (OpenAI chat or
 * embeddings), and renders answers, stream events and errors in its own shape. Where the routed
 * provider speaks the surface's own API, the body goes upstream as the client sent it (after
 * redactions) and the answer comes back as the provider sent it; the surface then only observes
 * it (usage, text, tool calls) for metering, response rules and the audit.
 *
 * Stages never see a wire format: they read the context, the pivot body and the text segments.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayError } from '../errors.js';
import type { RequestFacts } from '../pipeline/context.js';
import type { TextSegment } from '../policy/types.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  CreateEmbeddingResponse,
  EmbeddingsRequest,
  StreamTranslator,
  UpstreamRequest,
  UpstreamTarget,
} from '../providers/adapter.js';

export type SurfaceName = 'chat-completions' | 'embeddings' | 'anthropic-messages' | 'openai-responses';

/** What a surface may read of the HTTP request besides the body. */
export interface Inbound {
  readonly headers: IncomingHttpHeaders;
  /** The raw query string without `?` ('' when absent). */
  readonly query: string;
}

/** A validated request: the wire body and what the stages need to know about it. */
export interface ParsedRequest<W> {
  /** The client's body, validated; forwarded as is (after redactions) to a native provider. */
  readonly wire: W;
  readonly model: string;
  readonly stream: boolean;
  /** Whether usage belongs in what the client receives (chat: only with stream_options.include_usage). */
  readonly clientWantsUsage: boolean;
  readonly facts: RequestFacts;
}

/** A surface's error rendering: status and body in the client API's own shape. */
export interface RenderedError {
  status: number;
  body: unknown;
}

export interface StreamEncoderOptions {
  /** The client asked for usage in the stream (chat's `stream_options.include_usage`). */
  clientWantsUsage: boolean;
  /** The gateway's input-token estimate, for formats that announce usage before the provider reports it. */
  inputTokens: number;
}

/** Turns the pivot's stream chunks into the surface's SSE frames, one response at a time. */
export interface StreamEncoder {
  /**
   * Zero or more complete SSE frames for one chunk ('' when nothing is due). `raw` is the
   * provider's own JSON text of the chunk when it is exactly the chunk (OpenAI-compatible
   * upstreams): an encoder for the same format sends it instead of re-encoding.
   */
  push(chunk: ChatCompletionChunk, raw?: string): string;
  /** The frames that close a complete stream. */
  end(): string;
  /** A frame that ends the stream with an error, in the surface's shape. */
  error(err: GatewayError): string;
  /** The whole answer in the surface's shape once `end()` ran, for surfaces that keep it. */
  readonly final?: unknown;
}

/** The surface's own API served natively by a provider: the body passes through. */
export interface NativeCodec<W> {
  /** Provider types (config `providers.*.type`) whose API is this surface's own. */
  readonly providerTypes: ReadonlySet<string>;
  request(wire: W, target: UpstreamTarget, inbound: Inbound): UpstreamRequest;
  /** A native JSON answer seen as the pivot (for metering, response rules, audit). */
  observe(json: unknown, target: UpstreamTarget): ChatCompletion;
  /** Native stream events seen as pivot chunks; the client receives the provider's own events. */
  observeStream(target: UpstreamTarget): StreamTranslator;
}

/** Who answered a request, for state a surface keeps about it. */
export interface AnsweredBy {
  tenantId: string;
  /** The configured provider that answered. */
  provider: string;
  /** The provider spoke the surface's own API. */
  native: boolean;
}

/**
 * State a surface keeps across requests (the Responses API's stored conversations). `load` runs
 * as the `conversation` stage, before counting and policy, so the whole conversation is
 * counted, judged and forwarded; `save` runs once a complete answer exists.
 */
export interface Conversation<W> {
  /** Whether this request continues a stored conversation (the stage awaits only then). */
  continues(wire: W): boolean;
  /** The wire with the stored conversation in front of its input, for this tenant (404 when unknown). */
  load(wire: W, tenantId: string): Promise<W>;
  /** Keeps a finished answer (in the surface's shape) when the request asks to be stored. */
  save(wire: W, answer: unknown, by: AnsweredBy): void;
  /** Before forwarding: throws (503 store_unavailable) when the request asks to be stored and the store cannot take it and may not be bypassed. */
  checkStorable?(wire: W): void;
}

/** A chat-like surface: a model answers with a message, possibly streamed. */
export interface ChatSurface<W extends object = object> {
  readonly kind: 'chat';
  readonly name: SurfaceName;
  parse(raw: unknown, inbound: Inbound): ParsedRequest<W>;
  /** The text the model reads, as paths into `wire` (policy/redact-request.ts parsePath syntax); run only when a policy applies. */
  segments(wire: W): TextSegment[];
  /** The pivot form for translated providers. Throws invalid_request for what cannot be expressed. */
  toChat(wire: W): ChatRequest;
  readonly native?: NativeCodec<W>;
  readonly conversation?: Conversation<W>;
  /** The answer in the surface's shape. Returning `completion` itself means "send the provider's bytes". */
  renderCompletion(completion: ChatCompletion, wire: W): unknown;
  streamEncoder(wire: W, options: StreamEncoderOptions): StreamEncoder;
  /** An input-token estimate that never refuses (bodies only a native provider can take); else the pivot is counted. */
  estimateInputTokens?(wire: W, upstreamModel: string): number;
  renderError(err: GatewayError): RenderedError;
}

/** The embeddings surface: one JSON answer, no streaming. */
export interface EmbeddingsSurface<W extends object = object> {
  readonly kind: 'embeddings';
  readonly name: SurfaceName;
  parse(raw: unknown, inbound: Inbound): ParsedRequest<W>;
  segments(wire: W): TextSegment[];
  toEmbeddings(wire: W): EmbeddingsRequest;
  renderEmbeddings(result: CreateEmbeddingResponse, wire: W): unknown;
  renderError(err: GatewayError): RenderedError;
}

export type Surface = ChatSurface<any> | EmbeddingsSurface<any>;
