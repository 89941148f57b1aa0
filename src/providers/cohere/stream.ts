/**
 * Cohere v2 chat stream → OpenAI chunks. Cohere names each event (`message-start`,
 * `content-delta`, `tool-call-start`, …, `message-end`) both in the SSE `event:` field and in the
 * JSON `type`; either is enough. Usage and the finish reason only arrive with `message-end`.
 */
import type { ChatCompletionChunk as Chunk } from 'openai/resources/chat/completions';
import { GatewayError } from '../../errors.js';
import type { SseEvent, StreamTranslator, UpstreamTarget } from '../adapter.js';
import { type CohereToolCall, type CohereUsage, mapFinishReason, mapUsage, unixNow } from './chat.js';

interface CohereStreamEvent {
  type?: string;
  id?: string;
  index?: number;
  delta?: {
    message?: {
      content?: { type?: string; text?: string };
      tool_plan?: string;
      tool_calls?: CohereToolCall;
    };
    finish_reason?: string;
    usage?: CohereUsage;
    error?: string;
  };
}

export class CohereStreamTranslator implements StreamTranslator {
  error: GatewayError | undefined;
  private id = '';
  private started = false;
  private finished = false;
  /** Cohere's tool-call index → the OpenAI `tool_calls[].index` handed out, in order of appearance. */
  private readonly toolIndexes = new Map<number, number>();
  private lastToolIndex = -1;

  /** `created` stamps every chunk (Cohere sends no timestamp); tests pass a fixed value. */
  constructor(
    private readonly target: UpstreamTarget,
    private readonly created: number = unixNow(),
  ) {}

  push(event: SseEvent): Chunk[] {
    if (this.error || this.finished) return [];
    const data = event.data.trim();
    if (data === '' || data === '[DONE]') return [];
    let ev: CohereStreamEvent;
    try {
      ev = JSON.parse(data);
    } catch {
      this.error = new GatewayError('upstream_invalid_response', `Provider "${this.target.providerName}" sent a stream event that is not JSON`);
      return [];
    }
    const msg = ev.delta?.message;
    switch (ev.type ?? event.event) {
      case 'message-start':
        if (ev.id) this.id = ev.id;
        return this.start();
      case 'content-start':
      case 'content-delta':
        // Thinking deltas carry `content.thinking`, not `text`: OpenAI chat has no place for them.
        return this.text(msg?.content?.text);
      case 'tool-plan-delta':
        // The plan is the model's own words before its calls; OpenAI streams those as content.
        return this.text(msg?.tool_plan);
      case 'tool-call-start':
        return this.toolStart(ev.index, msg?.tool_calls);
      case 'tool-call-delta':
        return this.toolDelta(ev.index, msg?.tool_calls?.function?.arguments);
      case 'message-end':
        return this.finish(ev.delta);
      default:
        // content-end, tool-call-end, citation-start/-end, debug: nothing for the client.
        return [];
    }
  }

  end(): Chunk[] {
    if (!this.finished && !this.error) {
      this.error = new GatewayError('upstream_invalid_response', `Provider "${this.target.providerName}" ended the stream before message-end`);
    }
    return [];
  }

  /** The role chunk, once, before anything else (OpenAI always opens with it). */
  private start(): Chunk[] {
    if (this.started) return [];
    this.started = true;
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  private text(text: string | undefined): Chunk[] {
    const out = this.start();
    if (text) out.push(this.chunk({ content: text }));
    return out;
  }

  private toolStart(cohereIndex: number | undefined, call: CohereToolCall | undefined): Chunk[] {
    const out = this.start();
    const index = this.toolIndexes.size;
    this.toolIndexes.set(cohereIndex ?? index, index);
    this.lastToolIndex = index;
    out.push(
      this.chunk({
        tool_calls: [
          {
            index,
            id: call?.id ?? `call_${index}`,
            type: 'function',
            function: { name: call?.function?.name ?? '', arguments: call?.function?.arguments ?? '' },
          },
        ],
      }),
    );
    return out;
  }

  private toolDelta(cohereIndex: number | undefined, fragment: string | undefined): Chunk[] {
    if (!fragment) return [];
    const index = (cohereIndex !== undefined ? this.toolIndexes.get(cohereIndex) : undefined) ?? this.lastToolIndex;
    if (index < 0) return [];
    return [this.chunk({ tool_calls: [{ index, function: { arguments: fragment } }] })];
  }

  /** The finish chunk, then the usage chunk OpenAI sends with `include_usage` (the gateway may strip it). */
  private finish(delta: CohereStreamEvent['delta']): Chunk[] {
    this.finished = true;
    if (delta?.error || delta?.finish_reason === 'ERROR') {
      const said = delta?.error ? `: ${delta.error}` : '';
      this.error = new GatewayError('upstream_error', `Provider "${this.target.providerName}" failed mid-stream${said}`);
      return [];
    }
    const out = this.start();
    out.push(this.chunk({}, mapFinishReason(delta?.finish_reason)));
    out.push({ ...this.base(), choices: [], usage: mapUsage(delta?.usage) });
    return out;
  }

  private base(): Omit<Chunk, 'choices'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.target.upstreamModel };
  }

  private chunk(delta: Chunk.Choice.Delta, finishReason: Chunk.Choice['finish_reason'] = null): Chunk {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] };
  }
}
