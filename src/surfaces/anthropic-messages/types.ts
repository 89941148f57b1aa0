/**
 * The slice of the Messages request this surface reads. The wire body is kept as the client sent it (plus policy redactions), so
 * fields not declared here still reach an Anthropic provider untouched.
 */

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
