/**
 * OpenAI chunks of a translated provider → Anthropic's stream, in the order the SDK's
 * MessageStream accumulates: `message_start`, `ping`, then per content block
 * `content_block_start` / `content_block_delta`… / `content_block_stop` (blocks numbered from 0
 * in order, one at a time: text, then a tool_use block per tool-call index), then `message_delta`
 * (stop_reason and usage) and `message_stop`. Usage usually arrives in the final usage chunk
 * (`choices: []`), after the finish_reason, so the message is closed only at `end()`.
 */
import { randomUUID } from 'node:crypto';
import type { CompletionUsage } from 'openai/resources/completions';
import type { GatewayError } from '../../errors.js';
import type { ChatCompletionChunk } from '../../providers/adapter.js';
import { renderError } from './errors.js';
import { messageId, messageUsage, stopReason } from './render.js';
import type { StreamEncoder } from '../surface.js';
import type { MessagesWire } from './types.js';

type ToolCallDelta = NonNullable<ChatCompletionChunk.Choice.Delta['tool_calls']>[number];

export interface StreamEncoderOptions {
  /** The input-token estimate to announce in message_start; the real count follows in message_delta. */
  inputTokens?: number;
}

/** One SSE frame; the data carries its own `type`, as Anthropic's do. */
export function sseFrame(event: string, data: Record<string, unknown>): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class MessagesStreamEncoder implements StreamEncoder {
  private started = false;
  private ended = false;
  private nextIndex = 0;
  /** The block now open (deltas go to it) and whether it is text. */
  private open: { index: number; text: boolean } | undefined;
  /** OpenAI tool-call index → Anthropic block index. */
  private readonly toolBlocks = new Map<number, number>();
  private finish: string | null = null;
  private refused = false;
  private sawText = false;
  private usage: CompletionUsage | undefined;

  constructor(
    private readonly wire: Pick<MessagesWire, 'model'>,
    private readonly options: StreamEncoderOptions = {},
  ) {}

  push(chunk: ChatCompletionChunk): string {
    if (this.ended) return '';
    let out = this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      if (choice.index !== 0) continue; // Messages has one answer; n > 1 is refused before
      const delta = choice.delta ?? {};
      if (delta.content) out += this.text(delta.content);
      if (delta.refusal) {
        this.refused = true;
        out += this.text(delta.refusal);
      }
      for (const call of delta.tool_calls ?? []) out += this.toolCall(call);
      if (choice.finish_reason) this.finish = choice.finish_reason;
    }
    return out;
  }

  end(): string {
    if (this.ended) return '';
    let out = this.start(undefined) + this.closeBlock();
    this.ended = true;
    const usage = messageUsage(this.usage);
    // Cumulative totals: the SDK overwrites message_start's counters with those present here.
    const finalUsage = this.usage
      ? { input_tokens: usage.input_tokens, cache_read_input_tokens: usage.cache_read_input_tokens, output_tokens: usage.output_tokens }
      : { output_tokens: 0 };
    const reason = this.refused && !this.sawText ? 'refusal' : stopReason(this.finish, this.toolBlocks.size > 0);
    out += sseFrame('message_delta', { type: 'message_delta', delta: { stop_reason: reason, stop_sequence: null }, usage: finalUsage });
    out += sseFrame('message_stop', { type: 'message_stop' });
    return out;
  }

  error(err: GatewayError): string {
    this.ended = true;
    return sseFrame('error', renderError(err).body as unknown as Record<string, unknown>);
  }

  private start(chunk: ChatCompletionChunk | undefined): string {
    if (this.started) return '';
    this.started = true;
    const message = {
      id: messageId(chunk?.id),
      type: 'message',
      role: 'assistant',
      model: chunk?.model || this.wire.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: this.options.inputTokens ?? 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    return sseFrame('message_start', { type: 'message_start', message }) + sseFrame('ping', { type: 'ping' });
  }

  private text(text: string): string {
    if (!this.refused) this.sawText = true;
    let out = '';
    if (!this.open?.text) {
      out += this.closeBlock();
      out += this.openBlock(true, { type: 'text', text: '' });
    }
    return out + sseFrame('content_block_delta', { type: 'content_block_delta', index: this.open!.index, delta: { type: 'text_delta', text } });
  }

  private toolCall(call: ToolCallDelta): string {
    let out = '';
    let index = this.toolBlocks.get(call.index);
    if (index === undefined) {
      out += this.closeBlock();
      const id = call.id || `toolu_${randomUUID().replaceAll('-', '')}`;
      out += this.openBlock(false, { type: 'tool_use', id, name: call.function?.name ?? '', input: {} });
      index = this.open!.index;
      this.toolBlocks.set(call.index, index);
    }
    // A fragment for a call whose block was closed (providers that interleave calls) keeps its
    // block index: the SDK accumulates by index.
    const json = call.function?.arguments;
    if (json) out += sseFrame('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json } });
    return out;
  }

  private openBlock(text: boolean, block: Record<string, unknown>): string {
    const index = this.nextIndex++;
    this.open = { index, text };
    return sseFrame('content_block_start', { type: 'content_block_start', index, content_block: block });
  }

  private closeBlock(): string {
    if (!this.open) return '';
    const { index } = this.open;
    this.open = undefined;
    return sseFrame('content_block_stop', { type: 'content_block_stop', index });
  }
}
