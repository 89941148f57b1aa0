import { GatewayError } from '../../errors.js';
import type { ChatCompletionChunk, SseEvent, StreamTranslator, UpstreamTarget } from '../adapter.js';
import { finishReason, toOpenAIUsage } from './chat.js';
import { streamError } from './errors.js';
import type { Usage } from './wire.js';

type Delta = ChatCompletionChunk.Choice.Delta;

/** One Anthropic stream event, loosely typed: only the fields read below. */
interface StreamEvent {
  type?: string;
  index?: number;
  message?: { id?: string; model?: string; usage?: Usage };
  content_block?: { type?: string; id?: string; name?: string; text?: string };
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string | null };
  usage?: Usage;
}

/**
 * Anthropic SSE (`message_start`, `content_block_*`, `message_delta`, `message_stop`, `ping`,
 * `error`) → OpenAI chunks. Content blocks are numbered across text and tool_use, while OpenAI
 * numbers tool calls alone, so tool blocks get their own running index.
 */
export class AnthropicStreamTranslator implements StreamTranslator {
  error: GatewayError | undefined;
  // The one clock read an adapter is allowed: every chunk of a response shares it.
  private readonly created = Math.floor(Date.now() / 1000);
  private id = '';
  private model: string;
  private usage: Usage = {};
  private stopReason: string | null = null;
  private sawDelta = false;
  private done = false;
  /** Anthropic block index → OpenAI tool-call index, and whether any argument text went out. */
  private readonly tools = new Map<number, { index: number; sentArgs: boolean }>();

  constructor(private readonly target: UpstreamTarget) {
    this.model = target.upstreamModel;
  }

  push(event: SseEvent): ChatCompletionChunk[] {
    if (this.error || this.done) return [];
    let ev: StreamEvent | null = null;
    try {
      ev = JSON.parse(event.data) as StreamEvent | null;
    } catch {
      // handled below
    }
    if (!ev || typeof ev !== 'object') {
      this.error = new GatewayError('upstream_invalid_response', `Provider "${this.target.providerName}" sent a stream event that is not a JSON object`);
      return [];
    }
    switch (ev.type ?? event.event) {
      case 'message_start':
        this.id = ev.message?.id ?? this.id;
        this.model = ev.message?.model ?? this.model;
        this.usage = { ...(ev.message?.usage ?? {}) };
        return [this.chunk({ role: 'assistant', content: '' })];
      case 'content_block_start':
        return this.blockStart(ev);
      case 'content_block_delta':
        return this.blockDelta(ev);
      case 'content_block_stop': {
        // A tool called without arguments streams no JSON; clients still need a parsable "{}".
        const tool = this.tools.get(ev.index ?? -1);
        if (!tool || tool.sentArgs) return [];
        tool.sentArgs = true;
        return [this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: '{}' } }] })];
      }
      case 'message_delta':
        this.sawDelta = true;
        if (ev.delta?.stop_reason !== undefined) this.stopReason = ev.delta.stop_reason;
        this.mergeUsage(ev.usage ?? {});
        return [];
      case 'message_stop':
        return this.finish();
      case 'error':
        this.error = streamError(this.target.providerName, event.data);
        return [];
      default:
        // ping, and event types Anthropic may add later: the API asks clients to ignore them.
        return [];
    }
  }

  end(): ChatCompletionChunk[] {
    if (this.done || this.error) return [];
    // message_delta carries the stop reason and usage: with it, a missing message_stop loses nothing.
    if (this.sawDelta) return this.finish();
    this.error = new GatewayError('upstream_invalid_response', `Provider "${this.target.providerName}" ended the stream before the message was complete`);
    return [];
  }

  private blockStart(ev: StreamEvent): ChatCompletionChunk[] {
    const block = ev.content_block;
    if (block?.type === 'text' && block.text) return [this.chunk({ content: block.text })];
    if (block?.type !== 'tool_use') return []; // thinking and server-tool blocks have no OpenAI form
    const index = this.tools.size;
    this.tools.set(ev.index ?? -1, { index, sentArgs: false });
    return [this.chunk({ tool_calls: [{ index, id: block.id ?? '', type: 'function', function: { name: block.name ?? '', arguments: '' } }] })];
  }

  private blockDelta(ev: StreamEvent): ChatCompletionChunk[] {
    const delta = ev.delta;
    if (delta?.type === 'text_delta' && delta.text) return [this.chunk({ content: delta.text })];
    if (delta?.type !== 'input_json_delta' || !delta.partial_json) return [];
    const tool = this.tools.get(ev.index ?? -1);
    if (!tool) return [];
    tool.sentArgs = true;
    return [this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: delta.partial_json } }] })];
  }

  /** message_delta's counters are cumulative totals: each present one replaces the one from message_start. */
  private mergeUsage(usage: Usage): void {
    for (const key of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const) {
      if (usage[key] != null) this.usage[key] = usage[key];
    }
  }

  private finish(): ChatCompletionChunk[] {
    this.done = true;
    const last: ChatCompletionChunk = { ...this.base(), choices: [{ index: 0, delta: {}, finish_reason: finishReason(this.stopReason) }] };
    // Always sent: the gateway meters every stream and strips this chunk unless the client asked for it.
    const usage: ChatCompletionChunk = { ...this.base(), choices: [], usage: toOpenAIUsage(this.usage) };
    return [last, usage];
  }

  private chunk(delta: Delta): ChatCompletionChunk {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: null }] };
  }

  private base(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }
}
