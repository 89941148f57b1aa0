/**
 * Renders a translated provider's chat chunks as the Responses event stream, in the order the
 * openai SDK's ResponseStream accumulates: created, in_progress, per output item
 * (added → content/argument deltas → done), then completed (or incomplete) with the full
 * response. Every event carries `sequence_number`.
 */
import type { ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText, ResponseOutputRefusal } from 'openai/resources/responses/responses';
import type { GatewayError } from '../../errors.js';
import type { ChatCompletionChunk } from '../../providers/adapter.js';
import { functionCallItem, messageItem, newId, responseShell, responseStatus, responsesUsage, type RenderOptions } from './render.js';
import type { StreamEncoder } from '../surface.js';
import type { Response, ResponseOutputItem, ResponsesWire } from './types.js';

interface OpenMessage {
  index: number;
  item: ResponseOutputMessage;
  /** The part receiving deltas, and its index in `item.content`. */
  part: ResponseOutputText | ResponseOutputRefusal;
  partIndex: number;
}

interface OpenCall {
  index: number;
  item: ResponseFunctionToolCall;
}

export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private response: Response | undefined;
  private readonly output: ResponseOutputItem[] = [];
  private message: OpenMessage | undefined;
  /** Open function calls by the chat chunk's tool-call index. */
  private readonly calls = new Map<number, OpenCall>();
  private finish: string | null = null;
  private usage: ChatCompletionChunk['usage'] = undefined;
  private ended = false;
  /** Set by `end()` only: an error frame ends the stream without a complete response. */
  private complete: Response | undefined;

  constructor(
    private readonly wire: ResponsesWire,
    private readonly options: RenderOptions = {},
  ) {}

  /** The response as rendered so far (complete after `end()`), e.g. for the conversation store. */
  get current(): Response | undefined {
    return this.response;
  }

  /** The complete response once `end()` ran. */
  get final(): Response | undefined {
    return this.complete;
  }

  push(chunk: ChatCompletionChunk): string {
    if (this.ended) return '';
    let out = this.start(chunk.model);
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.index !== 0) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string' && delta.content.length > 0) out += this.text('output_text', delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal.length > 0) out += this.text('refusal', delta.refusal);
      for (const call of delta.tool_calls ?? []) out += this.toolCall(call);
      if (choice.finish_reason) this.finish = choice.finish_reason;
    }
    return out;
  }

  end(): string {
    if (this.ended) return '';
    let out = this.start(this.wire.model as string) + this.closeMessage();
    for (const [k] of [...this.calls].sort((a, b) => a[1].index - b[1].index)) out += this.closeCall(k);
    this.ended = true;
    const status = responseStatus(this.finish);
    this.response = { ...this.response!, ...status, output: this.output, usage: responsesUsage(this.usage ?? undefined) };
    this.complete = this.response;
    return out + this.frame(status.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: this.response });
  }

  /** OpenAI's in-stream `error` event (the SDK's ResponseStream rejects with it). */
  error(err: GatewayError): string {
    this.ended = true;
    return this.frame('error', { code: err.code, message: err.message, param: err.param });
  }

  private start(model: string): string {
    if (this.response) return '';
    this.response = responseShell(this.wire, model, this.options);
    return this.frame('response.created', { response: this.response }) + this.frame('response.in_progress', { response: this.response });
  }

  private text(kind: 'output_text' | 'refusal', delta: string): string {
    let out = '';
    if (!this.message) {
      const item = messageItem(newId('msg'), null, null, 'in_progress');
      this.message = { index: this.output.length, item, part: undefined as never, partIndex: -1 };
      this.output.push(item);
      out += this.frame('response.output_item.added', { output_index: this.message.index, item: { ...item, content: [] } });
    }
    const m = this.message;
    if (m.partIndex < 0 || m.part.type !== kind) {
      out += this.closePart();
      m.part = kind === 'output_text' ? { type: 'output_text', text: '', annotations: [], logprobs: [] } : { type: 'refusal', refusal: '' };
      m.partIndex = m.item.content.length;
      m.item.content.push(m.part);
      out += this.frame('response.content_part.added', { item_id: m.item.id, output_index: m.index, content_index: m.partIndex, part: { ...m.part } });
    }
    if (m.part.type === 'output_text') {
      m.part.text += delta;
      return out + this.frame('response.output_text.delta', { item_id: m.item.id, output_index: m.index, content_index: m.partIndex, delta, logprobs: [] });
    }
    m.part.refusal += delta;
    return out + this.frame('response.refusal.delta', { item_id: m.item.id, output_index: m.index, content_index: m.partIndex, delta });
  }

  private toolCall(call: NonNullable<ChatCompletionChunk.Choice.Delta['tool_calls']>[number]): string {
    let out = '';
    let open = this.calls.get(call.index);
    if (!open) {
      out += this.closeMessage(); // a message's text comes before the calls, as in OpenAI's output
      const item = functionCallItem(newId('fc'), call.id ?? newId('fc'), call.function?.name ?? '', '', 'in_progress');
      open = { index: this.output.length, item };
      this.calls.set(call.index, open);
      this.output.push(item);
      out += this.frame('response.output_item.added', { output_index: open.index, item: { ...item } });
    } else if (call.function?.name) open.item.name += call.function.name;
    const args = call.function?.arguments;
    if (args) {
      open.item.arguments += args;
      out += this.frame('response.function_call_arguments.delta', { item_id: open.item.id, output_index: open.index, delta: args });
    }
    return out;
  }

  private closePart(): string {
    const m = this.message;
    if (!m || m.partIndex < 0) return '';
    const at = { item_id: m.item.id, output_index: m.index, content_index: m.partIndex };
    const done = m.part.type === 'output_text' ? this.frame('response.output_text.done', { ...at, text: m.part.text, logprobs: [] }) : this.frame('response.refusal.done', { ...at, refusal: m.part.refusal });
    return done + this.frame('response.content_part.done', { ...at, part: { ...m.part } });
  }

  private closeMessage(): string {
    const m = this.message;
    if (!m) return '';
    const out = this.closePart();
    this.message = undefined;
    m.item.status = 'completed';
    return out + this.frame('response.output_item.done', { output_index: m.index, item: m.item });
  }

  private closeCall(key: number): string {
    const open = this.calls.get(key)!;
    this.calls.delete(key);
    open.item.status = 'completed';
    return (
      this.frame('response.function_call_arguments.done', { item_id: open.item.id, output_index: open.index, arguments: open.item.arguments }) +
      this.frame('response.output_item.done', { output_index: open.index, item: open.item })
    );
  }

  private frame(type: string, fields: Record<string, unknown>): string {
    const data = JSON.stringify({ type, ...fields, sequence_number: this.seq++ });
    return `event: ${type}\ndata: ${data}\n\n`;
  }
}
