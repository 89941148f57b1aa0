/**
 * The surface contract (see the surfaces brief) and the slice of the Messages request this
 * surface reads. The wire body is kept as the client sent it (plus policy redactions), so
 * fields not declared here still reach an Anthropic provider untouched.
 */
import type { GatewayError } from '../../errors.js';
import type { ChatCompletionChunk } from '../../providers/adapter.js';
import type { RequestFacts } from '../../pipeline/context.js';
import type { TextSegment } from '../../policy/types.js';

export interface ParsedSurfaceRequest<W> {
  /** The client's body (validated): what goes upstream natively. */
  wire: W;
  model: string;
  stream: boolean;
  /** Always true here: usage is part of the Messages format (message_start / message_delta). */
  clientWantsUsage: boolean;
  facts: RequestFacts;
  /** Paths into `wire` (parsePath syntax of policy/redact-request.ts), each leading to a string. */
  segments: TextSegment[];
}

export interface StreamEncoder {
  /** Zero or more full SSE frames (`event: x\ndata: {...}\n\n`). */
  push(chunk: ChatCompletionChunk): string;
  /** The closing frames (open block stop, message_delta, message_stop). */
  end(): string;
  /** An `event: error` frame in Anthropic's shape. */
  error(err: GatewayError): string;
}

type Json = Record<string, unknown>;

/** A content block as validated by parse.ts; other fields (cache_control, citations, …) pass through. */
export interface Block extends Json {
  type: string;
}

export interface MessageParam extends Json {
  role: 'user' | 'assistant';
  content: string | Block[];
}

export interface ToolParam extends Json {
  /** Absent or `custom` for client tools; a dated type such as `web_search_20250305` for server tools. */
  type?: string | null;
  name: string;
  description?: string;
  input_schema?: Json;
}

export interface ToolChoiceParam extends Json {
  type: 'auto' | 'any' | 'tool' | 'none';
  name?: string;
  disable_parallel_tool_use?: boolean;
}

export interface ThinkingParam extends Json {
  /** `enabled` (with a budget), `disabled`, `adaptive`, … */
  type: string;
  budget_tokens?: number;
}

/** `POST /v1/messages` body. `max_tokens` is absent only in a count_tokens body. */
export interface MessagesWire extends Json {
  model: string;
  max_tokens?: number;
  messages: MessageParam[];
  system?: string | Block[];
  tools?: ToolParam[];
  tool_choice?: ToolChoiceParam;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  stream?: boolean;
  metadata?: { user_id?: string | null } & Json;
  thinking?: ThinkingParam;
  output_config?: { effort?: string | null; format?: { type: string; schema?: Json } | null } & Json;
}
