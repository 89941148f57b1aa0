/**
 * `streamGenerateContent?alt=sse` sends one complete GenerateContentResponse per `data:` event,
 * each holding only the new parts; there is no [DONE]. Function calls arrive whole in one part,
 * so each becomes a single tool_calls delta with its full arguments.
 */
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../../errors.js';
import type { ChatCompletionChunk, SseEvent, StreamTranslator, UpstreamTarget } from '../adapter.js';
import { mapGeminiStatus } from './errors.js';
import { type FinishReason, type GeminiPart, type GeminiResponse, type GeminiUsage, isObject, mapFinishReason, mapUsage, toolCallFromPart, visibleText } from './wire.js';

type Delta = ChatCompletionChunk.Choice.Delta;

export class GeminiStreamTranslator implements StreamTranslator {
  error: GatewayError | undefined;
  private id = '';
  private created = 0;
  private model = '';
  /** Candidates whose first (role) delta went out, and those that got their finish_reason. */
  private readonly started = new Set<number>();
  private readonly finished = new Set<number>();
  private readonly callCounts = new Map<number, number>();
  private usage: GeminiUsage | undefined;

  constructor(private readonly target: UpstreamTarget) {}

  push(event: SseEvent): ChatCompletionChunk[] {
    if (this.error || !event.data.trim()) return [];
    let res: GeminiResponse;
    try {
      res = JSON.parse(event.data);
    } catch {
      this.error = new GatewayError('upstream_invalid_response', `Provider "${this.target.providerName}" sent a stream event that is not JSON`);
      return [];
    }
    if (!isObject(res)) {
      this.error = new GatewayError('upstream_invalid_response', `Provider "${this.target.providerName}" sent a stream event that is not an object`);
      return [];
    }
    if (isObject(res.error)) {
      const code = typeof res.error.code === 'number' && res.error.code >= 400 ? res.error.code : 500;
      this.error = mapGeminiStatus(this.target, code, res);
      return [];
    }
    if (!this.id) {
      this.id = `chatcmpl-${res.responseId ?? randomUUID()}`;
      this.created = Math.floor(Date.now() / 1000);
      this.model = this.target.publicModel || res.modelVersion || this.target.upstreamModel;
    }
    // Each event repeats the running totals; the last one seen is the final count.
    if (isObject(res.usageMetadata)) this.usage = res.usageMetadata;

    const out: ChatCompletionChunk[] = [];
    const candidates = Array.isArray(res.candidates) ? res.candidates : [];
    candidates.forEach((c, i) => {
      if (!isObject(c)) return;
      const index = typeof c.index === 'number' ? c.index : i;
      const parts: GeminiPart[] = Array.isArray(c.content?.parts) ? c.content.parts : [];
      const delta: Delta = {};
      const text = visibleText(parts);
      if (text) delta.content = text;
      const calls = parts.filter((p) => isObject(p.functionCall)).map((p) => {
        const n = this.callCounts.get(index) ?? 0;
        this.callCounts.set(index, n + 1);
        return { index: n, ...toolCallFromPart(p, index, n) };
      });
      if (calls.length > 0) delta.tool_calls = calls;
      if (delta.content !== undefined || delta.tool_calls) out.push(...this.open(index), this.chunk(index, delta, null));
      if (c.finishReason) out.push(...this.finish(index, mapFinishReason(c.finishReason, this.callCounts.has(index))));
    });
    // A blocked prompt: no candidates at all, only promptFeedback.blockReason.
    if (candidates.length === 0 && res.promptFeedback?.blockReason) out.push(...this.finish(0, 'content_filter'));
    return out;
  }

  end(): ChatCompletionChunk[] {
    if (this.error) return [];
    const out: ChatCompletionChunk[] = [];
    // A stream that stopped cleanly without a finishReason still owes the client one.
    for (const index of this.started) if (!this.finished.has(index)) out.push(this.chunk(index, {}, 'stop'));
    if (this.usage) out.push({ ...this.base(), choices: [], usage: mapUsage(this.usage) });
    return out;
  }

  /** OpenAI streams open each choice with a delta that names the role. */
  private open(index: number): ChatCompletionChunk[] {
    if (this.started.has(index)) return [];
    this.started.add(index);
    return [this.chunk(index, { role: 'assistant', content: '' }, null)];
  }

  private finish(index: number, reason: FinishReason): ChatCompletionChunk[] {
    if (this.finished.has(index)) return [];
    this.finished.add(index);
    return [...this.open(index), this.chunk(index, {}, reason)];
  }

  private chunk(index: number, delta: Delta, finish: FinishReason | null): ChatCompletionChunk {
    return { ...this.base(), choices: [{ index, delta, finish_reason: finish, logprobs: null }] };
  }

  private base(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }
}
