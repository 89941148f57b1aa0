/**
 * Stage: send the translated request to the provider over a keep-alive undici pool and bring
 * the answer back — whole for JSON, chunk by chunk for streams (never buffered). Transport
 * failures become catalog errors: timeouts 504, refused/reset connections 502.
 */
import { createHash, hash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createParser } from 'eventsource-parser';
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';
import type { ChatCompletionChunk, StreamTranslator, UpstreamRequest } from '../providers/adapter.js';
import type { StreamEncoder } from '../surfaces/surface.js';
import type { ResponseScanner } from '../policy/types.js';
import { scrubberFor, type Scrubber } from '../security/scrub.js';
import type { RequestContext } from './context.js';
import { MAX_HELD_CHARS, noteProposedCall, type ProposedCall, type StreamedCalls } from './proposed-tool-calls.js';
import { usageFromOpenAI } from './meter.js';
import type { ResolvedRoute } from './select-route.js';

/** One connection pool set per provider, so one provider's slowness cannot starve another's. */
export class UpstreamClient {
  private readonly agents = new Map<string, Agent>();
  /** Cleans everything read from an upstream before a client, the audit or a log sees it. */
  readonly scrubber: Scrubber;

  constructor(private readonly config: GatewayConfig) {
    this.scrubber = scrubberFor(config);
    for (const [name, provider] of Object.entries(config.providers)) this.agents.set(name, this.agentFor(provider.connections));
  }

  private agentFor(connections: number): Agent {
    return new Agent({ connections, keepAliveTimeout: 30_000, connect: { timeout: this.config.server.connect_timeout } });
  }

  /** The provider's pool; a provider added by a reload gets its own on first use. */
  private poolOf(route: ResolvedRoute): Agent {
    const name = route.target.providerName;
    let agent = this.agents.get(name);
    if (!agent) this.agents.set(name, (agent = this.agentFor(route.target.provider.connections)));
    return agent;
  }

  private timeoutFor(route: ResolvedRoute): number {
    return route.target.provider.timeout ?? this.config.server.upstream_timeout;
  }

  /** Sends the request; resolves when response headers arrive. Transport errors are mapped. */
  async send(ctx: RequestContext, route: ResolvedRoute, req: UpstreamRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const agent = this.poolOf(route);
    const url = new URL(req.url);
    const timeout = this.timeoutFor(route);
    ctx.attempts++;
    const started = performance.now();
    try {
      const res = await agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      ctx.upstreamStatus = res.statusCode;
      // Echoed to the client and audited: only an id-shaped value that holds no secret.
      ctx.upstreamRequestId = this.scrubber.requestId(route.adapter.requestId(res.headers));
      return res;
    } catch (err) {
      throw transportError(ctx, route, err);
    } finally {
      ctx.upstreamMs += performance.now() - started;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
  }
}

/** Reads a whole JSON answer; provider errors and non-JSON bodies become GatewayErrors. */
export async function readJsonAnswer(
  ctx: RequestContext,
  route: ResolvedRoute,
  res: Dispatcher.ResponseData,
  scrubber: Scrubber,
): Promise<{ json: unknown; text: string }> {
  const started = performance.now();
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw transportError(ctx, route, err);
  } finally {
    ctx.upstreamMs += performance.now() - started;
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw providerError(ctx, route, res, text, scrubber);
  try {
    return { json: JSON.parse(text), text };
  } catch {
    const err = new GatewayError('upstream_invalid_response', `Provider "${route.target.providerName}" returned a response that is not JSON (HTTP ${res.statusCode}).`);
    ctx.upstreamError = err.message;
    throw err;
  }
}

/**
 * A provider's error body is never relayed as such: secrets are scrubbed from the raw body before
 * the adapter reads it (so no later truncation can leave half a key), and from the mapped
 * message after (in case the adapter unescaped one).
 */
function providerError(ctx: RequestContext, route: ResolvedRoute, res: Dispatcher.ResponseData, text: string, scrubber: Scrubber): GatewayError {
  const err = scrubber.error(route.adapter.mapError(res.statusCode, scrubber.scrubRaw(text), res.headers, route.target));
  ctx.upstreamError = err.message;
  return err;
}

/**
 * Checks that a stream answer is a 2xx event stream before anything is sent to the client, so a
 * refusal can still be retried, fall back, or be answered as a normal JSON error.
 */
export async function checkStreamAnswer(ctx: RequestContext, route: ResolvedRoute, res: Dispatcher.ResponseData, scrubber: Scrubber): Promise<void> {
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw providerError(ctx, route, res, await res.body.text().catch(() => ''), scrubber);
  }
  const contentType = String(res.headers['content-type'] ?? '');
  if (!contentType.includes('text/event-stream')) {
    await res.body.dump().catch(() => undefined);
    // The content type is the provider's header: scrubbed like any text it sends.
    const err = scrubber.error(new GatewayError('upstream_invalid_response', `Provider "${route.target.providerName}" answered a stream request with "${contentType.slice(0, 100) || 'no content type'}" instead of an event stream.`));
    ctx.upstreamError = err.message;
    throw err;
  }
}

