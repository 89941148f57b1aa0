/**
 * The slice of Gemini's generativelanguage v1beta wire format the adapter reads and writes, and
 * the mappings shared by the JSON and the streamed answer (finish reasons, usage, parts).
 */
import type { ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions';
import type { ChatCompletion } from '../adapter.js';

export interface GeminiPart {
  text?: string;
  /** True on a thought summary: never shown to the client as content. */
  thought?: boolean;
  /** Opaque, base64; Gemini 3 wants it back on the function calls of later turns. */
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: { id?: string; name: string; args?: Record<string, unknown> };
  functionResponse?: { id?: string; name: string; response: Record<string, unknown> };
}

export interface GeminiContent {
  role?: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  index?: number;
}

export interface GeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
  totalTokenCount?: number;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsage;
  modelVersion?: string;
  responseId?: string;
  error?: { code?: number; message?: string; status?: string };
}

export type FinishReason = ChatCompletion.Choice['finish_reason'];
export type Usage = NonNullable<ChatCompletion['usage']>;

/**
 * Where a Gemini thought signature rides in the OpenAI format: the same `extra_content` field
 * Google's own OpenAI-compatible endpoint uses, so clients that echo tool calls back verbatim
 * hand it back to us on the next turn.
 */
export interface SignatureCarrier {
  extra_content?: { google?: { thought_signature?: string } };
}

export type ToolCall = ChatCompletionMessageFunctionToolCall & SignatureCarrier;

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

/** Gemini says STOP even when the turn ends in function calls; OpenAI clients key on tool_calls. */
export function mapFinishReason(reason: string, sawFunctionCall: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return sawFunctionCall ? 'tool_calls' : 'stop';
}

/** Thoughts are billed as output, so they count in completion_tokens, as OpenAI's reasoning tokens do. */
export function mapUsage(u: GeminiUsage): Usage {
  const prompt = u.promptTokenCount ?? 0;
  const thoughts = u.thoughtsTokenCount ?? 0;
  const completion = (u.candidatesTokenCount ?? 0) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: u.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

/** Visible text of a candidate's parts: thought summaries are left out. */
export function visibleText(parts: GeminiPart[]): string {
  return parts
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => p.text)
    .join('');
}

/**
 * One OpenAI tool call per Gemini functionCall part. Ids are `call_<candidate>_<n>`: Gemini
 * assigns none, and deterministic ids keep responses reproducible (a tool message is matched to
 * the most recent assistant turn that used the id, so reuse across turns is harmless).
 */
export function toolCallFromPart(part: GeminiPart, candidate: number, n: number): ToolCall {
  const call = part.functionCall!;
  const out: ToolCall = {
    id: `call_${candidate}_${n}`,
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
  };
  if (part.thoughtSignature) out.extra_content = { google: { thought_signature: part.thoughtSignature } };
  return out;
}

/** Generic so that a typed value keeps its type when narrowed. */
export function isObject<T>(v: T): v is T & Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
