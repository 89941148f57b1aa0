/**
 * The OpenAI chat and embeddings surfaces' body checks, by hand (cheaper than a schema on the hot
 * path), and what policy, cost estimates and the audit need to know about a body. Every refusal
 * names the offending field as OpenAI's `param`.
 */
import { hash } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { ChatRequest, EmbeddingsRequest } from '../providers/adapter.js';
import type { RequestFacts } from '../pipeline/context.js';
import { checkMaxTokens, MAX_OUTPUT_TOKENS_CAP } from './input-bounds.js';

/** A validated body and what the stages need to know of it; the caller records it on the context. */
export interface ReadBody<B> {
  body: B;
  model: string;
  facts: RequestFacts;
  stream: boolean;
  /** The client asked for `stream_options.include_usage`. */
  clientWantsUsage: boolean;
}
/** Most choices per request (`n`); OpenAI's own limit. */
export const MAX_CHOICES = 128;

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

export function readChatRequest(raw: unknown): ReadBody<ChatRequest> {
  const body = requireObject(raw);
  const model = requireModel(body);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid(messages === undefined ? 'Missing required parameter: messages.' : 'messages must be a non-empty array.', 'messages');
  }
  let systemPromptPresent = false;
  let hasImages = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Record<string, unknown> | null;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw invalid(`messages[${i}] must be an object.`, `messages[${i}]`);
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
      throw invalid(`messages[${i}].role must be one of ${[...ROLES].join(', ')}.`, `messages[${i}].role`);
    }
    if (m.role === 'system' || m.role === 'developer') systemPromptPresent = true;
    const content = m.content;
    if (Array.isArray(content)) {
      for (const part of content) if (part && (part as { type?: unknown }).type === 'image_url') hasImages = true;
    } else if (content !== undefined && content !== null && typeof content !== 'string') {
      throw invalid(`messages[${i}].content must be a string or an array of content parts.`, `messages[${i}].content`);
    }
  }
  optional(body, 'stream', 'boolean');
  optional(body, 'temperature', 'number');
  optional(body, 'top_p', 'number');
  optional(body, 'user', 'string');
  const maxTokens = optionalInt(body, 'max_completion_tokens') ?? optionalInt(body, 'max_tokens');
  checkMaxTokens(body, MAX_OUTPUT_TOKENS_CAP);
  const n = optionalInt(body, 'n') ?? 1;
  if (n < 1) throw invalid('n must be at least 1.', 'n');
  if (n > MAX_CHOICES) throw invalid(`n must be at most ${MAX_CHOICES}.`, 'n');
  if (body.tools !== undefined && !Array.isArray(body.tools)) throw invalid('tools must be an array.', 'tools');
  if (body.stream_options !== undefined && (body.stream_options === null || typeof body.stream_options !== 'object')) {
    throw invalid('stream_options must be an object.', 'stream_options');
  }

  const canonical = JSON.stringify(messages);
  const facts: RequestFacts = {
    messageCount: messages.length,
    systemPromptPresent,
    inputHash: sha256(canonical),
    inputChars: canonical.length,
    maxTokens,
    temperature: (body.temperature as number | undefined) ?? null,
    topP: (body.top_p as number | undefined) ?? null,
    toolsCount: Array.isArray(body.tools) ? body.tools.length : 0,
    toolChoice: body.tool_choice === undefined ? null : typeof body.tool_choice === 'string' ? body.tool_choice : 'function',
    responseFormat: (body.response_format as { type?: string } | undefined)?.type ?? null,
    hasImages,
    n,
    endUser: (body.user as string | undefined) ?? null,
  };
  return {
    body: body as unknown as ChatRequest,
    model,
    facts,
    stream: body.stream === true,
    clientWantsUsage: (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
  };
}

export function readEmbeddingsRequest(raw: unknown): ReadBody<EmbeddingsRequest> {
  const body = requireObject(raw);
  const model = requireModel(body);
  const input = body.input;
  const valid =
    (typeof input === 'string' && input.length > 0) ||
    (Array.isArray(input) &&
      input.length > 0 &&
      (input.every((x) => typeof x === 'string') ||
        input.every((x) => typeof x === 'number') ||
        input.every((x) => Array.isArray(x) && x.every((t) => typeof t === 'number'))));
  if (!valid) {
    throw invalid(
      input === undefined ? 'Missing required parameter: input.' : 'input must be a non-empty string, array of strings, or array of token arrays.',
      'input',
    );
  }
  optional(body, 'encoding_format', 'string');
  optional(body, 'user', 'string');
  const canonical = JSON.stringify(input);
  const facts: RequestFacts = {
    messageCount: Array.isArray(input) ? input.length : 1,
    systemPromptPresent: false,
    inputHash: sha256(canonical),
    inputChars: canonical.length,
    maxTokens: null,
    temperature: null,
    topP: null,
    toolsCount: 0,
    toolChoice: null,
    responseFormat: null,
    hasImages: false,
    n: 1,
    endUser: (body.user as string | undefined) ?? null,
  };
  return { body: body as unknown as EmbeddingsRequest, model, facts, stream: false, clientWantsUsage: false };
}

function requireObject(raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid('The request body must be a JSON object.', null);
  }
  return raw as Record<string, unknown>;
}

function requireModel(body: Record<string, unknown>): string {
  if (body.model === undefined) throw invalid('Missing required parameter: model.', 'model');
  if (typeof body.model !== 'string' || body.model.length === 0) throw invalid('model must be a non-empty string.', 'model');
  return body.model;
}

function optional(body: Record<string, unknown>, key: string, type: 'string' | 'number' | 'boolean'): void {
  const v = body[key];
  if (v !== undefined && v !== null && typeof v !== type) throw invalid(`${key} must be a ${type}.`, key);
}

function optionalInt(body: Record<string, unknown>, key: string): number | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid(`${key} must be a non-negative integer.`, key);
  return v;
}

function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}