/** How a stream reaches the client: translated into the surface's frames, or the provider's own events. */
export interface StreamOutput {
  /** Reads the provider's events as pivot chunks (for metering, response rules, audit). */
  translator: StreamTranslator;
  /** The surface's frames; in native mode only its `error` frame is used. */
  encoder: StreamEncoder;
  /** The provider speaks the client's API: its events are forwarded as they came. */
  native: boolean;
  /**
   * Set when the policy judges proposed tool calls: collects them, and from the first one a
   * block or review rule could match the output is held until `judge` lets it go (or throws).
   */
  toolCalls?: { calls: StreamedCalls; judge: (calls: ProposedCall[]) => Promise<void> };
}

/** While a held tool call waits for a reviewer, an SSE comment this often keeps idle proxies from closing the stream (SDKs ignore comments). */
const HOLD_HEARTBEAT_MS = 15_000;

/**
 * Pipes a provider's event stream (already checked by `checkStreamAnswer`) to the client. Calls
 * `writeHead` just before the first byte goes out, and `beforeEnd` just before the last (strict
 * durability commits the cost there). Never throws: a failure ends the stream with an error
 * frame in the client's API shape and is recorded on ctx.
 */
export async function pipeStream(
  ctx: RequestContext,
  route: ResolvedRoute,
  res: Dispatcher.ResponseData,
  out: ServerResponse,
  writeHead: () => void,
  abort: AbortController,
  { translator, encoder, native, toolCalls }: StreamOutput,
  scrubber: Scrubber,
  beforeEnd: () => Promise<void> = async () => undefined,
): Promise<void> {
  const outputHash = new OutputDigest();
  // Events parsed from one upstream read are written in one go: no waiting, fewer syscalls. Configured
  // credentials never pass, even inside a 200 stream (a proxy echoing headers): each write is
  // scrubbed whole (once per upstream read, not once per event).
  let pending = '';
  // Response rules scan content as it passes; the chunk that completes a blocked match is withheld.
  const scanner = ctx.policy?.compiled.hasResponseRules ? ctx.policy.compiled.createResponseScanner(ctx.policy.input) : undefined;
  let blocked: GatewayError | undefined;
  // What follows a proposed tool call under judgement: sent once the calls are let through.
  let held = '';
  const calls = toolCalls?.calls;
  const emit = (frames: string, hold: boolean) => {
    if (hold) held += frames;
    else pending += frames;
  };
  const parser = createParser({
    onEvent: (event) => {
      if (blocked) return;
      const chunks = translator.push({ event: event.event, data: event.data });
      const raw = translator.passthrough && chunks.length === 1 ? event.data : undefined;
      for (const chunk of chunks) {
        if (scanner && chunkBlocked(scanner, chunk)) {
          const result = scanner.result();
          ctx.responsePolicyResult = result;
          const rules = result.matchedRules.filter((r) => !r.shadow && r.action === 'block').map((r) => r.id);
          blocked = new GatewayError('policy_blocked', `The response was blocked by policy "${result.policyName}" (rules: ${rules.join(', ')}); the stream was ended.`);
          return;
        }
        observeChunk(ctx, chunk, outputHash);
        const hold = calls !== undefined && calls.push(chunk);
        if (!native) emit(encoder.push(chunk, raw), hold);
      }
      if (native) emit(event.event ? `event: ${event.event}\ndata: ${event.data}\n\n` : `data: ${event.data}\n\n`, calls?.holding === true);
      if (calls && (calls.tooLarge || held.length > MAX_HELD_CHARS) && calls.holding) {
        blocked = new GatewayError('policy_blocked', `The tool call the model proposed is larger than the gateway holds for judging (${MAX_HELD_CHARS} characters); the stream was ended.`);
      }
    },
  });
  const flush = (): boolean => {
    if (pending === '') return true;
    const ok = out.write(scrubber.scrubLiterals(pending));
    pending = '';
    return ok;
  };

  const onClientClose = () => {
    if (!out.writableFinished) {
      ctx.clientDisconnected = true;
      abort.abort();
    }
  };
  out.on('close', onClientClose);
  writeHead();
  const started = performance.now();
  const decoder = new TextDecoder();
  try {
    for await (const buf of res.body) {
      parser.feed(decoder.decode(buf as Buffer, { stream: true }));
      const writable = flush();
      if (blocked) throw blocked;
      if (translator.error) throw translator.error;
      if (!writable) await once(out, 'drain', { signal: abort.signal });
    }
    for (const chunk of translator.end()) {
      observeChunk(ctx, chunk, outputHash);
      const hold = calls !== undefined && calls.push(chunk);
      if (!native) emit(encoder.push(chunk), hold);
    }
    if (translator.error) throw translator.error;
    if (scanner) ctx.responsePolicyResult = scanner.result();
    if (toolCalls) {
      // The text before the calls is the client's already; the held part waits for the verdict.
      if (!flush()) await once(out, 'drain', { signal: abort.signal });
      const beat = setInterval(() => out.write(': held for review\n\n'), HOLD_HEARTBEAT_MS);
      try {
        await toolCalls.judge(toolCalls.calls.list());
      } finally {
        clearInterval(beat);
      }
      pending += held;
      held = '';
    }
    await beforeEnd();
    out.end(scrubber.scrubLiterals(native ? pending : pending + encoder.end()));
  } catch (err) {
    ctx.streamInterrupted = true;
    if (ctx.clientDisconnected) {
      ctx.upstreamError ??= 'client disconnected; upstream request aborted';
    } else {
      // A shutdown's abort carries its own catalog error (pipeline/run.ts SHUTDOWN_ABORT); a
      // mid-stream error event is the provider's text: scrubbed like an error body.
      const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
      const gw = scrubber.error(err instanceof GatewayError ? err : reason instanceof GatewayError ? reason : transportError(ctx, route, err));
      ctx.upstreamError = gw.message;
      ctx.error = gw;
      await beforeEnd().catch(() => undefined);
      out.end(scrubber.scrubLiterals(pending) + encoder.error(gw));
    }
    res.body.destroy();
  } finally {
    out.off('close', onClientClose);
    ctx.upstreamMs += performance.now() - started;
    ctx.outputHash = outputHash.digest();
  }
}

