/**
 * Observation of native Responses answers (OpenAI served `/responses` itself): the JSON
 * Response, or its event stream, seen as chat completions / chunks for metering, audit and
 * response rules. The client receives the upstream's own bytes; nothing here is sent.
 */
import { GatewayError } from '../../errors.js';
import type { ChatCompletion, ChatCompletionChunk, SseEvent, StreamTranslator, UpstreamTarget } from '../../providers/adapter.js';
import { readErrorBody } from '../../providers/upstream-errors.js';
import type { Response } from './types.js';

type Json = Record<string, any>;
type ChatUsage = NonNullable<ChatCompletion['usage']>;
type Finish = ChatCompletion.Choice['finish_reason'];

export function chatUsage(usage: Json | null | undefined): ChatUsage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const input = Number(usage.input_tokens ?? 0);
  const output = Number(usage.output_tokens ?? 0);
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: Number(usage.total_tokens ?? input + output),
    prompt_tokens_details: { cached_tokens: Number(usage.input_tokens_details?.cached_tokens ?? 0) },
    completion_tokens_details: { reasoning_tokens: Number(usage.output_tokens_details?.reasoning_tokens ?? 0) },
  };
}

function finishOf(response: Json, hasCalls: boolean): Finish {
  if (response.status === 'incomplete') return response.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length';
  return hasCalls ? 'tool_calls' : 'stop';
}

export function observeNative(json: unknown, target: UpstreamTarget): ChatCompletion {
  const r = json as Json | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.output)) {
    throw new GatewayError('upstream_invalid_response', `Provider "${target.providerName}" returned a body that is not a response`);
  }
  let text: string | null = null;
  let refusal: string | null = null;
  const calls: ChatCompletion.Choice['message']['tool_calls'] & object = [];
  for (const item of r.output as Json[]) {
    if (item?.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content as Json[]) {
        if (part.type === 'output_text') text = (text ?? '') + part.text;
        else if (part.type === 'refusal') refusal = (refusal ?? '') + part.refusal;
      }
    } else if (item?.type === 'function_call') {
      calls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
    }
  }
  const message: ChatCompletion.Choice['message'] = { role: 'assistant', content: text, refusal };
  if (calls.length > 0) message.tool_calls = calls;
  const completion: ChatCompletion = {
    id: String(r.id ?? ''),
    object: 'chat.completion',
    created: Number(r.created_at ?? 0),
    model: String(r.model ?? target.upstreamModel),
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishOf(r, calls.length > 0) }],
  };
  const usage = chatUsage(r.usage);
  if (usage) completion.usage = usage;
  return completion;
}

/** Native Responses SSE → chat chunks (observation only; never `passthrough`). */
export class ResponsesStreamObserver implements StreamTranslator {
  error: GatewayError | undefined;
  /** The provider's final Response (from `response.completed` / `response.incomplete`). */
  final: unknown = undefined;
  private id = '';
  private model: string;
  private created = 0;
  /** Chat tool-call index of each function_call output item, by output_index. */
  private readonly toolIndex = new Map<number, number>();
  private done = false;

  constructor(private readonly target: UpstreamTarget) {
    this.model = target.upstreamModel;
  }

  push(event: SseEvent): ChatCompletionChunk[] {
    if (this.error || this.done || event.data === '[DONE]') return [];
    let e: Json;
    try {
      e = JSON.parse(event.data);
    } catch {
      this.error = new GatewayError('upstream_invalid_response', `Provider "${this.target.providerName}" sent a stream event that is not JSON`);
      return [];
    }
    switch (e.type ?? event.event) {
      case 'response.created': {
        const r = e.response as Response;
        this.id = r.id;
        this.model = r.model ?? this.model;
        this.created = r.created_at ?? 0;
        return [this.chunk({ role: 'assistant', content: '' })];
      }
      case 'response.output_text.delta':
        return [this.chunk({ content: String(e.delta ?? '') })];
      case 'response.refusal.delta':
        return [this.chunk({ refusal: String(e.delta ?? '') })];
      case 'response.output_item.added': {
        if (e.item?.type !== 'function_call') return [];
        const index = this.toolIndex.size;
        this.toolIndex.set(e.output_index, index);
        return [this.chunk({ tool_calls: [{ index, id: e.item.call_id, type: 'function', function: { name: e.item.name, arguments: e.item.arguments ?? '' } }] })];
      }
      case 'response.function_call_arguments.delta': {
        const index = this.toolIndex.get(e.output_index);
        return index === undefined ? [] : [this.chunk({ tool_calls: [{ index, function: { arguments: String(e.delta ?? '') } }] })];
      }
      case 'response.completed':
      case 'response.incomplete': {
        this.done = true;
        const r = e.response as Json;
        this.final = r;
        const finish = this.chunk({}, finishOf(r, this.toolIndex.size > 0));
        const usage = chatUsage(r.usage);
        return usage ? [finish, { ...this.chunk({}), choices: [], usage }] : [finish];
      }
      case 'response.failed': {
        const message = e.response?.error?.message ?? 'the response failed';
        this.error = new GatewayError('upstream_error', `Provider "${this.target.providerName}" failed mid-stream: ${message}`);
        return [];
      }
      case 'error': {
        const details = readErrorBody(JSON.stringify({ error: e.error ?? e }));
        this.error = new GatewayError('upstream_error', `Provider "${this.target.providerName}" failed mid-stream: ${details.message ?? 'unknown error'}`);
        return [];
      }
      default:
        return [];
    }
  }

  end(): ChatCompletionChunk[] {
    return [];
  }

  private chunk(delta: ChatCompletionChunk.Choice.Delta, finish: Finish | null = null): ChatCompletionChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
  }
}
