/**
 * Answers of translated providers in Anthropic's shapes: a chat completion as a `message`, and
 * the model list. The mappings mirror providers/anthropic/chat.ts
 * (finishReason, toOpenAIUsage) in the other direction.
 */
import { randomUUID } from 'node:crypto';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ChatCompletion } from '../../providers/adapter.js';
import type { Message, ResponseBlock, StopReason, Usage } from '../../providers/anthropic/wire.js';
import type { MessagesWire } from './types.js';

/** Anthropic's message usage: input excludes the cache reads that OpenAI counts in prompt_tokens. */
export interface MessageUsage extends Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** `msg_…` from a completion or chunk id (the part after `chatcmpl-`); an empty id gets a fresh one. */
export function messageId(id: string | undefined): string {
  if (id?.startsWith('msg_')) return id;
  const core = (id ?? '').replace(/^chatcmpl-/, '').replace(/[^A-Za-z0-9_]/g, '');
  return `msg_${core || randomUUID().replaceAll('-', '')}`;
}

/**
 * OpenAI finish_reason → Anthropic stop_reason (the inverse of the adapter's finishReason). With
 * tool calls in the answer a plain `stop` is `tool_use`: some providers finish a calling turn
 * with `stop`, and Anthropic agent loops run tools on `tool_use`.
 */
export function stopReason(finish: string | null | undefined, calledTools = false): StopReason {
  if (calledTools && (finish === 'stop' || finish == null)) return 'tool_use';
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function messageUsage(usage: CompletionUsage | undefined): MessageUsage {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: 0, // OpenAI-style providers do not report cache writes
    cache_read_input_tokens: cached,
  };
}

/** Tool-call arguments as the object Anthropic's `input` must be; a malformed or truncated string becomes `{}`. */
export function toolInput(args: string | undefined): Record<string, unknown> {
  if (!args?.trim()) return {};
  try {
    const v: unknown = JSON.parse(args);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * @example renderCompletion(completion, wire) // { id: 'msg_abc', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Hi' }], … }
 */
export function renderCompletion(completion: ChatCompletion, _wire: MessagesWire): Message {
  const choice = completion.choices[0];
  const message = choice?.message;
  const content: ResponseBlock[] = [];
  // A refusal is what the model said; Anthropic has no separate field for it.
  const text = (message?.content ?? '') + (message?.refusal ?? '');
  if (text) content.push({ type: 'text', text });
  for (const call of message?.tool_calls ?? []) {
    if (call.type !== 'function') continue;
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call.function.arguments) });
  }
  const refused = !message?.content && !!message?.refusal;
  const calledTools = content.some((b) => b.type === 'tool_use');
  return {
    id: messageId(completion.id),
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content,
    stop_reason: refused ? 'refusal' : stopReason(choice?.finish_reason, calledTools),
    stop_sequence: null,
    usage: messageUsage(completion.usage),
  };
}

export interface AnthropicModelList {
  data: Array<{ type: 'model'; id: string; display_name: string; created_at: string }>;
  has_more: false;
  first_id: string | null;
  last_id: string | null;
}

/** `GET /v1/models` in Anthropic's list shape; `created` is in Unix seconds, as in OpenAI's list. */
export function renderModelList(models: ReadonlyArray<{ id: string; created?: number }>): AnthropicModelList {
  const data = models.map((m) => ({
    type: 'model' as const,
    id: m.id,
    display_name: m.id,
    created_at: new Date((m.created ?? 0) * 1000).toISOString(),
  }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