/**
 * sha256 of a stream's content deltas, as if each were hashed in turn: deltas are gathered and
 * hashed in runs of up to OUTPUT_DIGEST_RUN characters (a call into the hash per delta costs
 * more than the hashing of a few words), so memory stays bounded however long the stream.
 */
const OUTPUT_DIGEST_RUN = 16_384;
export class OutputDigest {
  private run = '';
  private running: Hash | undefined;

  add(text: string): void {
    this.run += text;
    if (this.run.length >= OUTPUT_DIGEST_RUN) {
      (this.running ??= createHash('sha256')).update(this.run);
      this.run = '';
    }
  }

  digest(): string {
    return this.running ? this.running.update(this.run).digest('hex') : hash('sha256', this.run, 'hex');
  }
}

/** A stored completion is capped (the hash and size always cover all of it). */
const MAX_STORED_COMPLETION_CHARS = 1_000_000;

function chunkBlocked(scanner: ResponseScanner, chunk: ChatCompletionChunk): boolean {
  let block = false;
  for (const choice of chunk.choices) {
    const content = choice.delta?.content;
    if (content && scanner.push(content).block) block = true;
  }
  return block;
}

/** Records what a chunk tells the meter and audit. */
function observeChunk(ctx: RequestContext, chunk: ChatCompletionChunk, outputHash: OutputDigest): void {
  for (const choice of chunk.choices) {
    const delta = choice.delta;
    if (delta?.content) {
      if (ctx.timeToFirstTokenMs === null) ctx.timeToFirstTokenMs = ctx.elapsedMs();
      ctx.outputChars += delta.content.length;
      outputHash.add(delta.content);
      if (ctx.storedCompletion && ctx.outputChars <= MAX_STORED_COMPLETION_CHARS) ctx.storedCompletion.push(delta.content);
    }
    if (delta?.tool_calls) {
      if (ctx.timeToFirstTokenMs === null) ctx.timeToFirstTokenMs = ctx.elapsedMs();
      for (const call of delta.tool_calls) {
        if (!call.id) continue;
        ctx.toolCallsCount++;
        noteProposedCall(ctx, call.function?.name ?? '');
      }
    }
    if (choice.finish_reason) ctx.finishReason = choice.finish_reason;
  }
  if (chunk.usage) ctx.usage = usageFromOpenAI(chunk.usage);
}

function transportError(ctx: RequestContext, route: ResolvedRoute, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const provider = route.target.providerName;
  let gw: GatewayError;
  if (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  ) {
    gw = new GatewayError('upstream_timeout', `Provider "${provider}" did not answer in time.`, { cause: err });
  } else if (ctx.clientDisconnected || (err as Error)?.name === 'AbortError') {
    gw = new GatewayError('upstream_error', 'The request was aborted because the client disconnected.', { cause: err });
  } else {
    const code = (err as { code?: string })?.code ?? 'unknown';
    gw = new GatewayError('upstream_unreachable', `Provider "${provider}" could not be reached (${code}).`, { cause: err });
  }
  ctx.upstreamError = gw.message;
  return gw;
}
