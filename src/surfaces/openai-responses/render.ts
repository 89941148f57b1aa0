/**
 * A chat completion (from a translated provider) rendered as a Responses `Response`, with the
 * request's settings echoed as OpenAI does; errors in OpenAI's error shape.
 */
import { randomBytes } from 'node:crypto';
import type { ResponseFunctionToolCall, ResponseOutputMessage, ResponseUsage } from 'openai/resources/responses/responses';
import { toOpenAIError, type GatewayError, type OpenAIErrorBody } from '../../errors.js';
import type { ChatCompletion } from '../../providers/adapter.js';
import type { Response, ResponseOutputItem, ResponsesWire } from './types.js';

type Json = Record<string, any>;
type ChatUsage = NonNullable<ChatCompletion['usage']>;

/** `resp_…`, `msg_…`, `fc_…`: OpenAI's id shapes (prefix and 48 hex digits). */
export function newId(prefix: 'resp' | 'msg' | 'fc'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

export interface RenderOptions {
  id?: string;
  /** Seconds since the epoch. */
  createdAt?: number;
}

/** The Response object without output and usage: the part announced by `response.created`. */
export function responseShell(wire: ResponsesWire, model: string, options: RenderOptions = {}): Response {
  const b = wire as unknown as Json;
  const reasoning = b.reasoning ?? {};
  return {
    id: options.id ?? newId('resp'),
    object: 'response',
    created_at: options.createdAt ?? Math.floor(Date.now() / 1000),
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    max_tool_calls: b.max_tool_calls ?? null,
    model,
    output: [],
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: b.previous_response_id ?? null,
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null },
    service_tier: b.service_tier ?? 'default',
    store: b.store ?? true,
    temperature: b.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium', ...(b.text ?? {}) },
    tool_choice: b.tool_choice ?? 'auto',
    tools: b.tools ?? [],
    top_logprobs: b.top_logprobs ?? 0,
    top_p: b.top_p ?? 1,
    truncation: b.truncation ?? 'disabled',
    usage: undefined,
    user: b.user ?? undefined,
    metadata: b.metadata ?? {},
  } as unknown as Response;
}

export function responsesUsage(usage: ChatUsage | undefined): ResponseUsage {
  const input = usage?.prompt_tokens ?? 0;
  const output = usage?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage?.total_tokens ?? input + output,
  } as ResponseUsage;
}

/** `status` and `incomplete_details` from a chat finish reason. */
export function responseStatus(finish: string | null | undefined): Pick<Response, 'status' | 'incomplete_details'> {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

export function messageItem(id: string, text: string | null, refusal: string | null | undefined, status: 'in_progress' | 'completed'): ResponseOutputMessage {
  const content: ResponseOutputMessage['content'] = [];
  if (text !== null) content.push({ type: 'output_text', text, annotations: [], logprobs: [] });
  if (refusal) content.push({ type: 'refusal', refusal });
  return { id, type: 'message', status, role: 'assistant', content };
}

export function functionCallItem(id: string, callId: string, name: string, args: string, status: 'in_progress' | 'completed'): ResponseFunctionToolCall {
  return { id, type: 'function_call', status, call_id: callId, name, arguments: args };
}

export function renderCompletion(completion: ChatCompletion, wire: ResponsesWire, options: RenderOptions = {}): Response {
  const choice = completion.choices[0];
  const message = choice?.message;
  const output: ResponseOutputItem[] = [];
  if (message && (typeof message.content === 'string' || message.refusal)) {
    output.push(messageItem(newId('msg'), message.content ?? null, message.refusal, 'completed'));
  }
  for (const call of message?.tool_calls ?? []) {
    if (call.type !== 'function') continue;
    output.push(functionCallItem(newId('fc'), call.id, call.function.name, call.function.arguments, 'completed'));
  }
  return {
    ...responseShell(wire, completion.model, { createdAt: completion.created, ...options }),
    ...responseStatus(choice?.finish_reason),
    output,
    usage: responsesUsage(completion.usage),
  };
}

/** OpenAI's error shape, as for chat: the Responses API uses the same body. */
export function renderError(err: GatewayError): { status: number; body: OpenAIErrorBody } {
  return toOpenAIError(err);
}
