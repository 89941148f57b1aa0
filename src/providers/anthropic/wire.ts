/**
 * The slice of Anthropic's Messages API wire format this adapter reads and writes. Declared here
 * rather than imported from `@anthropic-ai/sdk`, which is only a dev dependency (for the fake's
 * tests); field names follow the SDK's `resources/messages` types and the public API reference.
 */

export const ANTHROPIC_VERSION = '2023-06-01';

/** Anthropic requires `max_tokens`; OpenAI does not, so a request without one gets this. */
export const DEFAULT_MAX_TOKENS = 4096;

export interface TextBlock {
  type: 'text';
  text: string;
}

export type ImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string };

export interface ImageBlock {
  type: 'image';
  source: ImageSource;
}

export interface DocumentBlock {
  type: 'document';
  source: { type: 'base64'; media_type: string; data: string };
  title?: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string | Array<TextBlock | ImageBlock>;
}

export type ContentBlock = TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock;

export interface MessageParam {
  role: 'user' | 'assistant';
  content: string | ContentBlock[];
}

export interface Tool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type ToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  stream?: boolean;
  metadata?: { user_id: string };
  tools?: Tool[];
  tool_choice?: ToolChoice;
}

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

/** Counters as Anthropic reports them; the cache counters are absent or null when unused. */
export interface Usage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** A response content block; types other than text and tool_use (thinking, server tools…) are skipped. */
export type ResponseBlock = TextBlock | ToolUseBlock | { type: string; [key: string]: unknown };

export interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ResponseBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: Usage;
}

/** `{ type: 'error', error: { type, message } }`: the body of every error, and the `error` stream event. */
export interface ErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id?: string;
}
