/**
 * Messages → an Anthropic provider, as the client sent it: only `model` is replaced, so thinking
 * signatures, `cache_control`, beta fields and server tools arrive intact. Headers are built
 * afresh (the client's own key never goes upstream): the provider credential from its auth.ts,
 * and the client's `anthropic-version` and `anthropic-beta`. Answers are observed (usage,
 * response rules, audit) through the Anthropic adapter's own translation to OpenAI's format.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ChatCompletion, StreamTranslator, UpstreamRequest, UpstreamTarget } from '../../providers/adapter.js';
import { anthropicHeaders } from '../../providers/anthropic/auth.js';
import { anthropicChatResponse } from '../../providers/anthropic/chat.js';
import { AnthropicStreamTranslator } from '../../providers/anthropic/stream.js';
import type { MessagesWire } from './types.js';

/** The query string of the client's request, as a router hands it over. */
export type ClientQuery = Record<string, unknown> | URLSearchParams | undefined;

/**
 * @example nativeRequest(wire, target, { 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14' }, { beta: 'true' }).url
 * // 'https://api.anthropic.com/v1/messages?beta=true'
 */
export function nativeRequest(wire: MessagesWire, target: UpstreamTarget, clientHeaders: IncomingHttpHeaders, query?: ClientQuery): UpstreamRequest {
  return post('/v1/messages', wire, target, clientHeaders, query);
}

/** `POST /v1/messages/count_tokens` upstream, for Anthropic models. */
export function nativeCountTokensRequest(wire: MessagesWire, target: UpstreamTarget, clientHeaders: IncomingHttpHeaders, query?: ClientQuery): UpstreamRequest {
  return post('/v1/messages/count_tokens', wire, target, clientHeaders, query);
}

/** A native JSON answer as OpenAI's chat completion (the adapter's translation, not a second one). */
export function observeNative(json: unknown, target: UpstreamTarget): ChatCompletion {
  return anthropicChatResponse(json, target);
}

/** A fresh observer of one native stream: Anthropic events → OpenAI chunks, for metering only. */
export function observeNativeStream(target: UpstreamTarget): StreamTranslator {
  return new AnthropicStreamTranslator(target);
}

function post(path: string, wire: MessagesWire, target: UpstreamTarget, clientHeaders: IncomingHttpHeaders, query: ClientQuery): UpstreamRequest {
  // Spreading keeps the client's key order; `model` stays where it was.
  const body = JSON.stringify({ ...wire, model: target.upstreamModel });
  return { url: `${target.baseUrl}${path}${betaQuery(query)}`, method: 'POST', headers: nativeHeaders(target, clientHeaders), body };
}

/**
 * The client's `anthropic-version` wins over the configured or default one (its body is written
 * for that version); `anthropic-beta` values of the configuration and the client are joined.
 */
export function nativeHeaders(target: UpstreamTarget, clientHeaders: IncomingHttpHeaders): Record<string, string> {
  const headers = anthropicHeaders(target);
  const version = first(clientHeaders['anthropic-version']);
  if (version) headers['anthropic-version'] = version;
  const betas = [headers['anthropic-beta'], headerValue(clientHeaders['anthropic-beta'])]
    .flatMap((v) => (v ? v.split(',') : []))
    .map((v) => v.trim())
    .filter(Boolean);
  if (betas.length > 0) headers['anthropic-beta'] = [...new Set(betas)].join(',');
  return headers;
}

/** Only `beta=true` is forwarded: the SDK's beta client adds it, and Anthropic reads nothing else there. */
function betaQuery(query: ClientQuery): string {
  const beta = query instanceof URLSearchParams ? query.get('beta') : query?.beta;
  return beta === 'true' || beta === true ? '?beta=true' : '';
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Repeated headers are one comma-separated list. */
function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
